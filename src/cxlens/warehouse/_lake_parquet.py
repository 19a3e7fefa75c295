"""The lake's month-partitioned write: a query's rows, one Parquet file per folder.

DuckDB's ``COPY … (PARTITION_BY (_month, _seg))`` keeps a writer open per partition and
feeds each the rows as they come: on the M demo's GA4 batch (818 k rows over 24 months)
that cost about 0.7 CPU-s more than writing the same rows as one file (2.4–2.8 against
1.6–1.8 CPU-s), a third of the whole batch's mirror. Sorting the rows by their folder in
DuckDB and writing each folder's run as one file with pyarrow costs about what the single
file does (1.8–2.1 CPU-s; docs/engine.md, "The lake"). The sort is DuckDB's (parallel, and
it spills to disk when it must), on the partition columns themselves: sorting on the
folder's name as one text (``_month=…/_seg=…``, its first 9 characters alike on every
row) cost twice as much. The rows reach Python as a stream of Arrow batches, so at most
one folder's rows are held at a time.

The files hold the same Parquet types as DuckDB's own (decimals as 64-bit integers, UTC
timestamps in microseconds, text as UTF-8; no Arrow schema in the footer), so Spark reads
folders written either way as one table.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

FILE = "data_0.parquet"
_FETCH = 1 << 17  # rows per Arrow batch from DuckDB
ROW_GROUP = 1 << 17  # rows per Parquet row group, as DuckDB's default (122,880) roughly
# Columns that differ on (nearly) every row: a dictionary only costs the writer its attempt,
# and bounds on them help no reader (nothing filters on the content hash or the unmapped
# values). GA4's batch on M: 2.0-2.4 CPU-s with the defaults, 1.9 without (and 51 MB, not
# 55); timestamps too get no dictionary but keep their bounds (Spark skips row groups by
# them).
_NO_DICTIONARY = {"_hash", "_extra", "_line", "_key"}
_NO_STATISTICS = {"_hash", "_extra"}
# Decimals as 64-bit integers, as DuckDB writes DECIMAL(18,4), where this pyarrow can (the
# setting is recent; older ones write them as fixed-length bytes, which read the same).
_DECIMALS = ({"store_decimal_as_integer": True} if "store_decimal_as_integer"
             in inspect.signature(pq.ParquetWriter.__init__).parameters else {})


def write_parts(con: duckdb.DuckDBPyConnection, query: str, parts: list[str],
                dest: Path) -> list[str]:
    """Write the rows of ``query`` under ``dest`` partitioned by its text columns
    ``parts``, as DuckDB's ``PARTITION_BY`` does: a row with ``_month = '2026-03'`` and
    ``_seg = '6'`` goes to ``_month=2026-03/_seg=6/data_0.parquet``, without those columns.
    Returns the folders written, in order.

    A folder's rows are one file: the rows arrive sorted by ``parts``, and a folder's run
    is written when the next folder starts."""
    rel = con.sql(f"SELECT * FROM ({query}) ORDER BY {', '.join(parts)}")
    # ``to_arrow_reader`` in newer DuckDB (``fetch_record_batch`` in older ones: deprecated)
    stream = getattr(rel, "to_arrow_reader", None) or rel.fetch_record_batch
    reader = stream(_FETCH)
    schema = reader.schema
    written: list[str] = []
    pending: list[pa.RecordBatch] = []
    current: str | None = None

    def flush() -> None:
        if current is None or not pending:
            return
        if current in written:  # the rows were not sorted: never overwrite a folder's file
            raise RuntimeError(f"lake: the rows of {current} did not arrive together")
        folder = os.path.join(dest, current)
        os.makedirs(folder, exist_ok=True)
        table = pa.Table.from_batches(pending, schema=schema).drop_columns(parts)
        path = os.path.join(folder, FILE)
        if os.path.lexists(path):  # never write through a hard link into an older version
            os.unlink(path)
        pq.write_table(table, path, row_group_size=ROW_GROUP, store_schema=False,
                       **_DECIMALS, **_encoding(table.schema))
        written.append(current)
        pending.clear()

    for batch in reader:
        for start, end, folder in _runs(batch, parts):
            if folder != current:
                flush()
                current = folder
            pending.append(batch.slice(start, end - start))
    flush()
    return written


def _runs(batch: pa.RecordBatch, parts: list[str]) -> list[tuple[int, int, str]]:
    """The runs of equal ``parts`` in a sorted ``batch``: (start, end, folder)."""
    ends: set[int] = set()
    for name in parts:
        ends.update(pc.run_end_encode(batch.column(name)).run_ends.to_pylist())
    out, start = [], 0
    columns = [batch.column(name) for name in parts]
    for end in sorted(ends):
        folder = "/".join(f"{name}={col[start].as_py()}" for name, col in zip(parts, columns,
                                                                            strict=True))
        out.append((start, end, folder))
        start = end
    return out


def _encoding(schema: pa.Schema) -> dict[str, list[str]]:
    """pyarrow's per-column dictionary and statistics settings for ``schema``."""
    names = schema.names
    plain = {f.name for f in schema if pa.types.is_timestamp(f.type)} | _NO_DICTIONARY
    return {"use_dictionary": [n for n in names if n not in plain],
            "write_statistics": [n for n in names if n not in _NO_STATISTICS]}
