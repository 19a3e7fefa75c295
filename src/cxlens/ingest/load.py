"""One ingest batch: read, map, validate, deduplicate, load, quarantine, resolve — atomically.

Everything that changes the warehouse happens in one transaction, so a batch that fails or
whose process is killed leaves the warehouse exactly as it was. Every batch accounts for
every row: ``rows_in = loaded + quarantined + duplicates`` (``changed`` rows are loaded rows
that replace an older version of the same record).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from cxlens.errors import InputError, MappingUnsure
from cxlens.ingest import identity
from cxlens.ingest.mapping import Mapping, detect_preset, load_mapping, load_preset
from cxlens.ingest.propose import Proposal, propose
from cxlens.ingest.transform import compile_mapping, ident, lit
from cxlens.schema import LINEAGE, kind
from cxlens.sources.readers import (
    ReadOptions,
    Rejected,
    Staged,
    collect_rejects,
    header_only,
    stage,
)

Progress = Callable[[str, float], None]
STAGE = "_stage"
TYPED = "_typed"
# While a batch is loaded, DuckDB may use at most this much memory (if its own limit is not
# lower already): the one-pass table of a 10 M-row file is ~5 GB uncompressed in memory, and
# above the cap DuckDB spills it to its temp directory instead of growing the process.
INGEST_MEMORY_LIMIT = 2 << 30
_UNITS = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
# All reasons of a row as one text: "Summa: not a number; Päivämäärä: not a date/time".
REASONS = "array_to_string(list_transform(t._errors, lambda e: e.column || ': ' || e.reason), '; ')"


@dataclass
class BatchResult:
    batch_id: int | None
    file: str
    kind: str
    mapping: str
    rows_in: int = 0
    loaded: int = 0
    changed: int = 0
    quarantined: int = 0
    duplicates: int = 0
    customers: int | None = None
    notes: list[str] = field(default_factory=list)
    quarantine_sample: list[dict[str, object]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.loaded + self.quarantined + self.duplicates

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "balanced": self.balanced}


@dataclass
class Plan:
    """What will be loaded and how: shown to the user before loading."""

    mapping: Mapping
    staged: Staged
    how: str  # 'preset', 'mapping', 'detected preset', 'proposed'
    proposal: Proposal | None = None


def run_with_progress(con: duckdb.DuckDBPyConnection, sql: str,
                      report: Callable[[float], None], every: float = 0.25) -> None:
    """Run one long statement while a thread reports DuckDB's own progress (0..1).

    The statement runs in the calling thread, so Ctrl-C still interrupts it and the
    transaction rules stay the caller's; the poller only reads ``query_progress()``.
    """
    done = threading.Event()

    def poll() -> None:
        while not done.wait(every):
            p = con.query_progress()
            if p >= 0:
                report(min(p, 100.0) / 100.0)

    con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        con.execute(sql)
    finally:
        done.set()
        poller.join()


@contextmanager
def memory_cap(con: duckdb.DuckDBPyConnection, cap: int = INGEST_MEMORY_LIMIT) -> Iterator[None]:
    """Lower DuckDB's ``memory_limit`` to ``cap`` bytes for the block, then restore it.

    A limit below the cap (set by the user) is kept. DuckDB shows the limit rounded
    (``'18.8 GiB'``), so the default is restored with ``RESET`` rather than re-set.
    """
    before = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    number, _, unit = str(before).partition(" ")
    try:
        current = float(number) * _UNITS[unit]
    except (ValueError, KeyError):
        current = float("inf")
    if current <= cap:
        yield
        return
    con.execute(f"SET memory_limit = '{cap}B'")
    try:
        yield
    finally:
        con.execute("RESET memory_limit")
        if con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] != before:
            con.execute(f"SET memory_limit = '{before}'")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def plan(con: duckdb.DuckDBPyConnection, path: Path, kind_name: str | None, *,
         preset: str | None = None, mapping_file: Path | None = None,
         read: ReadOptions | None = None, proposal_dir: Path | None = None,
         accept_unsure: bool = False) -> Plan:
    """Stage the file and decide the mapping; raise MappingUnsure with a draft if unsure."""
    how = "preset" if preset else "mapping" if mapping_file else ""
    m: Mapping | None = None
    if preset:
        m = load_preset(preset)
    elif mapping_file:
        m = load_mapping(mapping_file)
    if m and kind_name and m.kind != kind_name:
        raise InputError(f"the mapping is for kind {m.kind}, not {kind_name}",
                         file=str(mapping_file or preset), hint=f"use --kind {m.kind}")
    opts = read or ReadOptions()
    if m:
        skip = m.read.get("skip_rows")
        opts = ReadOptions(delimiter=opts.delimiter or m.read.get("delimiter"),
                           encoding=opts.encoding or m.read.get("encoding"),
                           sheet=opts.sheet or m.read.get("sheet"),
                           skip_rows=opts.skip_rows if opts.skip_rows is not None
                           else int(skip) if skip is not None else None)
    staged = stage(con, path, STAGE, opts)
    if m is None:
        m = detect_preset(staged.columns, kind_name)
        how = "detected preset"
    proposal = None
    if m is None:
        if kind_name is None:
            raise InputError("no preset matches this file's header", file=str(path), line=1,
                             hint="say what the file holds with --kind")
        proposal = propose(staged.columns, kind_name)
        m, how = proposal.mapping, "proposed"
        if not proposal.confident and not accept_unsure:
            out = (proposal_dir or path.parent) / f"{path.stem}.mapping.yml"
            out.write_text(proposal.mapping.to_yaml(), encoding="utf-8")
            why = (f"required field(s) not found: {', '.join(proposal.missing_required)}"
                   if proposal.missing_required else
                   "unsure matches: " + ", ".join(f"{u.field} ← {u.column!r}"
                                                  for u in proposal.unsure))
            raise MappingUnsure(
                f"could not map the header confidently ({why})", file=str(path), line=1,
                proposal_path=str(out),
                hint=f"edit {out} and run again with --mapping {out}",
            )
    return Plan(mapping=m, staged=staged, how=how, proposal=proposal)


def ingest(con: duckdb.DuckDBPyConnection, path: Path, kind_name: str | None, *,
           preset: str | None = None, mapping_file: Path | None = None,
           read: ReadOptions | None = None, progress: Progress | None = None,
           confirm: Callable[[Plan], bool] | None = None, proposal_dir: Path | None = None,
           dry_run: bool = False) -> BatchResult:
    """Ingest one file as one batch. ``confirm`` sees the plan and may refuse it."""
    path = Path(path)
    say = progress or (lambda step, frac: None)
    con.execute("SET TimeZone = 'UTC'")
    say("reading", 0.05)
    p = plan(con, path, kind_name, preset=preset, mapping_file=mapping_file, read=read,
             proposal_dir=proposal_dir, accept_unsure=False)
    if confirm is not None and not confirm(p):
        return BatchResult(None, str(path), p.mapping.kind, p.mapping.label, dry_run=True)
    return load_staged(con, p, str(path), sha256_of(path), say, dry_run=dry_run)


def load_staged(con: duckdb.DuckDBPyConnection, p: Plan, source_file: str, file_sha: str | None,
                say: Progress, *, dry_run: bool = False,
                after_load: Callable[[int], None] | None = None,
                retrying: int | None = None) -> BatchResult:
    """Validate and load a staged file; ``retrying`` names a batch whose quarantine is retried."""
    with memory_cap(con):
        return _load_staged(con, p, source_file, file_sha, say, dry_run=dry_run,
                            after_load=after_load, retrying=retrying)


def _load_staged(con: duckdb.DuckDBPyConnection, p: Plan, source_file: str,
                 file_sha: str | None, say: Progress, *, dry_run: bool,
                 after_load: Callable[[int], None] | None,
                 retrying: int | None) -> BatchResult:
    m, staged = p.mapping, p.staged
    k = kind(m.kind)
    result = BatchResult(None, source_file, k.name, m.label, notes=list(staged.notes),
                         dry_run=dry_run)
    say("validating", 0.2)
    compiled = compile_mapping(con, m, staged, source_file)
    result.notes += compiled.notes
    try:
        run_with_progress(con, f"CREATE OR REPLACE TEMP TABLE {TYPED} AS {compiled.sql}",
                          lambda frac: say("reading and validating", 0.2 + 0.3 * frac))
        collect_rejects(con, staged, TYPED)
    finally:
        staged.cleanup()
    staged.rows = con.execute(f"SELECT count(*) FROM {TYPED}").fetchall()[0][0]
    if staged.rows == 0 and not staged.rejected:
        raise header_only(Path(source_file))
    say("deduplicating", 0.45)
    _classify(con, k.table, k.name, retrying)
    counts = dict(con.execute("SELECT status, count(*) FROM _class GROUP BY ALL").fetchall())
    invalid = con.execute(f"SELECT count(*) FROM {TYPED} WHERE _raw IS NOT NULL").fetchall()[0][0]
    counts["invalid"] = invalid - counts.get("dup_file_invalid", 0) - counts.get(
        "dup_quarantined", 0)
    dups = sum(counts.get(x, 0) for x in ("dup_file", "dup_file_invalid", "dup_existing",
                                           "dup_quarantined"))
    result.rows_in = staged.rows + len(staged.rejected)
    result.changed = counts.get("changed", 0)
    result.loaded = staged.rows - invalid - counts.get("dup_file", 0) - counts.get(
        "dup_existing", 0)
    rejects, held_rejects = _new_rejects(con, k.name, staged, retrying)
    result.quarantined = counts.get("invalid", 0) + len(rejects)
    result.duplicates = dups + held_rejects
    result.quarantine_sample = _quarantine_preview(con, staged)
    if counts.get("dup_file"):
        keys, line = con.execute(
            f"SELECT count(*), min(first_line) FROM (SELECT min(_line) AS first_line FROM "
            f"{TYPED} WHERE _raw IS NULL GROUP BY _key HAVING count(DISTINCT _hash) > 1)"
        ).fetchall()[0]
        if keys:
            result.notes.append(
                f"{keys:,} key(s) appear on several rows with different content; the first "
                f"row of each was kept (e.g. line {line}) and the others counted as duplicates")
    if dry_run:
        return result
    say("loading", 0.6)
    con.execute("BEGIN TRANSACTION")
    try:
        batch = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM batches").fetchall()[0][0]
        result.batch_id = batch
        con.execute(
            "INSERT INTO batches (batch_id, kind, source_file, file_sha256, mapping, started_at)"
            " VALUES (?, ?, ?, ?, ?, now())",
            [batch, k.name, source_file, file_sha, m.to_yaml()],
        )
        fields = [ident(f) for f in compiled.fields]
        lineage = [c for c, _, _ in LINEAGE]
        # The anti-join costs as much as the copy itself on a 10 M-row file (measured 3x
        # slower insert), so it is only added when there is something to skip.
        skip_dups = (" AND t._line NOT IN (SELECT _line FROM _class WHERE status IN "
                     "('dup_file', 'dup_existing'))"
                     if counts.get("dup_file") or counts.get("dup_existing") else "")
        con.execute(
            f"INSERT INTO {k.table} ({', '.join(fields + lineage)}) "
            f"SELECT {', '.join('t.' + f for f in fields)}, t._key, t._hash, t._idkey, "
            f"{batch}, t._line, NULL FROM {TYPED} t WHERE t._raw IS NULL" + skip_dups
        )
        if result.changed:
            con.execute(
                f"UPDATE {k.table} SET _superseded_by = {batch} WHERE _superseded_by IS NULL "
                f"AND _batch <> {batch} AND _key IN (SELECT t._key FROM {TYPED} t "
                f"JOIN _class c USING (_line) WHERE c.status = 'changed')"
            )
        _write_quarantine(con, batch, k.name, source_file, staged, rejects)
        if after_load:
            after_load(batch)
        if k.needs_identity:
            say("resolving identities", 0.8)
            result.customers = identity.resolve(con)["customers"]
        con.execute(
            "UPDATE batches SET finished_at = now(), rows_in = ?, loaded = ?, changed = ?, "
            "quarantined = ?, duplicates = ? WHERE batch_id = ?",
            [result.rows_in, result.loaded, result.changed, result.quarantined,
             result.duplicates, batch],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    say("done", 1.0)
    return result


def _classify(con: duckdb.DuckDBPyConnection, table: str, kind_name: str,
              retrying: int | None) -> None:
    """Small table ``_class`` of the rows that are NOT plainly new and valid.

    Statuses: ``dup_file`` / ``dup_file_invalid`` (a later row of a key seen earlier in the
    file), ``dup_existing`` (same key and content already loaded), ``changed`` (same key,
    new content), ``dup_quarantined`` (an invalid row already held in the open quarantine).
    Only exceptions are materialised, so a 10 M-row file of new rows stays cheap.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _class AS
        WITH again AS (
            SELECT _key, min(_line) AS first_line FROM {TYPED} GROUP BY _key HAVING count(*) > 1
        ), dup_file AS (
            SELECT t._line, CASE WHEN t._raw IS NULL THEN 'dup_file' ELSE 'dup_file_invalid'
                   END AS status
            FROM {TYPED} t JOIN again a ON a._key = t._key AND t._line <> a.first_line
        ), existing AS (
            SELECT t._line, CASE WHEN c._hash = t._hash THEN 'dup_existing' ELSE 'changed'
                   END AS status
            FROM {TYPED} t JOIN {table} c ON c._key = t._key AND c._superseded_by IS NULL
            WHERE t._raw IS NULL
        ), held AS (
            SELECT t._line, 'dup_quarantined' AS status FROM {TYPED} t
            WHERE t._raw IS NOT NULL AND t._hash IN (
                SELECT row_hash FROM quarantine WHERE kind = {lit(kind_name)}
                AND status = 'open' AND row_hash IS NOT NULL
                AND batch_id IS DISTINCT FROM {retrying if retrying is not None else "NULL"})
        )
        SELECT * FROM dup_file
        UNION ALL SELECT * FROM existing WHERE _line NOT IN (SELECT _line FROM dup_file)
        UNION ALL SELECT * FROM held WHERE _line NOT IN (SELECT _line FROM dup_file)
    """)


def _reject_hash(r: Rejected) -> str:
    return "raw:" + hashlib.md5(r.raw.encode("utf-8")).hexdigest()


def _new_rejects(con: duckdb.DuckDBPyConnection, kind_name: str, staged: Staged,
                 retrying: int | None) -> tuple[list[Rejected], int]:
    """Unsplittable lines not already held in the open quarantine, and how many were."""
    if not staged.rejected:
        return [], 0
    held = {h for (h,) in con.execute(
        "SELECT DISTINCT row_hash FROM quarantine WHERE kind = ? AND status = 'open' "
        "AND list_contains(?, row_hash) AND batch_id IS DISTINCT FROM ?",
        [kind_name, [_reject_hash(r) for r in staged.rejected], retrying]).fetchall()}
    new: list[Rejected] = []
    for r in staged.rejected:
        h = _reject_hash(r)
        if h not in held:
            held.add(h)
            new.append(r)
    return new, len(staged.rejected) - len(new)


def _write_quarantine(con: duckdb.DuckDBPyConnection, batch: int, kind_name: str,
                      source_file: str, staged: Staged, rejects: list[Rejected]) -> None:
    con.execute(f"""
        INSERT INTO quarantine (batch_id, kind, source_file, line, "column", value, reason, raw,
                                row_hash)
        SELECT {batch}, {lit(kind_name)}, {lit(source_file)}, t._line, t._errors[1].column,
               t._errors[1].value,
               {REASONS},
               t._raw, t._hash
        FROM {TYPED} t WHERE t._raw IS NOT NULL
          AND t._line NOT IN (SELECT _line FROM _class)
    """)
    if rejects:
        con.executemany(
            "INSERT INTO quarantine (batch_id, kind, source_file, line, \"column\", value, "
            "reason, raw, row_hash) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            [(batch, kind_name, source_file, r.line, r.column, r.reason,
              json.dumps({"_raw_line": r.raw}, ensure_ascii=False), _reject_hash(r))
             for r in rejects],
        )


def _quarantine_preview(con: duckdb.DuckDBPyConnection, staged: Staged,
                        limit: int = 10) -> list[dict[str, object]]:
    rows = con.execute(f"""
        SELECT t._line, t._errors[1].column, t._errors[1].value,
               {REASONS}
        FROM {TYPED} t WHERE t._raw IS NOT NULL AND t._line NOT IN (SELECT _line FROM _class)
        ORDER BY t._line LIMIT {limit}
    """).fetchall()
    out = [{"line": r[0], "column": r[1], "value": r[2], "reason": r[3]} for r in rows]
    out += [{"line": r.line, "column": r.column, "value": None, "reason": r.reason}
            for r in staged.rejected[: max(0, limit - len(out))]]
    return sorted(out, key=lambda d: int(d["line"]))  # type: ignore[arg-type]
