"""The Segment-compatible collection API (/v1/...) over HTTP, against the app in-process.

Every endpoint, write-key auth (missing, wrong, rotated, another workspace's), all-or-nothing
requests, limits (413, gzip measured after inflating), and the flush through the server's
writer: after it, the events are in ``v_events`` with the customer linked through identify,
and sent = stored + rejected.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cxlens.ingest.messages import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES
from cxlens.web import db
from cxlens.web.workspaces import rotate_write_key, workspace_by_slug

TS = "2026-11-27T09:30:00.000Z"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # when the messages of TS arrive


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def collector(site: Any, slug: str = "acme") -> TestClient:
    return TestClient(site.app, headers=basic(site.write_keys[slug]))


def flush(site: Any, slug: str = "acme") -> dict[str, Any]:
    r = site.api(site.tokens[slug]["ingest"]).post(f"/api/w/{slug}/collect/flush")
    assert r.status_code == 200, r.text
    return r.json()


def rows(site: Any, sql: str, slug: str = "acme") -> list[tuple]:
    ws = site.settings.workspaces_dir / slug
    with site.app.state.warehouses.get(ws).read() as cur:
        return cur.execute(sql).fetchall()


def status(site: Any, slug: str = "acme") -> dict[str, int]:
    r = site.api(site.tokens[slug]["read"]).get(f"/api/w/{slug}/collect")
    assert r.status_code == 200, r.text
    return r.json()


MESSAGES: dict[str, dict[str, Any]] = {
    "track": {"userId": "u1", "event": "Order Completed", "properties": {"revenue": 49.9},
              "messageId": "t-1", "timestamp": TS},
    "identify": {"userId": "u1", "anonymousId": "a1", "messageId": "i-1", "timestamp": TS,
                 "traits": {"email": "Ann@Example.fi", "name": "Ann", "plan": "pro"}},
    "page": {"anonymousId": "a1", "name": "Home", "messageId": "p-1", "timestamp": TS,
             "properties": {"url": "https://shop.example.fi/"}},
    "screen": {"userId": "u1", "name": "Cart", "messageId": "s-1", "timestamp": TS},
    "group": {"userId": "u1", "groupId": "g1", "traits": {"name": "Acme"},
              "messageId": "g-1", "timestamp": TS},
    "alias": {"userId": "u1", "previousId": "a0", "messageId": "al-1", "timestamp": TS},
}


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_every_single_endpoint_stores_one_message(site, kind: str) -> None:
    r = collector(site).post(f"/v1/{kind}", json=MESSAGES[kind])
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True}
    got = rows(site, "SELECT message_id, type, status FROM inbox")
    assert got == [(MESSAGES[kind]["messageId"], kind, "pending")]


def test_batch_then_flush_links_the_customer_through_identify(site) -> None:
    batch = [{**m, "type": k} for k, m in MESSAGES.items()]
    c = collector(site)
    r = c.post("/v1/batch", json={"batch": batch, "context": {"locale": "fi-FI"}})
    assert r.status_code == 200, r.text
    assert status(site)["pending"] == 6
    out = flush(site)
    assert out["messages"] == 6
    assert all(b["balanced"] for b in out["batches"])
    assert out["status"] == {"pending": 0, "processed": 6, "quarantined": 0, "total": 6}
    events = dict(rows(site, "SELECT event_type, customer_id FROM v_events"))
    assert set(events) == {"Order Completed", "identify", "page_view", "screen_view", "group",
                           "alias"}
    # the anonymous page view and the userId's order are one customer (linked by identify)
    assert events["page_view"] is not None
    assert events["page_view"] == events["Order Completed"] == events["identify"]
    assert rows(site, "SELECT count(*) FROM customer_records")[0][0] == 1
    # a second flush finds nothing to do
    assert flush(site)["batches"] == []


def test_retry_of_the_same_request_is_accepted_but_stored_once(site) -> None:
    c = collector(site)
    body = {"batch": [{**MESSAGES["track"], "type": "track"}]}
    assert c.post("/v1/batch", json=body).status_code == 200
    assert c.post("/v1/batch", json=body).status_code == 200
    assert rows(site, "SELECT count(*) FROM inbox")[0][0] == 1


# ------------------------------------------------------------------------ auth


def test_missing_write_key_is_401_with_segment_json(site) -> None:
    r = site.client().post("/v1/track", json=MESSAGES["track"])
    assert r.status_code == 401
    body = r.json()
    assert body["success"] is False and body["code"] == "unauthorized"
    assert "write key" in body["message"]
    assert r.headers["www-authenticate"].startswith("Basic")


def test_browser_sdk_write_key_in_the_body_and_cors(site) -> None:
    """analytics.js: writeKey in a text/plain body (no preflight), from another origin."""
    browser = site.client()
    pre = browser.options("/v1/batch", headers={
        "Origin": "https://shop.example.fi", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "*"
    assert "POST" in pre.headers["access-control-allow-methods"]
    body = {"writeKey": site.write_keys["acme"],
            "batch": [{**MESSAGES["track"], "type": "track"}]}
    r = browser.post("/v1/batch", content=json.dumps(body),
                     headers={"Content-Type": "text/plain", "Origin": "https://shop.example.fi"})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    assert rows(site, "SELECT count(*) FROM inbox")[0][0] == 1
    wrong = browser.post("/v1/batch", json={**body, "writeKey": "cxw_nope"})
    assert wrong.status_code == 401


@pytest.mark.parametrize("auth", [
    "Basic " + base64.b64encode(b"cxw_wrong:").decode(),
    "Basic !!!not-base64",
    "Basic " + base64.b64encode(b":").decode(),
    "Bearer cxw_whatever",
])
def test_wrong_write_key_is_401_and_stores_nothing(site, auth: str) -> None:
    r = site.client().post("/v1/batch", headers={"Authorization": auth},
                           json={"batch": [{**MESSAGES["track"], "type": "track"}]})
    assert r.status_code == 401, r.text
    assert r.json()["success"] is False
    assert rows(site, "SELECT count(*) FROM inbox")[0][0] == 0


def test_an_api_token_is_not_a_write_key(site) -> None:
    r = site.api(site.tokens["acme"]["ingest"]).post("/v1/track", json=MESSAGES["track"])
    assert r.status_code == 401


def test_write_key_of_another_workspace_writes_only_there(site) -> None:
    r = collector(site, "beta").post("/v1/track", json=MESSAGES["track"])
    assert r.status_code == 200
    assert rows(site, "SELECT count(*) FROM inbox", "beta")[0][0] == 1
    assert rows(site, "SELECT count(*) FROM inbox", "acme")[0][0] == 0
    flush(site, "beta")
    assert rows(site, "SELECT count(*) FROM v_events", "beta")[0][0] == 1
    assert rows(site, "SELECT count(*) FROM v_events", "acme")[0][0] == 0
    # acme's tokens cannot read or flush beta's collection
    assert site.api(site.tokens["acme"]["read"]).get("/api/w/beta/collect").status_code == 404
    assert site.api(site.tokens["acme"]["ingest"]).post(
        "/api/w/beta/collect/flush").status_code == 404


def test_rotated_write_key_stops_working(site) -> None:
    old = site.write_keys["acme"]
    con = db.connect(site.settings.db_path)
    try:
        new = rotate_write_key(con, workspace_by_slug(con, "acme"))
    finally:
        con.close()
    assert site.client().post("/v1/track", headers=basic(old),
                              json=MESSAGES["track"]).status_code == 401
    assert site.client().post("/v1/track", headers=basic(new),
                              json=MESSAGES["track"]).status_code == 200


def test_scopes_on_the_collect_api(site) -> None:
    assert site.api(site.tokens["acme"]["read"]).post(
        "/api/w/acme/collect/flush").status_code == 403
    assert site.api(site.tokens["acme"]["ingest"]).get("/api/w/acme/collect").status_code == 403
    assert site.client().get("/api/w/acme/collect").status_code == 401


# ------------------------------------------------------------------------ bad input


def test_malformed_json_is_400_with_a_clear_message(site) -> None:
    r = collector(site).post("/v1/batch", content=b'{"batch": [', headers={
        "Content-Type": "application/json"})
    assert r.status_code == 400
    body = r.json()
    assert body["success"] is False and body["code"] == "invalid_request"
    assert "not valid JSON" in body["message"]


def test_one_bad_message_refuses_the_whole_batch(site) -> None:
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    batch = [
        {**MESSAGES["track"], "type": "track"},
        {"type": "track", "userId": "u2", "messageId": "bad-1"},  # no event
        {**MESSAGES["page"], "type": "page", "messageId": "p-2"},
        {**MESSAGES["track"], "type": "track", "messageId": "t-9", "timestamp": future},
        {"type": "shout", "userId": "u3"},
    ]
    r = collector(site).post("/v1/batch", json={"batch": batch})
    assert r.status_code == 400
    body = r.json()
    assert "nothing was stored" in body["message"]
    got = {(e["index"], e["field"]) for e in body["errors"]}
    assert got == {(1, "event"), (3, "timestamp"), (4, "type")}
    assert "24 hours in the future" in next(e["reason"] for e in body["errors"]
                                            if e["index"] == 3)
    assert rows(site, "SELECT count(*) FROM inbox")[0][0] == 0


def test_sdk_extras_are_kept_and_misspelt_fields_refused(site) -> None:
    """Segment senders add their own top-level keys (writeKey, channel, _metadata): kept in
    the stored JSON. A field outside the spec (a typo such as userID) is a 400."""
    typo = collector(site).post("/v1/track", json={**MESSAGES["track"], "userID": "x"})
    assert typo.status_code == 400 and "userID" in typo.text
    m = {**MESSAGES["track"], "channel": "server", "_metadata": {"x": 1},
         "properties": {"anything": {"nested": [1, 2]}}, "context": {"custom": True}}
    r = collector(site).post("/v1/track", json=m)
    assert r.status_code == 200, r.text
    raw = json.loads(rows(site, "SELECT raw FROM inbox")[0][0])
    assert raw["channel"] == "server" and raw["properties"]["anything"]["nested"] == [1, 2]


@pytest.mark.parametrize("body", [[1, 2], "text", {"batch": "x"}, {"batch": []}])
def test_bodies_that_are_not_requests_are_400(site, body: Any) -> None:
    r = collector(site).post("/v1/batch", json=body)
    assert r.status_code == 400, r.text
    assert rows(site, "SELECT count(*) FROM inbox")[0][0] == 0


def test_over_the_limits_is_413(site) -> None:
    c = collector(site)
    big = {**MESSAGES["track"], "properties": {"blob": "x" * MAX_MESSAGE_BYTES}}
    r = c.post("/v1/track", json=big)
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    many = {"batch": [{**MESSAGES["track"], "type": "track", "messageId": f"m{i}"}
                      for i in range(2501)]}
    r = c.post("/v1/batch", json=many)
    assert r.status_code == 413
    huge = json.dumps({"batch": [{**MESSAGES["track"], "type": "track",
                                  "properties": {"blob": "y" * (MAX_BATCH_BYTES + 10)}}]})
    r = c.post("/v1/batch", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    # over the server's general body limit too: refused before it is read
    r = c.post("/v1/batch", content=b"x" * (site.settings.max_body_bytes + 1))
    assert r.status_code == 413
    assert rows(site, "SELECT count(*) FROM inbox")[0][0] == 0


def test_gzip_bodies_are_accepted(site) -> None:
    batch = {"batch": [{**m, "type": k} for k, m in MESSAGES.items()]}
    r = collector(site).post("/v1/batch", content=gzip.compress(json.dumps(batch).encode()),
                             headers={"Content-Encoding": "gzip",
                                      "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert rows(site, "SELECT count(*) FROM inbox")[0][0] == 6


def test_gzip_bomb_is_413_after_a_bounded_inflate(site) -> None:
    bomb = gzip.compress(b'{"batch": [' + b" " * (50 * 1024 * 1024) + b"]}")
    assert len(bomb) < site.settings.max_body_bytes
    r = collector(site).post("/v1/batch", content=bomb, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 413
    assert "decompressed" in r.json()["message"]


@pytest.mark.parametrize("content,encoding,code", [
    (b"not gzip at all", "gzip", 400),
    (gzip.compress(b'{"batch": []}', mtime=0)[:-6], "gzip", 400),  # mtime=0: stable test ids
    (b"{}", "br", 415),
])
def test_bad_encodings(site, content: bytes, encoding: str, code: int) -> None:
    r = collector(site).post("/v1/batch", content=content,
                             headers={"Content-Encoding": encoding})
    assert r.status_code == code, r.text


# ------------------------------------------------------------------------ accounting


def test_sent_equals_stored_plus_rejected_after_flush(site) -> None:
    c = collector(site)
    sent = rejected = 0
    for n in range(6):
        batch = [{"type": "track", "userId": f"u{n}-{i}", "event": "Viewed",
                  "messageId": f"acc-{n}-{i}", "timestamp": TS,
                  "context": {"traits": {"email": "not-an-email" if i == 0 else
                                         f"u{n}.{i}@example.fi"}}} for i in range(40)]
        if n % 3 == 2:  # an invalid request: refused whole
            batch[5] = {"type": "track", "userId": "x"}
        r = c.post("/v1/batch", json={"batch": batch})
        sent += len(batch)
        if r.status_code != 200:
            assert r.status_code == 400
            rejected += len(batch)
    out = flush(site)
    stored = rows(site, "SELECT count(*) FROM inbox")[0][0]
    assert sent == stored + rejected == 240
    assert stored == 160
    # in the warehouse: every stored message is an event or a quarantined row
    s = out["status"]
    assert s["processed"] + s.get("quarantined", 0) == stored and s["pending"] == 0
    # The bad e-mail of each stored request is optional: a field warning, the event kept.
    assert s.get("quarantined", 0) == 0
    assert rows(site, "SELECT count(*) FROM field_warnings WHERE value = 'not-an-email'"
                )[0][0] == 4
    assert rows(site, "SELECT count(*) FROM v_events")[0][0] == s["processed"]


def test_the_flusher_flushes_without_being_asked(site) -> None:
    flusher = site.app.state.flusher
    assert collector(site).post("/v1/track", json=MESSAGES["track"]).status_code == 200
    assert flusher.flush_due() == 1
    assert rows(site, "SELECT status FROM inbox") == [("processed",)]
    assert flusher.flush_due() == 0  # nothing new


def test_final_flush_on_shutdown(settings) -> None:
    from cxlens.warehouse.store import open_warehouse
    from cxlens.web.accounts import create_user
    from cxlens.web.app import create_app
    from cxlens.web.workspaces import create_workspace

    app = create_app(settings)
    con = db.connect(settings.db_path)
    try:
        user = create_user(con, "cy@acme.fi", "correct horse battery")
        ws, key = create_workspace(con, settings.workspaces_dir, "cy", "Cy", user)
    finally:
        con.close()
    app.state.flusher.every = 3600  # only the shutdown may flush
    with TestClient(app, headers=basic(key)) as c:
        assert c.post("/v1/track", json=MESSAGES["track"]).status_code == 200
    with open_warehouse(ws.path, read_only=True) as wh:
        assert wh.execute("SELECT status FROM inbox").fetchall() == [("processed",)]
        assert wh.execute("SELECT count(*) FROM v_events").fetchall()[0][0] == 1


def test_messages_left_pending_are_flushed_after_a_restart(settings) -> None:
    """A server that stopped abruptly left messages in an inbox: the next start loads them
    without waiting for a new message of that workspace."""
    from cxlens.ingest import inbox
    from cxlens.warehouse.store import open_warehouse
    from cxlens.web.accounts import create_user
    from cxlens.web.app import create_app
    from cxlens.web.workspaces import create_workspace

    app = create_app(settings)
    con = db.connect(settings.db_path)
    try:
        user = create_user(con, "dee@acme.fi", "correct horse battery")
        ws, _ = create_workspace(con, settings.workspaces_dir, "dee", "Dee", user)
        create_workspace(con, settings.workspaces_dir, "quiet", "Quiet", user)  # no inbox
    finally:
        con.close()
    with open_warehouse(ws.path) as wh:  # as if acknowledged, then the server died
        inbox.append(wh, [{**MESSAGES["track"], "type": "track"},
                          {**MESSAGES["page"], "type": "page"}], received_at=NOW)
    with TestClient(app):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with app.state.warehouses.get(ws.path).read() as cur:
                left = cur.execute("SELECT count(*) FROM inbox WHERE status = 'pending'"
                                   ).fetchall()[0][0]
            if left == 0:
                break
            time.sleep(0.1)
        assert left == 0
        with app.state.warehouses.get(ws.path).read() as cur:
            assert cur.execute("SELECT count(*) FROM v_events").fetchall()[0][0] == 2
        assert app.state.flusher.recover(settings.workspaces_dir) == 0  # nothing left


def test_cli_collect_flush_and_status_without_a_server(tmp_path) -> None:
    from typer.testing import CliRunner

    from cxlens.cli import app
    from cxlens.ingest import inbox
    from cxlens.warehouse.store import open_warehouse

    ws = tmp_path / "ws"
    with open_warehouse(ws) as con:
        inbox.append(con, [{**m, "type": k} for k, m in MESSAGES.items()], received_at=NOW)
    runner = CliRunner()
    r = runner.invoke(app, ["collect", "status", "--workspace", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"pending": 6, "processed": 0, "quarantined": 0,
                                    "total": 6}
    r = runner.invoke(app, ["collect", "flush", "--workspace", str(ws)])
    assert r.exit_code == 0, r.output
    assert "(events): 6 in, 6 loaded" in r.output
    r = runner.invoke(app, ["collect", "flush", "--workspace", str(ws), "--json"])
    assert json.loads(r.output) == {"batches": [], "status": {
        "pending": 0, "processed": 6, "quarantined": 0, "total": 6}}
