"""Fixtures for the ingest tests: a fresh warehouse in tmp_path and small file writers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cxlens.warehouse.store import open_warehouse
from helpers import snapshot  # tests/ is on sys.path (pytest's rootdir conftest)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A migrated, empty warehouse in ``tmp_path/ws``."""
    with open_warehouse(tmp_path / "ws") as c:
        yield c


@pytest.fixture
def write(tmp_path: Path):
    """``write(name, text, encoding='utf-8')`` writes a file into tmp_path and returns it."""

    def _write(name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
        p = tmp_path / name
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_bytes(text.encode(encoding))
        return p

    return _write


@pytest.fixture
def unchanged(con: duckdb.DuckDBPyConnection):
    """``with unchanged(): ...`` asserts the warehouse is exactly the same afterwards."""
    from contextlib import contextmanager

    @contextmanager
    def _check():
        before = snapshot(con)
        yield
        assert snapshot(con) == before

    return _check
