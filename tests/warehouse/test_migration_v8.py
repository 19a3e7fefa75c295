"""Schema 7 -> 8: ``identities.resolved_in`` and ``previous_customer_id`` are added in place
(NULL for the identities resolved before); the next batch records them, and a lake written
before the upgrade is written again whole (its schema version differs)."""

from __future__ import annotations

from pathlib import Path

from cxlens.ingest.load import ingest
from cxlens.warehouse import lake
from cxlens.warehouse.store import SCHEMA_VERSION, open_warehouse


def test_a_version_7_warehouse_gets_the_identity_columns(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    orders = tmp_path / "o.csv"
    orders.write_text("order_id,ts,amount,email\nA1,2025-01-01,10,a@x.fi\n", encoding="utf-8")
    with open_warehouse(ws) as con:
        ingest(con, orders, "orders")
        con.execute("ALTER TABLE identities DROP COLUMN resolved_in")
        con.execute("ALTER TABLE identities DROP COLUMN previous_customer_id")
        con.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
        lake.sync(con, lake.lake_path(ws))
    with open_warehouse(ws) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'"
                           ).fetchall() == [(str(SCHEMA_VERSION),)]
        assert con.execute("SELECT identity_key, resolved_in, previous_customer_id "
                           "FROM identities").fetchall() == [("email:a@x.fi", None, None)]
        more = tmp_path / "o2.csv"
        more.write_text("order_id,ts,amount,email,phone\nA2,2025-01-02,5,a@x.fi,0401234567\n",
                        encoding="utf-8")
        ingest(con, more, "orders")
        assert con.execute("SELECT identity_key, resolved_in, previous_customer_id IS NULL "
                           "FROM identities ORDER BY 1").fetchall() == [
            ("email:a@x.fi", 2, False), ("phone:+358401234567", 2, True)]
        assert lake.current(lake.lake_path(ws))["schema"] == str(SCHEMA_VERSION)
        assert lake.current(lake.lake_path(ws))["tables"]["identities"] == \
            lake.current(lake.lake_path(ws))["version"]  # rewritten by the batch after
