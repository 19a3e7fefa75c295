"""One S demo warehouse for all analytics tests (built once per test session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxlens.demo import generate
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_warehouse


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """(workspace path, planted truths) of the S demo, seed 11, loaded through ingest."""
    root = tmp_path_factory.mktemp("demo")
    manifest = generate(root / "files", size="S", seed=11)
    with open_warehouse(root / "ws") as con:
        for f in manifest.files:
            ingest(con, f.path, f.kind, preset=f.preset)
    return root / "ws", manifest.truths
