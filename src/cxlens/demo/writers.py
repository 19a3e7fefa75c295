"""Fast, vectorised formatting of demo columns and the file writers.

Why not ``strftime`` per row: a Python loop over ten million rows takes minutes. Dates are
formatted by looking day numbers up in a small table of day strings, and clock times by
looking hours, minutes and seconds up in tables of two-digit strings, all with Arrow's
``take`` and ``binary_join_element_wise``, which run in C.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

# Day strings are looked up in a table of every day from 2000 to 2079: wide enough for any
# window the demo calendar makes and for the employees' start dates.
_TABLE_FIRST = date(2000, 1, 1)
_TABLE_DAYS = (date(2080, 1, 1) - _TABLE_FIRST).days
TWO = pa.array([f"{i:02d}" for i in range(100)])


def _dst_bounds() -> np.ndarray:
    """UTC epoch seconds where EU summer time starts/ends, 2000..2079, flat and sorted."""
    out = []
    for y in range(2000, 2080):
        for month in (3, 10):
            d = date(y, month, 31)
            d -= timedelta(days=(d.weekday() + 1) % 7)  # last Sunday
            out.append(int(datetime(d.year, d.month, d.day, 1, tzinfo=UTC).timestamp()))
    return np.array(out, dtype=np.int64)


_DST = _dst_bounds()


def utc_offset_hours(epoch_s: np.ndarray, winter: int | np.ndarray) -> np.ndarray:
    """EU local offset in hours at UTC instants (winter offset, +1 in summer)."""
    summer = (np.searchsorted(_DST, epoch_s.astype(np.int64), side="right") % 2) == 1
    return np.asarray(winter, dtype=np.int64) + summer.astype(np.int64)


def _day_table(fmt: str) -> tuple[pa.Array, int]:
    first = (_TABLE_FIRST - date(1970, 1, 1)).days
    return pa.array(
        [(_TABLE_FIRST + timedelta(days=i)).strftime(fmt) for i in range(_TABLE_DAYS)]
    ), first


_TABLES: dict[str, tuple[pa.Array, int]] = {}


def fmt_date(epoch_s: np.ndarray, fmt: str = "%Y-%m-%d") -> pa.Array:
    """Format epoch seconds (already shifted to local time) as dates with ``fmt``."""
    if fmt not in _TABLES:
        _TABLES[fmt] = _day_table(fmt)
    table, first = _TABLES[fmt]
    day = np.floor_divide(epoch_s.astype(np.int64), 86400) - first
    return table.take(pa.array(np.clip(day, 0, len(table) - 1)))


def fmt_ts(
    epoch_s: np.ndarray,
    date_fmt: str = "%Y-%m-%d",
    sep: str = " ",
    time_sep: str = ":",
    seconds: bool = True,
) -> pa.Array:
    """Format epoch seconds as ``date sep HH:MM[:SS]`` (local time must be added before)."""
    s = epoch_s.astype(np.int64)
    sod = np.mod(s, 86400)
    parts = [
        fmt_date(s, date_fmt),
        TWO.take(pa.array(sod // 3600)),
        TWO.take(pa.array((sod // 60) % 60)),
    ]
    if seconds:
        parts.append(TWO.take(pa.array(sod % 60)))
    clock = pc.binary_join_element_wise(*parts[1:], time_sep)
    return pc.binary_join_element_wise(parts[0], clock, sep)


def fmt_money(cents: np.ndarray, decimal: str = ".") -> pa.Array:
    """Format integer cents as ``123.45`` (or ``123,45``)."""
    c = cents.astype(np.int64)
    return pc.binary_join_element_wise(
        pa.array(c // 100).cast(pa.string()), TWO.take(pa.array(c % 100)), decimal
    )


def pick(options: Sequence[str], idx: np.ndarray) -> pa.Array:
    """Strings from a small pool by index, vectorised."""
    return pa.array(list(options)).take(pa.array(np.asarray(idx, dtype=np.int64)))


def where(mask: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` where ``mask`` is true, else null (an empty cell in the CSV)."""
    return pc.if_else(pa.array(mask), values, pa.scalar(None, pa.string()))


def join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def text(values: np.ndarray) -> pa.Array:
    """Integers or strings from NumPy as an Arrow string array."""
    return pa.array(values).cast(pa.string())


class CsvOut:
    """A CSV file written in chunks; encodings other than UTF-8 are transcoded per chunk."""

    def __init__(self, path: Path, header: Sequence[str], delimiter: str = ",",
                 encoding: str = "utf-8") -> None:
        self.path = path
        self.header = list(header)
        self.delimiter = delimiter
        self.encoding = encoding
        self.rows = 0
        self._fh = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._first = True

    def write(self, columns: dict[str, pa.Array]) -> None:
        missing = [h for h in self.header if h not in columns]
        if missing:
            raise ValueError(f"{self.path.name}: no values for {missing}")
        n = len(next(iter(columns.values())))
        table = pa.table({h: columns[h].cast(pa.string()) for h in self.header})
        step = 200_000  # bounded buffers: a big file never sits in memory twice
        for lo in range(0, max(n, 1), step):
            self._write_table(table.slice(lo, step))
        self.rows += n

    def _write_table(self, table: pa.Table) -> None:
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(
            include_header=self._first, delimiter=self.delimiter, quoting_style="needed"))
        data = buf.getvalue()
        if self.encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            enc = "utf-16-le" if self.encoding == "utf-16" else self.encoding
            data = data.decode("utf-8").replace("\n", "\r\n").encode(enc)
            if self._first and self.encoding == "utf-16":
                data = b"\xff\xfe" + data
        self._fh.write(data)
        self._first = False

    def close(self) -> int:
        if self._first:  # write the header even when no rows came
            self.write({h: pa.array([], pa.string()) for h in self.header})
        self._fh.close()
        return self.rows


def write_csv(path: Path, columns: dict[str, pa.Array], delimiter: str = ",",
              encoding: str = "utf-8") -> int:
    out = CsvOut(path, list(columns), delimiter, encoding)
    out.write(columns)
    return out.close()


def ndjson_lines(columns: dict[str, pa.Array]) -> pa.Array:
    """One JSON object per row, built column-wise in Arrow; nulls are left out."""
    parts = []
    for name, col in columns.items():
        v = col.cast(pa.string())
        v = pc.replace_substring(pc.replace_substring(v, "\\", "\\\\"), '"', '\\"')
        parts.append(pc.binary_join_element_wise(f'"{name}":"', v, '"', ""))
    body = pc.binary_join_element_wise(
        *parts, ",", null_handling="skip") if len(parts) > 1 else parts[0]
    return pc.binary_join_element_wise("{", body, "}", "")


def write_ndjson(path: Path, columns: dict[str, pa.Array]) -> int:
    """Newline-delimited JSON, as API exports write it; built column-wise, in chunks."""
    n = len(next(iter(columns.values())))
    step = 200_000
    with open(path, "wb") as fh:
        for lo in range(0, n, step):
            lines = ndjson_lines({k: v.slice(lo, step) for k, v in columns.items()})
            fh.write(("\n".join(lines.to_pylist()) + "\n").encode("utf-8"))
    return n


def write_xlsx(path: Path, sheet: str, header: Sequence[str], rows: list[list[object]]) -> int:
    """A small Excel sheet (openpyxl), with real date cells as HR systems export them."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(header))
    for row in rows:
        ws.append(row)
    fixed = datetime(2026, 11, 27)
    wb.properties.created = wb.properties.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    # Zip entries carry the wall-clock time: rewrite them with a fixed one, so that the
    # same seed gives byte-identical files.
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" on save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-11-27T00:00:00Z",
                              data)
            info.date_time = (2026, 11, 27, 0, 0, 0)
            dst.writestr(info, data)
    return len(rows)
