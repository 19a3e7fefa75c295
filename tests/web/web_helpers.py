"""Helpers the web tests share: sign-in, form tokens and the two-workspace site.

A module of its own (not conftest.py) so that tests import it by a unique name: importing
from ``conftest`` breaks as soon as pytest collects another folder's conftest first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cxlens import clock
from cxlens.web.settings import WebSettings

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no csrf_token field in the page"
    return m.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD,
            expect: int = 303) -> TestClient:
    token = csrf_of(client.get("/signin").text)
    r = client.post("/signin", data={"email": email, "password": password, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == expect, r.text
    return client


def page_csrf(client: TestClient, path: str = "/account") -> str:
    return csrf_of(client.get(path).text)


@dataclass
class Site:
    settings: WebSettings
    app: FastAPI
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    write_keys: dict[str, str] = field(default_factory=dict)

    def client(self) -> TestClient:
        return TestClient(self.app)

    def member(self, email: str) -> TestClient:
        return sign_in(self.client(), email)

    def api(self, token: str) -> TestClient:
        return TestClient(self.app, headers={"Authorization": f"Bearer {token}"})


@contextmanager
def quick_argon2() -> Iterator[None]:
    """Argon2 with small costs for a module-scoped fixture (the autouse one is per test)."""
    from argon2 import PasswordHasher

    from cxlens.web import security

    saved = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        yield
    finally:
        security._hasher = saved


def team_home(root: Path, domain: str, slug: str, name: str,
              extra: Callable[[Any, Any, Any], dict[str, Any]] | None = None
              ) -> tuple[FastAPI, Any, dict[str, Any]]:
    """A server home with workspace ``slug`` and its members owner@, analyst@ and
    viewer@``domain``; ``extra(con, workspace, owner)`` adds more (tokens, other
    workspaces) and returns what the tests need of it. Returns (app, workspace, extra)."""
    from cxlens.web import db
    from cxlens.web.accounts import create_user
    from cxlens.web.app import create_app
    from cxlens.web.workspaces import add_member, create_workspace

    settings = WebSettings.load(home=root / "home")
    app = create_app(settings)
    con = db.connect(settings.db_path)
    try:
        owner = create_user(con, f"owner@{domain}", PASSWORD)
        ws, _ = create_workspace(con, settings.workspaces_dir, slug, name, owner)
        for role in ("analyst", "viewer"):
            add_member(con, ws, create_user(con, f"{role}@{domain}", PASSWORD), role)
        more = extra(con, ws, owner) if extra else {}
    finally:
        con.close()
    return app, ws, more


def demo_home(root: Path, extra: Callable[[Any, Any, Any], dict[str, Any]] | None = None
              ) -> tuple[FastAPI, dict[str, Any]]:
    """:func:`team_home` ``demo`` at demo.fi holding the S demo (seed 7, loaded through
    ingest: a copy of the one built first in this process, ``demo_cache``). The server's
    clock says the demo company's own day (``calendar.DEFAULT_TODAY``), so the pages' default
    windows hold its data on any calendar day."""
    from cxlens.demo.calendar import DEFAULT_TODAY as TODAY
    from demo_cache import s_demo

    app, ws, more = team_home(root, "demo.fi", "demo", "Demo Oy", extra)
    app.state.clock = clock.fixed(TODAY)
    s_demo(ws.path, 7)
    return app, more


def demo_home_with_orders(root: Path, orders: dict[str, tuple[str, str]]
                          ) -> tuple[FastAPI, dict[str, Any]]:
    """:func:`demo_home`, and beside ``demo`` one workspace per ``orders`` item (slug ->
    (name, an orders CSV loaded through ingest)) that the demo's viewer is a member of, an
    ``empty`` workspace, and a ``read`` token of ``demo``. ``more[slug]`` is each one's path."""
    from cxlens.ingest.load import ingest
    from cxlens.warehouse.store import open_warehouse
    from cxlens.web.accounts import user_by_email
    from cxlens.web.workspaces import add_member, create_token, create_workspace

    def extra(con: Any, ws: Any, owner: Any) -> dict[str, Any]:
        made = {}
        for slug, (name, _) in orders.items():
            other, _ = create_workspace(con, ws.path.parent, slug, name, owner)
            add_member(con, other, user_by_email(con, "viewer@demo.fi"), "viewer")
            made[slug] = other.path
        create_workspace(con, ws.path.parent, "empty", "Empty Oy", owner)
        return {**made, "read": create_token(con, ws, "read", "read", owner)}

    with quick_argon2():
        app, more = demo_home(root, extra)
    for slug, (_, text) in orders.items():
        (root / f"{slug}.csv").write_text(text, encoding="utf-8")
        with open_warehouse(more[slug]) as wh:
            assert ingest(wh, root / f"{slug}.csv", "orders").balanced
    return app, more


# --- a small workspace with surveys (the Surveys and Follow-ups pages) -------------------------

SURVEY_CUSTOMERS = ("anna@shop.fi", "bert@shop.se", "carl@shop.com", "dora@shop.fi",
                    "eero@shop.fi", "frida@shop.se", "gus@shop.com", "hilma@shop.fi")
SURVEY_TRIGGERS = """triggers:
  - id: nps-purchase
    survey: nps
    after: purchase
    days: 7
    quiet_days: 30
    reminder_days: 3
    touchpoint: purchase
  - id: ces-after-nps
    survey: ces
    after: step:nps-purchase
    days: 60
    quiet_days: 30
"""
# A custom survey whose Swedish texts are missing (English is shown instead).
CUSTOM_SURVEY = """id: store_visit
metric: rating
default_language: fi
title: {fi: Käyntisi, en: Your visit}
questions:
  - id: overall
    type: rating
    scale: [1, 5]
    text: {fi: Kokonaisarvio, sv: Helhetsbetyg, en: Overall}
  - id: comment
    type: text
    text: {fi: Kommentti, en: Comment}
thanks: {fi: Kiitos!, sv: Tack!, en: Thank you!}
email:
  subject: {fi: Käyntisi, sv: Ditt besök, en: Your visit}
  body: {fi: "Vastaa: {link}", sv: "Svara: {link}", en: "Answer: {link}"}
"""
SCRIPT_COMMENT = "<script>alert('x')</script> late delivery"
SURVEY_DAY = date(2026, 11, 28)  # the survey home's day: its data's and its server clock's


def build_survey_warehouse(path: Path, files: Path, *, secret: str = "") -> dict[str, Any]:
    """A warehouse with eight customers who bought 7 days ago, the NPS and CES surveys, a
    custom one, the triggers above, and today's run (eight NPS invitations); then six sent,
    four answered (9, 3, 10, 0: two detractors, so two follow-ups, the 3 with a
    ``<script>`` comment), one opted out, one reminded, two not yet sent; and one public
    answer. ``secret`` is added to every comment (to see that it never leaks elsewhere).
    It all happens on :data:`SURVEY_DAY` (at noon UTC), the day :func:`survey_home`'s server
    clock says, so the pages show the same on any calendar day. Returns today and the
    invitation id of each e-mail."""
    from datetime import datetime, time, timedelta

    from cxlens.ingest.load import ingest
    from cxlens.surveys import answers, definitions, invitations, store, triggers
    from cxlens.warehouse.store import open_warehouse

    today = SURVEY_DAY
    now = datetime.combine(today, time(12, 0))
    bought = (today - timedelta(days=7)).isoformat()
    langs = ("fi", "sv", "en", "fi", "fi", "sv", "", "fi")
    files.mkdir(parents=True, exist_ok=True)
    (files / "customers.csv").write_text(
        "email,language,name\n" + "".join(f"{e},{lang},{e.split('@')[0].title()}\n"
                                          for e, lang in zip(SURVEY_CUSTOMERS, langs,
                                                             strict=True)), encoding="utf-8")
    (files / "orders.csv").write_text(
        "order_id,ts,amount,email\n" + "".join(f"o{i},{bought} 10:00:00,10.0,{e}\n"
                                              for i, e in enumerate(SURVEY_CUSTOMERS, 1)),
        encoding="utf-8")
    with open_warehouse(path) as con:
        ingest(con, files / "customers.csv", "customers")
        ingest(con, files / "orders.csv", "orders")
        for name in ("nps", "ces"):
            store.save_survey(con, definitions.builtin_source(name), now=now)
        store.save_survey(con, CUSTOM_SURVEY, now=now)
        triggers.save(con, triggers.parse(SURVEY_TRIGGERS))
        triggers.run(con, path, today, now=now)
        ids = {e: i for i, e in con.execute("SELECT invitation_id, email FROM "
                                            "survey_invitations").fetchall()}
        nps = store.require_survey(con, "nps").survey
        for email in SURVEY_CUSTOMERS[:6]:
            invitations.set_state(con, ids[email], "sent", "sent_at", now)
        for email, score, comment in ((SURVEY_CUSTOMERS[0], 9, "Great service"),
                                      (SURVEY_CUSTOMERS[1], 3, SCRIPT_COMMENT),
                                      (SURVEY_CUSTOMERS[2], 10, "Fast"),
                                      (SURVEY_CUSTOMERS[5], 0, "Never again")):
            inv = invitations.by_id(con, ids[email])
            assert inv is not None
            answers.submit(con, nps, inv, {"score": score, "comment": comment + secret},
                           now + timedelta(hours=1))
        opted = invitations.by_id(con, ids[SURVEY_CUSTOMERS[3]])
        assert opted is not None
        answers.opt_out(con, opted, now + timedelta(hours=1))
        con.execute("UPDATE survey_invitations SET reminded_at = ? WHERE invitation_id = ?",
                    [now + timedelta(hours=2), ids[SURVEY_CUSTOMERS[4]]])
        answers.submit_public(con, nps, {"score": 8}, language="fi",
                              now=now + timedelta(hours=3))
    return {"today": today, "invitations": ids}


def survey_home(root: Path) -> tuple[FastAPI, dict[str, Any]]:
    """:func:`team_home` ``shop`` at shop.fi (:func:`build_survey_warehouse`), and workspace
    ``other`` (the same data, each comment ending in OTHER-SECRET) owned by boss@other.fi."""
    from cxlens.web.accounts import create_user
    from cxlens.web.workspaces import create_workspace

    def other_workspace(con: Any, ws: Any, owner: Any) -> dict[str, Any]:
        boss = create_user(con, "boss@other.fi", PASSWORD)
        other, _ = create_workspace(con, ws.path.parent, "other", "Other Ab", boss)
        return {"other": other}

    app, ws, more = team_home(root, "shop.fi", "shop", "Shop Oy", other_workspace)
    app.state.clock = clock.fixed(SURVEY_DAY)  # the server's day is the data's day
    info = build_survey_warehouse(ws.path, root / "shop-files")
    build_survey_warehouse(more["other"].path, root / "other-files", secret=" OTHER-SECRET")
    return app, {**info, "workspace": ws.path}


def survey_page_fixtures(label: str) -> tuple[Any, Any, Any, Any]:
    """Module-scoped fixtures ``home`` (a :func:`survey_home` served in-process) and the
    signed-in ``owner``, ``analyst`` and ``viewer``, for the Surveys and Follow-ups page
    tests: ``home, owner, analyst, viewer = survey_page_fixtures("survey_pages")``."""
    import pytest

    @pytest.fixture(scope="module")
    def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
        with quick_argon2():
            app, info = survey_home(tmp_path_factory.mktemp(label))
            with TestClient(app):
                yield {"app": app, **info}

    def member(role: str) -> Any:
        @pytest.fixture(scope="module", name=role)
        def signed_in(home: dict[str, Any]) -> TestClient:
            return sign_in(TestClient(home["app"]), f"{role}@shop.fi")
        return signed_in

    return home, member("owner"), member("analyst"), member("viewer")


def text(html: str) -> str:
    """A page's visible text, one space between words."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).strip()


def table_rows(html: str, key: str) -> list[list[str]]:
    """The cells of the chart table ``key`` as text (header row first)."""
    m = re.search(rf'<table class="chart-table" data-chart="{key}">(.*?)</table>', html, re.S)
    assert m, key
    return [[unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)]


def ok_page(client: TestClient, url: str) -> str:
    """The HTML of ``url``, which must answer 200 without an error box."""
    r = client.get(url)
    assert r.status_code == 200, (url, r.text[:2000])
    assert 'class="error"' not in r.text, text(r.text)[:2000]
    return r.text


def table_cells(html: str, table_class: str) -> list[list[str]]:
    """The cells of the first ``<table class="table_class">`` as text (header row first)."""
    m = re.search(rf'<table class="{table_class}"[^>]*>(.*?)</table>', html, re.S)
    assert m, table_class
    return [[unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(1), re.S)]


def figure(html: str, key: str) -> dict[str, Any]:
    """The Plotly figure of chart ``key``."""
    m = re.search(rf'<script type="application/json" id="fig-{key}">(.*?)</script>', html, re.S)
    assert m, key
    return dict(json.loads(m.group(1)))
