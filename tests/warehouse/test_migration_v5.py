"""Schema 4 -> 5: the field warnings table and each kind table's ``_warnings`` column are
added in place; a warehouse of version 4 loads with field warnings afterwards."""

from __future__ import annotations

from pathlib import Path

from cxlens.ingest.load import ingest
from cxlens.schema import KINDS
from cxlens.warehouse.store import SCHEMA_VERSION, open_warehouse


def _as_version_4(con) -> None:
    for k in KINDS.values():
        con.execute(f"DROP VIEW v_{k.table}")
        con.execute(f"ALTER TABLE {k.table} DROP COLUMN _warnings")
        con.execute(f"CREATE VIEW v_{k.table} AS SELECT * EXCLUDE (_errors, _raw, _extra) "
                    f"FROM {k.table} WHERE _superseded_by IS NULL")
    con.execute("DROP TABLE field_warnings")
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")


def test_a_version_4_warehouse_gets_field_warnings(tmp_path: Path) -> None:
    orders = tmp_path / "o.csv"
    orders.write_text("order_id,ts,amount,email\nA1,2025-01-01,10,a@b.fi\n", encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        ingest(con, orders, "orders")
        _as_version_4(con)
    with open_warehouse(tmp_path / "ws") as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'"
                           ).fetchall() == [(str(SCHEMA_VERSION),)]
        cols = [r[0] for r in con.execute("DESCRIBE v_orders").fetchall()]
        assert "_warnings" not in cols and "order_id" in cols
        assert con.execute("SELECT count(*) FROM v_orders").fetchall() == [(1,)]
        more = tmp_path / "o2.csv"
        more.write_text("order_id,ts,amount,email\nA2,2025-01-02,5,nope\n", encoding="utf-8")
        r = ingest(con, more, "orders")
        assert (r.loaded, r.field_warnings) == (1, {"email": 1})
        assert con.execute('SELECT line, "column" FROM field_warnings').fetchall() == [
            (2, "email")]
