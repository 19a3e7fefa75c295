"""Collected events: the inbox (accept) and its flush through the file-ingest pipeline."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from cxlens.analytics.profile import profile
from cxlens.ingest import inbox
from cxlens.ingest.load import ingest
from cxlens.ingest.messages import InvalidMessages
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import SCHEMA_VERSION, open_warehouse
from helpers import assert_balanced

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def track(i: int | str, **over) -> dict:
    m = {"type": "track", "event": "Product Viewed", "anonymousId": f"anon-{i}",
         "messageId": f"m-{i}", "timestamp": "2026-11-27T11:00:00Z",
         "properties": {"sku": f"S{i}"}}
    m.update(over)
    return m


def rows(con, sql: str, *params) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def one(con, sql: str, *params):
    return rows(con, sql, *params)[0][0]


def flush_balanced(con) -> list:
    results = inbox.flush(con)
    for r in results:
        assert_balanced(con, r)
    return results


# ------------------------------------------------------------------------ accept


def test_append_stores_raw_messages_pending(con) -> None:
    r = inbox.append(con, [track(1), track(2, type="page", event=None, name="Home")],
                     received_at=NOW)
    assert (r.received, r.stored, r.duplicates) == (2, 2, 0)
    got = rows(con, "SELECT seq, message_id, type, status, batch_id FROM inbox ORDER BY seq")
    assert [g[1:] for g in got] == [("m-1", "track", "pending", None),
                                    ("m-2", "page", "pending", None)]
    assert got[0][0] < got[1][0]
    raw = json.loads(one(con, "SELECT raw FROM inbox WHERE message_id = 'm-1'"))
    assert raw["receivedAt"] == "2026-11-27T12:00:00.000Z"
    assert inbox.pending(con) == 2


def test_append_is_all_or_nothing(con) -> None:
    inbox.append(con, [track(0)], received_at=NOW)
    bad = [track(1), track(2), track(3, timestamp="2026-12-24T00:00:00Z"), track(4, event="")]
    with pytest.raises(InvalidMessages) as info:
        inbox.append(con, bad, received_at=NOW)
    assert [(e.index, e.field) for e in info.value.errors] == [(2, "timestamp"), (3, "event")]
    assert "message 2, timestamp" in str(info.value)
    assert one(con, "SELECT count(*) FROM inbox") == 1


def test_duplicate_message_ids_are_accepted_but_stored_once(con) -> None:
    assert inbox.append(con, [track(1), track(2)], received_at=NOW).stored == 2
    # A retry of the same request, and a request repeating an id inside itself.
    r = inbox.append(con, [track(1), track(2)], received_at=NOW + timedelta(seconds=5))
    assert (r.received, r.stored, r.duplicates) == (2, 0, 2)
    r = inbox.append(con, [track(3), track(3), track(1)], received_at=NOW)
    assert (r.received, r.stored, r.duplicates) == (3, 1, 2)
    assert one(con, "SELECT count(*) FROM inbox") == 3
    # Still a duplicate after it was loaded.
    flush_balanced(con)
    r = inbox.append(con, [track(2)], received_at=NOW)
    assert (r.stored, r.duplicates) == (0, 1)
    assert inbox.flush(con) == []
    assert one(con, "SELECT count(*) FROM events") == 3


def test_messages_without_id_dedupe_by_content(con) -> None:
    m = track(1)
    del m["messageId"]
    inbox.append(con, [{**m, "sentAt": "2026-11-27T11:00:01Z"}], received_at=NOW)
    r = inbox.append(con, [{**m, "sentAt": "2026-11-27T11:00:09Z"}], received_at=NOW)
    assert r.duplicates == 1
    assert one(con, "SELECT count(*) FROM inbox") == 1


# ------------------------------------------------------------------------ process


def test_flush_loads_events_with_their_fields(con) -> None:
    inbox.append(con, [
        track("t", anonymousId="a1", userId="u1", event="Order Completed",
              properties={"revenue": 12.5},
              context={"campaign": {"name": "Joulu"}, "traits": {"email": "Anna@Example.FI"}}),
        {"type": "page", "anonymousId": "a1", "messageId": "p", "name": "Home",
         "properties": {"url": "https://shop.fi/"}, "timestamp": "2026-11-27T10:00:00Z"},
        {"type": "screen", "userId": "u1", "messageId": "s", "name": "Cart",
         "timestamp": "2026-11-27T10:30:00Z"},
        track("app", anonymousId="a2", context={"device": {"type": "ios"}}),
        track("app2", anonymousId="a3", context={"app": {"name": "Shop", "version": "1.2"}}),
    ], received_at=NOW)
    (r,) = flush_balanced(con)
    assert (r.kind, r.rows_in, r.loaded, r.file) == ("events", 5, 5, "collect:segment")
    got = {row[0]: row[1:] for row in rows(con, """
        SELECT event_id, ts, event_type, channel, source, campaign, crm_id, email,
               anonymous_id, properties FROM v_events""")}
    assert got["m-t"] == (datetime(2026, 11, 27, 11, 0), "Order Completed", "web", "collect",
                          "Joulu", "u1", "anna@example.fi", "a1", '{"revenue":12.5}')
    assert got["p"][1:3] == ("page_view", "web")
    assert json.loads(got["p"][8]) == {"url": "https://shop.fi/", "name": "Home"}
    assert got["s"][1:3] == ("screen_view", "app")
    assert got["m-app"][2] == got["m-app2"][2] == "app"
    assert inbox.counts(con) == {"processed": 5}
    assert one(con, "SELECT count(DISTINCT batch_id) FROM inbox") == 1


def test_flush_loads_identify_as_customer_record(con) -> None:
    inbox.append(con, [{
        "type": "identify", "userId": "crm-7", "anonymousId": "a7", "messageId": "i1",
        "timestamp": "2026-11-27T09:00:00Z", "context": {"locale": "sv-FI"},
        "traits": {"email": "Bo@Example.se", "firstName": "Bo", "lastName": "Ek",
                   "phone": "040 123 4567", "address": {"city": "Vaasa"}, "plan": "gold"},
    }], received_at=NOW)
    customers, events = flush_balanced(con)
    assert (customers.kind, customers.loaded, events.kind, events.loaded) == (
        "customers", 1, "events", 1)
    rec = rows(con, """SELECT crm_id, email, phone, anonymous_id, first_name, last_name,
                              language, country, city, created_at, properties, source
                       FROM v_customer_records""")
    assert rec == [("crm-7", "bo@example.se", "+358401234567", "a7", "Bo", "Ek", "sv", "FI",
                    "Vaasa", datetime(2026, 11, 27, 9, 0), '{"plan":"gold"}', "collect")]
    assert rows(con, "SELECT event_type, crm_id, email, anonymous_id FROM v_events") == [
        ("identify", "crm-7", "bo@example.se", "a7")]
    c = profile(DuckDBEngine(con), "crm-7")["customer"]
    assert (c["name"], c["email"], c["phone"], c["language"]) == (
        "Bo Ek", "bo@example.se", "+358401234567", "sv")


def test_anonymous_visit_identify_and_later_order_are_one_customer(con, write) -> None:
    inbox.append(con, [
        {"type": "page", "anonymousId": "cookie-9", "messageId": "v1", "name": "Sofas",
         "timestamp": "2026-11-20T18:00:00Z"},
        track("v2", anonymousId="cookie-9", event="Product Viewed",
              timestamp="2026-11-20T18:01:00Z"),
    ], received_at=NOW)
    flush_balanced(con)
    inbox.append(con, [{"type": "identify", "anonymousId": "cookie-9", "userId": "42",
                        "messageId": "v3", "traits": {"email": "Sari@Example.fi"},
                        "timestamp": "2026-11-21T09:00:00Z"}], received_at=NOW)
    flush_balanced(con)
    p = write("orders.csv", "order_id,ts,amount,email\nO-1,2026-11-25 12:00:00,499.00,"
                            "sari@example.fi\n")
    assert_balanced(con, ingest(con, p, "orders"))
    assert one(con, "SELECT count(DISTINCT customer_id) FROM identities") == 1
    prof = profile(DuckDBEngine(con), "sari@example.fi")
    assert prof["identifiers"] == ["anonymous_id:cookie-9", "crm_id:42", "email:sari@example.fi"]
    assert prof["summary"]["orders"] == 1 and prof["summary"]["events"] == 3
    whats = [t["what"] for t in prof["timeline"]]
    assert whats == ["order O-1", "identify", "customer record", "Product Viewed", "page_view"]
    assert prof["customer"]["first_seen"] == datetime(2026, 11, 20, 18, 0)


def test_a_later_identify_keeps_earlier_links_and_merges_traits(con) -> None:
    def identify(mid: str, **fields) -> None:
        inbox.append(con, [{"type": "identify", "userId": "u5", "messageId": mid,
                            "timestamp": "2026-11-27T09:00:00Z", **fields}], received_at=NOW)
        flush_balanced(con)

    identify("i1", anonymousId="laptop", traits={"email": "eva@example.fi", "name": "Eva"})
    identify("i2", anonymousId="phone", traits={"plan": "pro"})
    keys = [k for (k,) in rows(con, "SELECT identity_key FROM identities ORDER BY 1")]
    assert keys == ["anonymous_id:laptop", "anonymous_id:phone", "crm_id:u5",
                    "email:eva@example.fi"]
    assert one(con, "SELECT count(DISTINCT customer_id) FROM identities") == 1
    cur = rows(con, "SELECT email, name, anonymous_id, properties FROM v_customer_records")
    assert cur == [("eva@example.fi", "Eva", "phone", '{"plan":"pro"}')]
    assert one(con, "SELECT count(*) FROM customer_records") == 2  # the old version is kept
    # The same traits again change nothing: a duplicate, no new version.
    inbox.append(con, [{"type": "identify", "userId": "u5", "messageId": "i3",
                        "traits": {"plan": "pro"}}], received_at=NOW)
    customers, _ = flush_balanced(con)
    assert (customers.loaded, customers.duplicates) == (0, 1)
    assert one(con, "SELECT count(*) FROM customer_records") == 2


def test_several_identifies_in_one_flush_merge_in_arrival_order(con) -> None:
    inbox.append(con, [
        {"type": "identify", "userId": "u", "messageId": "a", "traits": {"name": "Old",
                                                                        "city": "Oulu"}},
        {"type": "identify", "userId": "u", "messageId": "b", "traits": {"name": "New"}},
        {"type": "identify", "userId": "v", "messageId": "c", "traits": {"name": "Vee"}},
    ], received_at=NOW)
    customers, events = flush_balanced(con)
    assert (customers.rows_in, customers.loaded, events.rows_in, events.loaded) == (2, 2, 3, 3)
    assert rows(con, "SELECT crm_id, name, city FROM v_customer_records ORDER BY 1") == [
        ("u", "New", "Oulu"), ("v", "Vee", None)]


def test_group_and_alias_are_events(con) -> None:
    inbox.append(con, [
        {"type": "group", "userId": "u1", "groupId": "acme", "messageId": "g",
         "traits": {"name": "Acme Oy"}},
        {"type": "alias", "userId": "u1", "previousId": "old-anon", "messageId": "al"},
    ], received_at=NOW)
    flush_balanced(con)
    got = dict((r[0], r[1:]) for r in rows(
        con, "SELECT event_type, crm_id, anonymous_id, properties FROM v_events"))
    assert json.loads(got["group"][2]) == {"name": "Acme Oy", "groupId": "acme"}
    assert got["alias"][:2] == ("u1", "old-anon")
    assert one(con, "SELECT count(DISTINCT customer_id) FROM identities") == 1


def test_an_invalid_optional_value_is_a_field_warning_and_the_event_is_kept(con) -> None:
    """An invalid e-mail on a message used to quarantine the whole event; it is an optional
    value, so the event is loaded without it and the warning names the message's line."""
    inbox.append(con, [track(1), track(2, context={"traits": {"email": "not-an-email"}})],
                 received_at=NOW)
    (r,) = flush_balanced(con)
    assert (r.rows_in, r.loaded, r.quarantined) == (2, 2, 0)
    assert r.field_warnings == {"email": 1}
    seq = one(con, "SELECT seq FROM inbox WHERE message_id = 'm-2'")
    w = rows(con, 'SELECT line, "column", value, reason FROM field_warnings')
    assert w == [(seq, "email", "not-an-email", "not an e-mail address")]
    assert rows(con, "SELECT count(*) FROM quarantine") == [(0,)]
    assert inbox.counts(con) == {"processed": 2}


def test_clock_skew_corrected_timestamp_is_stored(con) -> None:
    inbox.append(con, [track(1, timestamp="2026-11-27T20:00:00Z", sentAt="2026-11-27T20:00:30Z")],
                 received_at=NOW)
    flush_balanced(con)
    assert one(con, "SELECT ts FROM events") == datetime(2026, 11, 27, 11, 59, 30)


def test_far_future_timestamp_is_refused_and_nothing_stored(con) -> None:
    with pytest.raises(InvalidMessages) as info:
        inbox.append(con, [track(1, timestamp="2027-11-27T12:00:00Z")], received_at=NOW)
    e = info.value.errors[0]
    assert (e.index, e.field) == (0, "timestamp") and "future" in e.reason
    assert one(con, "SELECT count(*) FROM inbox") == 0


def test_flush_limit_takes_the_oldest_first(con) -> None:
    inbox.append(con, [track(i) for i in range(10)], received_at=NOW)
    (r,) = inbox.flush(con, limit=4)
    assert r.rows_in == 4
    assert [m for (m,) in rows(con, "SELECT message_id FROM inbox WHERE status = 'processed' "
                                    "ORDER BY seq")] == ["m-0", "m-1", "m-2", "m-3"]
    assert inbox.pending(con) == 6
    assert inbox.flush(con) and inbox.pending(con) == 0


def test_flush_works_in_bounded_chunks(con) -> None:
    inbox.append(con, [track(i) for i in range(1000)], received_at=NOW)
    steps: list[int] = []

    def turn(step):
        steps.append(1)
        return step(con)

    results = inbox.flush(None, turn=turn, chunk_rows=300)
    sizes = [r.rows_in for r in results]
    assert sum(sizes) == 1000 and max(sizes) <= 300 and len(sizes) >= 4
    assert len(steps) == len(sizes) + 1  # one writer turn per chunk, and one finding none
    assert inbox.counts(con) == {"processed": 1000}
    assert one(con, "SELECT count(*) FROM events") == 1000


def test_flush_ends_while_messages_keep_arriving(con) -> None:
    """The finding: ``flush(limit=None)`` looped as long as messages arrived, holding the
    writer. Now a flush takes what was there when it began; the writer is free between its
    chunks, where these appends (and any other write) go."""
    inbox.append(con, [track(i) for i in range(600)], received_at=NOW)
    arriving = iter(range(10_000, 10_000 + 200 * 50, 50))

    def turn(step):
        start = next(arriving)  # 50 new messages before every chunk
        inbox.append(con, [track(i) for i in range(start, start + 50)], received_at=NOW)
        return step(con)

    results = inbox.flush(None, turn=turn, chunk_rows=100)
    # the flush began in its first turn, after that turn's 50: those are its, no later ones
    assert sum(r.rows_in for r in results) == 650
    assert rows(con, "SELECT min(seq), max(seq) FROM inbox WHERE status = 'processed'") \
        == [(1, 650)]
    turns = len(results) + 1  # the last turn found nothing of the flush's left
    assert inbox.pending(con) == 50 * (turns - 1)
    # every message loaded once, the later ones by the next flush
    inbox.flush(con)
    assert inbox.counts(con) == {"processed": 600 + 50 * turns}
    assert one(con, "SELECT count(*) FROM events") == one(con, "SELECT count(*) FROM inbox")
    assert one(con, "SELECT count(DISTINCT event_id) FROM events") == one(
        con, "SELECT count(*) FROM events")


def test_a_flush_stopped_between_chunks_keeps_what_it_did_and_the_rest_pending(con) -> None:
    inbox.append(con, [track(i) for i in range(1000)], received_at=NOW)
    turns = {"n": 0}

    class Stopped(Exception):
        pass

    def turn(step):
        turns["n"] += 1
        if turns["n"] == 3:  # the server stops (or the writer fails) before the third chunk
            raise Stopped
        return step(con)

    with pytest.raises(Stopped):
        inbox.flush(None, turn=turn, chunk_rows=300)
    assert inbox.counts(con) == {"pending": 400, "processed": 600}
    flush_balanced(con)
    assert inbox.counts(con) == {"processed": 1000}
    assert rows(con, "SELECT count(DISTINCT event_id), count(*) FROM events") == [(1000, 1000)]


def test_the_next_chunk_is_sized_by_the_last_ones_rate() -> None:
    assert inbox.next_chunk(8000, 0.25) == 16000  # fast: grows, at most twofold
    assert inbox.next_chunk(8000, 0.1) == 16000
    assert inbox.next_chunk(16000, 1.0) == 8000  # slow: as many as fit in half a second
    assert inbox.next_chunk(8000, 60.0) == inbox.MIN_CHUNK  # but never below the floor
    assert inbox.next_chunk(15_000, 0.1) == inbox.FLUSH_CHUNK
    assert inbox.next_chunk(50, 0.01, most=100) == 100  # a smaller most wins over the floor


def test_a_failed_flush_leaves_everything_pending(con, monkeypatch) -> None:
    inbox.append(con, [track(1), {"type": "identify", "userId": "u", "messageId": "i"}],
                 received_at=NOW)
    from cxlens.ingest import identity

    real = identity.resolve
    calls = {"n": 0}

    def failing(c, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # the events batch, after the customers batch committed
            raise RuntimeError("disk full")
        return real(c, **kw)

    monkeypatch.setattr(identity, "resolve", failing)
    with pytest.raises(RuntimeError):
        inbox.flush(con)
    assert inbox.pending(con) == 2 and one(con, "SELECT count(*) FROM events") == 0
    monkeypatch.setattr(identity, "resolve", real)
    customers, events = flush_balanced(con)
    assert (customers.loaded, customers.duplicates, events.loaded) == (0, 1, 2)
    assert one(con, "SELECT count(*) FROM customer_records") == 1
    assert inbox.counts(con) == {"processed": 2}


def test_flush_of_20000_messages(con, capsys) -> None:
    users = [f"user-{i % 2000}" for i in range(20000)]
    msgs = []
    for i, u in enumerate(users):
        if i < 2000:  # every user identifies once, the rest are their tracks
            msgs.append({"type": "identify", "userId": u, "anonymousId": f"a-{i % 2000}",
                         "messageId": f"m-{i}", "traits": {"email": f"{u}@example.fi"}})
        else:
            msgs.append(track(i, anonymousId=f"a-{i % 2000}",
                              timestamp=f"2026-11-2{i % 7}T10:00:00Z"))
    for start in range(0, len(msgs), 2500):
        inbox.append(con, msgs[start:start + 2500], received_at=NOW)
    t = time.perf_counter()
    results = flush_balanced(con)
    took = time.perf_counter() - t
    with capsys.disabled():
        print(f"\nflush of 20,000 messages: {took:.2f} s ({20000 / took:,.0f} messages/s)")
    events = [r for r in results if r.kind == "events"]
    assert len(events) > 1  # in bounded chunks
    assert sum(r.rows_in for r in events) == sum(r.loaded for r in events) == 20000
    assert sum(r.rows_in for r in results if r.kind == "customers") == 2000
    assert inbox.counts(con) == {"processed": 20000}
    assert one(con, "SELECT count(DISTINCT customer_id) FROM identities") == 2000
    assert took < 60


# ------------------------------------------------------------------------ migration


def test_a_version_1_warehouse_is_upgraded_in_place(tmp_path: Path, write) -> None:
    ws = tmp_path / "old"
    p = write("orders.csv", "order_id,ts,amount,email\nO-1,2026-11-25 12:00:00,10,a@b.fi\n")
    with open_warehouse(ws) as con:
        ingest(con, p, "orders")
        # Make it exactly what cxlens with schema version 1 wrote.
        con.execute("DROP TABLE inbox")
        con.execute("DROP SEQUENCE inbox_seq")
        con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with duckdb.connect(str(ws / "warehouse.duckdb")) as raw:
        assert raw.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_name = 'inbox'").fetchall()[0][0] == 0
    with open_warehouse(ws) as con:
        assert one(con, "SELECT value FROM meta WHERE key = 'schema_version'") == str(
            SCHEMA_VERSION)
        assert one(con, "SELECT count(*) FROM v_orders") == 1
        inbox.append(con, [track(1, context={"traits": {"email": "a@b.fi"}})], received_at=NOW)
        (r,) = flush_balanced(con)
        assert r.loaded == 1 and r.batch_id == 2
        assert profile(DuckDBEngine(con), "a@b.fi")["summary"] == {
            "orders": 1, "revenue": 10.0, "currency": "EUR", "other_currency_orders": 0,
            "events": 1, "feedback": 0}


def test_retries_are_recognised_across_connections_and_processes(tmp_path: Path) -> None:
    ws = tmp_path / "ws2"
    with open_warehouse(ws) as a:
        inbox.append(a, [track(1), track(2)], received_at=NOW)
        with duckdb.connect(str(ws / "warehouse.duckdb")) as b:  # another connection
            r = inbox.append(b, [track(2), track(3)], received_at=NOW)
            assert (r.stored, r.duplicates) == (1, 1)
        r = inbox.append(a, [track(3), track(4)], received_at=NOW)
        assert (r.stored, r.duplicates) == (1, 1)
        assert one(a, "SELECT count(*) FROM inbox") == 4


def test_a_new_file_at_the_same_path_does_not_inherit_remembered_ids(tmp_path: Path) -> None:
    import shutil

    ws = tmp_path / "ws3"
    with open_warehouse(ws) as con:
        inbox.append(con, [track(i) for i in range(5)], received_at=NOW)
    shutil.rmtree(ws)
    with open_warehouse(ws) as con:
        r = inbox.append(con, [track(i) for i in range(3)], received_at=NOW)
        assert (r.stored, r.duplicates) == (3, 0)


def test_remembered_ids_are_confirmed_in_the_inbox(con, monkeypatch) -> None:
    inbox.append(con, [track(1)], received_at=NOW)
    seen = inbox._seen_for(con)
    seen.ids["m-9"] = 1  # a wrong memory never drops a message
    r = inbox.append(con, [track(9)], received_at=NOW)
    assert (r.stored, r.duplicates) == (1, 0)
