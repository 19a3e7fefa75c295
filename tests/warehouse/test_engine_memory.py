"""DuckDBEngine.memory_cap: lowers DuckDB's memory limit for a block and puts it back."""

from __future__ import annotations

import duckdb

from cxlens.warehouse.engine import DuckDBEngine, _bytes


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.sql("SELECT current_setting('memory_limit') AS v").fetchall()[0][0])


def test_bytes_reads_duckdbs_display() -> None:
    assert _bytes("512.0 MiB") == 512 * 2**20
    assert _bytes("2.5 GB") == 2_500_000_000
    assert _bytes("unlimited") is None


def test_cap_lowers_and_restores_the_default_exactly() -> None:
    con = duckdb.connect()
    eng = DuckDBEngine(con)
    before = _limit(con)
    for _ in range(3):  # no creeping down from the rounded display
        with eng.memory_cap(256 * 2**20):
            assert _limit(con) == "256.0 MiB"
            assert eng.query("SELECT 1 AS one").num_rows == 1
        assert _limit(con) == before


def test_cap_never_raises_a_lower_limit() -> None:
    con = duckdb.connect()
    con.execute("SET memory_limit = '100MiB'")
    eng = DuckDBEngine(con)
    with eng.memory_cap(2**40):
        assert _limit(con) == "100.0 MiB"
    assert _limit(con) == "100.0 MiB"
