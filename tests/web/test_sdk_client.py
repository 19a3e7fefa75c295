"""A real client: the public ``segment-analytics-python`` package sends to a real server.

The server runs in a subprocess (``cxlens serve``) on a free loopback port with a temporary
home; the SDK is pointed at it with the workspace's write key, sends track, identify and
page (batched and, for a second run, gzipped, as the SDK does), and the events are read back
from the warehouse after the server's own background flush: ``cxlens collect status`` while
it runs (handed to the server), then ``cxlens sql`` after it stopped.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from served import cli_json, make_home, serve

analytics = pytest.importorskip("segment.analytics")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    home = tmp_path / "home"
    key = make_home(home, "sdk test password")["write_key"]
    log = tmp_path / "server.log"
    with serve(home, log) as (url, proc):
        yield {"home": home, "url": url, "key": key, "proc": proc,
               "workspace": home / "workspaces" / "acme", "log": log}


def send_with_sdk(url: str, key: str, *, gzip: bool, suffix: str) -> list[Any]:
    errors: list[Any] = []
    client = analytics.Client(write_key=key, host=url, gzip=gzip, max_retries=1,
                              on_error=lambda e, batch: errors.append(e), sync_mode=False)
    try:
        client.identify(f"u-42{suffix}", {"email": f"ann{suffix}@example.fi", "name": "Ann",
                                          "plan": "pro"}, anonymous_id=f"anon-1{suffix}")
        client.page(anonymous_id=f"anon-1{suffix}", name="Home",
                    properties={"url": "https://shop.example.fi/"})
        client.track(f"u-42{suffix}", "Order Completed", {"revenue": 49.9, "currency": "EUR"})
        client.track(f"u-42{suffix}", "Product Viewed", {"sku": "S1"})
        client.flush()
    finally:
        client.join()
    return errors


def test_segment_sdk_events_reach_the_warehouse(served: dict[str, Any]) -> None:
    # the module-level API the docs show, then a gzipping client
    analytics.write_key = served["key"]
    analytics.host = served["url"]
    analytics.max_retries = 1
    try:
        analytics.track("u-0", "Signed Up", {"plan": "free"})
        analytics.flush()
    finally:
        analytics.shutdown()
        analytics.default_client = None
    assert send_with_sdk(served["url"], served["key"], gzip=False, suffix="") == []
    assert send_with_sdk(served["url"], served["key"], gzip=True, suffix="-gz") == []
    ws = str(served["workspace"])

    deadline = time.monotonic() + 30  # the server flushes by itself every ~2 s
    while True:
        status = cli_json("collect", "status", "--workspace", ws, home=served["home"])
        if status["pending"] == 0 and status["total"] == 9:
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert status == {"pending": 0, "processed": 9, "quarantined": 0, "total": 9}
    # cxlens collect flush hands over to the running server too; nothing is left
    flushed = cli_json("collect", "flush", "--workspace", ws, home=served["home"])
    assert flushed["batches"] == [] and flushed["status"]["processed"] == 9

    served["proc"].send_signal(signal.SIGINT)
    assert served["proc"].wait(timeout=20) == 0
    assert "collect flush acme" in served["log"].read_text()

    got = cli_json("sql", "SELECT event_type, crm_id, anonymous_id, email, channel, source, "
                   "customer_id, properties FROM v_events ORDER BY ts, event_type",
                   "--workspace", ws, home=served["home"])
    assert len(got) == 9
    assert sorted(e["event_type"] for e in got) == sorted(
        ["Signed Up"] + ["identify", "page_view", "Order Completed", "Product Viewed"] * 2)
    assert {e["source"] for e in got} == {"collect"} and {e["channel"] for e in got} == {"web"}
    for suffix in ("", "-gz"):
        mine = [e for e in got
                if e["crm_id"] == f"u-42{suffix}" or e["anonymous_id"] == f"anon-1{suffix}"]
        assert len(mine) == 4
        # one customer: the anonymous page view is linked to the user through identify
        assert len({e["customer_id"] for e in mine}) == 1 and mine[0]["customer_id"]
        order = next(e for e in mine if e["event_type"] == "Order Completed")
        assert json.loads(order["properties"]) == {"revenue": 49.9, "currency": "EUR"}
        page = next(e for e in mine if e["event_type"] == "page_view")
        assert json.loads(page["properties"])["url"] == "https://shop.example.fi/"
        ident = next(e for e in mine if e["event_type"] == "identify")
        assert ident["email"] == f"ann{suffix}@example.fi"
    people = cli_json("sql", "SELECT crm_id, email, name FROM customer_records ORDER BY crm_id",
                      "--workspace", ws, home=served["home"])
    assert people == [{"crm_id": "u-42", "email": "ann@example.fi", "name": "Ann"},
                      {"crm_id": "u-42-gz", "email": "ann-gz@example.fi", "name": "Ann"}]
    assert cli_json("collect", "status", "--workspace", ws, home=served["home"])["total"] == 9


def test_sdk_with_a_wrong_key_gets_401(served: dict[str, Any]) -> None:
    errors = send_with_sdk(served["url"], "cxw_not-a-key", gzip=False, suffix="")
    assert errors and all(getattr(e, "status", None) == 401 for e in errors)
    assert all(getattr(e, "code", None) == "unauthorized" for e in errors)
