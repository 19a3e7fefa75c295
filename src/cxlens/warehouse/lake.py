"""The lake: a Parquet mirror of a workspace's warehouse, for Spark (docs/engine.md, "The lake").

The DuckDB file stays the system of record. After every committed batch and every rollback
(once a workspace has a lake, see ``enabled``), and on demand (``cxlens lake sync``), what the
analytics read is written as Parquet under the lake path, where a Spark cluster can read it.

What is mirrored, and why not the views themselves:

* each kind's **current rows** — its ``v_<table>`` view without ``customer_id`` — in a folder
  per month of the kind's time column. ``customer_id`` is left out because identity
  resolution after any batch can change it on rows of *every* kind in *every* month; it is
  joined back on Spark from the mirrored ``identities`` (``SparkLake.engine`` defines each
  ``v_<table>`` as that join, the same join the DuckDB view makes). Without it a batch
  touches only its own kind's rows and only the months they fall in, so the mirror is
  incremental. The view's other non-portable part (``properties`` built with DuckDB's
  ``to_json(map(...))``) is materialised: it depends only on the row and its batch.
* ``identities``, ``customers``, ``batches`` in full (small, and rewritten by most batches).

128-bit integers (the content hash ``_hash``) become hex text (``hash_text``): Arrow hands
them to Spark as ``decimal(38)``, which they overflow. Naive timestamps (UTC in the
warehouse) are written as UTC instants, which Spark reads as its ``TIMESTAMP`` in the UTC
session zone.

Atomicity: every sync writes a new version folder ``versions/<n>/`` (the untouched tables
and months hard-linked from the previous version, the touched ones written anew) and then
replaces the pointer file ``CURRENT`` with ``os.replace``. A reader resolves ``CURRENT`` once
and reads only that version, so it never sees half a batch; the version before stays on disk
for readers still on it, older ones are deleted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from cxlens.errors import UserError
from cxlens.schema import KINDS

log = logging.getLogger(__name__)

LAKE_ENV = "CXLENS_LAKE"
FORMAT = 1  # bump when the layout of a version changes: a lake of another format is rewritten
_EMPTY = "_empty"  # partition folder holding a 0-row file, so Spark knows an empty table's schema
_KEEP_VERSIONS = 2  # the current one and the one before (readers may still be on it)


@dataclass(frozen=True)
class Mirrored:
    """One lake table: its name, the SQL that gives its rows, its month column (if any)."""

    name: str
    source: str
    month_of: str | None = None
    base: str | None = None  # the kind's own table, to find the months a batch touched
    identity: bool = False  # v_<name> on Spark joins identities for customer_id


def mirrored() -> list[Mirrored]:
    """Every lake table, in a fixed order."""
    out = []
    for k in KINDS.values():
        time_col = next((f.name for f in k.fields if f.type in ("timestamp", "date")), None)
        cols = "* EXCLUDE (customer_id)" if k.needs_identity else "*"
        out.append(Mirrored(k.table, f"SELECT {cols} FROM v_{k.table}", time_col,
                            base=k.table, identity=k.needs_identity))
    out += [Mirrored(n, f"SELECT * FROM {n}") for n in ("identities", "customers", "batches")]
    return out


def lake_path(workspace: Path) -> Path:
    """Where the workspace's lake is: ``$CXLENS_LAKE/<workspace folder name>`` when the
    setting is given (one shared root for many workspaces), else ``<workspace>/lake``."""
    root = os.environ.get(LAKE_ENV)
    workspace = Path(workspace)
    if root:
        return Path(root).expanduser() / workspace.resolve().name
    return workspace / "lake"


def enabled(workspace: Path) -> bool:
    """Whether batches keep this workspace's lake current: once it has one (``cxlens lake
    sync`` or a Spark engine made it), or when ``$CXLENS_LAKE``/``$CXLENS_SPARK`` is set.
    Workspaces that never use Spark pay nothing."""
    return bool(os.environ.get(LAKE_ENV) or os.environ.get("CXLENS_SPARK")
                or (lake_path(workspace) / "CURRENT").exists())


# ---------------------------------------------------------------------------------------
# Reading the pointer
# ---------------------------------------------------------------------------------------


def current(lake: Path) -> dict[str, Any] | None:
    """The lake's pointer (version, warehouse state, tables), or None if there is none."""
    try:
        data = json.loads((lake / "CURRENT").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def version_dir(lake: Path, version: int) -> Path:
    return lake / "versions" / f"{version:08d}"


def missing_tables(lake: Path, pointer: dict[str, Any] | None = None) -> list[str]:
    """The lake tables that the current version lacks on disk (all of them without one)."""
    pointer = pointer if pointer is not None else current(lake)
    if pointer is None:
        return [m.name for m in mirrored()]
    base = version_dir(lake, int(pointer["version"]))
    return [m.name for m in mirrored()
            if not any((base / m.name).rglob("*.parquet"))]


def warehouse_state(con: duckdb.DuckDBPyConnection) -> list[int]:
    """What identifies the warehouse's content for the lake: the last batch and how many
    batches were rolled back (a rollback keeps the last batch number)."""
    row = con.execute("SELECT coalesce(max(batch_id), 0), count(*) FILTER "
                      "(WHERE status <> 'loaded') FROM batches").fetchall()[0]
    return [int(row[0]), int(row[1])]


def schema_version(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    return rows[0][0] if rows else "0"


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    """What a sync did: the version written, tables and months rewritten, seconds taken."""

    lake: str
    version: int
    full: bool
    written: dict[str, list[str] | str] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"lake": self.lake, "version": self.version, "full": self.full,
                "written": self.written, "seconds": round(self.seconds, 3)}


def _select_list(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """The source's columns, with 128-bit integers as text and naive timestamps as UTC."""
    cols = con.execute(f"DESCRIBE {source}").fetchall()
    exprs = []
    for name, sql_type, *_ in cols:
        q = '"' + name.replace('"', '""') + '"'
        if sql_type in ("HUGEINT", "UHUGEINT"):
            exprs.append(f"{hash_text(q)} AS {q}")
        elif sql_type == "TIMESTAMP":
            exprs.append(f"CAST({q} AS TIMESTAMPTZ) AS {q}")
        else:
            exprs.append(q)
    return ", ".join(exprs)


def hash_text(col: str) -> str:
    """A 128-bit integer column as lower-case hex text, as the lake stores it. Hex, not
    decimal: DuckDB casts 128-bit integers to decimal text slowly (51 s for the M demo's
    1 M events, against 0.2 s for hex), and the hash is compared, never computed with."""
    return f"lower(to_hex({col}))"


def _month_expr(col: str) -> str:
    return f"coalesce(strftime(\"{col}\", '%Y-%m'), 'none')"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _write_table(con: duckdb.DuckDBPyConnection, m: Mirrored, dest: Path,
                 months: set[str] | None) -> None:
    """Write ``m`` (all of it, or only ``months``) as Parquet under ``dest``."""
    select = _select_list(con, m.source)
    dest.mkdir(parents=True, exist_ok=True)
    if m.month_of is None:
        con.execute(f"COPY (SELECT {select} FROM ({m.source})) TO "
                    f"{_sql_str(str(dest / 'all.parquet'))} (FORMAT parquet)")
        return
    where = ""
    if months is not None:
        if not months:
            return
        where = (f" WHERE {_month_expr(m.month_of)} IN "
                 f"({', '.join(_sql_str(x) for x in sorted(months))})")
    con.execute(
        f"COPY (SELECT {select}, {_month_expr(m.month_of)} AS _month FROM ({m.source}){where}) "
        f"TO {_sql_str(str(dest))} (FORMAT parquet, PARTITION_BY (_month), "
        "OVERWRITE_OR_IGNORE true)")
    if not any(dest.rglob("*.parquet")):
        (dest / _EMPTY).mkdir(exist_ok=True)
        con.execute(f"COPY (SELECT {select} FROM ({m.source}) LIMIT 0) TO "
                    f"{_sql_str(str(dest / _EMPTY / 'data_0.parquet'))} (FORMAT parquet)")


def _link_tree(src: Path, dest: Path, skip: Iterable[str] = ()) -> None:
    """Hard-link (or, across file systems, copy) every file under ``src`` into ``dest``,
    leaving out the top-level folders named in ``skip``."""
    skip = set(skip)
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        if rel.parts[0] in skip or path.is_dir():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


def _touched_months(con: duckdb.DuckDBPyConnection, m: Mirrored, batch: int) -> set[str]:
    """Months of the rows a batch loaded or superseded (the only ones whose mirror changes)."""
    assert m.base is not None and m.month_of is not None
    rows = con.execute(f"SELECT DISTINCT {_month_expr(m.month_of)} FROM {m.base} "
                       "WHERE _batch = ? OR _superseded_by = ?", [batch, batch]).fetchall()
    return {r[0] for r in rows}


def _unwritable(lake: Path, exc: OSError) -> UserError:
    return UserError(
        f"cannot write the lake at {lake}: {exc.strerror or exc}",
        hint=f"make the folder writable for this user, or point ${LAKE_ENV} at a writable "
             "folder (docs/engine.md, \"The lake\")")


def sync(con: duckdb.DuckDBPyConnection, lake: Path, *, kind: str | None = None,
         batch: int | None = None, full: bool = False) -> SyncResult:
    """Bring the lake up to the warehouse's committed state and return what was written.

    With ``kind`` and ``batch`` (a batch just committed) only that kind's touched months and
    the small tables are rewritten, provided the lake was current just before the batch;
    with ``kind`` alone (a rollback) that kind's whole table; otherwise (or with ``full``,
    or when the lake is behind, of another format or schema, or lacks a table) everything.
    """
    started = time.perf_counter()
    lake = Path(lake)
    con.execute("SET TimeZone = 'UTC'")
    state = warehouse_state(con)
    schema = schema_version(con)
    try:
        lake.mkdir(mode=0o700, parents=True, exist_ok=True)
        (lake / "versions").mkdir(exist_ok=True)
        probe = lake / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise _unwritable(lake, exc) from None
    prev = current(lake)
    expected = None
    if kind is not None and prev is not None:
        expected = [state[0] - 1, state[1]] if batch is not None else [state[0], state[1] - 1]
    incremental = (not full and kind is not None and prev is not None
                   and prev.get("state") == expected and prev.get("schema") == schema
                   and not missing_tables(lake, prev))
    if (not full and prev is not None and prev.get("state") == state
            and prev.get("schema") == schema and not missing_tables(lake, prev)):
        # already current (a second sync of the same batch, or nothing happened since)
        return SyncResult(str(lake), int(prev["version"]), False,
                          seconds=time.perf_counter() - started)
    version = (int(prev["version"]) + 1) if prev is not None else 1
    dest = version_dir(lake, version)
    result = SyncResult(str(lake), version, not incremental)
    try:
        if dest.exists():  # left by a sync that died before its pointer was written
            shutil.rmtree(dest)
        tmp = dest.with_name(dest.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        for m in mirrored():
            out = tmp / m.name
            if not incremental or m.base is None:
                _write_table(con, m, out, None)
                result.written[m.name] = "all"
            elif m.base != KINDS[kind].table:  # type: ignore[index]
                _link_tree(version_dir(lake, int(prev["version"])) / m.name, out)  # type: ignore[index]
            elif batch is None or m.month_of is None:
                _write_table(con, m, out, None)
                result.written[m.name] = "all"
            else:
                months = _touched_months(con, m, batch)
                old = version_dir(lake, int(prev["version"])) / m.name  # type: ignore[index]
                _link_tree(old, out, skip=[f"_month={x}" for x in months])
                _write_table(con, m, out, months)
                if (out / _EMPTY).exists() and any(
                        p.parent.name != _EMPTY for p in out.rglob("*.parquet")):
                    shutil.rmtree(out / _EMPTY)
                if not any(out.rglob("*.parquet")):
                    _write_table(con, m, out, None)
                result.written[m.name] = sorted(months)
        tmp.rename(dest)
        pointer = {"format": FORMAT, "version": version, "state": state, "schema": schema,
                   "tables": [m.name for m in mirrored()],
                   "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        staged = lake / "CURRENT.tmp"
        staged.write_text(json.dumps(pointer, indent=1), encoding="utf-8")
        os.replace(staged, lake / "CURRENT")
    except OSError as exc:
        raise _unwritable(lake, exc) from None
    except duckdb.IOException as exc:
        raise UserError(f"cannot write the lake at {lake}: {exc}",
                        hint=f"make the folder writable, or point ${LAKE_ENV} elsewhere") from None
    _clean(lake, version)
    result.seconds = time.perf_counter() - started
    return result


def _clean(lake: Path, version: int) -> None:
    """Delete versions older than the ones kept (and leftovers of failed syncs)."""
    for path in (lake / "versions").iterdir():
        name = path.name.removesuffix(".tmp")
        if not name.isdigit():
            continue
        if int(name) <= version - _KEEP_VERSIONS or (path.name.endswith(".tmp")):
            shutil.rmtree(path, ignore_errors=True)


def workspace_of(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The workspace folder of the warehouse ``con`` is connected to (None in memory)."""
    rows = con.execute("SELECT path FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchall()
    if not rows or not rows[0][0]:
        return None
    return Path(rows[0][0]).parent


def after_commit(con: duckdb.DuckDBPyConnection, kind: str, batch: int | None) -> list[str]:
    """Keep the workspace's lake current after a committed batch (``batch``) or a rollback
    (``batch=None``) of ``kind``; the notes to show (empty when all went well).

    The warehouse has committed already, so a lake that cannot be written does not undo the
    batch: the note says so, and the lake stays behind until the next sync brings it up
    (a Spark engine checks and syncs before it reads).
    """
    workspace = workspace_of(con)
    if workspace is None or not enabled(workspace):
        return []
    try:
        sync(con, lake_path(workspace), kind=kind, batch=batch)
    except UserError as exc:
        log.warning("lake not updated: %s", exc)
        return [f"the lake was not updated ({exc.message}); run `cxlens lake sync` once "
                "it is writable"]
    return []


# ---------------------------------------------------------------------------------------
# The reference queries on a real warehouse
# ---------------------------------------------------------------------------------------

# Parameters the reference queries take (``sessions``: a new session after 30 minutes).
REFERENCE_PARAMS: dict[str, dict[str, Any]] = {"sessions": {"gap_seconds": 30 * 60}}

_BASE_READS = re.compile(r"\b(FROM|JOIN)\s+(orders|events)\b")


def on_views(sql: str) -> str:
    """A reference query of ``analytics/queries.py`` reading the warehouse's views: those
    queries name ``orders``/``events`` with a ``customer_id``, which a warehouse keeps in
    ``v_orders``/``v_events`` (its base tables hold every version and no customer)."""
    return _BASE_READS.sub(lambda m: f"{m.group(1)} v_{m.group(2)}", sql)

