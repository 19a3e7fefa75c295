"""Working with batches after they are loaded: rollback, the quarantine, and retries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from cxlens.errors import UserError
from cxlens.ingest import identity
from cxlens.ingest.load import STAGE, BatchResult, Plan, load_staged
from cxlens.ingest.mapping import load_mapping, parse_mapping
from cxlens.schema import KINDS
from cxlens.sources.readers import stage_arrow
from cxlens.warehouse import lake


def _batch_row(con: duckdb.DuckDBPyConnection, batch: int) -> tuple[Any, ...]:
    rows = con.execute(
        "SELECT kind, source_file, mapping, status FROM batches WHERE batch_id = ?", [batch]
    ).fetchall()
    if not rows:
        raise UserError(f"no batch {batch}", hint="see `cxlens batches`")
    return rows[0]


def rollback(con: duckdb.DuckDBPyConnection, batch: int) -> dict[str, int]:
    """Delete a batch's rows and revive the versions it superseded, in one transaction."""
    kind_name, _, _, status = _batch_row(con, batch)
    if status != "loaded":
        raise UserError(f"batch {batch} is already {status}", hint="see `cxlens batches`")
    table = KINDS[kind_name].table
    con.execute("BEGIN TRANSACTION")
    try:
        removed = con.execute(f"DELETE FROM {table} WHERE _batch = ?", [batch]).fetchall()[0][0]
        restored = con.execute(
            f"UPDATE {table} SET _superseded_by = NULL WHERE _superseded_by = ?", [batch]
        ).fetchall()[0][0]
        con.execute("UPDATE quarantine SET status = 'rolled_back' WHERE batch_id = ?", [batch])
        con.execute("DELETE FROM field_warnings WHERE batch_id = ?", [batch])  # rows gone
        con.execute("UPDATE batches SET status = 'rolled_back' WHERE batch_id = ?", [batch])
        if KINDS[kind_name].needs_identity:
            identity.resolve(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    notes = lake.after_commit(con, kind_name, None)  # the Parquet mirror for Spark
    return {"batch": batch, "removed": int(removed), "restored": int(restored),
            **({"notes": notes} if notes else {})}


def quarantined(con: duckdb.DuckDBPyConnection, *, batch: int | None = None,
                line: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    where, params = ["status = 'open'"], []
    if batch is not None:
        where.append("batch_id = ?")
        params.append(batch)
    if line is not None:
        where.append("line = ?")
        params.append(line)
    rows = con.execute(
        'SELECT batch_id, kind, source_file, line, "column", value, reason, raw FROM quarantine '
        f"WHERE {' AND '.join(where)} ORDER BY batch_id, line LIMIT {int(limit)}", params
    ).fetchall()
    keys = ["batch", "kind", "file", "line", "column", "value", "reason", "raw"]
    return [dict(zip(keys, r, strict=True)) for r in rows]


def field_warnings(con: duckdb.DuckDBPyConnection, *, batch: int | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
    """Optional values that were invalid and set empty in loaded records (the records were
    kept), newest batch first. A warehouse older than schema 5 has none."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = "
                         "'field_warnings'").fetchall()[0][0]
    if not exists:
        return []
    where, params = ("WHERE batch_id = ?", [batch]) if batch is not None else ("", [])
    rows = con.execute(
        'SELECT batch_id, kind, source_file, line, "column", value, reason FROM field_warnings '
        f'{where} ORDER BY batch_id DESC, line, "column" LIMIT {int(limit)}', params
    ).fetchall()
    keys = ["batch", "kind", "file", "line", "column", "value", "reason"]
    return [dict(zip(keys, r, strict=True)) for r in rows]


def field_warning_counts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Field warnings per batch and source column, for the Data page."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = "
                         "'field_warnings'").fetchall()[0][0]
    if not exists:
        return []
    rows = con.execute(
        'SELECT batch_id, source_file, "column", count(*), min(reason) FROM field_warnings '
        'GROUP BY ALL ORDER BY batch_id DESC, count(*) DESC, "column"').fetchall()
    keys = ["batch", "file", "column", "count", "reason"]
    return [dict(zip(keys, r, strict=True)) for r in rows]


def retry(con: duckdb.DuckDBPyConnection, batch: int,
          mapping_file: Path | None = None) -> BatchResult:
    """Run a batch's open quarantined rows through validation again, as a new batch."""
    _, source_file, mapping_yaml, _ = _batch_row(con, batch)

    m = (load_mapping(mapping_file) if mapping_file
         else parse_mapping(yaml.safe_load(mapping_yaml), f"batch {batch}"))
    rows = con.execute(
        "SELECT line, raw FROM quarantine WHERE batch_id = ? AND status = 'open' ORDER BY line",
        [batch],
    ).fetchall()
    records = [(line, json.loads(raw)) for line, raw in rows]
    records = [(line, r) for line, r in records if "_raw_line" not in r]
    if not records:
        raise UserError(f"batch {batch} has no quarantined rows that can be retried",
                        hint="rows that could not be split into columns need a fixed file")
    columns = list(records[0][1])
    data = {c: pa.array([r.get(c) for _, r in records], pa.string()) for c in columns}
    data["_line"] = pa.array([line for line, _ in records], pa.int64())
    staged = stage_arrow(con, pa.table(data), STAGE, columns)
    lines = [line for line, _ in records]

    def close_old(new_batch: int) -> None:
        con.execute(
            "UPDATE quarantine SET status = 'retried' WHERE batch_id = ? AND status = 'open' "
            "AND list_contains(?, line)", [batch, lines]
        )

    p = Plan(mapping=m, staged=staged, how="retry")
    return load_staged(con, p, source_file, None, lambda s, f: None, after_load=close_old,
                       retrying=batch)
