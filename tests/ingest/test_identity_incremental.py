"""Incremental identity resolution gives exactly what a full recomputation gives."""

from __future__ import annotations

from pathlib import Path

from cxlens.demo import generate
from cxlens.ingest import identity
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_warehouse


def _state(con) -> tuple[list, list]:
    ids = con.execute("SELECT * FROM identities ORDER BY identity_key").fetchall()
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
