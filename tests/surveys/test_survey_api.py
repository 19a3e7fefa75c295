"""``POST /api/w/{slug}/surveys/run|send|links`` in-process: who may call them (write scope
for run; the server's local token from loopback for send and links), the same results as
the functions the CLI calls, and SMTP failures as a clear 502."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from survey_data import TODAY

from cxlens.web import security
from served import SmtpInbox, free_port, smtp_server

Served = Any  # conftest.Served (not imported: tests/web also has a conftest)
BASE = "https://cx.example.fi"


@pytest.fixture
def local(served: Served) -> TestClient:
    """A client from loopback with the server's local token, as ``cxlens`` on this machine."""
    token = security.new_secret(security.LOCAL_TOKEN_PREFIX)
    served.app.state.local_token_hash = security.sha256(token)
    return TestClient(served.app, client=("127.0.0.1", 50000),
                      headers={"Authorization": f"Bearer {token}"})


def token_client(served: Served, scope: str) -> TestClient:
    return TestClient(served.app, headers={"Authorization": f"Bearer {served.tokens[scope]}"})


@pytest.fixture
def smtp_port() -> Iterator[tuple[SmtpInbox, int]]:
    with smtp_server() as inbox_and_port:
        yield inbox_and_port


def smtp(port: int) -> dict:
    return {"host": "127.0.0.1", "port": port, "sender": "kysely@acme.fi", "starttls": False}


def test_run_with_a_write_token(served: Served) -> None:
    write = token_client(served, "write")
    day = (TODAY + timedelta(days=1)).isoformat()
    dry = write.post("/api/w/acme/surveys/run", json={"today": day, "dry_run": True})
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] and dry.json()["today"] == day
    again = write.post("/api/w/acme/surveys/run", json={"today": TODAY.isoformat()}).json()
    assert again["ok"] and again["total"] == 0  # the fixture already ran today: idempotent
    read = token_client(served, "read").post("/api/w/acme/surveys/run", json={})
    assert read.status_code == 403
    bad = write.post("/api/w/acme/surveys/run", json={"today": "28.11.2026"})
    assert bad.status_code == 422 and bad.json()["ok"] is False


def test_send_and_links_need_the_local_token(served: Served, tmp_path) -> None:
    write = token_client(served, "write")
    r = write.post("/api/w/acme/surveys/send", json={"base_url": BASE, "smtp": smtp(25)})
    assert r.status_code == 403 and "this machine" in r.json()["error"]
    r = write.post("/api/w/acme/surveys/links",
                   json={"base_url": BASE, "out": str(tmp_path / "l.csv")})
    assert r.status_code == 403 and not (tmp_path / "l.csv").exists()
    stolen = TestClient(served.app, headers={"Authorization": "Bearer cxlocal_guess"})
    assert stolen.post("/api/w/acme/surveys/run", json={}).status_code == 401


def test_send_over_the_local_token(served: Served, local: TestClient, smtp_port) -> None:
    inbox, port = smtp_port
    r = local.post("/api/w/acme/surveys/send", json={
        "today": TODAY.isoformat(), "base_url": BASE, "smtp": smtp(port)})
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "sent": 3, "reminders": 0, "skipped_no_email": 0,
                        "failed": []}
    assert inbox.recipients == ["anna@example.fi", "bert@example.se", "carl@example.com"]
    again = local.post("/api/w/acme/surveys/send", json={
        "today": TODAY.isoformat(), "base_url": BASE, "smtp": smtp(port)}).json()
    assert again["sent"] == 0


def test_an_smtp_server_that_does_not_answer_is_a_502(served: Served, local) -> None:
    r = local.post("/api/w/acme/surveys/send", json={
        "today": TODAY.isoformat(), "base_url": BASE, "smtp": smtp(free_port())})
    assert r.status_code == 502
    assert r.json()["error"].startswith("the SMTP server 127.0.0.1:")


@pytest.mark.parametrize(("body", "field"), [
    ({"base_url": "cx.example.fi", "smtp": {"host": "h", "sender": "a@b.fi"}}, "base_url"),
    ({"base_url": BASE, "smtp": {"host": "h", "sender": "nobody"}}, "sender"),
    ({"base_url": BASE, "smtp": {"host": "h", "sender": "a@b.fi", "port": 0}}, "port"),
    ({"base_url": BASE, "smtp": {"host": "h", "sender": "a@b.fi", "pasword": "x"}}, "pasword"),
])
def test_bad_send_bodies_are_422_without_echoing_the_password(local, body: dict,
                                                              field: str) -> None:
    body["smtp"]["password"] = "hunter2-secret"
    r = local.post("/api/w/acme/surveys/send", json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["error"] and "hunter2-secret" not in r.text


def test_links_over_the_local_token(served: Served, local, tmp_path) -> None:
    out = tmp_path / "links.csv"
    r = local.post("/api/w/acme/surveys/links",
                   json={"today": TODAY.isoformat(), "base_url": BASE, "out": str(out)})
    assert r.status_code == 200, r.text
    assert r.json()["written"] == 3
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert all(row["link"].startswith(f"{BASE}/s/acme.") for row in rows)
    relative = local.post("/api/w/acme/surveys/links",
                          json={"base_url": BASE, "out": "links.csv"})
    assert relative.status_code == 422
    nowhere = local.post("/api/w/acme/surveys/links",
                         json={"base_url": BASE, "out": str(tmp_path / "no" / "l.csv")})
    assert nowhere.status_code == 422 and "does not exist" in nowhere.json()["error"]
