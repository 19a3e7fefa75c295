"""Other writes get their turn while ``/v1/batch`` traffic goes on (issue 15, finding 2).

A real ``cxlens serve`` in a subprocess; a thread sends ``/v1/batch`` requests steadily
(about 2,000 messages a second when the machine keeps up) for as long as the test needs,
and meanwhile a customer answers a survey, a small file is ingested, that batch is rolled
back and a flush is asked for. Before the fix each of them waited until the traffic
stopped (the flush looped while messages arrived and held the writer); now each finishes
while the traffic is still being accepted. The bounds are generous (seconds, not the
minute the traffic would run), and in the end every acknowledged message is one
``events`` row: nothing lost, nothing loaded twice.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from cxlens.surveys import invitations, store
from cxlens.warehouse.store import open_warehouse
from served import make_home, serve, stop

PASSWORD = "writer test password"
TRAFFIC_SECONDS = 90  # the longest the traffic runs; the writes are done long before
WRITE_BOUND = 30  # seconds; before the fix each write waited for the whole traffic
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Traffic(threading.Thread):
    """POST /v1/batch, 100 messages every 50 ms, until stopped; remembers what was
    acknowledged (200) and when."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(name="traffic")
        self.url = url
        self.auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        self.halt = threading.Event()
        self.acked: list[str] = []
        self.acked_at: list[float] = []
        self.failures: list[str] = []

    def run(self) -> None:
        n = 0
        deadline = time.monotonic() + TRAFFIC_SECONDS
        with httpx.Client(base_url=self.url, timeout=120,
                          headers={"Authorization": self.auth}) as client:
            while not self.halt.is_set() and time.monotonic() < deadline:
                started = time.monotonic()
                ids = [f"w-{n}-{i}" for i in range(100)]
                batch = [{"type": "identify" if i % 10 == 0 else "track", "event": "Viewed",
                          "userId": f"u{(n * 100 + i) % 3000}", "messageId": m,
                          "traits": {"email": f"u{(n * 100 + i) % 3000}@example.fi"},
                          "properties": {"n": n}} for i, m in enumerate(ids)]
                try:
                    r = client.post("/v1/batch", json={"batch": batch})
                except httpx.TransportError as exc:
                    self.failures.append(repr(exc))
                else:
                    if r.status_code == 200:
                        self.acked += ids
                        self.acked_at.append(time.monotonic())
                    else:
                        self.failures.append(f"{r.status_code} {r.text[:200]}")
                n += 1
                self.halt.wait(max(0.0, 0.05 - (time.monotonic() - started)))

    def acked_after(self, t: float) -> int:
        return sum(1 for a in self.acked_at if a > t)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A home whose workspace has the NPS survey and one open invitation."""
    home = tmp_path / "home"
    ws = make_home(home, PASSWORD)
    workspace = home / "workspaces" / "acme"
    source = resources.files("cxlens.surveys").joinpath("builtin/nps.yml").read_text(
        encoding="utf-8")
    key = invitations.workspace_key(workspace)
    now = datetime.now(UTC).replace(tzinfo=None)  # a real server: the real clock
    with open_warehouse(workspace) as con:
        store.save_survey(con, source, now=now)
        invitations.insert(con, key, "acme", [{"survey_id": "nps", "language": "en",
                                               "email": "ann@example.fi"}],
                           now.date(), {}, now=now)
        nonce = con.execute("SELECT nonce FROM survey_invitations").fetchall()[0][0]
    yield {"home": home, "workspace": workspace, "key": ws["write_key"],
           "link": "/s/" + invitations.make_token(key, "acme", nonce)}


def timed(what: str, done: dict[str, tuple[float, float]], fn: Any) -> Any:
    start = time.monotonic()
    out = fn()
    done[what] = (start, time.monotonic())
    return out


def test_interactive_writes_finish_while_collection_continues(home, tmp_path: Path) -> None:
    done: dict[str, tuple[float, float]] = {}
    with serve(home["home"], tmp_path / "server.log") as (url, proc):
        token = json.loads((home["home"] / "server.json").read_text())["local_token"]
        api = httpx.Client(base_url=url, timeout=TRAFFIC_SECONDS + 60,
                           headers={"Authorization": f"Bearer {token}"})
        customer = httpx.Client(base_url=url, timeout=TRAFFIC_SECONDS + 60)
        traffic = Traffic(url, home["key"])
        traffic.start()
        try:
            deadline = time.monotonic() + 30  # let a backlog build and the flusher run
            while len(traffic.acked) < 6000 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(traffic.acked) >= 1000, traffic.failures[:3]

            page = timed("open the survey", done, lambda: customer.get(home["link"]))
            assert page.status_code == 200, page.text[:300]
            csrf = CSRF.search(page.text)
            assert csrf
            answer = timed("answer the survey", done, lambda: customer.post(
                home["link"], data={"csrf_token": csrf.group(1), "score": "9",
                                    "action": "send"}))
            assert answer.status_code == 200, answer.text[:300]

            csv = "email,name\nbo@example.fi,Bo\ncy@example.fi,Cy\n"
            loaded = timed("ingest a file", done, lambda: api.post(
                "/api/w/acme/ingest", data={"kind": "customers"},
                files={"file": ("people.csv", csv.encode(), "text/csv")}))
            assert loaded.status_code == 200, loaded.text
            batch = loaded.json()["batch_id"]
            rolled = timed("roll it back", done, lambda: api.post(
                f"/api/w/acme/batches/{batch}/rollback"))
            assert rolled.status_code == 200, rolled.text
            flushed = timed("flush now", done, lambda: api.post("/api/w/acme/collect/flush"))
            assert flushed.status_code == 200, flushed.text

            finished = time.monotonic()
            while traffic.acked_after(finished) < 5 and traffic.is_alive():
                time.sleep(0.05)
            # the traffic went on being accepted after the last write was done
            assert traffic.acked_after(finished) >= 5, "the traffic stopped first"
        finally:
            traffic.halt.set()
            traffic.join(TRAFFIC_SECONDS + 60)
            customer.close()
        # let the flusher catch up before stopping (a stop that took too long is killed)
        deadline = time.monotonic() + 180
        while api.get("/api/w/acme/collect").json()["pending"] and time.monotonic() < deadline:
            time.sleep(0.5)
        api.close()
        assert not traffic.failures, traffic.failures[:3]
        took = {what: round(end - start, 2) for what, (start, end) in done.items()}
        assert all(t < WRITE_BOUND for t in took.values()), took
        assert all(end < traffic.acked_at[-1] for _, end in done.values()), took
        stop(proc)  # the final flush loads what is still pending

    with open_warehouse(home["workspace"], read_only=True) as con:
        pending = con.execute("SELECT count(*) FROM inbox WHERE status <> 'processed'"
                              ).fetchall()[0][0]
        events = con.execute("SELECT event_id FROM v_events WHERE source = 'collect'"
                             ).fetchall()
        answers = con.execute("SELECT score FROM v_feedback").fetchall()
        people = con.execute("SELECT count(*) FROM v_customer_records WHERE email IN "
                             "('bo@example.fi', 'cy@example.fi')").fetchall()[0][0]
    assert pending == 0
    ids = [e for (e,) in events]
    assert len(ids) == len(set(ids)) == len(traffic.acked)  # each acknowledged one once
    assert set(ids) == set(traffic.acked)
    assert answers == [(9,)]
    assert people == 0  # rolled back
