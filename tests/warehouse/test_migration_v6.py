"""Schema 5 -> 6: ``batches.skipped`` is added in place (0 for the batches loaded before);
a warehouse of version 5 counts the total rows of a report export as skipped afterwards."""

from __future__ import annotations

from pathlib import Path

from cxlens.ingest.load import ingest
from cxlens.warehouse.store import SCHEMA_VERSION, open_warehouse


def test_a_version_5_warehouse_gets_the_skipped_count(tmp_path: Path) -> None:
    orders = tmp_path / "o.csv"
    orders.write_text("order_id,ts,amount\nA1,2025-01-01,10\n", encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        ingest(con, orders, "orders")
        con.execute("ALTER TABLE batches DROP COLUMN skipped")
        con.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    with open_warehouse(tmp_path / "ws") as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'"
                           ).fetchall() == [(str(SCHEMA_VERSION),)]
        assert con.execute("SELECT batch_id, loaded, skipped FROM batches").fetchall() == [
            (1, 1, 0)]
        more = tmp_path / "o2.csv"
        more.write_text("order_id,ts,amount\nA2,2025-01-02,5\nYhteensä,,5\n", encoding="utf-8")
        r = ingest(con, more, "orders")
        assert (r.loaded, r.skipped) == (1, 1)
        assert con.execute("SELECT skipped FROM batches WHERE batch_id = 2").fetchall() == [
            (1,)]
