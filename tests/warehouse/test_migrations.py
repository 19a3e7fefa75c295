"""Warehouses written by older cxlens versions open and keep working."""

from __future__ import annotations

from pathlib import Path

from cxlens.ingest.load import ingest
from cxlens.schema import KINDS, STAGING
from cxlens.warehouse.store import SCHEMA_VERSION, open_warehouse


def _hex(number_sql: str) -> str:
    """The MD5 hex that version 2 stored, from the 128-bit number version 3 stores."""
    padded = f"lpad(hex({number_sql}), 32, '0')"
    return "lower(" + " || ".join(f"substr({padded}, {i}, 2)" for i in range(31, 0, -2)) + ")"


def _as_version_3(con) -> None:
    """Rewrite a current warehouse into the layout version 3 wrote: unmapped columns as a
    JSON text in ``properties``, no ``_extra``, no ``batches.extra_columns``."""
    for k in KINDS.values():
        con.execute(f"UPDATE {k.table} t SET properties = v.properties FROM v_{k.table} v "
                    "WHERE t._extra IS NOT NULL AND v._batch = t._batch AND v._line = t._line")
        con.execute(f"DROP VIEW v_{k.table}")
        con.execute(f"ALTER TABLE {k.table} DROP COLUMN _extra")
        con.execute(f"CREATE VIEW v_{k.table} AS SELECT * EXCLUDE (_errors, _raw) "
                    f"FROM {k.table} WHERE _superseded_by IS NULL")
    con.execute("ALTER TABLE batches DROP COLUMN extra_columns")
    con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")


def _as_version_2(con) -> None:
    """Rewrite a current warehouse into the layout version 2 wrote: hex MD5 hashes,
    'h:' keys for content-keyed rows, no staging columns."""
    _as_version_3(con)
    for k in KINDS.values():
        con.execute(f"DROP VIEW v_{k.table}")
        con.execute(f"ALTER TABLE {k.table} ALTER _hash TYPE VARCHAR USING {_hex('_hash')}")
        con.execute(f"UPDATE {k.table} SET _key = 'h:' || _hash WHERE _key IS NULL")
        for name, _ in STAGING:
            con.execute(f"ALTER TABLE {k.table} DROP COLUMN {name}")
    con.execute(f"UPDATE quarantine SET row_hash = {_hex('row_hash::UHUGEINT')} "
                "WHERE NOT starts_with(row_hash, 'raw:')")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def test_a_version_2_warehouse_upgrades_and_still_recognises_its_rows(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text("ts,event_type,email\n2025-01-01 10:00:00,page_view,a@b.fi\n"
                      "2025-01-02 10:00:00,page_view,a@b.fi\n", encoding="utf-8")
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,ts,amount\n1,2025-01-01,10\n2,2025-01-01,n/a\n", encoding="utf-8")
    ws = tmp_path / "ws"
    with open_warehouse(ws) as con:
        ingest(con, events, "events")
        ingest(con, bad, "orders")
        _as_version_2(con)
        con.execute("CREATE VIEW v_events AS SELECT * FROM events")  # as v2 had views
        assert con.execute("SELECT _hash FROM events LIMIT 1").fetchall()[0][0].isalnum()
    with open_warehouse(ws) as con:
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        assert version[0][0] == str(SCHEMA_VERSION)
        again = ingest(con, events, "events")
        assert (again.loaded, again.duplicates) == (0, 2)
        again = ingest(con, bad, "orders")
        assert (again.loaded, again.quarantined, again.duplicates) == (0, 0, 2)
        assert con.execute("SELECT count(*) FROM v_events").fetchall()[0][0] == 2


def test_a_version_3_warehouse_keeps_its_properties_and_loads_new_files(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text("ts,event_type,email,favourite_colour\n2025-01-01 10:00:00,page_view,a@b.fi,"
                      "mobile\n", encoding="utf-8")
    more = tmp_path / "more.csv"
    more.write_text("ts,event_type,email,favourite_colour\n2025-01-03 10:00:00,page_view,a@b.fi,"
                    "tablet\n", encoding="utf-8")
    ws = tmp_path / "ws"
    with open_warehouse(ws) as con:
        ingest(con, events, "events")
        _as_version_3(con)
        old = con.execute("SELECT properties FROM events").fetchall()
        assert old == [('{"favourite_colour":"mobile"}',)]
    with open_warehouse(ws) as con:
        assert con.execute("SELECT properties, customer_id IS NOT NULL FROM v_events"
                           ).fetchall() == [('{"favourite_colour":"mobile"}', True)]
        new = ingest(con, more, "events")
        assert (new.loaded, new.duplicates) == (1, 0)
        assert ingest(con, more, "events").duplicates == 1
        assert con.execute("SELECT list(properties ORDER BY ts) FROM v_events").fetchall()[0][0] \
            == ['{"favourite_colour":"mobile"}', '{"favourite_colour":"tablet"}']
        assert con.execute("SELECT extra_columns FROM batches ORDER BY batch_id DESC LIMIT 1"
                           ).fetchall()[0][0] == ["favourite_colour"]
