"""The lake's month-partitioned writer (warehouse/_lake_parquet.py): one file per folder,
the Parquet types DuckDB itself writes, and never a write through a hard link."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from cxlens.warehouse._lake_parquet import _DECIMALS, FILE, write_parts

ROWS = """SELECT i AS id, (i * 1.25)::DECIMAL(18,4) AS amount,
    (TIMESTAMP '2026-01-15' + INTERVAL (i * 10) DAY)::TIMESTAMPTZ AS ts,
    'v' || i AS _extra, strftime(TIMESTAMP '2026-01-15' + INTERVAL (i * 10) DAY, '%Y-%m')
    AS _month, (i % 2)::VARCHAR AS _seg FROM range(12) t(i)"""
PARTS = ["_month", "_seg"]


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def test_one_file_per_folder_with_duckdbs_types(tmp_path: Path) -> None:
    con = _con()
    folders = write_parts(con, ROWS, PARTS, tmp_path)
    expected = sorted({f"_month={m}/_seg={g}"
                       for m, g in con.sql(f"SELECT _month, _seg FROM ({ROWS})").fetchall()})
    assert folders == expected
    found = sorted(str(p.relative_to(tmp_path).parent) for p in tmp_path.rglob("*.parquet"))
    assert found == expected and all((tmp_path / f / FILE).exists() for f in folders)
    back = con.sql(f"SELECT id, amount, ts, _extra FROM read_parquet('{tmp_path}/**/*.parquet')"
                   " ORDER BY id").fetchall()
    assert back == con.sql(f"SELECT id, amount, ts, _extra FROM ({ROWS}) ORDER BY id").fetchall()
    meta = pq.ParquetFile(tmp_path / folders[0] / FILE)
    assert meta.schema_arrow.names == ["id", "amount", "ts", "_extra"]
    assert meta.metadata.metadata is None or b"ARROW:schema" not in meta.metadata.metadata
    cols = {meta.schema.column(i).name: meta.schema.column(i) for i in range(len(meta.schema))}
    if _DECIMALS:  # as DuckDB writes DECIMAL(18,4), where pyarrow can
        assert cols["amount"].physical_type == "INT64"
    ts = json.loads(cols["ts"].logical_type.to_json())
    assert (ts["Type"], ts["isAdjustedToUTC"], ts["timeUnit"]) == ("Timestamp", True,
                                                                   "microseconds")
    # no bounds for the unmapped values (nothing filters on them), bounds for the rest
    rg = meta.metadata.row_group(0)
    stats = {rg.column(i).path_in_schema: rg.column(i).statistics for i in range(rg.num_columns)}
    assert stats["_extra"] is None and stats["ts"] is not None and stats["ts"].has_min_max


def test_an_empty_result_writes_nothing(tmp_path: Path) -> None:
    assert write_parts(_con(), ROWS + " WHERE false", PARTS, tmp_path) == []
    assert not list(tmp_path.rglob("*.parquet"))


def test_a_hard_linked_file_is_replaced_not_written_through(tmp_path: Path) -> None:
    """A version's untouched folders are hard links to the previous version's files
    (lake._link_tree): writing one again must leave the older version's file as it was."""
    con = _con()
    old, new = tmp_path / "old", tmp_path / "new"
    folders = write_parts(con, ROWS, PARTS, old)
    for f in folders:
        (new / f).mkdir(parents=True)
        os.link(old / f / FILE, new / f / FILE)
    before = (old / folders[0] / FILE).read_bytes()
    write_parts(con, ROWS.replace("'v' || i", "'changed'"), PARTS, new)
    assert (old / folders[0] / FILE).read_bytes() == before
    assert con.sql(f"SELECT DISTINCT _extra FROM read_parquet('{new}/**/*.parquet')"
                   ).fetchall() == [("changed",)]
