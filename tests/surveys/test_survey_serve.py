"""``cxlens survey run|send|links`` while ``cxlens serve`` holds the workspace.

A real Uvicorn server in a subprocess, the CLI in others, an SMTP server on loopback and a
thread reading the API all the while: the commands hand their work to the server (the
warehouse's only writer) instead of failing with "in use", print what they print locally,
and the invitations end up in the warehouse the server holds.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from survey_data import TODAY, build_warehouse

from served import SmtpInbox, cli, free_port, make_home, serve, smtp_server, stop

PASSWORD = "survey serve password"
BASE = "https://cx.example.fi"


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[Path, str, Callable[[], None]]]:
    """A home whose workspace ``acme`` holds the survey data, served by ``cxlens serve``;
    yields (home, url, stop)."""
    home = tmp_path / "home"
    make_home(home, PASSWORD)
    build_warehouse(home / "workspaces" / "acme")  # before the server holds the file
    with serve(home, tmp_path / "server.log") as (url, proc):
        yield home, url, lambda: stop(proc)


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    with smtp_server() as inbox_and_port:
        yield inbox_and_port


def test_survey_commands_hand_their_work_to_the_server(serving, smtp, tmp_path) -> None:
    home, url, stop = serving
    inbox, smtp_port = smtp
    ws = str(home / "workspaces" / "acme")
    day = ["--today", TODAY.isoformat()]
    token = json.loads((home / "server.json").read_text())["local_token"]

    halt, seen, failures = threading.Event(), [], []

    def read_api() -> None:  # the server keeps answering while it does the CLI's work
        with httpx.Client(base_url=url, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as api:
            while not halt.is_set():
                for path in ("/api/w/acme/summary", "/api/w/acme/experience/score"):
                    r = api.get(path)
                    (seen if r.status_code == 200 else failures).append((path, r.status_code))

    reader = threading.Thread(target=read_api)
    reader.start()
    try:
        dry = cli("survey", "run", "-w", ws, *day, "--dry-run", "--json", home=home)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        assert json.loads(dry.stdout)["total"] == 3 and json.loads(dry.stdout)["dry_run"]

        run = cli("survey", "run", "-w", ws, *day, home=home)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "asking it to run the triggers" in run.stderr and "in use" not in run.stderr
        assert "created 3;" in run.stdout and "nps-purchase" in run.stdout
        again = cli("survey", "run", "-w", ws, *day, "--json", home=home)
        assert json.loads(again.stdout)["total"] == 0  # idempotent through the server too

        smtp_args = ["--base-url", BASE, "--smtp-host", "127.0.0.1", "--from",
                     "kysely@acme.fi", *day]
        env = {"CXLENS_SMTP_STARTTLS": "0"}
        down = cli("survey", "send", "-w", ws, *smtp_args, "--smtp-port", str(free_port()),
                   home=home, env=env)  # nobody listens there: a clear error, nothing sent
        assert down.returncode == 2 and "the SMTP server 127.0.0.1:" in down.stderr
        assert "Traceback" not in down.stderr
        send = cli("survey", "send", "-w", ws, *smtp_args, "--smtp-port", str(smtp_port),
                   "--json", home=home, env=env)
        assert send.returncode == 0, send.stdout + send.stderr
        assert json.loads(send.stdout) == {"sent": 3, "reminders": 0, "skipped_no_email": 0,
                                           "failed": []}
        assert inbox.recipients == ["anna@example.fi", "bert@example.se", "carl@example.com"]


        out = tmp_path / "links.csv"
        links = cli("survey", "links", "--out", str(out), "-w", ws, "--base-url", BASE, *day,
                    home=home)
        assert links.returncode == 0, links.stdout + links.stderr
        assert "0 link(s) written" in links.stdout  # all three were e-mailed already
        assert out.read_text(encoding="utf-8").startswith("invitation_id,kind,")
    finally:
        halt.set()
        reader.join()
    assert not failures, failures[:5]
    assert len(seen) >= 2

    stop()  # the warehouse is free again: the server's writes are all in it
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(Path(ws), read_only=True) as con:
        states = con.execute("SELECT state, count(*) FROM survey_invitations GROUP BY 1"
                             ).fetchall()
    assert states == [("sent", 3)]
