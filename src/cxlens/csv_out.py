"""The one CSV writer for every download: cells that a spreadsheet would run are escaped.

A CSV opened in Excel, LibreOffice or Google Sheets runs a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(...)``, ``@SUM(...)``), and a leading tab
or carriage return can hide such a start. Feedback comments, segment names, notes and
owners come from customers and colleagues, so every download — chart CSVs, the follow-ups
list, survey links — goes through :func:`safe_cell`: such a cell gets a leading apostrophe
(OWASP's advice for CSV injection), which spreadsheets show as text. A plain number
(``-3.5``, ``+2``, ``-1,25``) stays as it is: it is no formula and must stay a number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?%?")


def safe_cell(value: Any) -> str:
    """``value`` as CSV text that no spreadsheet runs as a formula.

    >>> [safe_cell(v) for v in ("=1+1", "+SUM(1;2)", "@cmd", "-3.5", -2, "a=b", None)]
    ["'=1+1", "'+SUM(1;2)", "'@cmd", '-3.5', '-2', 'a=b', '']
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_rows(fh: TextIO, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> int:
    """Write ``header`` and ``rows`` as CSV to ``fh`` (opened with ``newline=""``), every
    cell through :func:`safe_cell`; returns the number of rows written (without header)."""
    w = csv.writer(fh, lineterminator="\n")
    w.writerow([safe_cell(c) for c in header])
    n = 0
    for row in rows:
        w.writerow([safe_cell(c) for c in row])
        n += 1
    return n


def csv_text(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    """The CSV of ``header`` and ``rows`` as one string (for an HTTP download)."""
    buf = io.StringIO()
    write_rows(buf, header, rows)
    return buf.getvalue()
