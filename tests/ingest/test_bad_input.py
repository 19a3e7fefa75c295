"""Bad input, one case each: every row is accounted for, errors name file/line/column,
and a failed file leaves the warehouse exactly as it was."""

from __future__ import annotations

import os
import random
import resource
import time
from pathlib import Path

import duckdb
import pytest

from cxlens.errors import InputError, MappingUnsure, UserError
from cxlens.ingest.batches import retry, rollback
from cxlens.ingest.load import ingest
from cxlens.sources.readers import ReadOptions
from helpers import assert_balanced, snapshot

ORDERS = (
    "order_id;ts;amount;email\n"
    "A1;2026-01-05 10:00:00;10.50;anna@example.fi\n"
    "A2;2026-01-06 11:00:00;20.00;bo@example.se\n"
    "A3;2026-01-07 12:00:00;30.25;cecilia@example.fi\n"
)


def orders_mapping(write, name: str = "orders.mapping.yml", extra: str = "", **cols: str) -> Path:
    columns = {"order_id": "order_id", "ts": "ts", "amount": "amount", "email": "email"}
    columns.update(cols)
    body = "\n".join(f"  {k}: {v}" for k, v in columns.items())
    return write(name, f"kind: orders\n{extra}columns:\n{body}\n")


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def quarantine_rows(con: duckdb.DuckDBPyConnection, batch: int) -> list[tuple]:
    return con.execute(
        'SELECT source_file, line, "column", value, reason FROM quarantine '
        "WHERE batch_id = ? ORDER BY line", [batch]).fetchall()


# ------------------------------------------------------------------------- empty-ish files


def test_empty_file(con, write, unchanged):
    p = write("empty.csv", "")
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, p, "orders")
    assert ei.value.file == str(p)
    assert "empty" in ei.value.message
    assert ei.value.hint


def test_header_only(con, write, unchanged):
    p = write("header.csv", "order_id;ts;amount;email\n")
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, p, "orders")
    assert ei.value.file == str(p)
    assert ei.value.line == 2
    assert "no data rows" in ei.value.message
    assert ei.value.hint


def test_truncated_last_line_is_quarantined_others_load(con, write):
    p = write("trunc.csv", ORDERS + "A4;2026-01-08 09:")
    r = ingest(con, p, "orders")
    assert (r.rows_in, r.loaded, r.quarantined, r.duplicates) == (4, 3, 1, 0)
    assert_balanced(con, r)
    [(f, line, _col, _val, reason)] = quarantine_rows(con, r.batch_id)
    assert (f, line) == (str(p), 5)
    assert "too few columns" in reason
    assert count(con, "SELECT count(*) FROM v_orders") == 3


def test_wrong_delimiter_names_missing_column_and_closest_header(con, write, unchanged):
    p = write("semi.csv", ORDERS)
    m = orders_mapping(write)
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, p, "orders", mapping_file=m, read=ReadOptions(delimiter=","))
    e = ei.value
    assert e.file == str(p) and e.line == 1
    assert e.column == "order_id"
    assert "closest header is 'order_id;ts;amount;email'" in e.message
    assert "delimiter" in (e.hint or "")


def test_required_column_missing_names_it_and_closest(con, write, unchanged):
    p = write("o.csv", ORDERS.replace("amount", "Totl", 1))
    m = orders_mapping(write, amount="Total")
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, p, "orders", mapping_file=m)
    e = ei.value
    assert e.file == str(p) and e.line == 1 and e.column == "Total"
    assert "'Total'" in e.message and "closest header is 'Totl'" in e.message


def test_required_field_not_in_mapping(con, write, unchanged):
    p = write("o.csv", ORDERS)
    m = write("m.yml", "kind: orders\ncolumns:\n  order_id: order_id\n  ts: ts\n")
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, p, "orders", mapping_file=m)
    assert "amount" in ei.value.message and "closest header is 'amount'" in ei.value.message


# ------------------------------------------------------------------------------ encodings

NORDIC = (
    "order_id;ts;amount;email;city\n"
    "N1;2026-02-01 10:00:00;12.00;asa@example.fi;Jyväskylä\n"
    "N2;2026-02-02 10:00:00;13.00;orjan@example.se;Örebro\n"
    "N3;2026-02-03 10:00:00;14.00;aake@example.fi;Åbo €\n"
)
EXPECTED_CITIES = ["Jyväskylä", "Örebro", "Åbo €"]


def cities(con) -> list[str]:
    rows = con.execute(
        "SELECT json_extract_string(properties, '$.city') FROM v_orders ORDER BY order_id"
    ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-16", "utf-8"])
def test_encodings_load_with_nordic_characters(con, write, encoding):
    text = NORDIC if encoding != "latin-1" else NORDIC.replace("€", "E")
    p = write(f"nordic-{encoding}.csv", text, encoding)
    r = ingest(con, p, "orders")
    assert (r.loaded, r.quarantined) == (3, 0), r.notes
    assert_balanced(con, r)
    assert cities(con) == EXPECTED_CITIES


def test_latin1_forced_encoding(con, write):
    p = write("latin1.csv", NORDIC.replace(" €", ""), "latin-1")
    r = ingest(con, p, "orders", read=ReadOptions(encoding="ISO-8859-1"))
    assert r.loaded == 3
    assert cities(con) == ["Jyväskylä", "Örebro", "Åbo"]


@pytest.mark.parametrize("filler", [0, 3000], ids=["bad-in-head", "bad-after-64KB"])
def test_mixed_encodings_repaired_with_note(con, write, filler):
    lines = NORDIC.splitlines(keepends=True)
    pad = "".join(f"P{i};2026-02-01 10:00:00;1.00;p{i}@example.fi;Espoo öö\n"
                  for i in range(filler)).encode()
    data = (lines[0].encode() + pad + lines[1].encode("cp1252") + lines[2].encode("utf-8")
            + lines[3].encode("cp1252"))
    p = write("mixed.csv", data)
    r = ingest(con, p, "orders")
    assert (r.loaded, r.quarantined) == (3 + filler, 0)
    assert_balanced(con, r)
    got = con.execute("SELECT json_extract_string(properties, '$.city') FROM v_orders "
                      "WHERE order_id LIKE 'N%' ORDER BY order_id").fetchall()
    assert [c for (c,) in got] == EXPECTED_CITIES
    note = " ".join(r.notes)
    assert "2 line(s)" in note and f"lines {2 + filler}, {4 + filler}" in note


# ------------------------------------------------------------------------- binary files


def test_xlsx_renamed_to_csv(con, tmp_path, unchanged):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["order_id", "ts", "amount"])
    wb.active.append(["A1", "2026-01-01", 1])
    p = tmp_path / "real.xlsx"
    wb.save(p)
    renamed = p.rename(tmp_path / "orders.csv")
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, renamed, "orders")
    assert ei.value.file == str(renamed)
    assert "ZIP" in ei.value.message and "not a CSV" in ei.value.message


@pytest.mark.parametrize("lead", [b"\x01\x02", b"a\x00"], ids=["nul-inside", "nul-at-1"])
def test_random_bytes_with_nuls(con, write, unchanged, lead):
    rnd = random.Random(4)
    data = lead + bytes(rnd.randrange(256) for _ in range(20000))
    data = data.replace(b"\xff\xfe", b"ab").replace(b"\xfe\xff", b"ab")
    p = write("random.csv", data)
    with unchanged(), pytest.raises(UserError) as ei:
        ingest(con, p, "orders")
    assert ei.value.file == str(p)
    assert ei.value.hint


def test_single_huge_line_fails_fast(con, tmp_path, unchanged):
    import psutil

    p = tmp_path / "oneline.csv"
    chunk = ("x;" * 5_000_000).encode()
    with open(p, "wb") as fh:
        for _ in range(5):
            fh.write(chunk)  # 50 MB, no newline
    proc = psutil.Process(os.getpid())
    rss0 = proc.memory_info().rss
    peak0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, p, "orders")
    took = time.perf_counter() - t0
    assert took < 3, took
    assert ei.value.file == str(p) and ei.value.line == 1
    assert "no line break" in ei.value.message
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - max(peak0, rss0 // 1024)
    assert grown_kb < 100_000, f"peak RSS grew by {grown_kb} KB"


# ------------------------------------------------------------------- values: dates, numbers

def test_unparsable_dates_and_amounts_quarantined_with_lines(con, write):
    p = write("o.csv", ORDERS + "A4;not a date;10.00;d@example.fi\n"
              "A5;2026-01-09 10:00:00;abc;e@example.fi\n"
              "A6;2026-01-10 10:00:00;7.00;f@example.fi\n")
    r = ingest(con, p, "orders")
    assert (r.rows_in, r.loaded, r.quarantined) == (6, 4, 2)
    assert_balanced(con, r)
    rows = quarantine_rows(con, r.batch_id)
    assert [(f, line, col, val) for f, line, col, val, _ in rows] == [
        (str(p), 5, "ts", "not a date"), (str(p), 6, "amount", "abc")]
    assert "not a date/time" in rows[0][4]
    assert "not a number" in rows[1][4]


def test_decimal_comma_and_dotted_dates(con, write):
    p = write("fi.csv", "order_id;ts;amount;email\n"
              "F1;05.01.2026;1.234,50;a@example.fi\n"
              "F2;31.12.2025 14:30;99,90;b@example.fi\n"
              "F3;01.02.2026;0,5;c@example.fi\n")
    r = ingest(con, p, "orders")
    assert (r.loaded, r.quarantined) == (3, 0)
    rows = con.execute("SELECT order_id, ts::VARCHAR, amount::DOUBLE FROM v_orders "
                       "ORDER BY order_id").fetchall()
    assert rows == [("F1", "2026-01-05 00:00:00", 1234.5),
                    ("F2", "2025-12-31 14:30:00", 99.9),
                    ("F3", "2026-02-01 00:00:00", 0.5)]


FEEDBACK = ("response_id;ts;metric;score\n"
            "R1;2026-03-01 10:00:00;nps;10\n"
            "R2;2026-03-01 10:00:00;nps;11\n"
            "R3;2026-03-01 10:00:00;nps;-1\n"
            "R4;2026-03-01 10:00:00;nps;ten\n"
            "R5;2026-03-01 10:00:00;nps;7.5\n"
            "R6;2026-03-01 10:00:00;nps;0\n")


def test_feedback_scores_outside_the_scale(con, write):
    p = write("fb.csv", FEEDBACK)
    r = ingest(con, p, "feedback")
    assert (r.rows_in, r.loaded, r.quarantined) == (6, 3, 3)
    assert_balanced(con, r)
    rows = quarantine_rows(con, r.batch_id)
    assert [(line, val) for _, line, _, val, _ in rows] == [(3, "11"), (4, "-1"), (5, "ten")]
    assert "outside the 0–10 scale" in rows[0][4]
    assert "outside the 0–10 scale" in rows[1][4]
    assert "not a number" in rows[2][4]
    got = con.execute("SELECT response_id, score::DOUBLE FROM v_feedback ORDER BY 1").fetchall()
    assert got == [("R1", 10.0), ("R5", 7.5), ("R6", 0.0)]


# ---------------------------------------------------------------------- other formats


def test_excel_several_sheets(con, tmp_path, unchanged):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["order_id", "ts", "amount", "email"])
    ws.append(["X1", "2026-01-05 10:00:00", 10.5, "anna@example.fi"])
    ws.append(["X2", "2026-01-06 10:00:00", 3, "bo@example.se"])
    notes = wb.create_sheet("Notes")
    notes.append(["note"])
    notes.append(["exported by hand"])
    p = tmp_path / "book.xlsx"
    wb.save(p)
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, p, "orders")
    assert ei.value.file == str(p)
    assert "Orders" in ei.value.message and "Notes" in ei.value.message
    assert "--sheet" in (ei.value.hint or "")
    r = ingest(con, p, "orders", read=ReadOptions(sheet="Orders"))
    assert (r.loaded, r.quarantined) == (2, 0)
    assert_balanced(con, r)
    with pytest.raises(InputError) as ei:
        ingest(con, p, "orders", read=ReadOptions(sheet="Nope"))
    assert "Orders, Notes" in (ei.value.hint or "")


def test_ndjson_json_array_parquet(con, tmp_path):
    nd = tmp_path / "o.ndjson"
    nd.write_text('{"order_id": "J1", "ts": "2026-01-01T10:00:00", "amount": 1.5}\n'
                  '{"order_id": "J2", "ts": "2026-01-02T10:00:00", "amount": 2}\n',
                  encoding="utf-8")
    arr = tmp_path / "o.json"
    arr.write_text('[{"order_id": "J3", "ts": "2026-01-03T10:00:00", "amount": 3,'
                   ' "extra": {"a": 1}}]', encoding="utf-8")
    pq = tmp_path / "o.parquet"
    duckdb.sql("SELECT 'P' || i AS order_id, TIMESTAMP '2026-01-04' + INTERVAL (i) DAY AS ts, "
               "i * 1.25 AS amount FROM range(1, 5) t(i)").write_parquet(str(pq))
    for p, n in ((nd, 2), (arr, 1), (pq, 4)):
        r = ingest(con, p, "orders")
        assert (r.loaded, r.quarantined) == (n, 0), p
        assert_balanced(con, r)
    assert count(con, "SELECT count(*) FROM v_orders") == 7
    assert con.execute("SELECT amount::DOUBLE FROM v_orders WHERE order_id = 'P4'"
                       ).fetchall() == [(5.0,)]
    lines = con.execute("SELECT _line FROM orders WHERE order_id LIKE 'P%' ORDER BY 1").fetchall()
    assert [x for (x,) in lines] == [1, 2, 3, 4]


def test_malformed_json_gives_the_line(con, tmp_path, unchanged):
    p = tmp_path / "bad.ndjson"
    p.write_text('{"order_id": "J1", "amount": 1}\n{"order_id": "J2", "amount": 2}\n'
                 '{"order_id": "J3", "amount": \n', encoding="utf-8")
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, p, "orders")
    assert ei.value.file == str(p) and ei.value.line == 3


# ---------------------------------------------------------------------- mapping files


def test_mapping_with_unknown_field(con, write, unchanged):
    p = write("o.csv", ORDERS)
    m = write("m.yml", "kind: orders\ncolumns:\n  order_id: order_id\n  ts: ts\n"
              "  amount: amount\n  order_total: amount\n")
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, p, "orders", mapping_file=m)
    assert ei.value.file == str(m)
    assert "'order_total' is not a field of kind orders" in ei.value.message
    assert ei.value.line == 6
    assert "order_id" in (ei.value.hint or "")


def test_mapping_bad_yaml(con, write, unchanged):
    p = write("o.csv", ORDERS)
    m = write("m.yml", "kind: orders\ncolumns:\n  order_id: order_id\n  ts: [ts\n  amount: x\n")
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, p, "orders", mapping_file=m)
    assert ei.value.file == str(m)
    assert ei.value.line is not None and 4 <= ei.value.line <= 6
    assert "YAML" in ei.value.message


# --------------------------------------------------------------------- duplicates & versions


def test_duplicates_inside_a_file(con, write):
    lines = ORDERS.splitlines(keepends=True)
    p = write("dup.csv", "".join([*lines, lines[1], lines[2]]))
    r = ingest(con, p, "orders")
    assert (r.rows_in, r.loaded, r.quarantined, r.duplicates) == (5, 3, 0, 2)
    assert_balanced(con, r)


def test_overlapping_newer_export_supersedes_and_rollback_revives(con, write):
    first = write("jan.csv", ORDERS)
    r1 = ingest(con, first, "orders")
    newer = write("feb.csv", "order_id;ts;amount;email\n"
                  "A2;2026-01-06 11:00:00;20.00;bo@example.se\n"        # same
                  "A3;2026-01-07 12:00:00;35.00;cecilia@example.fi\n"   # changed amount
                  "A4;2026-01-08 12:00:00;40.00;dan@example.fi\n")      # new
    r2 = ingest(con, newer, "orders")
    assert (r2.rows_in, r2.loaded, r2.changed, r2.duplicates, r2.quarantined) == (3, 2, 1, 1, 0)
    assert_balanced(con, r2)

    def current() -> dict[str, float]:
        return dict(con.execute("SELECT order_id, amount::DOUBLE FROM v_orders").fetchall())

    assert current() == {"A1": 10.5, "A2": 20.0, "A3": 35.0, "A4": 40.0}
    assert con.execute("SELECT _superseded_by FROM orders WHERE order_id = 'A3' AND _batch = ?",
                       [r1.batch_id]).fetchall() == [(r2.batch_id,)]
    info = rollback(con, r2.batch_id)
    assert info == {"batch": r2.batch_id, "removed": 2, "restored": 1}
    assert current() == {"A1": 10.5, "A2": 20.0, "A3": 30.25}
    assert con.execute("SELECT status FROM batches WHERE batch_id = ?",
                       [r2.batch_id]).fetchall() == [("rolled_back",)]
    assert count(con, "SELECT count(*) FROM customers") == 3


def test_same_file_twice_loads_nothing(con, write):
    p = write("o.csv", ORDERS + "A4;bad;1.00;x@example.fi\n")
    r1 = ingest(con, p, "orders")
    assert (r1.loaded, r1.quarantined) == (3, 1)
    before = count(con, "SELECT count(*) FROM quarantine")
    r2 = ingest(con, p, "orders")
    assert (r2.rows_in, r2.loaded, r2.quarantined, r2.duplicates) == (4, 0, 0, 4)
    assert_balanced(con, r2)
    assert count(con, "SELECT count(*) FROM quarantine") == before
    assert count(con, "SELECT count(*) FROM orders") == 3


def test_same_file_twice_with_broken_line_counts_it_as_duplicate(con, write):
    p = write("o.csv", ORDERS + "A4;2026-01-08")
    r1 = ingest(con, p, "orders")
    assert (r1.loaded, r1.quarantined) == (3, 1)
    r2 = ingest(con, p, "orders")
    assert_balanced(con, r2)
    assert (r2.rows_in, r2.loaded, r2.quarantined, r2.duplicates) == (4, 0, 0, 4)
    assert count(con, "SELECT count(*) FROM quarantine WHERE status = 'open'") == 1


# ------------------------------------------------------------------------ identity


def identity_files(write) -> list[Path]:
    customers = write("crm.csv", "crm_id;email;phone;first_name;last_name\n"
                      "C-1;anna@example.fi;040 123 4567;Anna;Aalto\n"
                      "C-2;bo@example.se;+46 70 123 45 67;Bo;Berg\n"
                      "C-3;cilla@example.fi;;Cilla;Candé\n")
    orders = write("shop.csv", "order_id;ts;amount;email;phone\n"
                   "S1;2026-01-05 10:00:00;10.00;ANNA@example.fi;\n"
                   "S2;2026-01-06 10:00:00;15.00;;+358401234567\n"
                   "S3;2026-01-07 10:00:00;99.00;dora@example.fi;00358 50 999 8888\n"
                   "S4;2026-01-08 10:00:00;5.00;;0709 99 88 77\n")
    events = write("web.csv", "event_id;ts;event_type;anonymous_id;crm_id\n"
                   "E1;2026-01-04 09:00:00;page_view;anon-a;\n"
                   "E2;2026-01-04 09:05:00;signup;anon-a;C-1\n"
                   "E3;2026-01-04 09:06:00;page_view;anon-z;\n"
                   "E4;2026-01-09 09:00:00;page_view;anon-b;C-2\n")
    return [customers, orders, events]


def test_identity_resolution_across_sources(con, write):
    files = identity_files(write)
    for f, k in zip(files, ["customers", "orders", "events"], strict=True):
        r = ingest(con, f, k)
        assert r.quarantined == 0, (f, r.quarantine_sample)
    # Anna (crm C-1 + email + phone + anon-a), Bo (C-2, anon-b), Cilla, Dora (+ her phone),
    # the Swedish 0709 number (+46? no: default FI) as its own, and anon-z.
    n = count(con, "SELECT count(*) FROM customers")
    from cxlens.analytics.profile import profile
    from cxlens.warehouse.engine import DuckDBEngine

    p = profile(DuckDBEngine(con), "+358 40 1234567")
    ids = set(p["identifiers"])
    assert {"crm_id:C-1", "email:anna@example.fi", "phone:+358401234567",
            "anonymous_id:anon-a"} <= ids
    assert p["summary"]["orders"] == 2 and p["summary"]["revenue"] == 25.0
    assert p["summary"]["events"] == 2
    whats = [e["what"] for e in p["timeline"]]
    assert "order S1" in whats and "order S2" in whats and "signup" in whats
    assert "customer record" in whats
    assert p["customer"]["name"] == "Anna Aalto"
    assert n == 6


def test_customer_ids_stable_across_ingest_order(tmp_path, write):
    from cxlens.warehouse.store import open_warehouse

    files = identity_files(write)
    kinds = ["customers", "orders", "events"]
    results = []
    for name, order in (("a", [0, 1, 2]), ("b", [2, 1, 0])):
        with open_warehouse(tmp_path / name) as c:
            for i in order:
                ingest(c, files[i], kinds[i])
            results.append(c.execute(
                "SELECT identity_key, customer_id FROM identities ORDER BY 1").fetchall())
    assert results[0] == results[1]


# ------------------------------------------------------------------- retry & proposals


def test_quarantine_retry_with_fixed_mapping(con, write):
    p = write("o.csv", "order_id;ts;amount;email\n"
              "D1;05.01.2026;10.00;a@example.fi\n"
              "D2;06.01.2026;11.00;b@example.fi\n"
              "D3;07.01.2026;12.00;c@example.fi\n")
    wrong = orders_mapping(write, "wrong.yml", ts='{column: ts, format: "%Y-%m-%d"}')
    r1 = ingest(con, p, "orders", mapping_file=wrong)
    assert (r1.loaded, r1.quarantined) == (0, 3)
    assert_balanced(con, r1)
    fixed = orders_mapping(write, "fixed.yml", ts='{column: ts, format: "%d.%m.%Y"}')
    r2 = retry(con, r1.batch_id, fixed)
    assert (r2.rows_in, r2.loaded, r2.quarantined, r2.duplicates) == (3, 3, 0, 0)
    assert_balanced(con, r2)
    assert con.execute("SELECT DISTINCT status FROM quarantine WHERE batch_id = ?",
                       [r1.batch_id]).fetchall() == [("retried",)]
    assert con.execute("SELECT order_id, ts::DATE::VARCHAR, _line FROM v_orders ORDER BY 1"
                       ).fetchall() == [("D1", "2026-01-05", 2), ("D2", "2026-01-06", 3),
                                        ("D3", "2026-01-07", 4)]
    with pytest.raises(UserError):
        retry(con, r1.batch_id, fixed)


def test_unsure_mapping_writes_proposal_that_loads_after_editing(con, write, tmp_path,
                                                                  unchanged):
    p = write("odd.csv", "Nro;Milloin;Paljonko;Sposti\n"
              "T1;2026-01-05 10:00:00;10,00;anna@example.fi\n"
              "T2;2026-01-06 10:00:00;12,50;bo@example.se\n")
    with unchanged(), pytest.raises(MappingUnsure) as ei:
        ingest(con, p, "orders", proposal_dir=tmp_path)
    e = ei.value
    assert e.file == str(p) and e.line == 1
    proposal = Path(e.proposal_path)
    assert proposal.exists() and str(proposal) in (e.hint or "")
    import yaml

    data = yaml.safe_load(proposal.read_text(encoding="utf-8"))
    assert data["kind"] == "orders"
    data["columns"].update({"order_id": "Nro", "ts": "Milloin", "amount": "Paljonko"})
    proposal.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    r = ingest(con, p, "orders", mapping_file=proposal)
    assert (r.loaded, r.quarantined) == (2, 0)
    assert_balanced(con, r)
    assert con.execute("SELECT sum(amount)::DOUBLE FROM v_orders").fetchall() == [(22.5,)]


def test_snapshot_helper_sees_changes(con, write):
    before = snapshot(con)
    ingest(con, write("o.csv", ORDERS), "orders")
    assert snapshot(con) != before
