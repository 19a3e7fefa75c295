"""Bounded fuzzing of file import (issue 15): malformed CSV, XLSX and JSON/NDJSON.

The property, for every file: :func:`cxlens.ingest.load.ingest` either returns a balanced
batch (rows in = loaded + quarantined + duplicates) that stored no NUL byte, or raises a
:class:`UserError` — and then the warehouse is exactly as before. Anything else (a crash, a
traceback) fails. Runs ``FUZZ_EXAMPLES`` examples per test (more under ``make soak``),
derandomized so that CI is repeatable.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlens.errors import UserError
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_warehouse
from helpers import FUZZ_EXAMPLES, assert_balanced, snapshot

pytestmark = pytest.mark.fuzz

FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
HEADERS = ["order_id", "ts", "amount", "email", "channel", "Summa", "", "order_id"]


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """One warehouse for all the examples of a test (a fresh one each would cost more
    than the example); a scratch folder for the files."""
    with open_warehouse(tmp_path / "ws") as con:
        yield con, tmp_path


def check(con: duckdb.DuckDBPyConnection, path: Path, kind: str = "orders") -> None:
    before = snapshot(con)
    try:
        result = ingest(con, path, kind)
    except UserError as exc:
        assert str(exc)  # a message, not a traceback
        assert snapshot(con) == before
        return
    assert_balanced(con, result)
    # Nothing stored holds a NUL byte (its row goes to the quarantine instead).
    text = con.execute("SELECT column_name FROM information_schema.columns WHERE "
                       "table_name = 'orders' AND data_type = 'VARCHAR'").fetchall()
    nul = " OR ".join(f'contains("{c}", chr(0))' for (c,) in text)
    assert con.execute(f"SELECT count(*) FROM orders WHERE {nul} OR "
                       "list_contains(list_transform(_extra, lambda x: contains(x, chr(0))), true)"
                       ).fetchall() == [(0,)]


# ----------------------------------------------------------------------------------- CSV

cell = st.one_of(
    st.sampled_from(["O-1", "2026-03-01 10:00:00", "01.03.2026", "12,50", "12.50", "x@y.fi",
                     "", " ", "=1+1", "NULL", "−3", "1e308", "9" * 40]),
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from('"\x00,;\t|\r\n\\\'éÄ€\ufeff'), max_size=8),
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(min_size=1, max_size=400))  # anything at all
    delim = draw(st.sampled_from([",", ";", "\t", "|", " "]))
    width = draw(st.integers(1, 6))
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=width, max_size=width))
    lines = []
    if draw(st.booleans()):
        lines += draw(st.lists(st.text(max_size=40).filter(lambda t: "\n" not in t),
                               max_size=3))  # title lines
    lines.append(delim.join(header))
    for _ in range(draw(st.integers(0, 12))):
        n = draw(st.integers(0, width + 2))  # too few, right, too many
        values = draw(st.lists(cell, min_size=n, max_size=n))
        if draw(st.booleans()):
            values = [f'"{v}"' if draw(st.booleans()) else v for v in values]
        lines.append(delim.join(values))
    if draw(st.booleans()):
        lines.append(f"Total{delim}{delim}123")  # a totals line
    enc = draw(st.sampled_from(["utf-8", "cp1252", "utf-16", "mixed", "utf-8-sig"]))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    if enc == "mixed":
        return b"".join(ln.encode("cp1252" if i % 2 else "utf-8", errors="replace")
                        + eol.encode() for i, ln in enumerate(lines))
    body = eol.join(lines) + eol
    return body.encode(enc, errors="replace")


@st.composite
def csv_with_nul(draw: st.DrawFn) -> bytes:
    """A loadable orders file longer than the sniffed 4 KB, with NULs in its last rows."""
    rows = [f"O{i},2026-03-01 10:00:00,{i}.50,c{i}@x.fi" for i in range(120)]
    tail = draw(st.lists(st.lists(cell, min_size=4, max_size=4), min_size=1, max_size=4))
    for values in tail:
        at = draw(st.integers(0, 3))
        values[at] = values[at].replace(",", "") + "\x00" + draw(st.sampled_from(["", "x"]))
        rows.append(",".join(v.replace(",", "").replace("\n", "") for v in values))
    return ("order_id,ts,amount,email\n" + "\n".join(rows) + "\n").encode("utf-8", "replace")


@FUZZ
@given(data=st.one_of(csv_files(), csv_with_nul()),
       name=st.sampled_from(["f.csv", "f.tsv", "f.txt"]))
def test_fuzz_csv(warehouse, data: bytes, name: str) -> None:
    con, tmp = warehouse
    path = tmp / name
    path.write_bytes(data)
    check(con, path)


# ---------------------------------------------------------------------------------- XLSX

def _zip_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _rezip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return buf.getvalue()


def _declare_size(data: bytes, entry: str, size: int) -> bytes:
    """Patch the central directory so that ``entry`` claims ``size`` bytes unpacked."""
    raw = bytearray(data)
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        name_len = int.from_bytes(raw[at + 28:at + 30], "little")
        if bytes(raw[at + 46:at + 46 + name_len]) == entry.encode():
            raw[at + 24:at + 28] = size.to_bytes(4, "little")
            break
        at = raw.find(b"PK\x01\x02", at + 4)
    return bytes(raw)


MUTATIONS = ["none", "dimension", "far cell", "truncate", "drop", "garbage", "declared size",
             "no value", "bad ref"]


@st.composite
def xlsx_files(draw: st.DrawFn) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    width = draw(st.integers(1, 5))
    ws.append(draw(st.lists(st.sampled_from(HEADERS), min_size=width, max_size=width)))
    value = st.one_of(st.none(), st.integers(-10**6, 10**6),
                      st.floats(allow_nan=False, allow_infinity=False),
                      st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]),
                              max_size=20))
    for _ in range(draw(st.integers(0, 6))):
        ws.append(draw(st.lists(value, min_size=0, max_size=width + 1)))
    if draw(st.booleans()):
        other = wb.create_sheet(draw(st.sampled_from(["Notes", "Orders 2", "&<>\"'"])))
        other.append(["a", "b"])
    buf = io.BytesIO()
    wb.save(buf)
    parts = _zip_parts(buf.getvalue())
    sheet = "xl/worksheets/sheet1.xml"
    how = draw(st.sampled_from(MUTATIONS))
    if how == "dimension":
        ref = draw(st.sampled_from(["A1:XFD1048576", "A1:A1", "", "ZZZZ9", "B2:A1",
                                    "A1:XFD1", "A1:Z800000", "A0:B0"]))
        parts[sheet] = parts[sheet].replace(b'<dimension ref="', b'<dimension ref="'
                                            + ref.encode() + b'" x="')
    elif how == "far cell":
        far = draw(st.sampled_from(["XFD1048576", "A1048576", "ZZ99999", "XFD1"]))
        parts[sheet] = parts[sheet].replace(
            b"</sheetData>", f'<row r="{far.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}">'
                             f'<c r="{far}"><v>1</v></c></row></sheetData>'.encode())
    elif how == "truncate":
        name = draw(st.sampled_from(sorted(parts)))
        parts[name] = parts[name][:draw(st.integers(0, len(parts[name])))]
    elif how == "drop":
        del parts[draw(st.sampled_from(sorted(parts)))]
    elif how == "garbage":
        parts[draw(st.sampled_from(sorted(parts)))] = draw(st.binary(max_size=200))
    elif how == "no value":
        parts[sheet] = parts[sheet].replace(
            b"</sheetData>", b'<row r="99"><c r="A99"><f>1+1</f></c></row></sheetData>')
    elif how == "bad ref":
        parts[sheet] = parts[sheet].replace(b'r="A', b'r="', 1)
    data = _rezip(parts)
    if how == "declared size":
        data = _declare_size(data, sheet, draw(st.sampled_from([0, 1, 0xFFFFFFF0])))
    return data


@FUZZ
@given(data=xlsx_files())
def test_fuzz_xlsx(warehouse, data: bytes) -> None:
    con, tmp = warehouse
    path = tmp / "book.xlsx"
    path.write_bytes(data)
    check(con, path)


# ---------------------------------------------------------------------------- JSON/NDJSON

scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                   st.text(max_size=20), st.sampled_from(["2026-03-01 10:00:00", "x@y.fi"]))
json_value = st.recursive(scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8)


def _dump(obj: object) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False)


@st.composite
def json_files(draw: st.DrawFn) -> tuple[str, bytes]:
    fields = st.sampled_from(["order_id", "ts", "amount", "email", "x", ""])
    if draw(st.booleans()):  # shaped like orders, so that most of these load
        records = draw(st.lists(st.fixed_dictionaries(
            {"order_id": st.one_of(st.text(max_size=8), json_value),
             "ts": st.sampled_from(["2026-03-01 10:00:00", "01.03.2026", "x"]),
             "amount": st.one_of(st.integers(), st.text(max_size=5))},
            optional={"email": json_value, "x": json_value}), max_size=6))
    else:
        records = draw(st.lists(st.dictionaries(fields, json_value, max_size=5), max_size=6))
    texts = [_dump(r) for r in records]
    trick = draw(st.sampled_from(["none", "deep", "surrogate", "nul", "wrong type", "cut"]))
    if trick == "deep":
        depth = draw(st.sampled_from([200, 2000, 50_000]))
        texts.append('{"order_id": "D", "x": ' + "[" * depth + "]" * depth + "}")
    elif trick == "surrogate":
        texts.append('{"order_id": "S", "email": "\\ud800x", "x": "\\udfff"}')
    elif trick == "nul":
        texts.append('{"order_id": "N\\u0000", "ts": "2026-03-01", "amount": 1}')
    elif trick == "wrong type":
        texts.append('{"order_id": [1, 2], "ts": {"a": 1}, "amount": true}')
    elif trick == "cut" and texts:
        texts[-1] = texts[-1][: len(texts[-1]) // 2]
    if draw(st.booleans()):
        return "f.ndjson", "\n".join(texts).encode("utf-8", errors="surrogatepass")
    return "f.json", ("[" + ",\n".join(texts) + "]").encode("utf-8", errors="surrogatepass")


@FUZZ
@given(file=json_files())
def test_fuzz_json(warehouse, file: tuple[str, bytes]) -> None:
    con, tmp = warehouse
    name, data = file
    path = tmp / name
    path.write_bytes(data)
    check(con, path)
