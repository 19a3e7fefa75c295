"""One ingest batch: read, map, validate, deduplicate, load, quarantine, resolve — atomically.

Everything that changes the warehouse happens in one transaction, so a batch that fails or
whose process is killed leaves the warehouse exactly as it was. Every batch accounts for
every row: ``rows_in = loaded + quarantined + duplicates + skipped`` (``changed`` rows are
loaded rows that replace an older version of the same record; ``skipped`` rows are the
totals, notes and footers of a report export, left out by :mod:`cxlens.ingest.report_rows`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import duckdb

from cxlens.errors import InputError, MappingUnsure
from cxlens.ingest import identity, report_rows
from cxlens.ingest.mapping import Mapping, detect_preset, load_mapping, load_preset
from cxlens.ingest.propose import Proposal, profile_columns, propose
from cxlens.ingest.transform import (
    _reading_sample,
    compile_mapping,
    detect_formats,
    ident,
    lit,
)
from cxlens.schema import kind
from cxlens.sources import lines
from cxlens.sources.readers import (
    ReadOptions,
    Rejected,
    Staged,
    collect_rejects,
    find_blank_lines,
    header_only,
    not_utf8,
    renumber_lines,
    stage,
)
from cxlens.warehouse import lake

Progress = Callable[[str, float], None]
# A file's SHA-256, or a call that waits for it (it is taken in a thread while DuckDB reads).
FileSha = str | None | Callable[[], str]
# ``_superseded_by`` of a row that failed validation while its batch loads: hidden from the
# views at once, deleted right after COMMIT (see _load_staged for why not before).
INVALID = 0
SKIPPED = report_rows.SKIPPED
STAGE = "_stage"
# While a file is read and loaded, DuckDB may use at most this much memory (if its own limit
# is not lower already): the text of a 10 M-row CSV is several GB uncompressed, and above the
# cap DuckDB spills it to its temp directory instead of growing the process.
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
    skipped: int = 0  # totals, notes, footers: left out (lines in ``skipped_sample``)
    customers: int | None = None
    notes: list[str] = field(default_factory=list)
    quarantine_sample: list[dict[str, object]] = field(default_factory=list)
    dry_run: bool = False
    # Optional values set empty in loaded records, per source column (kept for review in
    # ``field_warnings``; the records were loaded), and the first few of them.
    field_warnings: dict[str, int] = field(default_factory=dict)
    field_warning_sample: list[dict[str, object]] = field(default_factory=list)
    skipped_sample: list[dict[str, object]] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.loaded + self.quarantined + self.duplicates + self.skipped

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "balanced": self.balanced}


@dataclass
class Plan:
    """What will be loaded and how: shown to the user before loading."""

    mapping: Mapping
    staged: Staged
    how: str  # 'preset', 'mapping', 'detected preset', 'proposed'
    proposal: Proposal | None = None
    # How each number and date column is read: "amount ('Summa'): thousands '.' decimal ','".
    formats: list[str] = field(default_factory=list)


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
    try:
        with _database_errors(str(path)):
            staged = stage(con, path, STAGE, opts)
    except RecursionError:  # a reader parsing a value nested thousands of levels deep
        raise InputError("the file nests values too deeply to read (arrays or objects "
                         "inside each other thousands of levels deep)", file=str(path),
                         hint="flatten the nested values, or export the data as CSV"
                         ) from None
    except UnicodeError as exc:  # the encoding a preset or mapping names does not fit
        named = (m.read.get("encoding") if m else None) or opts.encoding
        raise InputError(
            f"the file cannot be read as {named or 'its sniffed encoding'}: {exc}",
            file=str(path), line=1,
            hint=(f"this file does not fit {how} {preset or mapping_file}; check that it is "
                  "that export, or pass --encoding" if m else "pass --encoding")) from None
    if m is None:
        m = detect_preset(staged.columns, kind_name)
        how = "detected preset"
    proposal = None
    if m is None:
        if kind_name is None:
            raise InputError("no preset matches this file's header", file=str(path), line=1,
                             hint="say what the file holds with --kind")
        with _database_errors(str(path)), _reading_sample(str(path)):
            proposal = propose(staged.columns, kind_name, profile=profile_columns(
                con, staged.sample, staged.columns))
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
    with _database_errors(str(path)), _reading_sample(str(path)):
        found = detect_formats(con, m, staged, str(path))
    if found.unsure and not accept_unsure:
        out = (proposal_dir or path.parent) / f"{path.stem}.mapping.yml"
        out.write_text(found.mapping.to_yaml(), encoding="utf-8")
        staged.cleanup()
        raise MappingUnsure(
            "could not tell how a column writes its numbers or dates: "
            + "; ".join(found.unsure), file=str(path), line=1, proposal_path=str(out),
            hint=f"{out} has the guesses filled in: check them and run again with "
                 f"--mapping {out} (docs/mapping.md, \"Numbers and dates\")")
    return Plan(mapping=found.mapping, staged=staged, how=how, proposal=proposal,
                formats=found.chosen)


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
    # The file's checksum is taken in a thread while DuckDB reads and loads the file.
    with ThreadPoolExecutor(1) as pool:
        sha = pool.submit(sha256_of, path)
        p = plan(con, path, kind_name, preset=preset, mapping_file=mapping_file, read=read,
                 proposal_dir=proposal_dir, accept_unsure=False)
        if confirm is not None and not confirm(p):
            p.staged.cleanup()
            return BatchResult(None, str(path), p.mapping.kind, p.mapping.label, dry_run=True)
        return load_staged(con, p, str(path), sha.result, say, dry_run=dry_run)


def load_staged(con: duckdb.DuckDBPyConnection, p: Plan, source_file: str, file_sha: FileSha,
                say: Progress, *, dry_run: bool = False,
                after_load: Callable[[int], None] | None = None,
                retrying: int | None = None) -> BatchResult:
    """Validate and load a staged file; ``retrying`` names a batch whose quarantine is retried."""
    try:
        with memory_cap(con), _database_errors(source_file):
            try:
                return _load_staged(con, p, source_file, file_sha, say, dry_run=dry_run,
                                    after_load=after_load, retrying=retrying)
            except _NotUtf8:  # rolled back: read the file again, repairing those lines
                assert p.staged.reread is not None
                p.staged.cleanup()
                p = replace(p, staged=p.staged.reread("utf-8-mixed"))
                return _load_staged(con, p, source_file, file_sha, say, dry_run=dry_run,
                                    after_load=after_load, retrying=retrying)
    finally:
        p.staged.cleanup()


class _NotUtf8(Exception):
    """A UTF-8 read met lines in another encoding (a mixed file)."""


def _load_staged(con: duckdb.DuckDBPyConnection, p: Plan, source_file: str,
                 file_sha: FileSha, say: Progress, *, dry_run: bool,
                 after_load: Callable[[int], None] | None,
                 retrying: int | None) -> BatchResult:
    """Load every row straight into the kind's table, then take out what must not stay.

    One scan reads, types and validates the file and writes each row once, into the table
    itself, tagged with the batch. Rows that failed validation are written hidden
    (``_superseded_by = INVALID``, with ``_errors`` and ``_raw``), copied to the quarantine
    and deleted after COMMIT; duplicates are deleted before COMMIT. Nobody ever sees either
    in a view. A dry run does the same and rolls back.
    """
    m, staged = p.mapping, p.staged
    k = kind(m.kind)
    result = BatchResult(None, source_file, k.name, m.label, notes=list(staged.notes),
                         dry_run=dry_run)
    say("validating", 0.3)
    compiled = compile_mapping(con, m, staged, source_file)
    result.notes += compiled.notes
    fields = [ident(f) for f in compiled.fields]
    _drop_invalid(con, k.table)  # left over by a process killed after its COMMIT
    scans = ThreadPoolExecutor(1)
    con.execute("BEGIN TRANSACTION")
    try:
        batch = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM batches").fetchall()[0][0]
        this = f"_batch = {batch}"
        con.execute(
            "INSERT INTO batches (batch_id, kind, source_file, mapping, started_at,"
            " extra_columns) VALUES (?, ?, ?, ?, now(), ?)",
            [batch, k.name, source_file, m.to_yaml(), compiled.extra_columns or None],
        )
        try:
            if not staged.ordered:
                # Lines come from the file itself (Parquet row numbers, retried lines), so
                # rows may be written in any order: faster, and 2.0 instead of 3.4 GB peak
                # on 8 M Parquet rows.
                con.execute("SET preserve_insertion_order = false")
            # The file's lines, counted in a thread while DuckDB reads it (empty lines below).
            counted = (scans.submit(lines.count_lines, staged.read_path)
                       if staged.read_path is not None and staged.line_offset is not None
                       else None)
            try:
                run_with_progress(
                    con,
                    f"INSERT INTO {k.table} ({', '.join(fields)}, _key, _hash, _idkey, _extra, "
                    f"_batch, _line, _superseded_by, _errors, _raw, _warnings) SELECT "
                    f"{', '.join(fields)}, _key, _hash, _idkey, _extra, {batch}, _line, "
                    f"CASE WHEN _skipped IS NOT NULL THEN {SKIPPED} "
                    f"WHEN len(_errors) > 0 THEN {INVALID} END, "
                    f"coalesce(_skipped, CASE WHEN len(_errors) > 0 THEN _errors END), _raw, "
                    f"_warnings "
                    f"FROM ({compiled.sql})",
                    lambda frac: say("loading", 0.3 + 0.4 * frac))
            except FILE_ERRORS as exc:  # the file, read by this statement
                _rollback_quietly(con)  # so that the RESET below can run
                raise unreadable(exc, source_file) from None
            if staged.line_offset is not None:
                _number_lines(con, k.table, this, staged.line_offset)
            collect_rejects(con, staged)
            if not_utf8(staged) and staged.reread is not None:
                raise _NotUtf8
            if counted is not None:
                find_blank_lines(con, staged, k.table, this, counted.result())
            renumber_lines(con, staged, k.table, this)
        finally:
            _reset_insertion_order(con)
        rows, invalid, skipped = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE _superseded_by = {INVALID}), "
            f"count(*) FILTER (WHERE _superseded_by = {SKIPPED}) FROM {k.table} WHERE {this}"
        ).fetchall()[0]
        if rows == 0 and not staged.rejected:
            raise header_only(Path(source_file))
        footers = report_rows.take_footers(con, k.table, this, staged)
        say("deduplicating", 0.7)
        _classify(con, k.table, k.name, batch, retrying)
        conflicts = _quarantine_conflicts(con, k.table, this, compiled.fields,
                                          compiled.key_fields)
        if conflicts:
            invalid += conflicts
            result.notes += _conflicting_keys_note(con, k.table, this)
        counts = dict(con.execute("SELECT status, count(*) FROM _class GROUP BY ALL").fetchall())
        rejects, held_rejects = _new_rejects(con, k.name, staged, retrying)
        skipped_invalid = counts.get("dup_file_invalid", 0) + counts.get("dup_quarantined", 0)
        result.rows_in = rows + len(staged.rejected) + len(footers)
        result.changed = counts.get("changed", 0)
        result.skipped = skipped + len(footers)
        result.loaded = (rows - invalid - skipped - counts.get("dup_file", 0)
                         - counts.get("dup_existing", 0))
        result.quarantined = invalid - skipped_invalid + len(rejects)
        result.duplicates = (sum(counts.get(x, 0) for x in ("dup_file", "dup_existing"))
                             + skipped_invalid + held_rejects)
        result.quarantine_sample = _quarantine_preview(con, k.table, this, staged)
        result.skipped_sample = report_rows.skipped_rows(con, k.table, this, footers)
        if result.skipped:
            result.notes.append(report_rows.skipped_note(result.skipped_sample, result.skipped))
        result.batch_id = None if dry_run else batch
        say("quarantine", 0.75)
        _write_quarantine(con, batch, k.table, k.name, source_file, staged, rejects)
        if compiled.warns:  # else no row has any: no scan
            result.field_warnings, result.field_warning_sample = _write_field_warnings(
                con, batch, k.table, k.name, source_file)
        if counts.get("dup_file") or counts.get("dup_existing"):
            con.execute(
                f"DELETE FROM {k.table} WHERE {this} AND _line IN "
                "(SELECT _line FROM _class WHERE status IN ('dup_file', 'dup_existing'))")
        if result.changed:
            con.execute(
                f"UPDATE {k.table} SET _superseded_by = {batch} WHERE _superseded_by IS NULL "
                f"AND _batch <> {batch} AND _key IN (SELECT t._key FROM {k.table} t "
                f"JOIN _class c USING (_line) WHERE t.{this} AND c.status = 'changed')"
            )
        if dry_run:
            con.execute("ROLLBACK")
            return result
        if after_load:
            after_load(batch)
        if k.needs_identity:
            say("resolving identities", 0.85)
            # Changed records may cut links, so they need the full recomputation.
            info = (identity.resolve(con) if result.changed
                    else identity.resolve(con, table=k.table, batch=batch))
            result.customers = info["customers"]
        con.execute(
            "UPDATE batches SET finished_at = now(), rows_in = ?, loaded = ?, changed = ?, "
            "quarantined = ?, duplicates = ?, skipped = ?, file_sha256 = ? WHERE batch_id = ?",
            [result.rows_in, result.loaded, result.changed, result.quarantined,
             result.duplicates, result.skipped,
             file_sha() if callable(file_sha) else file_sha, batch],
        )
        con.execute("COMMIT")
    except BaseException:
        _rollback_quietly(con)
        raise
    finally:
        scans.shutdown(wait=True)
    if invalid or skipped:
        _drop_invalid(con, k.table)
    result.notes += lake.after_commit(con, k.name, batch)  # the Parquet mirror for Spark
    say("done", 1.0)
    return result


# What DuckDB raises when the file it reads is broken or unreadable (a corrupt Parquet page,
# a value that does not convert, a file that went away, more memory than the ingest limit).
# A binder, catalog, parser or internal error is a bug in the SQL cxlens wrote: it raises.
FILE_ERRORS: tuple[type[Exception], ...] = (
    duckdb.InvalidInputException, duckdb.DataError, duckdb.IOException,
    duckdb.OutOfMemoryException)
_LINE = re.compile(r"\bline:?\s*(\d+)", re.IGNORECASE)


@contextmanager
def _database_errors(source_file: str) -> Iterator[None]:
    """Any DuckDB error met while a file is staged, mapped or loaded ends as an
    :class:`InputError` (exit code 3) with a message, never a traceback. Errors of reading
    the file are said so (:func:`unreadable`); any other class (a binder or conversion
    error on an unusual file) names the step and says that nothing was loaded: the batch's
    transaction was rolled back before this runs."""
    try:
        yield
    except duckdb.Error as exc:
        if isinstance(exc, FILE_ERRORS):
            raise unreadable(exc, source_file) from None
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise InputError(
            f"the file could not be loaded ({type(exc).__name__}: {first}); nothing was "
            "loaded", file=source_file,
            hint="check the header (repeated or empty column names) and the mapping; if "
                 "the file looks right, report this message with the header line") from None


def unreadable(exc: Exception, source_file: str) -> InputError:
    """The :class:`InputError` for a DuckDB error met while reading ``source_file``: its
    first line as the message, the line of the file when DuckDB names one."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    found = _LINE.search(text)
    if isinstance(exc, duckdb.OutOfMemoryException):
        return InputError(f"reading the file needs more memory than the limit: {first}",
                          file=source_file, hint="split the file into smaller files, or "
                          "convert it to Parquet, and load them one by one")
    return InputError(f"cannot read the file: {first}", file=source_file,
                      line=int(found.group(1)) if found else None,
                      hint="check that the file is complete and in the format its name "
                      "says; export it again")


def _number_lines(con: duckdb.DuckDBPyConnection, table: str, this: str, offset: int) -> None:
    """Number the batch's rows by the order they were written, which is the file's.

    The rows are still the transaction's own, so their row ids run without gaps from the
    first row written, and updating them is cheap (0.03 CPU-s for 0.8 M rows).
    """
    con.execute(f"UPDATE {table} SET _line = rowid - (SELECT min(rowid) FROM {table} "
                f"WHERE {this}) + {offset} WHERE {this}")


def _drop_invalid(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Delete the hidden invalid rows (their copies are in the quarantine) after COMMIT.

    Deleting them inside the batch's transaction would make DuckDB rewrite every row group
    the batch wrote at COMMIT (14 s for 2 rows of an 8 M-row file); after it, a delete only
    marks rows. A process killed in between leaves them hidden from every view, and the
    next batch of the kind deletes them.
    """
    con.execute(f"DELETE FROM {table} WHERE _superseded_by IN ({INVALID}, {SKIPPED})")


def _reset_insertion_order(con: duckdb.DuckDBPyConnection) -> None:
    """RESET the setting even after a failed statement aborted the transaction (then roll
    back first): a TransactionException here would hide the error that is on its way up."""
    try:
        con.execute("RESET preserve_insertion_order")
    except duckdb.TransactionException:
        _rollback_quietly(con)
        con.execute("RESET preserve_insertion_order")


def _rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.TransactionException):  # already rolled back
        con.execute("ROLLBACK")


def _classify(con: duckdb.DuckDBPyConnection, table: str, kind_name: str, batch: int,
              retrying: int | None) -> None:
    """Small table ``_class`` of this batch's rows that are NOT plainly new and valid.

    Statuses: ``dup_file`` / ``dup_file_invalid`` (a later row of a record seen earlier in
    the file with the same content), ``conflict`` (a later row whose key repeats an earlier
    row's with different content: quarantined by :func:`_quarantine_conflicts`),
    ``dup_existing`` (the same record and content already loaded), ``changed``
    (same key, new content), ``dup_quarantined`` (an invalid row already held in the open
    quarantine). A record is its key, or its content hash when it has no key. Only the
    exceptions are materialised, so a 10 M-row file of new rows stays cheap.
    """
    held = "NULL" if retrying is None else str(retrying)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _class AS
        WITH b AS (
            SELECT _line, _key, _hash, _errors IS NOT NULL AS bad
            FROM {table} WHERE _batch = {batch} AND _superseded_by IS DISTINCT FROM {SKIPPED}
        ), again_key AS (
            SELECT _key, min(_line) AS first_line, arg_min(_hash, _line) AS first_hash
            FROM b WHERE _key IS NOT NULL GROUP BY _key HAVING count(*) > 1
        ), again_hash AS (
            SELECT _hash, min(_line) AS first_line FROM b WHERE _key IS NULL
            GROUP BY _hash HAVING count(*) > 1
        ), held_hash AS (
            SELECT row_hash FROM quarantine WHERE kind = {lit(kind_name)}
            AND status = 'open' AND row_hash IS NOT NULL
            AND batch_id IS DISTINCT FROM {held}
        ), dup_file AS (
            SELECT b._line, CASE WHEN b.bad THEN 'dup_file_invalid'
                                 WHEN b._hash = a.first_hash THEN 'dup_file'
                                 -- a conflict already held in the open quarantine
                                 WHEN b._hash::VARCHAR IN (SELECT row_hash FROM held_hash)
                                 THEN 'dup_file'
                                 ELSE 'conflict' END AS status
            FROM b JOIN again_key a ON a._key = b._key AND b._line <> a.first_line
            UNION ALL
            SELECT b._line, CASE WHEN b.bad THEN 'dup_file_invalid' ELSE 'dup_file' END
            FROM b JOIN again_hash a ON a._hash = b._hash AND b._key IS NULL
                 AND b._line <> a.first_line
        ), existing AS (
            SELECT b._line, CASE WHEN c._hash = b._hash THEN 'dup_existing' ELSE 'changed'
                   END AS status
            FROM b JOIN {table} c ON c._key = b._key
            WHERE NOT b.bad AND c._batch <> {batch} AND c._superseded_by IS NULL
            UNION ALL
            SELECT b._line, 'dup_existing' FROM b JOIN {table} c ON c._hash = b._hash
            WHERE NOT b.bad AND b._key IS NULL AND c._key IS NULL AND c._batch <> {batch}
              AND c._superseded_by IS NULL
        ), held AS (
            SELECT b._line, 'dup_quarantined' AS status FROM b
            WHERE b.bad AND b._hash::VARCHAR IN (SELECT row_hash FROM held_hash)
        )
        SELECT * FROM dup_file
        UNION ALL SELECT * FROM existing WHERE _line NOT IN (SELECT _line FROM dup_file)
        UNION ALL SELECT * FROM held WHERE _line NOT IN (SELECT _line FROM dup_file)
    """)


def _quarantine_conflicts(con: duckdb.DuckDBPyConnection, table: str, this: str,
                          fields: list[str], key_fields: list[str]) -> int:
    """Turn the batch's ``conflict`` rows into quarantined rows, and say how many.

    A later row whose key repeats an earlier row's with different content is not a
    duplicate: one of the two is wrong (a 700 € bank line was lost this way). The first
    row is loaded; the later one is quarantined with a reason naming both lines, so that
    the user decides. These rows are few; their ``_raw`` holds their mapped values.
    """
    n = con.execute("SELECT count(*) FROM _class WHERE status = 'conflict'").fetchall()[0][0]
    if not n:
        return 0
    column = lit(", ".join(key_fields) or "key")
    raw = "to_json({" + ", ".join(f"{lit(f)}: t.{ident(f)}" for f in fields) + "})::VARCHAR"
    con.execute(f"""
        UPDATE {table} t SET _superseded_by = {INVALID}, _raw = {raw},
            _errors = [{{'column': {column}, 'value': t._key,
                        'reason': 'the key ' || t._key || ' is also on line ' || f.first_line
                                  || ' with different content (lines ' || f.first_line
                                  || ' and ' || t._line || '); line ' || f.first_line
                                  || ' was loaded: check which is right'}}]
        FROM (SELECT y._line, y._key FROM _class c JOIN {table} y
              ON y._line = c._line AND y.{this} WHERE c.status = 'conflict') c,
             (SELECT _key, min(_line) AS first_line FROM {table} WHERE {this}
              AND _key IS NOT NULL AND _superseded_by IS DISTINCT FROM {SKIPPED}
              GROUP BY _key) f
        WHERE t.{this} AND t._line = c._line AND f._key = c._key
    """)
    con.execute("DELETE FROM _class WHERE status = 'conflict'")
    return int(n)


def _conflicting_keys_note(con: duckdb.DuckDBPyConnection, table: str, this: str) -> list[str]:
    keys, line = con.execute(
        f"SELECT count(DISTINCT _key), min(_line) FROM {table} WHERE {this} "
        f"AND _superseded_by = {INVALID} AND _errors[1].reason LIKE 'the key % is also on line %'"
    ).fetchall()[0]
    if not keys:
        return []
    return [f"{keys:,} key(s) appear on several rows with different content; the first row "
            f"of each was loaded and the later ones quarantined (e.g. line {line}) with "
            "both lines named: check which is right"]


def _write_field_warnings(con: duckdb.DuckDBPyConnection, batch: int, table: str,
                          kind_name: str, source_file: str
                          ) -> tuple[dict[str, int], list[dict[str, object]]]:
    """Copy the warnings of the batch's loaded rows (not its duplicates) to
    ``field_warnings``; their counts per column, and the first ones."""
    con.execute(f"""
        INSERT INTO field_warnings (batch_id, kind, source_file, line, "column", value, reason)
        SELECT {batch}, {lit(kind_name)}, {lit(source_file)}, _line, w.column, w.value,
               w.reason
        FROM (SELECT _line, unnest(_warnings) AS w FROM {table}
              WHERE _batch = {batch} AND _warnings IS NOT NULL AND _errors IS NULL
                AND _line NOT IN (SELECT _line FROM _class
                                  WHERE status IN ('dup_file', 'dup_existing')))
    """)
    counts = dict(con.execute(
        'SELECT "column", count(*) FROM field_warnings WHERE batch_id = ? GROUP BY ALL '
        'ORDER BY count(*) DESC, "column"', [batch]).fetchall())
    first = con.execute(
        'SELECT line, "column", value, reason FROM field_warnings WHERE batch_id = ? '
        "ORDER BY line, \"column\" LIMIT 10", [batch]).fetchall()
    return ({str(c): int(n) for c, n in counts.items()},
            [{"line": r[0], "column": r[1], "value": r[2], "reason": r[3]} for r in first])


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


def _write_quarantine(con: duckdb.DuckDBPyConnection, batch: int, table: str, kind_name: str,
                      source_file: str, staged: Staged, rejects: list[Rejected]) -> None:
    con.execute(f"""
        INSERT INTO quarantine (batch_id, kind, source_file, line, "column", value, reason, raw,
                                row_hash)
        SELECT {batch}, {lit(kind_name)}, {lit(source_file)}, t._line, t._errors[1].column,
               t._errors[1].value, {REASONS}, t._raw, t._hash::VARCHAR
        FROM {table} t WHERE t._batch = {batch} AND t._superseded_by = {INVALID}
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


def _quarantine_preview(con: duckdb.DuckDBPyConnection, table: str, this: str, staged: Staged,
                        limit: int = 10) -> list[dict[str, object]]:
    rows = con.execute(f"""
        SELECT t._line, t._errors[1].column, t._errors[1].value, {REASONS}
        FROM {table} t WHERE t.{this} AND t._superseded_by = {INVALID}
          AND t._line NOT IN (SELECT _line FROM _class)
        ORDER BY t._line LIMIT {limit}
    """).fetchall()
    out = [{"line": r[0], "column": r[1], "value": r[2], "reason": r[3]} for r in rows]
    out += [{"line": r.line, "column": r.column, "value": None, "reason": r.reason}
            for r in staged.rejected[: max(0, limit - len(out))]]
    return sorted(out, key=lambda d: int(d["line"]))  # type: ignore[arg-type]
