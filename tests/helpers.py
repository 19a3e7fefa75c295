"""Small helpers shared by the ingest and CLI tests (import as ``helpers``)."""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import duckdb

from cxlens.schema import KINDS

# Examples per fuzz test: small in `make test`, large in `make soak` (CXLENS_FUZZ_EXAMPLES).
FUZZ_EXAMPLES = int(os.environ.get("CXLENS_FUZZ_EXAMPLES", "30"))

TABLES = (*(k.table for k in KINDS.values()), "batches", "quarantine", "identities",
          "customers")


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, object]]:
    """Row count and an order-independent content checksum of every warehouse table."""
    out = {}
    for t in TABLES:
        n, h = con.execute(f"SELECT count(*), sum(hash(t)) FROM {t} t").fetchall()[0]
        out[t] = (int(n), h)
    return out


def batch_row(con: duckdb.DuckDBPyConnection, batch: int) -> dict[str, object]:
    rel = con.execute("SELECT * FROM batches WHERE batch_id = ?", [batch])
    cols = [d[0] for d in rel.description]
    return dict(zip(cols, rel.fetchall()[0], strict=True))


def assert_balanced(con: duckdb.DuckDBPyConnection, result) -> dict[str, object]:
    """rows in = loaded + quarantined + duplicates + skipped, in the result and in
    ``batches``."""
    assert result.balanced, result
    row = batch_row(con, result.batch_id)
    assert row["rows_in"] == result.rows_in
    assert row["loaded"] == result.loaded
    assert row["changed"] == result.changed
    assert row["quarantined"] == result.quarantined
    assert row["duplicates"] == result.duplicates
    assert row["skipped"] == result.skipped
    assert row["rows_in"] == (row["loaded"] + row["quarantined"] + row["duplicates"]
                              + row["skipped"])
    assert row["finished_at"] is not None
    return row


def corrupt_parquet(path: Path, rows: int = 1000) -> Path:
    """A feedback file whose first data page is overwritten (the footer stays valid)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"response_id": [f"r{i}" for i in range(rows)],
                      "email": [f"a{i}@example.fi" for i in range(rows)],
                      "ts": ["2026-01-01"] * rows, "score": [9] * rows,
                      "metric": ["nps"] * rows})
    pq.write_table(table, path, compression="snappy", use_dictionary=False)
    data = bytearray(path.read_bytes())
    data[100:400] = b"\xff" * 300
    path.write_bytes(bytes(data))
    return path


def assert_same(left: Any, right: Any, path: str = "result") -> None:
    """The DuckDB/Spark parity rule: equal structure, types and values all the way down
    (dataclasses field by field, except fields with ``compare=False``), floats to 1e-9
    relative, NaN equal to NaN."""
    if dataclasses.is_dataclass(left) and not isinstance(left, type):
        assert type(left) is type(right), path
        for f in dataclasses.fields(left):
            if f.compare:  # not the engine a result was made on, nor its SQL
                assert_same(getattr(left, f.name), getattr(right, f.name), f"{path}.{f.name}")
    elif isinstance(left, dict):
        assert isinstance(right, dict) and list(left) == list(right), path
        for k in left:
            assert_same(left[k], right[k], f"{path}[{k!r}]")
    elif isinstance(left, list | tuple):
        assert type(left) is type(right) and len(left) == len(right), path
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(left, float) and not isinstance(right, bool):
        assert isinstance(right, float | int), (path, left, right)
        assert (math.isnan(left) and math.isnan(right)) or math.isclose(
            left, right, rel_tol=1e-9, abs_tol=1e-12), (path, left, right)
    else:
        assert left == right and type(left) is type(right), (path, left, right)
