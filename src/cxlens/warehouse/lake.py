"""The lake: a Parquet mirror of a workspace's warehouse, for Spark (docs/engine.md, "The lake").

The DuckDB file stays the system of record. After every committed batch and every rollback
(once a workspace has a lake, see ``enabled``), and on demand (``cxlens lake sync``), what the
analytics read is written as Parquet under the lake path, where a Spark cluster can read it.

What is mirrored, and why not the views themselves:

* each kind's **current rows** — its ``v_<table>`` view without ``customer_id`` — in
  ``<table>/_month=<YYYY-MM>/_seg=<batch>/``: a folder per month of the kind's time column
  and per batch that loaded the rows, one file each (``_lake_parquet.write_parts``).
  ``customer_id`` is left out because identity resolution after any batch can change it on
  rows of *every* kind in *every* month; it is joined back on Spark from the mirrored
  ``identities`` (``spark.lake_engine`` defines each ``v_<table>`` as that join, the same
  join the DuckDB view makes). Without it a batch writes
  only its own rows, plus the segments holding rows it superseded (a changed record), so the
  mirror costs in proportion to the batch, not to the table (docs/benchmarks.md). Segments
  of older batches are compacted per month (``_MAX_SEGMENTS``), so that small batches (the
  collection inbox's) do not leave Spark thousands of tiny files. The view's other
  non-portable part, ``properties`` (DuckDB's ``to_json(map(...))``), is left to the reader:
  the rows keep ``_extra`` (as JSON array text), and Spark's view builds the same JSON
  (``spark._PROPERTIES``).
* ``identities`` and ``customers`` per batch, as segments with deletions (``_keyed_batch``):
  a batch writes the rows it touched, not the whole tables; ``batches`` in full (small).
* the **derived tables** (``schema.DERIVED``: ``comment_analysis``, ``text_models`` …), each
  whole, whenever its content changed (``derived_state``: rows and a hash of every row, in
  the pointer). They change by ``cxlens text analyse``, not by batches, so the lake is
  behind the warehouse when either its batches or a derived table differ; a sync that finds
  the batches current writes only the derived tables that changed (``after_derived``).

128-bit integers (the content hash ``_hash``) become hex text (``hash_text``): Arrow hands
them to Spark as ``decimal(38)``, which they overflow. Naive timestamps (UTC in the
warehouse) are written as UTC instants, which Spark reads as its ``TIMESTAMP`` in the UTC
session zone.

Atomicity: every sync writes a new version folder ``versions/<n>/`` holding the tables it
changed (in a changed kind, its untouched months and segments hard-linked from the table's
previous folder, the touched ones written anew) and then replaces the pointer file
``CURRENT`` with ``os.replace``; the pointer names, per table, the version folder it is read
from (``table_dir``), so a table a batch did not touch costs it nothing. A reader resolves
``CURRENT`` once and reads only what it names, so it never sees half a batch; what the
version before reads stays on disk for readers still on it, the rest is deleted (in the
background: ``_clean``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from cxlens.errors import UserError
from cxlens.schema import DERIVED, KINDS
from cxlens.warehouse._lake_parquet import write_parts

log = logging.getLogger(__name__)

LAKE_ENV = "CXLENS_LAKE"
FORMAT = 4  # bump when the layout of a version changes: a lake of another format is rewritten
# The folder of a 0-row file, so Spark knows an empty table's schema. Not ``_empty``: Spark
# skips files and folders whose names start with ``_`` or ``.`` unless they hold ``=``, and
# then found no file at all for an empty kind ("Unable to infer schema for Parquet").
_EMPTY = "empty"
DELETED = "_deleted"  # suffix of a keyed table's folder of deletions (see _keyed_batch)
SEGMENT = "_lseg"  # a keyed table's column: the segment (batch, 0 when compacted) of the row


@dataclass(frozen=True)
class Mirrored:
    """One lake table: its name, the SQL that gives its rows, its month column (if any)."""

    name: str
    source: str
    month_of: str | None = None
    base: str | None = None  # the kind's own table, to find the months a batch touched
    identity: bool = False  # v_<name> on Spark joins identities for customer_id
    key: str | None = None  # written per batch as segments with deletions (see _keyed_batch)
    derived: bool = False  # a derived table (schema.DERIVED): written when its content changed

    def folders(self) -> list[str]:
        """Its folders in a version: a keyed table has its deletions beside it."""
        return [self.name, self.name + DELETED] if self.key else [self.name]


def mirrored() -> list[Mirrored]:
    """Every lake table, in a fixed order."""
    out = []
    for k in KINDS.values():
        time_col = next((f.name for f in k.fields if f.type in ("timestamp", "date")), None)
        cols = "* EXCLUDE (customer_id)" if k.needs_identity else "*"
        out.append(Mirrored(k.table, f"SELECT {cols} FROM v_{k.table}", time_col,
                            base=k.table, identity=k.needs_identity))
    out += [Mirrored("identities", "SELECT * FROM identities", key="identity_key"),
            Mirrored("customers", "SELECT * FROM customers", key="customer_id"),
            Mirrored("batches", "SELECT * FROM batches")]
    # Every derived table, by its name alone: a new one in schema.DERIVED is mirrored too.
    out += [Mirrored(name, f"SELECT * FROM {name}", derived=True) for name in DERIVED]
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
    if not isinstance(data, dict) or data.get("format") != FORMAT \
            or not isinstance(data.get("tables"), dict):
        return None
    return data


def version_dir(lake: Path, version: int) -> Path:
    """The folder of the tables version ``version`` wrote (not every table: see
    ``table_dir``)."""
    return lake / "versions" / f"{version:08d}"


def table_dir(lake: Path, pointer: dict[str, Any], folder: str) -> Path:
    """Where the version ``pointer`` names reads a table (or a keyed table's deletions)
    from: the folder of the version that last wrote it (``tables`` in the pointer). A
    batch writes only the tables it changed; the others stay where they are."""
    return version_dir(lake, int(pointer["tables"][folder])) / folder


@dataclass(frozen=True)
class _Tables:
    """A version's tables as one folder would hold them: ``tables / name`` is where the
    version reads ``name`` from (``table_dir``)."""

    lake: Path
    pointer: dict[str, Any]

    def __truediv__(self, folder: str) -> Path:
        return table_dir(self.lake, self.pointer, folder)


def missing_tables(lake: Path, pointer: dict[str, Any] | None = None) -> list[str]:
    """The lake tables that the current version lacks on disk (all of them without one)."""
    pointer = pointer if pointer is not None else current(lake)
    if pointer is None:
        return [m.name for m in mirrored()]
    tables = pointer["tables"]
    return [m.name for m in mirrored()
            if not all(f in tables and any(table_dir(lake, pointer, f).rglob("*.parquet"))
                       for f in m.folders())]


def derived_state(con: duckdb.DuckDBPyConnection) -> dict[str, list[int] | None]:
    """What identifies each derived table's content: its rows and the XOR of a hash of
    every row (order-free; a primary key keeps two rows from cancelling out). None for a
    table the warehouse lacks (a schema before 7, opened read-only): the lake then holds it
    empty, and Spark's engine leaves it out as DuckDB's has none (``spark.lake_engine``).

    Derived tables change without a batch (``cxlens text analyse``), so the batch count
    alone cannot tell whether the lake holds them as they are. Cost: 0.014 CPU-s for 100 k
    rows of ``comment_analysis``' width, paid by every sync and every check of a Spark
    reader (docs/benchmarks.md, "Open comments")."""
    out: dict[str, list[int] | None] = {}
    for name in DERIVED:
        if _lacks(con, name):
            out[name] = None
            continue
        n, fp = con.execute(f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) "
                            f"FROM {name} t").fetchall()[0]
        out[name] = [int(n), int(fp)]
    return out


def derived_changed(pointer: dict[str, Any],
                    state: dict[str, list[int] | None]) -> list[str]:
    """The derived tables whose mirror in ``pointer`` is not the content ``state`` names
    (or which the pointer lacks: a lake written before they were mirrored)."""
    held = pointer.get("derived") or {}
    return [name for name, st in state.items()
            if held.get(name) != st or name not in pointer["tables"]]


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


def _write_small(con: duckdb.DuckDBPyConnection, m: Mirrored, dest: Path) -> None:
    """A table without a time column, whole, as one file."""
    dest.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT {_select_list(con, m.source)} FROM ({m.source})) TO "
                f"{_sql_str(str(dest / 'all.parquet'))} (FORMAT parquet)")


def _kind_source(con: duckdb.DuckDBPyConnection, m: Mirrored) -> str:
    """The kind's current rows with the columns of its ``v_`` view but ``customer_id``, and
    with ``_extra`` (the unmapped columns' values, as JSON array text) in place of the
    ``properties`` built from it: Spark builds that JSON in its view (``spark.lake_engine``).

    Why text: the values are most of the mirror's cost whatever their form, and JSON array
    text is the cheapest form measured (GA4 on M, CPU seconds of its ``COPY``: 2.0 with the
    ``properties`` JSON, 1.85 with ``_extra`` as a Parquet list, 1.45 as text, 0.95 with
    neither; docs/engine.md, "The lake")."""
    assert m.base is not None
    names = {r[0] for r in con.execute(f"DESCRIBE {m.base}").fetchall()}
    if "properties" not in names:
        return ("SELECT t.* EXCLUDE (_errors, _raw, _extra, _warnings) "
                f"FROM {m.base} t WHERE t._superseded_by IS NULL")
    return ("SELECT t.* EXCLUDE (_errors, _raw, _warnings) REPLACE "
            f"(to_json(t._extra)::VARCHAR AS _extra) FROM {m.base} t "
            "WHERE t._superseded_by IS NULL")


# A kind's rows sit in ``<table>/_month=<YYYY-MM>/_seg=<s>/``: the segment ``s`` is the
# batch that loaded them, so that a batch writes only its own rows, and a batch that
# supersedes rows rewrites only the segments holding them. Rows of batches up to a month's
# watermark (``compacted`` in the pointer) sit together in segment ``c``: a full write puts
# everything there, and a month that gathers more than ``_MAX_SEGMENTS`` segments (small
# batches, e.g. the collection inbox's) is compacted into it, so Spark never lists thousands
# of tiny files.
_MAX_SEGMENTS = 32


@dataclass
class _Segments:
    """What to (re)write of one kind table: per month, the segments (``'c'`` or a batch)."""

    months: dict[str, set[str]] = field(default_factory=dict)

    def add(self, month: str, seg: str) -> None:
        self.months.setdefault(month, set()).add(seg)

    def folders(self) -> list[str]:
        return sorted(f"_month={mo}/_seg={s}" for mo, segs in self.months.items() for s in segs)


def _write_segments(con: duckdb.DuckDBPyConnection, m: Mirrored, dest: Path,
                    marks: dict[str, int], only: _Segments | None,
                    own: int | None = None) -> None:
    """Write the current rows of ``m`` (all of them, or the segments in ``only``) under
    ``dest``, each in its month and segment folder by the watermarks ``marks``.

    ``own``: the batch whose segments ``only`` holds in every month it has rows (the batch
    just committed), selected by its number alone. The filter on ``_batch`` comes first and
    the per-month conditions only for the other segments: with one ``(_month = …
    AND _batch IN …)`` per month for every row of the table, the months' conditions cost
    GA4's 818 k rows on the M demo 0.6 of their 2.5 CPU seconds, and a later events batch
    computed every earlier row's month."""
    assert m.month_of is not None
    source = _kind_source(con, m)
    mark = ("CASE _month " + " ".join(f"WHEN {_sql_str(mo)} THEN {w}"
                                      for mo, w in sorted(marks.items())) + " ELSE 0 END"
            if marks else "0")
    where = "true"
    if only is not None:
        conds, named, upto = [], set(), None
        for mo, segs in sorted(only.months.items()):
            batches = sorted(int(s) for s in segs if s != "c" and int(s) != own)
            if "c" in segs:
                upto = max(upto or 0, marks.get(mo, 0))
                conds.append(f"(_month = {_sql_str(mo)} AND _batch <= {marks.get(mo, 0)})")
            if batches:
                named.update(batches)
                conds.append(f"(_month = {_sql_str(mo)} AND _batch IN "
                             f"({', '.join(map(str, batches))}))")
        if own is not None and any(str(own) in segs for segs in only.months.values()):
            conds.insert(0, f"_batch = {own}")
            named.add(own)
        if not conds:
            return
        first = [f"_batch IN ({', '.join(map(str, sorted(named)))})"] if named else []
        first += [f"_batch <= {upto}"] if upto is not None else []
        where = f"({' OR '.join(first)}) AND ({' OR '.join(conds)})"
    dest.mkdir(parents=True, exist_ok=True)
    write_parts(con, f"SELECT {_select_list(con, source)}, _month, "
                f"CASE WHEN _batch <= {mark} THEN 'c' ELSE _batch::VARCHAR END AS _seg FROM "
                f"(SELECT *, {_month_expr(m.month_of)} AS _month FROM ({source})) "
                f"WHERE {where}", ["_month", "_seg"], dest)


def _write_empty(con: duckdb.DuckDBPyConnection, m: Mirrored, dest: Path) -> None:
    """A 0-row file for a kind without rows, so that Spark knows the table's schema."""
    source = _kind_source(con, m)
    (dest / _EMPTY).mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT {_select_list(con, source)} FROM ({source}) LIMIT 0) TO "
                f"{_sql_str(str(dest / _EMPTY / 'data_0.parquet'))} (FORMAT parquet)")


def _write_derived(con: duckdb.DuckDBPyConnection, m: Mirrored, dest: Path) -> None:
    """A derived table whole, as one file; a 0-row file of its declared columns when the
    warehouse lacks it (a schema before 7, read without migrating), so Spark knows them.

    Whole, not in segments: ``comment_analysis`` is one row per open comment (6.9 k on the
    M demo, 2.6 MB for 100 k rows), and its mirror costs little beside the analysis that
    changed it (docs/benchmarks.md, "Open comments")."""
    if _lacks(con, m.name):
        cols = ", ".join(f'CAST(NULL AS {t}) AS "{c}"' for c, t, _ in DERIVED[m.name])
        m = replace(m, source=f"SELECT {cols} LIMIT 0")
    shutil.rmtree(dest, ignore_errors=True)
    _write_small(con, m, dest)


def _lacks(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the warehouse lacks the derived table ``name``."""
    return not con.execute("SELECT count(*) FROM information_schema.tables WHERE "
                           "table_catalog = current_database() AND table_schema = 'main' "
                           "AND table_name = ?", [name]).fetchall()[0][0]


def _write_kind(con: duckdb.DuckDBPyConnection, m: Mirrored, dest: Path,
                marks: dict[str, int], only: _Segments | None = None,
                own: int | None = None) -> None:
    """A kind table (all of it, or the segments in ``only``), with the 0-row file exactly
    when it holds no rows at all."""
    if m.month_of is None:
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        con.execute(f"COPY (SELECT {_select_list(con, _kind_source(con, m))} FROM "
                    f"({_kind_source(con, m)})) TO {_sql_str(str(dest / 'all.parquet'))} "
                    "(FORMAT parquet)")
        return
    _write_segments(con, m, dest, marks, only, own)
    has_rows = any(p.parent.name != _EMPTY for p in dest.rglob("*.parquet"))
    if has_rows:
        shutil.rmtree(dest / _EMPTY, ignore_errors=True)
    elif not (dest / _EMPTY).exists():
        _write_empty(con, m, dest)


def _link_tree(src: Path, dest: Path, skip: Iterable[str] = ()) -> None:
    """Hard-link (or, across file systems, copy) every file under ``src`` into ``dest``,
    leaving out the folders (relative paths) named in ``skip``.

    Plain ``os.scandir`` and one ``mkdir`` per folder: with ``pathlib`` (``rglob``,
    ``relative_to``, ``mkdir(parents=True)`` per file) linking a version's 220 files took
    0.1 s, a third of a small batch's mirror on the M demo."""
    skipped = {os.path.normpath(s) for s in skip}

    def walk(rel: str) -> None:
        made = False
        with os.scandir(os.path.join(src, rel)) as entries:
            found = list(entries)
        for entry in found:
            sub = os.path.join(rel, entry.name) if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                if sub not in skipped:
                    walk(sub)
                continue
            if not made:
                os.makedirs(os.path.join(dest, rel), exist_ok=True)
                made = True
            target = os.path.join(dest, sub)
            try:
                os.link(entry.path, target)
            except OSError:
                shutil.copy2(entry.path, target)

    if os.path.isdir(src):
        walk("")


def _segments_of(folder: Path) -> dict[str, list[str]]:
    """The month and segment folders a kind table holds on disk."""
    out: dict[str, list[str]] = {}
    for month in folder.glob("_month=*"):
        out[month.name.removeprefix("_month=")] = [
            s.name.removeprefix("_seg=") for s in month.glob("_seg=*")]
    return out


def _batch_segments(con: duckdb.DuckDBPyConnection, m: Mirrored, batch: int,
                    marks: dict[str, int], old: Path) -> _Segments:
    """The segments a committed batch changes: its own rows' (new), the ones holding rows
    it superseded, and every segment of a month that now gathers too many (compacted: the
    caller raises that month's watermark to ``batch``)."""
    assert m.base is not None and m.month_of is not None
    todo = _Segments()
    rows = con.execute(
        f"SELECT DISTINCT {_month_expr(m.month_of)}, _batch, _batch = ? FROM {m.base} "
        "WHERE _batch = ? OR _superseded_by = ?", [batch, batch, batch]).fetchall()
    on_disk = _segments_of(old)
    for month, b, new in rows:
        if new:
            todo.add(month, str(b))
        else:
            todo.add(month, "c" if b <= marks.get(month, 0) else str(b))
    for month in list(todo.months):
        if len(set(on_disk.get(month, [])) | todo.months[month]) > _MAX_SEGMENTS:
            marks[month] = batch
            todo.months[month] = {"c", *on_disk.get(month, [])}
    return todo


# ``identities`` and ``customers`` have no batch column and change anywhere (a batch's
# answers touch customers whose rows came from any earlier batch), so they are written as
# segments with deletions: ``<table>/_seg=<s>/`` holds the rows a batch (re)wrote, each
# with its segment in ``_lseg`` (0: the compacted segment ``c``, written by a full sync);
# ``<table>_deleted/_seg=<s>/`` holds the keys that batch touched, with ``_lseg = s``: a
# row is current unless a later segment touched its key (``spark.lake_engine``: a LEFT
# ANTI JOIN on the key and ``d._lseg > r._lseg``; the batch's own copy is not later than
# itself). A batch thus writes the identities and customers it touched, not the whole table
# (1.5 M identities and their customers on the L demo: 2-6 s after every batch), and never
# reads the lake's copies to delete them (0.26 s of a feedback batch's 0.77 s on M).


def _keyed_write(con: duckdb.DuckDBPyConnection, m: Mirrored, dest: Path, seg: int,
                 where: str = "true") -> None:
    """The current rows of ``m`` matching ``where``, as segment ``seg`` (0: ``c``)."""
    folder = dest / m.name / f"_seg={seg or 'c'}"
    folder.mkdir(parents=True, exist_ok=True)
    source = f"SELECT * FROM {m.name} WHERE {where}"
    con.execute(f"COPY (SELECT {_select_list(con, source)}, {seg}::INTEGER AS {SEGMENT} "
                f"FROM ({source})) TO {_sql_str(str(folder / 'data_0.parquet'))} "
                "(FORMAT parquet)")


def _keyed_full(con: duckdb.DuckDBPyConnection, m: Mirrored, dest: Path) -> None:
    """All of ``m`` in its compacted segment, and no deletions (a 0-row file)."""
    assert m.key is not None
    _keyed_write(con, m, dest, 0)
    folder = dest / (m.name + DELETED) / "_seg=c"
    folder.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT {m.key}, 0::INTEGER AS {SEGMENT} FROM {m.name} LIMIT 0) TO "
                f"{_sql_str(str(folder / 'data_0.parquet'))} (FORMAT parquet)")


def _touched(con: duckdb.DuckDBPyConnection, batch: int) -> dict[str, str] | None:
    """SQL giving, per keyed table, the keys whose rows the batch changed; None when the
    batch's identities were resolved from scratch (then everything is written again).

    Identity resolution records on each identity the batch whose resolution last wrote it
    (``resolved_in``) and the customer it had just before (``previous_customer_id``;
    ``ingest/identity.py``): the batch changed exactly its identities, and the customers
    they belong to now and belonged to before (the ones merged away are deleted). The
    first batch with identifiers is resolved in full with its number, and nothing before
    it: all its identities and customers are its segment. A batch that changed records is
    resolved in full without one, and may change any row.

    Up to warehouse schema 6 the customers before were read from the lake's own
    ``identities``: 0.13 s of every batch on the M demo, most of a small batch's mirror.
    """
    changed = con.execute("SELECT changed FROM batches WHERE batch_id = ?", [batch]).fetchall()
    if not changed or changed[0][0]:
        return None
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _lake_ids AS
        SELECT identity_key, customer_id, previous_customer_id FROM identities
        WHERE resolved_in = {int(batch)}""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _lake_customers AS
        SELECT customer_id FROM _lake_ids UNION SELECT previous_customer_id FROM _lake_ids
        WHERE previous_customer_id IS NOT NULL""")
    return {"identities": "SELECT identity_key FROM _lake_ids",
            "customers": "SELECT customer_id FROM _lake_customers"}


def _keyed_batch(con: duckdb.DuckDBPyConnection, m: Mirrored, dest: Path, old: Path,
                 batch: int, keys: str) -> None:
    """Segment ``batch`` of ``m``: the current rows of ``keys``, and ``keys`` as its
    deletions (every older copy of them is stale; keys that no longer exist, e.g. a
    customer merged into another, are gone)."""
    assert m.key is not None
    for name in m.folders():
        _link_tree(old / name, dest / name)
    _keyed_write(con, m, dest, batch, f"{m.key} IN ({keys})")
    folder = dest / (m.name + DELETED) / f"_seg={batch}"
    folder.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT {m.key}, {batch}::INTEGER AS {SEGMENT} FROM ({keys})) "
                f"TO {_sql_str(str(folder / 'data_0.parquet'))} (FORMAT parquet)")


def _unwritable(lake: Path, exc: OSError) -> UserError:
    return UserError(
        f"cannot write the lake at {lake}: {exc.strerror or exc}",
        hint=f"make the folder writable for this user, or point ${LAKE_ENV} at a writable "
             "folder (docs/engine.md, \"The lake\")")


def sync(con: duckdb.DuckDBPyConnection, lake: Path, *, kind: str | None = None,
         batch: int | None = None, full: bool = False) -> SyncResult:
    """Bring the lake up to the warehouse's committed state and return what was written.

    With ``kind`` and ``batch`` (a batch just committed) only that kind's segments the batch
    changed and the small tables are rewritten, provided the lake was current just before the
    batch; with ``kind`` alone (a rollback) that kind's whole table; otherwise (or with
    ``full``, or when the lake is behind, of another format or schema, or lacks a table)
    everything.
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
    derived = derived_state(con)
    expected = None
    if kind is not None and prev is not None:
        expected = [state[0] - 1, state[1]] if batch is not None else [state[0], state[1] - 1]
    # What the derived tables need (written when changed or missing), and whether the rest
    # of the previous version can stay: same schema, nothing but derived tables missing.
    changed: set[str] = set(derived)
    prev_state: Any = None
    if prev is not None:
        missing = set(missing_tables(lake, prev))
        changed = set(derived_changed(prev, derived)) | (missing & set(derived))
        if prev.get("schema") == schema and not missing - set(derived):
            prev_state = prev.get("state")
    incremental = not full and kind is not None and prev_state is not None \
        and prev_state == expected
    # The batches are current (nothing happened since, or a second sync of the same batch):
    # only the derived tables that changed, if any (``cxlens text analyse`` ran).
    only_derived = not full and not incremental and prev_state == state
    if only_derived and not changed:
        return SyncResult(str(lake), int(prev["version"]), False,  # type: ignore[index]
                          seconds=time.perf_counter() - started)
    keep = incremental or only_derived  # the tables not written stay where they are
    version = (int(prev["version"]) + 1) if prev is not None else 1
    dest = version_dir(lake, version)
    result = SyncResult(str(lake), version, not keep)
    compacted: dict[str, dict[str, int]] = (
        {t: dict(ms) for t, ms in prev.get("compacted", {}).items()} if keep else {})
    try:
        if dest.exists():  # left by a sync that died before its pointer was written
            shutil.rmtree(dest)
        tmp = dest.with_name(dest.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        old_base = _Tables(lake, prev) if prev is not None else None
        touched: dict[str, str] | None = None
        if incremental and batch is not None and KINDS[kind].needs_identity:  # type: ignore[index]
            touched = _touched(con, batch)
        for m in mirrored():
            out = tmp / m.name
            if m.derived:
                if not keep or m.name in changed:
                    _write_derived(con, m, out)
                    result.written[m.name] = "all"
                continue
            if only_derived:
                continue
            if m.key is not None and incremental and \
                    not KINDS[kind].needs_identity:  # type: ignore[index]
                continue  # not resolved: as they were, where they are
            elif m.key is not None and touched is not None and \
                    len(list((old_base / m.name).glob("_seg=*"))) < _MAX_SEGMENTS:  # type: ignore[operator]
                _keyed_batch(con, m, tmp, old_base, batch, touched[m.name])  # type: ignore[arg-type]
                result.written[m.name] = [f"_seg={batch}"]
            elif m.key is not None:
                _keyed_full(con, m, tmp)
                result.written[m.name] = "all"
            elif m.base is None:
                _write_small(con, m, out)
                result.written[m.name] = "all"
            elif incremental and m.base != KINDS[kind].table:  # type: ignore[index]
                continue  # another kind's: read where it is
            elif not incremental or batch is None or m.month_of is None:
                # everything (a full sync, a rollback): every month in one segment
                marks = {mo: state[0] for mo in _months(con, m)} if m.month_of else {}
                compacted[m.name] = marks
                _write_kind(con, m, out, marks)
                result.written[m.name] = "all"
            else:
                marks = compacted.setdefault(m.name, {})
                todo = _batch_segments(con, m, batch, marks, old_base / m.name)  # type: ignore[operator]
                _link_tree(old_base / m.name, out, skip=todo.folders())  # type: ignore[operator]
                _write_kind(con, m, out, marks, todo, batch)
                result.written[m.name] = todo.folders()
        if touched is not None:
            con.execute("DROP TABLE IF EXISTS _lake_ids")
            con.execute("DROP TABLE IF EXISTS _lake_customers")
        tables = {f: int(v) for f, v in prev["tables"].items()} if keep else {}  # type: ignore[index]
        tables.update({p.name: version for p in tmp.iterdir()})
        tmp.rename(dest)
        pointer = {"format": FORMAT, "version": version, "state": state, "schema": schema,
                   "tables": tables, "previous": prev["tables"] if prev is not None else {},
                   "compacted": compacted, "derived": derived,
                   "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        staged = lake / "CURRENT.tmp"
        staged.write_text(json.dumps(pointer, indent=1), encoding="utf-8")
        os.replace(staged, lake / "CURRENT")
    except OSError as exc:
        raise _unwritable(lake, exc) from None
    except duckdb.IOException as exc:
        raise UserError(f"cannot write the lake at {lake}: {exc}",
                        hint=f"make the folder writable, or point ${LAKE_ENV} elsewhere") from None
    _clean(lake, pointer)
    result.seconds = time.perf_counter() - started
    return result


def _months(con: duckdb.DuckDBPyConnection, m: Mirrored) -> list[str]:
    assert m.base is not None and m.month_of is not None
    return [r[0] for r in con.execute(
        f"SELECT DISTINCT {_month_expr(m.month_of)} FROM {m.base} "
        "WHERE _superseded_by IS NULL").fetchall()]


def _clean(lake: Path, pointer: dict[str, Any]) -> threading.Thread:
    """Retire what neither the current version nor the one before reads (readers may still
    be on it): a version folder none of whose tables either reads, the tables of a version
    folder that neither reads, leftovers of failed syncs. Each is renamed into ``trash/`` at
    once and deleted by a background thread: deleting hundreds of folders takes seconds on
    some file systems (1.4 s of a 2 s sync measured on the M demo), which no batch should
    wait for; a process that exits first leaves the rest to the next sync. Returns the
    thread (tests join it)."""
    keep: dict[str, set[str]] = {}
    for tables in (pointer["tables"], pointer.get("previous") or {}):
        for folder, v in tables.items():
            keep.setdefault(version_dir(lake, int(v)).name, set()).add(folder)
    trash = lake / "trash"

    def retire(path: Path) -> None:
        trash.mkdir(exist_ok=True)
        try:
            path.rename(trash / f"{path.parent.name}-{path.name}-{time.time_ns()}")
        except OSError:
            shutil.rmtree(path, ignore_errors=True)

    for path in (lake / "versions").iterdir():
        if not path.name.removesuffix(".tmp").isdigit():
            continue
        if path.name not in keep:
            retire(path)
            continue
        for table in path.iterdir():
            if table.name not in keep[path.name]:
                retire(table)
    worker = threading.Thread(target=_empty_trash, args=(trash,), daemon=True,
                              name="cxlens-lake-clean")
    worker.start()
    return worker


def _empty_trash(trash: Path) -> None:
    if trash.exists():
        for path in trash.iterdir():
            shutil.rmtree(path, ignore_errors=True)


def workspace_of(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The workspace folder of the warehouse ``con`` is connected to (None in memory)."""
    rows = con.execute("SELECT path FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchall()
    if not rows or not rows[0][0]:
        return None
    return Path(rows[0][0]).parent


def after_commit(con: duckdb.DuckDBPyConnection, kind: str | None,
                 batch: int | None) -> list[str]:
    """Keep the workspace's lake current after a committed batch (``batch``) or a rollback
    (``batch=None``) of ``kind``, or a derived table's write (``kind=None``,
    ``after_derived``); the notes to show (empty when all went well).

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


def after_derived(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Keep the workspace's lake current after a derived table was written and committed
    (``cxlens text analyse``, once at the end of its run): the derived tables that changed
    are written again, nothing else; the notes to show (empty when all went well).

    Once at the end, not after each committed batch of the run: a reader of the lake then
    never sees a run half done, only the last whole one (a run that stops halfway leaves
    the lake behind the warehouse, and the next Spark reader or sync brings it up)."""
    return after_commit(con, None, None)


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

