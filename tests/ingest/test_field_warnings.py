"""Field-level problems keep the record (issue 9, item 5), and canonical values (item 6).

213 of 790 HubSpot contacts were quarantined for ``Phone Number: not a phone number`` —
US numbers such as ``(407) 261-8908`` and the literal ``null`` — though 208 of them had a
valid e-mail. An invalid optional value is now set empty with a warning counted per
column and kept for review; the record is quarantined only when a required field or the
key fails.
"""

from __future__ import annotations

import json

from test_propose_values import run_cli

from cxlens.ingest.batches import field_warnings, rollback
from cxlens.ingest.load import ingest

CONTACTS = """Record ID,Email,Phone Number,Country
1,anna@example.com,(407) 261-8908,US
2,bo@example.com,null,FI
3,not-an-email,040 123 4567,SE
4,dan@example.com,garbage,FI
5,eve@example.com,040 765 4321,
6,,N/A,Finland
"""
MAPPING = """kind: customers
country: FI
columns:
  crm_id: Record ID
  email: Email
  phone: Phone Number
  country: Country
"""


def test_bad_optional_values_are_emptied_and_the_records_kept(con, write) -> None:
    r = ingest(con, write("c.csv", CONTACTS), None, mapping_file=write("m.yml", MAPPING))
    assert (r.rows_in, r.loaded, r.quarantined) == (6, 6, 0) and r.balanced
    assert r.field_warnings == {"Country": 1, "Email": 1, "Phone Number": 1}
    rows = dict((int(a), (b, c, d)) for a, b, c, d in con.execute(
        "SELECT crm_id, email, phone, country FROM v_customer_records").fetchall())
    assert rows[1] == ("anna@example.com", "+14072618908", "US")  # the row's country
    assert rows[2] == ("bo@example.com", None, "FI")  # 'null' is empty, not a warning
    assert rows[3] == (None, "+46401234567", "SE")
    assert rows[4] == ("dan@example.com", None, "FI")
    assert rows[5][1] == "+358407654321"  # no country on the row: the mapping's
    assert rows[6] == (None, None, None)
    listed = field_warnings(con, batch=r.batch_id)
    assert [(w["line"], w["column"], w["value"]) for w in listed] == [
        (4, "Email", "not-an-email"), (5, "Phone Number", "garbage"), (7, "Country", "Finland")]
    assert all(w["reason"] for w in listed)


def test_a_record_without_any_valid_identifier_is_quarantined(con, write) -> None:
    text = "Record ID,Email,Phone Number\n,not-an-email,garbage\n,ok@example.com,\n"
    m = write("m.yml", "kind: customers\ncolumns:\n  crm_id: Record ID\n  email: Email\n"
                       "  phone: Phone Number\n")
    r = ingest(con, write("c.csv", text), None, mapping_file=m)
    assert (r.loaded, r.quarantined) == (1, 1)
    assert r.quarantine_sample[0]["line"] == 2


def test_a_required_field_still_quarantines(con, write) -> None:
    text = "order_id,ts,amount,email\nA1,2024-01-01,abc,x@example.com\nA2,2024-01-01,5,bad\n"
    r = ingest(con, write("o.csv", text), "orders")
    assert (r.loaded, r.quarantined) == (1, 1)
    assert r.field_warnings == {"email": 1}


def test_rollback_removes_the_batch_warnings(con, write) -> None:
    r = ingest(con, write("c.csv", CONTACTS), None, mapping_file=write("m.yml", MAPPING))
    rollback(con, r.batch_id)
    assert field_warnings(con) == []


def test_currency_codes_and_vocabularies_are_canonical(con, write) -> None:
    text = ("order_id,ts,amount,currency,status,channel\n"
            "S1,2024-01-01,10,gbp,Paid,E-mail\n"
            "S2,2024-01-01,20,GBP,paid,email\n"
            "S3,2024-01-01,30,XQZ,Refunded,Web\n"
            "S4,2024-01-01,40,,PAID,Kiosk\n")
    r = ingest(con, write("o.csv", text), "orders")
    assert (r.loaded, r.quarantined) == (4, 0)
    assert r.field_warnings == {"currency": 1}
    rows = con.execute("SELECT order_id, currency, status, channel FROM v_orders "
                       "ORDER BY order_id").fetchall()
    assert rows == [("S1", "GBP", "paid", "email"), ("S2", "GBP", "paid", "email"),
                    ("S3", None, "refunded", "web"), ("S4", "EUR", "paid", "kiosk")]


def test_the_workspace_vocabulary_extends_the_shipped_one(con, write, tmp_path) -> None:
    (tmp_path / "ws" / "vocabulary.yml").write_text(
        "channel:\n  kiosk: store\n  \"l'atelier\": \"d'or\"\nstatus:\n  paid: settled\n",
        encoding="utf-8")
    text = ("order_id,ts,amount,status,channel\nS1,2024-01-01,10,Paid,Kiosk\n"
            "S2,2024-01-01,10,paid,L'Atelier\nS3,2024-01-01,10,settled,d'or\n")
    ingest(con, write("o.csv", text), "orders")
    assert con.execute("SELECT status, channel FROM v_orders ORDER BY order_id").fetchall() == [
        ("settled", "store"), ("settled", "d'or"), ("settled", "d'or")]


def test_the_cli_shows_the_warnings_and_lists_them(tmp_path) -> None:
    (tmp_path / "c.csv").write_text(CONTACTS, encoding="utf-8")
    (tmp_path / "m.yml").write_text(MAPPING, encoding="utf-8")
    r = run_cli(tmp_path, "ingest", str(tmp_path / "c.csv"), "--mapping",
                str(tmp_path / "m.yml"), "--yes")
    assert r.returncode == 0, r.stderr
    assert "field warnings" in r.stdout and "Phone Number: 1" in r.stdout
    listed = run_cli(tmp_path, "quarantine", "warnings", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {w["column"] for w in rows} == {"Email", "Phone Number", "Country"}
    j = run_cli(tmp_path, "ingest", str(tmp_path / "c.csv"), "--mapping",
                str(tmp_path / "m.yml"), "--json")
    assert json.loads(j.stdout)["field_warnings"] == {}  # all duplicates now
