"""Incremental identity resolution gives exactly what a full recomputation gives."""

from __future__ import annotations

from pathlib import Path

from cxlens.demo import generate
from cxlens.ingest import identity
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_warehouse


def _state(con) -> tuple[list, list]:
    ids = con.execute("SELECT identity_key, identity_type, value, customer_id FROM identities "
                      "ORDER BY identity_key").fetchall()
    customers = con.execute("SELECT * FROM customers ORDER BY customer_id").fetchall()
    return ids, customers


def test_batch_by_batch_equals_a_full_recomputation(tmp_path: Path) -> None:
    manifest = generate(tmp_path / "files", size="S", seed=5)
    with open_warehouse(tmp_path / "ws") as con:
        for f in manifest.files:
            ingest(con, f.path, f.kind, preset=f.preset)
        incremental = _state(con)
        identity.resolve(con)
        assert _state(con) == incremental
    assert len(incremental[1]) == manifest.truths["identity"]["expected_customers_after_resolution"]


def test_a_later_record_merges_two_customers(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text("order_id,ts,amount,email\n1,2025-01-01,5,anna@x.fi\n", encoding="utf-8")
    b = tmp_path / "b.csv"
    b.write_text("order_id,ts,amount,phone\n2,2025-01-02,6,0401234567\n", encoding="utf-8")
    link = tmp_path / "c.csv"
    link.write_text("crm_id,email,phone\nK1,anna@x.fi,+358401234567\n", encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        ingest(con, a, "orders")
        ingest(con, b, "orders")
        assert con.execute("SELECT count(*) FROM customers").fetchall()[0][0] == 2
        ingest(con, link, "customers")
        merged = _state(con)
        assert len(merged[1]) == 1 and merged[1][0][-1] == 3  # three records
        identity.resolve(con)
        assert _state(con) == merged


def test_each_identity_records_the_batch_that_wrote_it_and_its_customer_before(
        tmp_path: Path) -> None:
    """What the lake mirror reads instead of its own copy (lake._touched): after a batch
    resolved incrementally, its identities carry its number and the customer they had."""
    a = tmp_path / "a.csv"
    a.write_text("order_id,ts,amount,email\n1,2025-01-01,5,anna@x.fi\n", encoding="utf-8")
    b = tmp_path / "b.csv"
    b.write_text("order_id,ts,amount,phone\n2,2025-01-02,6,0401234567\n"
                 "3,2025-01-03,7,0409999999\n", encoding="utf-8")
    link = tmp_path / "c.csv"
    link.write_text("crm_id,email,phone\nK1,anna@x.fi,+358401234567\n", encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        ingest(con, a, "orders")  # the first batch with identifiers: a full pass, with 1
        assert con.execute("SELECT identity_key, resolved_in, previous_customer_id "
                           "FROM identities").fetchall() == [("email:anna@x.fi", 1, None)]
        ingest(con, b, "orders")
        before = dict(con.execute("SELECT identity_key, customer_id FROM identities"
                                  ).fetchall())
        ingest(con, link, "customers")
        rows = con.execute("SELECT identity_key, customer_id, resolved_in, "
                           "previous_customer_id FROM identities ORDER BY 1").fetchall()
    merged = {r[0]: r for r in rows}
    # the link's identities and the two customers it merged: rewritten by batch 3
    for key in ("crm_id:K1", "email:anna@x.fi", "phone:+358401234567"):
        assert merged[key][2] == 3 and merged[key][3] == before.get(key)
    assert merged["crm_id:K1"][3] is None  # new
    # the other phone's customer was not touched: still as batch 2 wrote it
    assert merged["phone:+358409999999"][2:] == (2, None)
    assert len({merged[k][1] for k in ("crm_id:K1", "email:anna@x.fi",
                                       "phone:+358401234567")}) == 1


def test_a_full_pass_without_a_batch_records_none(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text("order_id,ts,amount,email\n1,2025-01-01,5,anna@x.fi\n", encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        ingest(con, a, "orders")
        identity.resolve(con)
        assert con.execute("SELECT resolved_in, previous_customer_id FROM identities"
                           ).fetchall() == [(None, None)]
