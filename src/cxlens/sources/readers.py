"""Readers turn an export file into a staging table of text columns numbered by line.

Every reader produces the same thing: a DuckDB table ``name`` with the file's columns as
VARCHAR, plus ``_line`` (the line of the record in the file, the header being line 1, or
the record's position for formats without lines), and a list of :class:`Rejected` records
that could not even be split into columns. Typing and validation happen later, in one SQL
pass over the staging table, so no reader loops over rows in Python on the hot path.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pyarrow as pa

from cxlens.errors import InputError
from cxlens.sources import lines
from cxlens.sources._excel_child import unique_names

Con = duckdb.DuckDBPyConnection

SNIFF_BYTES = 1 << 16
SAMPLE_ROWS = 20000
DELIMITERS = (",", ";", "\t", "|")
FORMATS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
    ".json": "json", ".ndjson": "json", ".jsonl": "json",
    ".parquet": "parquet", ".pq": "parquet",
}
MAGIC = {b"PK\x03\x04": "a ZIP archive (an Excel .xlsx file?)", b"%PDF": "a PDF document",
         b"PAR1": "a Parquet file", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
         b"\xd0\xcf\x11\xe0": "an old Excel .xls / Office file"}


@dataclass
class Rejected:
    line: int
    reason: str
    raw: str
    column: str | None = None


@dataclass
class Staged:
    """A file ready to be read: SQL that yields its text columns plus ``_line``.

    ``source`` is a FROM item scanned once by the loader; ``sample`` is a cheap FROM item of
    the first rows, for sniffing formats. CSV is not materialised at all: the loader's one
    pass reads it. ``rejects_table`` names the DuckDB table where that scan puts lines that
    could not be split into columns; :func:`collect_rejects` reads it after the scan.
    """

    source: str
    sample: str
    columns: list[str]
    rows: int | None = None
    rejected: list[Rejected] = field(default_factory=list)
    rejects_table: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)
    source_name: str = ""
    skip_rows: int = 0
    # True when the scan's order matters (``_line`` numbered in scan order), so the loader
    # must keep it.
    ordered: bool = True
    # When set, ``source`` yields ``_line`` as NULL and the loader numbers the rows from the
    # order they were written in: line = position (0-based) + ``line_offset``. A parallel
    # read keeps the file's order when it writes, whereas ``row_number() OVER ()`` would
    # make the whole load single-threaded.
    line_offset: int | None = None
    # Reads the same file again with another encoding (a UTF-8 read that met other bytes).
    reread: Callable[[str], Staged] | None = None
    # The CSV file DuckDB reads (the export, or its UTF-8 copy), and the empty lines after
    # its header that DuckDB skips without a trace (set by the loader, see
    # :func:`cxlens.sources.lines.blank_lines`): lines to count when numbering rows.
    read_path: Path | None = None
    blank_lines: list[int] = field(default_factory=list)

    def cleanup(self) -> None:
        for f in self.temp_files:
            f.unlink(missing_ok=True)


@dataclass
class ReadOptions:
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    skip_rows: int | None = None


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the format of {path.name!r} from its extension",
            file=str(path),
            hint="use .csv, .xlsx, .json, .ndjson or .parquet",
        )
    return fmt


def stage(con: Con, path: Path, table: str, opts: ReadOptions) -> Staged:
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path), hint="check the path")
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=str(path), hint="export the data again")
    fmt = file_format(path)
    reader = {"csv": _stage_csv, "excel": _stage_excel, "json": _stage_json,
              "parquet": _stage_parquet}[fmt]
    staged = reader(con, path, table, opts)
    staged.source_name = path.name
    if staged.rows == 0:
        raise header_only(path)
    return staged


def header_only(path: Path) -> InputError:
    return InputError("the file has a header but no data rows", file=str(path), line=2,
                      hint="check that the export was not filtered to nothing")


# ----------------------------------------------------------------------------------- CSV


def sniff_encoding(head: bytes, path: Path) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for magic, what in MAGIC.items():
        if head.startswith(magic):
            raise InputError(
                f"this is {what}, not a CSV text file", file=str(path),
                hint="export the data as CSV, or give the file its real extension",
            )
    if b"\x00" in head[:4096]:
        if head[1:2] == b"\x00" or head[0:1] == b"\x00":
            return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        raise InputError(
            "the file contains binary data, not text", file=str(path),
            hint="export the data as CSV (text), or check that this is the right file",
        )
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut at the sniff boundary
            return "utf-8"
        # A line that is valid UTF-8 with non-ASCII characters means a mixed file: read it
        # as UTF-8 and repair the other lines one by one (reading it all as cp1252 would
        # garble the UTF-8 lines).
        for raw in head.splitlines():
            if not raw.isascii():
                try:
                    raw.decode("utf-8")
                    return "utf-8"
                except UnicodeDecodeError:
                    pass
        return "cp1252"


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(SNIFF_BYTES)


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text.strip() else ""


def sniff_title_lines(text: str, delimiter: str) -> int:
    """Lines above the header (report titles, date ranges), as Google Ads and others write.

    The header is the first line with as many fields as most of the non-empty lines of the
    lower half of the sniffed text (the data: a short export can have more title lines than
    data rows, as a GA4 report with ten ``#`` lines); only lines with fewer fields before it
    count as titles. Fields are counted quote-aware.
    """
    lines = text.splitlines()[:30]
    if len(lines) < 3:
        return 0
    counts = [len(next(csv.reader([ln], delimiter=delimiter), [])) for ln in lines[:-1]]
    data = [c for c in counts[max(1, len(counts) // 2):] if c > 0] or counts[1:]
    typical = max(set(data), key=data.count)
    if typical <= 1 or counts[0] >= typical:
        return 0
    first = next((i for i, c in enumerate(counts) if c == typical), 0)
    return first if all(c < typical for c in counts[:first]) else 0


def _transcode(path: Path, encoding: str,
               newlines: bool = False) -> tuple[Path, list[int]]:
    """Write a UTF-8 copy; with ``utf-8-mixed`` each line that is not UTF-8 is read as cp1252;
    with ``newlines`` every ``\r\n`` becomes ``\n`` (a file whose line endings change
    half-way, which DuckDB reads as no rows)."""
    fd, name = tempfile.mkstemp(prefix="cxlens-", suffix=".csv")
    out = Path(name)
    repaired: list[int] = []
    with open(path, "rb") as src, open(fd, "w", encoding="utf-8", newline="") as dst:
        if encoding != "utf-8-mixed":
            dec = codecs.getincrementaldecoder(encoding)(errors="replace")
            held = ""  # a \r at the end of a chunk, whose \n may start the next one
            for chunk in iter(lambda: src.read(1 << 22), b""):
                text = held + dec.decode(chunk)
                if newlines:
                    held = "\r" if text.endswith("\r") else ""
                    text = (text[:-1] if held else text).replace("\r\n", "\n")
                dst.write(text)
            dst.write(held + dec.decode(b"", final=True))
        else:
            for no, raw in enumerate(src, start=1):
                try:
                    dst.write(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    dst.write(raw.decode("cp1252", errors="replace"))
                    repaired.append(no)
    return out, repaired


def _stage_csv(con: Con, path: Path, table: str, opts: ReadOptions) -> Staged:
    head = _read_head(path)
    encoding = (opts.encoding or "").lower().replace("_", "-") or sniff_encoding(head, path)
    if encoding in ("latin-1", "latin1", "iso-8859-1"):
        encoding = "latin-1"
    try:
        text = head.decode("utf-8" if encoding == "utf-8-mixed" else encoding, errors="replace")
    except LookupError:
        raise InputError(f"unknown encoding {opts.encoding!r}", file=str(path),
                         hint="use utf-8, utf-8-sig, latin-1, cp1252 or utf-16") from None
    text = text.lstrip("\ufeff")
    header_line = _first_line(text)
    if not header_line.strip():
        raise InputError("the file has no header line", file=str(path), line=1,
                         hint="the first line must name the columns")
    notes: list[str] = []
    skip = opts.skip_rows
    if skip is None:
        probe = text.splitlines()[3] if len(text.splitlines()) > 3 else header_line
        skip = sniff_title_lines(text, opts.delimiter or sniff_delimiter(probe))
        if skip:
            notes.append(f"skipped {skip} title line(s) above the header")
    if skip:
        header_line = text.splitlines()[skip] if len(text.splitlines()) > skip else ""
        text = "\n".join(text.splitlines()[skip:])
    delimiter = opts.delimiter or sniff_delimiter(header_line)
    if len(header_line) > SNIFF_BYTES - 16 and "\n" not in text:
        raise InputError(
            f"the first line is longer than {SNIFF_BYTES // 1024} KB and has no line break",
            file=str(path), line=1,
            hint="the file is not a line-by-line CSV export (wrong line endings, or one "
                 "huge line); export it again as CSV with one record per line",
        )
    temp: list[Path] = []
    target = path
    if encoding == "utf-8-sig":
        encoding = "utf-8"  # DuckDB skips the header line, BOM included
    if encoding == "utf-8-mixed":
        # Set by the caller when a UTF-8 read met lines that are not UTF-8 (a mixed file):
        # repair them line by line instead of rejecting rows.
        target, repaired = _transcode(path, "utf-8-mixed")
        shown = ", ".join(map(str, repaired[:5])) + (" …" if len(repaired) > 5 else "")
        notes.append(f"{len(repaired)} line(s) were not UTF-8 and were read as Windows-1252 "
                     f"(lines {shown}); check those characters")
    elif encoding != "utf-8" or lines.mixed_newlines(head):
        target, _ = _transcode(path, "utf-8-sig" if encoding == "utf-8" else encoding,
                               newlines=lines.mixed_newlines(head))
        if lines.mixed_newlines(head):
            notes.append("the line endings change within the file (\\n and \\r\\n); "
                         "read as one kind")
    if target != path:
        temp.append(target)
    cols = _csv_header(target, delimiter, skip)
    if len(cols) == 1:
        other = [d for d in DELIMITERS if d != delimiter and d in header_line]
        if other:
            notes.append(f"only one column was found; is the delimiter {other[0]!r}?")
    if len(head) < SNIFF_BYTES and not any(ln.strip() for ln in text.splitlines()[1:]):
        for f in temp:
            f.unlink(missing_ok=True)
        raise header_only(path)
    types = "{" + ", ".join(f"'{_q(c)}': 'VARCHAR'" for c in cols) + "}"
    rej = f"{table}_rej"
    con.execute(f"DROP TABLE IF EXISTS {rej}; DROP TABLE IF EXISTS {table}_scan")
    read = (f"read_csv('{_q(str(target))}', header=true, skip={skip}, "
            f"delim='{_q(delimiter)}', quote='\"', escape='\"', auto_detect=false, "
            f"columns={types}, ignore_errors=true")
    return Staged(
        source=(f"(SELECT *, NULL::BIGINT AS _line FROM {read}, store_rejects=true, "
                f"rejects_table='{rej}', rejects_scan='{table}_scan'))"),
        sample=f"(SELECT * FROM {read}) LIMIT {SAMPLE_ROWS})",
        columns=cols, rejects_table=rej, encoding=encoding, delimiter=delimiter,
        notes=notes, temp_files=temp, skip_rows=skip, line_offset=2 + skip, read_path=target,
        reread=lambda enc: _stage_csv(con, path, table, replace(opts, encoding=enc)),
    )


def not_utf8(staged: Staged) -> bool:
    """Whether a UTF-8 read rejected lines for their encoding: then the file is mixed and
    is read again as ``utf-8-mixed``. Checking the encoding while reading, instead of
    decoding the whole file in Python first, saves a pass over it (2.3 s on 1.7 GB)."""
    return staged.encoding == "utf-8" and any(
        r.reason.startswith("INVALID ENCODING") for r in staged.rejected)


def collect_rejects(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """After the read: the lines that could not be split into columns, with reasons."""
    if not staged.rejects_table:
        return
    rows = con.execute(
        f"SELECT line, column_name, error_type || ': ' || error_message, csv_line "
        f"FROM {staged.rejects_table} ORDER BY line"
    ).fetchall()
    seen: set[int] = set()
    for line, column, reason, raw in rows:
        if line not in seen:
            seen.add(line)
            staged.rejected.append(Rejected(int(line), _reject_reason(reason), raw or "", column))


def find_blank_lines(con: duckdb.DuckDBPyConnection, staged: Staged, table: str, where: str,
                     counted: int) -> None:
    """Set ``staged.blank_lines``, the empty lines DuckDB skipped, before the rows (of
    ``table`` matching ``where``) are renumbered. ``counted`` is the file's number of lines
    (:func:`lines.count_lines`): the file is searched only when it has more lines than its
    titles, header, rows and rejected lines (an empty line, or a value with a line break)."""
    rows = con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchall()[0][0]
    if staged.read_path is not None and (
            counted > staged.skip_rows + 1 + rows + len(staged.rejected)):
        staged.blank_lines = lines.blank_lines(staged.read_path, staged.skip_rows + 1)


def renumber_lines(con: duckdb.DuckDBPyConnection, staged: Staged, table: str,
                   where: str = "true") -> None:
    """Give the good rows (of ``table`` matching ``where``) their physical line numbers,
    which the rejected lines shifted."""
    gaps = [r.line for r in staged.rejected] + staged.blank_lines
    if gaps:  # an empty line is a line without a row, as a rejected one is
        _renumber_lines(con, table, where, gaps, staged.skip_rows)


def _csv_header(path: Path, delimiter: str, skip: int = 0) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for _ in range(skip):
            fh.readline()
        first = fh.readline()
    cols = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
    return unique_names([c.strip() or f"column{i + 1}" for i, c in enumerate(cols)])


def _renumber_lines(con: duckdb.DuckDBPyConnection, table: str, where: str,
                    reject_lines: list[int], skip: int = 0) -> None:
    """Turn good-row positions into physical lines, skipping the rejected lines.

    With the header on line ``1 + skip``, reject j (1-based, sorted) has
    ``k_j = line_j - j - 1 - skip`` good rows before it, so good row r sits on line
    ``r + 1 + skip + #{j: k_j < r}``; an ASOF join finds that count. Runs only when a file
    had broken lines.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE _rejects_k (k BIGINT, j BIGINT)")
    con.executemany(
        "INSERT INTO _rejects_k VALUES (?, ?)",
        [(line - j - 1 - skip, j) for j, line in enumerate(sorted(reject_lines), start=1)],
    )
    con.execute(
        f"UPDATE {table} SET _line = {table}._line + s.j FROM ("
        f"SELECT t._line AS old, k.j FROM (SELECT _line FROM {table} WHERE {where}) t "
        f"ASOF JOIN _rejects_k k ON t._line - 1 - {skip} > k.k) s "
        f"WHERE {where} AND {table}._line = s.old"
    )


def _reject_reason(reason: str) -> str:
    if reason.startswith("MISSING COLUMNS"):
        return "too few columns (a truncated or broken line?): " + reason.split(": ", 1)[-1]
    if reason.startswith("TOO MANY COLUMNS"):
        return ("too many columns (an unquoted delimiter in a value?): "
                + reason.split(": ", 1)[-1])
    if reason.startswith("UNQUOTED VALUE") or reason.startswith("UNTERMINATED QUOTE"):
        return "broken quotes: " + reason.split(": ", 1)[-1]
    return reason


# --------------------------------------------------------------------------------- Excel


def _stage_excel(con: Con, path: Path, table: str, opts: ReadOptions) -> Staged:
    """Checked, then parsed in a child process under limits (see :mod:`cxlens.sources.excel`)."""
    from cxlens.sources.excel import read_workbook

    book = read_workbook(path, opts.sheet)
    staged = stage_arrow(con, book.arrow, table, book.columns, sheet=book.sheet)
    staged.notes += book.notes
    return staged


def stage_arrow(con: duckdb.DuckDBPyConnection, arrow: pa.Table, table: str,
                columns: list[str], sheet: str | None = None) -> Staged:
    """Stage rows that are already in memory (Excel, quarantine retries) as a temp table."""
    con.execute(f"DROP TABLE IF EXISTS {table}")
    con.register(f"{table}_arrow", arrow)
    con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {table}_arrow")
    con.unregister(f"{table}_arrow")
    return Staged(source=table, sample=f"(SELECT * FROM {table} LIMIT {SAMPLE_ROWS})",
                  columns=columns, rows=arrow.num_rows, sheet=sheet, ordered=False)


# ------------------------------------------------------------------------ JSON / Parquet


def _stage_typed(con: duckdb.DuckDBPyConnection, source_sql: str, line_expr: str,
                 ordered: bool = True, line_offset: int | None = None) -> Staged:
    """Typed sources (JSON, Parquet) are read as text in the loader's one pass."""
    desc = con.execute(f"DESCRIBE SELECT * FROM {source_sql}").fetchall()
    cols = [d[0] for d in desc if d[0] != "file_row_number"]
    exprs = []
    for name, dtype, *_ in desc:
        if name == "file_row_number":
            continue
        nested = any(t in dtype for t in ("STRUCT", "[]", "MAP", "JSON"))
        cast = f'to_json("{_q2(name)}")::VARCHAR' if nested else f'CAST("{_q2(name)}" AS VARCHAR)'
        exprs.append(f'{cast} AS "{_q2(name)}"')
    select = f"SELECT {', '.join(exprs)}, {line_expr} AS _line FROM {source_sql}"
    rows = con.execute(f"SELECT count(*) FROM {source_sql}").fetchall()[0][0]
    return Staged(source=f"({select})", sample=f"({select} LIMIT {SAMPLE_ROWS})",
                  columns=cols, rows=rows, ordered=ordered, line_offset=line_offset)


def _stage_json(con: Con, path: Path, table: str, opts: ReadOptions) -> Staged:
    head = _read_head(path).lstrip()
    if not head.startswith((b"{", b"[")):
        raise InputError("this is not JSON: it does not start with { or [", file=str(path),
                         line=1, hint="export the data as JSON or NDJSON")
    fmt = "array" if head.startswith(b"[") else "newline_delimited"
    src = f"read_json('{_q(str(path))}', format='{fmt}'"
    try:
        # Read scalars as the text the file holds (no timestamp guessing), nested as JSON.
        desc = con.execute(f"DESCRIBE SELECT * FROM {src})").fetchall()
        nested = ("STRUCT", "[]", "MAP")
        types = ", ".join(
            f"'{_q(name)}': '{'JSON' if any(t in dtype for t in nested) else 'VARCHAR'}'"
            for name, dtype, *_ in desc)
        return _stage_typed(con, f"{src}, columns={{{types}}})", "NULL::BIGINT", line_offset=1)
    except duckdb.Error as exc:
        line = _json_error_line(path) if fmt == "newline_delimited" else None
        if "recursion depth" in str(exc):  # DuckDB's JSON reader stops at 128 levels
            raise InputError(
                "the file nests values too deeply to read (arrays or objects inside each "
                f"other; at most 128 levels): {_first_sentence(exc)}", file=str(path),
                line=line, hint="flatten the nested values, or export the data as CSV"
            ) from None
        raise InputError(f"cannot read the JSON: {_first_sentence(exc)}", file=str(path),
                         line=line, hint="fix the record or export the file again") from None


def _json_error_line(path: Path) -> int | None:
    """The first NDJSON line Python cannot parse either; a line nested too deep for its
    parser (a RecursionError) is such a line too."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for no, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    json.loads(line)
                except (ValueError, RecursionError):
                    return no
    return None


def _stage_parquet(con: Con, path: Path, table: str, opts: ReadOptions) -> Staged:
    try:
        return _stage_typed(con, f"read_parquet('{_q(str(path))}', file_row_number=true)",
                            "file_row_number + 1", ordered=False)
    except duckdb.Error as exc:
        raise InputError(f"cannot read the Parquet file: {_first_sentence(exc)}",
                         file=str(path), hint="check that the file is complete") from None


def _q(name: str) -> str:
    return name.replace("'", "''")


def _q2(name: str) -> str:
    return name.replace('"', '""')


def _first_sentence(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
