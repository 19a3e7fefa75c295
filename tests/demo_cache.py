"""The S demo company, generated and loaded through ingest once per seed in a test process,
and copied wherever a test wants a workspace holding it (import as ``demo_cache``).

About twenty module- and session-scoped fixtures each built the same S demo (seed 7 for the
web and browser tests, 11 for the analytics, text, lake and any-day tests): generating it
and ingesting its files costs about 4 CPU-seconds each time, most of it in ingest. The
loaded workspace is a folder holding ``warehouse.duckdb``; a copy of it is the same
warehouse, so a fixture gets a copy of the one built first and loads nothing. The files
themselves are not copied: no fixture reads them after ingest. A fixture that needs the
load itself (its batches, its timings) still generates and ingests on its own.
"""

from __future__ import annotations

import atexit
import copy
import shutil
import tempfile
from pathlib import Path
from typing import Any

_BUILT: dict[int, tuple[Path, dict[str, Any]]] = {}
_ROOT: list[Path] = []


def _root() -> Path:
    """One temporary folder for this process's templates, removed when it exits."""
    if not _ROOT:
        root = Path(tempfile.mkdtemp(prefix="cxlens-tests-sdemo-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _ROOT.append(root)
    return _ROOT[0]


def _template(seed: int) -> tuple[Path, dict[str, Any]]:
    """(workspace folder, planted truths) of the S demo of ``seed``, built on first use."""
    if seed not in _BUILT:
        from cxlens.demo import generate
        from cxlens.ingest.load import ingest
        from cxlens.warehouse.store import open_warehouse

        root = _root() / f"seed-{seed}"
        manifest = generate(root / "files", size="S", seed=seed)
        with open_warehouse(root / "ws") as con:
            for f in manifest.files:
                ingest(con, f.path, f.kind, preset=f.preset)
        shutil.rmtree(root / "files")
        _BUILT[seed] = (root / "ws", manifest.truths)
    return _BUILT[seed]


def s_demo(ws: Path, seed: int) -> dict[str, Any]:
    """Put the S demo of ``seed`` (``generate(size="S", seed=seed)``, every file loaded
    through ingest) in the workspace folder ``ws``, made if missing, and return the demo's
    planted truths (a copy: a test may change it)."""
    template, truths = _template(seed)
    ws.mkdir(parents=True, exist_ok=True)
    for item in template.iterdir():
        if item.is_dir():
            shutil.copytree(item, ws / item.name, dirs_exist_ok=True)
        else:
            shutil.copy2(item, ws / item.name)
    return copy.deepcopy(truths)
