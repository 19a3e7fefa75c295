"""The same results on any calendar day (issue 8, point 4): the date-sensitive flows run at
two pinned days years apart and must give identical results.

``time-machine`` moves Python's clock (``datetime.now``, ``date.today``, ``time.time``) to a
fixed moment that does not tick. What it cannot move is DuckDB's own ``now()`` /
``current_date``: those stay on the real calendar, so a flow that read them would still
give the same answer at both pinned days. ``tests/test_clock.py`` closes that gap by
refusing wall-clock reads (Python's and SQL's) in library code at all.

The flows: the demo company's files and its survey programme; ``value_by_group`` through
the CLI (whose edge reads the clock) and through the library with the clock's ``now``; an
answer page of a survey link through the app; and the Experience and Overview pages'
default day — the server's clock is fixed to the demo company's day, so the calendar must
not matter.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cxlens import clock
from cxlens.analytics.experience import value_by_group
from cxlens.cli import app as cli_app
from cxlens.demo import generate, survey_loop
from cxlens.demo.calendar import DEFAULT_TODAY as TODAY
from cxlens.surveys import invitations
from cxlens.warehouse.store import open_engine, open_warehouse
from demo_cache import s_demo

# Two moments years apart (the first is the day after the demo company's own day, the
# second a summer afternoon in another year): neither may change any result.
MOMENTS = (datetime(2026, 11, 28, 9, 30, tzinfo=UTC), datetime(2031, 6, 15, 17, 5, tzinfo=UTC))
PASSWORD = "correct horse battery"
# What differs between two requests by design (random per request or per session).
RANDOM = re.compile(r'(name="csrf_token" value=|nonce=|name="csrf-token" content=)"[^"]*"')
# Survey columns drawn at random (link secrets, public ids): not results.
SECRET = {"nonce", "token_hash", "public_id"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The S demo (seed 11) loaded through ingest, once for the module; each moment works
    on its own copy."""
    root = tmp_path_factory.mktemp("any-day")
    s_demo(root / "ws", 11)  # loaded through ingest, once per process (demo_cache)
    return root / "ws"


def _rows(con: Any, sql: str) -> list[dict[str, Any]]:
    rel = con.execute(sql)
    names = [d[0] for d in rel.description]
    return [{k: v for k, v in zip(names, row, strict=True) if k not in SECRET}
            for row in rel.fetchall()]


def demo_files(root: Path) -> dict[str, Any]:
    """The demo company's files (their bytes) and its planted truths."""
    manifest = generate(root / "files", size="S", seed=11)
    digests = {str(p.relative_to(root / "files")): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in sorted((root / "files").rglob("*")) if p.is_file()}
    return {"files": digests, "truths": manifest.truths}


def survey_programme(ws: Path) -> dict[str, Any]:
    """The demo's survey programme, as ``cxlens demo`` runs it, and everything it stored."""
    with open_warehouse(ws) as con:
        result = survey_loop.run(con, ws, seed=3)
        tables = {t: _rows(con, f"SELECT * FROM {t} ORDER BY ALL")
                  for t in ("surveys", "survey_triggers", "survey_invitations",
                            "survey_optouts", "survey_followups")}
        answers = _rows(con, "SELECT * FROM v_feedback "
                             "WHERE response_id LIKE 'inv-%' ORDER BY response_id")
    return {"result": result.as_dict(), "tables": tables, "answers": answers}


def value_link(ws: Path) -> dict[str, Any]:
    """``value_by_group`` through the CLI (its edge reads the clock) and through the library
    given the clock's ``now``, as the server gives it."""
    r = CliRunner().invoke(cli_app, ["experience", "value", "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    with open_engine(ws) as eng:
        direct = value_by_group(eng, now=clock.system())
    return {"cli": json.loads(r.output), "library": asdict(direct)}


def _site(root: Path, demo_ws: Path) -> tuple[Any, Path]:
    """A server home with workspace ``demo`` holding ``demo_ws``'s warehouse, a viewer, and
    the server's clock on the demo company's day (as tests and a hand-over set it)."""
    from cxlens.web import db
    from cxlens.web.accounts import create_user
    from cxlens.web.app import create_app
    from cxlens.web.settings import WebSettings
    from cxlens.web.workspaces import add_member, create_workspace

    settings = WebSettings.load(home=root / "home")
    app = create_app(settings)
    app.state.clock = clock.fixed(TODAY)
    con = db.connect(settings.db_path)
    try:
        owner = create_user(con, "owner@demo.fi", PASSWORD)
        ws, _ = create_workspace(con, settings.workspaces_dir, "demo", "Demo Oy", owner)
        add_member(con, ws, create_user(con, "viewer@demo.fi", PASSWORD), "viewer")
    finally:
        con.close()
    shutil.copyfile(demo_ws / "warehouse.duckdb", ws.path / "warehouse.duckdb")
    # the survey key signed the links the programme made: it moves with the warehouse
    shutil.copyfile(demo_ws / invitations.KEY_FILE, ws.path / invitations.KEY_FILE)
    return app, ws.path


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, html[:2000]
    return m.group(1)


def served(root: Path, demo_ws: Path) -> dict[str, Any]:
    """Through the app: a survey link's answer page (opened, then answered), and the
    Experience and Overview pages at their default day (the server clock's)."""
    app, ws = _site(root, demo_ws)
    with TestClient(app) as client:
        wh = app.state.warehouses.get(ws)
        with wh.read() as cur:
            nonce, inv_id = cur.execute(
                "SELECT nonce, invitation_id FROM survey_invitations WHERE state = 'sent' "
                "ORDER BY invitation_id LIMIT 1").fetchall()[0]
        url = "/s/" + invitations.make_token(invitations.workspace_key(ws), "demo", nonce)
        opened = client.get(url)
        assert opened.status_code == 200, opened.text[:2000]
        sent = client.post(url, data={"csrf_token": _csrf(opened.text), "score": "4",
                                      "comment": "Myöhässä.", "action": "send"})
        assert sent.status_code == 200, sent.text[:2000]
        with wh.read() as cur:
            stored = _rows(cur, "SELECT * FROM survey_invitations WHERE invitation_id = "
                                f"{int(inv_id)}")
            answer = _rows(cur, "SELECT * FROM v_feedback f "
                                "WHERE response_id = (SELECT response_id FROM "
                                f"survey_invitations WHERE invitation_id = {int(inv_id)})")
        token = _csrf(client.get("/signin").text)
        signed = client.post("/signin", data={"email": "viewer@demo.fi", "password": PASSWORD,
                                              "csrf_token": token}, follow_redirects=False)
        assert signed.status_code == 303, signed.text
        pages = {}
        for path in ("/w/demo/", "/w/demo/experience"):
            r = client.get(path)
            assert r.status_code == 200 and 'class="error"' not in r.text, (path, r.text[:2000])
            pages[path] = RANDOM.sub(r"\1…", r.text)
    # the link itself is a secret drawn at random: the same page has it in its forms
    return {"answer_page": [RANDOM.sub(r"\1…", r.text.replace(url, "/s/LINK"))
                            for r in (opened, sent)],
            "invitation": stored, "answer": answer, "pages": pages}


def everything_at(moment: datetime, loaded: Path, root: Path) -> dict[str, Any]:
    """Every flow with Python's clock stopped at ``moment``."""
    with time_machine.travel(moment, tick=False):
        assert clock.system() == moment  # the clock really moved
        ws = root / "demo"  # its links carry the slug of the served workspace below
        shutil.copytree(loaded, ws)
        return {"demo": demo_files(root), "surveys": survey_programme(ws),
                "value": value_link(ws), "served": served(root, ws)}


@pytest.fixture
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Argon2 with small costs (signing in is not what this test measures)."""
    from argon2 import PasswordHasher

    from cxlens.web import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                            parallelism=1))
    yield


def test_every_date_sensitive_flow_is_the_same_years_apart(
        loaded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quick_hashes) -> None:
    monkeypatch.setattr(survey_loop, "ANSWER_SHARE", 0.5)  # enough answers on the S demo
    first, second = (everything_at(m, loaded, tmp_path / str(m.year)) for m in MOMENTS)
    # the flows did something worth comparing
    assert first["surveys"]["result"]["answered"] > 5
    assert first["surveys"]["tables"]["survey_followups"]
    groups = first["value"]["library"]["groups"]
    assert any(g["group"] == "promoter" and g["n"] > 0 for g in groups)
    assert first["served"]["answer"] and first["served"]["invitation"][0]["state"] == "answered"
    assert f"as_of={TODAY.isoformat()}" in first["served"]["pages"]["/w/demo/experience"]
    for flow in first:
        if flow != "served":
            assert first[flow] == second[flow], flow
    for part in first["served"]:
        assert first["served"][part] == second["served"][part], part
