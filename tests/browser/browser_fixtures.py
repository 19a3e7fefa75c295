"""Fixtures of the browser tests, written in a module of their own so that tests can import
its names; ``conftest.py`` of this folder lends them to every test module (so all modules
share one server and one browser).

A real server for the browser tests: a temporary home with an S-demo workspace, served by
``cxlens serve`` (Uvicorn) in a subprocess on a free loopback port, and Debian's Chromium
driven by Playwright (never ``playwright install``: nothing is downloaded).

Without ``/usr/bin/chromium`` the tests are skipped with the reason — except in CI
(``CI=true``), where they must run and fail instead (``make test`` installs chromium).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx2 as httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
EMAIL, PASSWORD = "ann@demo.fi", "browser test password"


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    why = f"{CHROMIUM} is missing (apt-get install -y chromium; `make test` does it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests must run in CI: {why}")
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed_surveys(con: duckdb.DuckDBPyConnection, workspace: Path) -> None:
    """The built-in NPS survey, a trigger "N days after a purchase" with N chosen so that
    the demo's last order days fall due today, and today's run: invitations not yet sent,
    whose links the survey browser test hands out through the Surveys page and answers.
    The served app reads the real clock (a subprocess), so this runs on the real day too."""
    from cxlens import clock
    from cxlens.surveys import definitions, store, triggers

    now = clock.system()
    today = now.date()
    last = con.execute("SELECT max(ts)::DATE FROM v_orders").fetchall()[0][0]
    days = max(0, min(3650, (today - last).days))
    store.save_survey(con, definitions.builtin_source("nps"), now=now)
    triggers.save(con, triggers.parse(
        f"triggers:\n  - id: nps-purchase\n    survey: nps\n    after: purchase\n"
        f"    days: {days}\n    quiet_days: 90\n    reminder_days: 3\n"
        f"    touchpoint: purchase\n"))
    triggers.run(con, workspace, today, now=now)


@dataclass
class Server:
    url: str
    home: Path
    slug: str = "demo"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _require_chromium()
    from cxlens.text.analyse import analyse
    from cxlens.warehouse.store import open_warehouse
    from cxlens.web import db
    from cxlens.web.accounts import create_user
    from cxlens.web.settings import WebSettings
    from cxlens.web.workspaces import create_workspace
    from demo_cache import s_demo

    root = tmp_path_factory.mktemp("browser")
    settings = WebSettings.load(home=root / "home")
    db.migrate(settings.db_path)
    con = db.connect(settings.db_path)
    try:
        user = create_user(con, EMAIL, PASSWORD)
        ws, _ = create_workspace(con, settings.workspaces_dir, "demo", "Demo Oy", user)
    finally:
        con.close()
    s_demo(ws.path, 7)  # loaded through ingest, once per process (demo_cache)
    with open_warehouse(ws.path) as wh:
        _seed_surveys(wh, ws.path)
        analyse(wh, now=datetime.now(UTC))  # the Comments page and the top-themes panels
    port = _free_port()
    log = open(root / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "cxlens.cli", "serve", "--home", str(settings.home),
         "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/signin", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.close()
            raise RuntimeError("the server did not start:\n"
                               + (root / "server.log").read_text())
        time.sleep(0.2)
    try:
        yield Server(url, settings.home)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser(server: Server) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                               args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, server: Server) -> Iterator[object]:
    """A signed-in page at laptop width."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  locale="en-GB")
    p = context.new_page()
    p.set_default_timeout(15_000)
    p.goto(server.url + "/signin")
    p.fill("input[name=email]", EMAIL)
    p.fill("input[name=password]", PASSWORD)
    p.click("form button")
    p.wait_for_url(f"{server.url}/w/{server.slug}/")
    try:
        yield p
    finally:
        context.close()
