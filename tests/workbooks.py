"""Hostile and odd workbooks for the reader tests, built in the test (import as ``workbooks``).

openpyxl writes the ordinary ones; :func:`package` writes the XML parts by hand for what
openpyxl will not write (shared strings, formulas without a saved value, lying dimensions).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
       'package/2006/content-types"><Default Extension="rels" ContentType="application/'
       'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
       '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
       'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
       '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
       'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.'
       'xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
       'sharedStrings+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
         'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
         'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         'Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
       'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
       'officeDocument/2006/relationships"><sheets><sheet name="{name}" sheetId="1" '
       'r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type='
            '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>')


def col(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def package(path: Path, rows: list[list[object]], *, sheet: str = "Data",
            dimension: str | None = None, shared: bool = True,
            mutate: Callable[[dict[str, bytes]], None] | None = None) -> Path:
    """A one-sheet .xlsx written part by part. A cell is a value (str → a shared string,
    number → a number) or ``("=", formula, cached)`` with ``cached`` None for a formula
    saved without a value. ``mutate`` may edit the parts before they are zipped."""
    strings: list[str] = []
    index: dict[str, int] = {}
    xml_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, v in enumerate(row, start=1):
            ref = f"{col(c)}{r}"
            if v is None:
                continue
            if isinstance(v, tuple):
                _, formula, cached = v
                val = "" if cached is None else f"<v>{cached}</v>"
                cells.append(f'<c r="{ref}"><f>{escape(formula)}</f>{val}</c>')
            elif isinstance(v, str) and shared:
                if v not in index:
                    index[v] = len(strings)
                    strings.append(v)
                cells.append(f'<c r="{ref}" t="s"><v>{index[v]}</v></c>')
            elif isinstance(v, str):
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(v)}</t></is></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
        xml_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    width = max((len(r) for r in rows), default=1)
    dim = dimension or f"A1:{col(width)}{max(len(rows), 1)}"
    sheet_xml = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                 f'openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dim}"/>'
                 f'<sheetData>{"".join(xml_rows)}</sheetData></worksheet>')
    sst = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.'
           f'org/spreadsheetml/2006/main" count="{len(strings)}" uniqueCount="{len(strings)}">'
           + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>")
    parts = {"[Content_Types].xml": _CT.encode(), "_rels/.rels": _RELS.encode(),
             "xl/workbook.xml": _WB.format(name=escape(sheet, {'"': "&quot;"})).encode(),
             "xl/_rels/workbook.xml.rels": _WB_RELS.encode(),
             "xl/worksheets/sheet1.xml": sheet_xml.encode(),
             "xl/sharedStrings.xml": sst.encode()}
    if mutate:
        mutate(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def two_corner_cells(path: Path | None = None) -> bytes:
    """The 1.4 KB workbook of issue 15: one cell at A1 and one at XFD1048576 (openpyxl)."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "order_id"
    wb.active["XFD1048576"] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    if path is not None:
        path.write_bytes(buf.getvalue())
    return buf.getvalue()


def orders_book(path: Path, n: int = 3, sheets: dict[str, list[list[object]]] | None = None
                ) -> Path:
    """An ordinary orders workbook saved by openpyxl (plus optional extra sheets)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["order_id", "ts", "amount", "email"])
    for i in range(n):
        ws.append([f"X-{i}", f"2026-03-{1 + i % 28:02d} 10:00:00", 10 + i, f"x{i}@example.fi"])
    for name, rows in (sheets or {}).items():
        extra = wb.create_sheet(name)
        for row in rows:
            extra.append(row)
    wb.save(path)
    return path
