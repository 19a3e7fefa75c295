"""Look inside an .xlsx/.xlsm package without reading it: the checks a workbook passes
before any spreadsheet library touches it.

A workbook is a ZIP of XML parts. What makes one dangerous is cheap to see: how many parts
it has and how big they say they are once unpacked (a ZIP bomb declares gigabytes in a few
KB), and each sheet's declared ``<dimension ref="A1:XFD1048576"/>`` — a reader allocates the
whole rectangle between the first and last cell, so one stray cell at the bottom-right
corner costs 17 billion cells. :func:`precheck` looks at the ZIP directory and the first
few KB of each sheet; :func:`scan_sheet` streams one sheet's XML (in the child process that
reads it) for the real extent of its cells and for formulas saved without a value.

This module uses only the standard library: the child process imports it before anything
else, and the parent calls it before starting the child.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

# Parts small enough to parse as a whole (workbook.xml, its relationships).
_SMALL_PART = 16 << 20
# How much of a sheet's XML is read for its <dimension> (it comes before <sheetData>).
DIMENSION_HEAD = 16 << 10
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([^"]*)"')
_REF = re.compile(r"\$?([A-Za-z]{1,3})?\$?(\d+)?")
_SPLIT_REF = re.compile(rb"[A-Z]{1,3}\d{1,7}")
_LETTERS, _DIGITS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"0123456789"
_CELL = re.compile(rb"<((?:\w+:)?)c\b([^>]*?)(?:/>|>(.*?)</\1c>)", re.S)
_HAS_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_HAS_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]")
_R_ATTR = re.compile(rb'\sr="([A-Z]{1,3}\d{1,7})"')
_NS_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_NS_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


@dataclass(frozen=True)
class PackageLimits:
    """What a workbook package may declare before it is opened at all."""

    max_entries: int = 10_000
    max_unpacked_bytes: int = 4 << 30  # all parts together, as the ZIP directory declares
    max_ratio: int = 250  # unpacked / packed for a part above ``ratio_from_bytes``
    ratio_from_bytes: int = 16 << 20
    max_shared_strings_bytes: int = 512 << 20
    max_cells: int = 20_000_000  # per sheet: rows × columns of its rectangle
    max_columns: int = 4_096


class PackageRefused(Exception):
    """The package breaks a limit; ``limit`` names it, ``sheet`` the sheet if any."""

    def __init__(self, message: str, *, limit: str, hint: str, sheet: str | None = None):
        super().__init__(message)
        self.message, self.limit, self.hint, self.sheet = message, limit, hint, sheet


def column_number(letters: str) -> int:
    """``A`` → 1, ``Z`` → 26, ``AA`` → 27, ``XFD`` → 16384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def column_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def parse_range(ref: str) -> tuple[int, int, int, int] | None:
    """``A1:C10`` → (first row, first column, last row, last column); None if unreadable."""
    parts = ref.strip().split(":")
    if not parts or len(parts) > 2:
        return None
    cells = []
    for part in parts:
        m = _REF.fullmatch(part.strip())
        if not m or not m.group(1) or not m.group(2):
            return None
        cells.append((int(m.group(2)), column_number(m.group(1))))
    (r1, c1), (r2, c2) = cells[0], cells[-1]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the ZIP entry of its XML, in the workbook's order (worksheets only)."""
    names = set(zf.namelist())
    if "xl/workbook.xml" not in names:
        return {}
    wb = _small_xml(zf, "xl/workbook.xml")
    rels_name = "xl/_rels/workbook.xml.rels"
    targets: dict[str, str] = {}
    if rels_name in names:
        for rel in _small_xml(zf, rels_name).iter(f"{_NS_REL}Relationship"):
            target = rel.get("Target") or ""
            path = (target.lstrip("/") if target.startswith("/")
                    else posixpath.normpath(posixpath.join("xl", target)))
            targets[rel.get("Id") or ""] = path
    out: dict[str, str] = {}
    for sheet in wb.iter():
        if not sheet.tag.endswith("}sheet") and sheet.tag != "sheet":
            continue
        part = targets.get(sheet.get(f"{_NS_DOC_REL}id") or "")
        if part and part in names and sheet.get("name") is not None:
            out[str(sheet.get("name"))] = part
    return out


def _small_xml(zf: zipfile.ZipFile, name: str) -> ElementTree.Element:
    if zf.getinfo(name).file_size > _SMALL_PART:
        raise PackageRefused(f"the part {name} is larger than {_SMALL_PART >> 20} MB",
                             limit="part size", hint="save the workbook again")
    with zf.open(name) as fh:
        return ElementTree.fromstring(fh.read(_SMALL_PART + 1))


def declared_dimension(zf: zipfile.ZipFile, part: str) -> str | None:
    """The ``ref`` of the sheet's ``<dimension>``, from the first KB of its XML only."""
    with zf.open(part) as fh:
        head = fh.read(DIMENSION_HEAD)
    m = _DIMENSION.search(head)
    return m.group(1).decode("ascii", "replace") if m else None


def check_area(sheet: str, ref: str, limits: PackageLimits, declared: bool = True) -> None:
    """Refuse a sheet whose rectangle (declared, or found) is over the cell or column limit."""
    rng = parse_range(ref)
    if rng is None:
        return
    r1, c1, r2, c2 = rng
    cells, columns = (r2 - r1 + 1) * (c2 - c1 + 1), c2 - c1 + 1
    how = "declares the range" if declared else "has cells spanning"
    hint = ("a stray cell far from the data makes the whole rectangle count: delete the "
            "rows and columns after the data (or that cell) and save again, or save the "
            "sheet as CSV")
    if cells > limits.max_cells:
        raise PackageRefused(
            f"sheet {sheet!r} {how} {ref} ({cells:,} cells); cxlens reads at most "
            f"{limits.max_cells:,} cells per sheet", limit="cells per sheet", hint=hint,
            sheet=sheet)
    if columns > limits.max_columns:
        raise PackageRefused(
            f"sheet {sheet!r} {how} {ref} ({columns:,} columns); cxlens reads at most "
            f"{limits.max_columns:,} columns", limit="columns per sheet", hint=hint,
            sheet=sheet)


def precheck(path: str, limits: PackageLimits) -> None:
    """Refuse a package whose ZIP directory or declared sheet sizes break ``limits``.

    Reads the central directory and a few KB of each sheet; nothing is unpacked in full.
    Raises :class:`PackageRefused`, or ``zipfile.BadZipFile`` for a file that is no ZIP.
    """
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise PackageRefused(
                f"the workbook holds {len(infos):,} parts; cxlens opens at most "
                f"{limits.max_entries:,}", limit="parts in the package",
                hint="save it again from Excel or LibreOffice, or save the sheet as CSV")
        total = sum(i.file_size for i in infos)
        if total > limits.max_unpacked_bytes:
            raise PackageRefused(
                f"the workbook unpacks to {_size(total)}; cxlens opens at most "
                f"{_size(limits.max_unpacked_bytes)}", limit="unpacked size",
                hint="split the data into smaller files, or save the sheet as CSV")
        for i in infos:
            if (i.file_size > limits.ratio_from_bytes
                    and i.file_size > limits.max_ratio * max(i.compress_size, 1)):
                raise PackageRefused(
                    f"the part {i.filename} unpacks from {_size(i.compress_size)} to "
                    f"{_size(i.file_size)} (more than {limits.max_ratio}× — a ZIP bomb?)",
                    limit="compression ratio",
                    hint="this is not a workbook a spreadsheet program saved; export the "
                         "data again")
            if (i.filename.lower() == "xl/sharedstrings.xml"
                    and i.file_size > limits.max_shared_strings_bytes):
                raise PackageRefused(
                    f"the workbook's shared strings unpack to {_size(i.file_size)}; cxlens "
                    f"reads at most {_size(limits.max_shared_strings_bytes)}",
                    limit="shared strings size",
                    hint="save the sheet as CSV and load that instead")
        for sheet, part in sheet_parts(zf).items():
            ref = declared_dimension(zf, part)
            if ref:
                check_area(sheet, ref, limits)


def _size(n: int) -> str:
    for unit, step in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= step:
            return f"{n / step:.1f} {unit}"
    return f"{n} bytes"


@dataclass
class SheetScan:
    """What streaming one sheet's XML found: the cells' real extent and formula cells
    saved without a value (a program that does not calculate wrote the file)."""

    first_row: int = 0
    last_row: int = 0
    first_column: int = 0
    last_column: int = 0
    formulas_without_value: int = 0
    first_without_value: str | None = None

    def extent(self) -> str | None:
        if not self.last_row:
            return None
        return (f"{column_letters(self.first_column)}{self.first_row}:"
                f"{column_letters(self.last_column)}{self.last_row}")

    def add_cells(self, refs: list[bytes]) -> None:
        """Widen the extent by cell references (``b"C12"``); malformed ones are skipped."""
        try:
            rows = [int(r.lstrip(_LETTERS)) for r in refs]
        except ValueError:
            refs = [r for r in refs if _SPLIT_REF.fullmatch(r)]
            rows = [int(r.lstrip(_LETTERS)) for r in refs]
        if not refs:
            return
        cols = [column_number(c.decode()) for c in {r.rstrip(_DIGITS) for r in refs}]
        lo_r, hi_r, lo_c, hi_c = min(rows), max(rows), min(cols), max(cols)
        if self.last_row:
            lo_r, lo_c = min(lo_r, self.first_row), min(lo_c, self.first_column)
            hi_r, hi_c = max(hi_r, self.last_row), max(hi_c, self.last_column)
        self.first_row, self.last_row, self.first_column, self.last_column = (
            lo_r, hi_r, lo_c, hi_c)


def scan_sheet(zf: zipfile.ZipFile, part: str, chunk: int = 1 << 22) -> SheetScan:
    """Stream the sheet's XML once: the extent of its cells, and formulas without a value.

    Works on the raw bytes a chunk at a time, cut after the last complete row so no cell is
    split, and never builds the sheet in memory. Cells of a row come in column order (the
    format says so), so the first and the last ``r="…"`` of each row bound its columns:
    one look per row, not per cell (0.05 s for 400,000 cells).
    """
    scan = SheetScan()
    tail = b""
    with zf.open(part) as fh:
        while True:
            data = fh.read(chunk)
            buf = tail + data
            if data:
                cut = buf.rfind(b"row>")
                if cut < 0 and len(buf) < 16 * chunk:
                    tail = buf
                    continue
                cut = len(buf) if cut < 0 else cut + 4
                buf, tail = buf[:cut], buf[cut:]
            _scan_chunk(buf, scan)
            if not data:
                break
    return scan


def _scan_chunk(buf: bytes, scan: SheetScan) -> None:
    refs: list[bytes] = []
    for seg in buf.split(b"row>"):
        first = seg.find(b' r="', seg.find(b' r="') + 4)  # after the row's own r="…"
        if first < 0:
            continue
        for at in (first, seg.rfind(b' r="')):
            end = seg.find(b'"', at + 4)
            if end > 0:
                refs.append(seg[at + 4:end])
    scan.add_cells(refs)
    if b"<f" not in buf and b":f" not in buf:
        return
    for m in _CELL.finditer(buf):
        inner = m.group(3)
        if inner and _HAS_FORMULA.search(inner) and not _HAS_VALUE.search(inner):
            scan.formulas_without_value += 1
            if scan.first_without_value is None:
                r = _R_ATTR.search(b" " + m.group(2))
                scan.first_without_value = r.group(1).decode() if r else "?"
