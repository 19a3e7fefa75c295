"""The lake's month-partitioned write: a query's rows, one Parquet file per folder.

DuckDB's ``COPY … (PARTITION_BY (_month, _seg))`` keeps a writer open per partition and
feeds each the rows as they come: on the M demo's GA4 batch (818 k rows over 24 months)
that cost about 0.7 CPU-s more than writing the same rows as one file (2.4–2.8 against
1.6–1.8 CPU-s), a third of the whole batch's mirror. Sorting the rows by their folder in
DuckDB and writing each folder's run as one file with pyarrow costs about what the single
file does (1.8–2.1 CPU-s; docs/engine.md, "The lake"). The sort is DuckDB's (parallel, and
it spills to disk when it must); the rows reach Python as a stream of Arrow batches, so at
most one folder's rows are held at a time.

The files hold the same Parquet types as DuckDB's own (decimals as 64-bit integers, UTC
timestamps in microseconds, text as UTF-8; no Arrow schema in the footer), so Spark reads
folders written either way as one table.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

FILE = "data_0.parquet"
PART = "_lake_part"  # the query's column naming each row's folder (relative to dest)
_FETCH = 1 << 17  # rows per Arrow batch from DuckDB
ROW_GROUP = 1 << 17  # rows per Parquet row group, as DuckDB's default (122,880) roughly
# Columns that differ on (nearly) every row: a dictionary only costs the writer its attempt,
# and bounds on them help no reader (nothing filters on the content hash or the unmapped
# values). GA4's batch on M: 2.0-2.4 CPU-s with the defaults, 1.9 without (and 51 MB, not
# 55); timestamps too get no dictionary but keep their bounds (Spark skips row groups by
# them).
_NO_DICTIONARY = {"_hash", "_extra", "_line", "_key"}
_NO_STATISTICS = {"_hash", "_extra"}


def write_parts(con: duckdb.DuckDBPyConnection, query: str, dest: Path) -> list[str]:
    """Write the rows of ``query`` under ``dest``, each in the folder its column ``PART``
    names (relative to ``dest``, e.g. ``_month=2026-03/_seg=6``), as
    ``<folder>/data_0.parquet`` without that column. Returns the folders written.

    A folder's rows are one file: the rows arrive sorted by folder, and a folder's run is
    written when the next folder starts."""
    rel = con.sql(f"SELECT * FROM ({query}) ORDER BY {PART}")
    reader = rel.to_arrow_reader(_FETCH)
    schema = reader.schema
    written: list[str] = []
    pending: list[pa.RecordBatch] = []
    current: str | None = None

    def flush() -> None:
        if current is None or not pending:
            return
        folder = os.path.join(dest, current)
        os.makedirs(folder, exist_ok=True)
        table = pa.Table.from_batches(pending, schema=schema).drop_columns([PART])
        path = os.path.join(folder, FILE)
        if os.path.lexists(path):  # never write through a hard link into an older version
            os.unlink(path)
        pq.write_table(table, path, row_group_size=ROW_GROUP,
                       store_decimal_as_integer=True, store_schema=False,
                       **_encoding(schema))
        written.append(current)
        pending.clear()

    for batch in reader:
        runs = pc.run_end_encode(batch.column(PART))
        start = 0
        for end, name in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
            if name != current:
                flush()
                current = name
            pending.append(batch.slice(start, end - start))
            start = end
    flush()
    return written


def _encoding(schema: pa.Schema) -> dict[str, list[str]]:
    """pyarrow's per-column dictionary and statistics settings for ``schema``."""
    names = [f.name for f in schema if f.name != PART]
    plain = {f.name for f in schema if pa.types.is_timestamp(f.type)} | _NO_DICTIONARY
    return {"use_dictionary": [n for n in names if n not in plain],
            "write_statistics": [n for n in names if n not in _NO_STATISTICS]}
