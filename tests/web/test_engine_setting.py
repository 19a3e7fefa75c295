"""The workspace's engine setting (docs/engine.md, "The dashboard on Spark"): set on the
settings page by an owner, and the server's answers when the engine it chooses cannot run —
a Spark master that does not answer, PySpark missing, a lake that cannot be written: a 503
(API) or an error on the page that names the cause, never a 500, within seconds.

No Spark starts here: each failure happens before a JVM would. The numbers on Spark are
compared with DuckDB's in tests/web/test_engine_served.py."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
from web_helpers import Site, page_csrf

from cxlens.web import db
from cxlens.web.workspaces import set_engine, workspace_by_slug

FEEDBACK = """response_id,ts,metric,score,email,touchpoint
r1,2026-01-05 10:00:00,nps,10,a@x.fi,web
r2,2026-01-06 10:00:00,nps,3,b@x.fi,store
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed when the block ends: nobody listens


@pytest.fixture
def acme(site: Site, tmp_path: Path) -> Site:
    """Workspace acme with two NPS answers, loaded through the API."""
    path = tmp_path / "feedback.csv"
    path.write_text(FEEDBACK, encoding="utf-8")
    r = site.api(site.tokens["acme"]["ingest"]).post(
        "/api/w/acme/ingest", data={"kind": "feedback"},
        files={"file": ("feedback.csv", path.read_bytes(), "text/csv")})
    assert r.status_code == 200 and r.json()["loaded"] == 2, r.text
    return site


def choose(site: Site, engine: str | None) -> None:
    con = db.connect(site.settings.db_path)
    try:
        set_engine(con, workspace_by_slug(con, "acme"), engine)
    finally:
        con.close()


def test_owner_chooses_the_engine_on_the_settings_page(site: Site) -> None:
    c = site.member("ann@acme.fi")
    page = c.get("/w/acme/settings").text
    assert 'name="engine"' in page and "Server default (DuckDB)" in page
    r = c.post("/w/acme/settings/engine", data={"engine": "spark",
                                                 "csrf_token": page_csrf(c, "/w/acme/settings")},
               follow_redirects=False)
    assert r.status_code == 303
    con = db.connect(site.settings.db_path)
    assert workspace_by_slug(con, "acme").engine == "spark"
    assert '<option value="spark" selected>' in c.get("/w/acme/settings").text
    r = c.post("/w/acme/settings/engine", data={"engine": "oracle",
                                                 "csrf_token": page_csrf(c, "/w/acme/settings")})
    assert r.status_code == 400 and "unknown engine" in r.text
    c.post("/w/acme/settings/engine", data={"engine": "",
                                            "csrf_token": page_csrf(c, "/w/acme/settings")})
    assert workspace_by_slug(con, "acme").engine is None  # the server's default again
    con.close()
    bob = site.member("bob@beta.se")  # not a member of acme
    assert bob.post("/w/acme/settings/engine", data={
        "engine": "duckdb", "csrf_token": page_csrf(bob, "/account")}).status_code == 404


def test_a_master_that_does_not_answer_is_a_503_naming_it(acme: Site, monkeypatch) -> None:
    url = f"spark://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("CXLENS_SPARK", url)  # the server's default engine: Spark
    api = acme.api(acme.tokens["acme"]["read"])
    started = time.monotonic()
    r = api.get("/api/w/acme/experience/score")
    assert r.status_code == 503, r.text
    body = r.json()
    assert not body["ok"] and url in body["error"] and "does not answer" in body["error"]
    assert "--engine duckdb" in body["hint"] or "duckdb" in body["hint"]
    page = acme.member("ann@acme.fi").get("/w/acme/")
    assert page.status_code == 200 and url in page.text and "Traceback" not in page.text
    assert time.monotonic() - started < 60  # generous: each probe gives up after 3 s
    # the workspace's setting overrides $CXLENS_SPARK
    choose(acme, "duckdb")
    r = api.get("/api/w/acme/experience/score")
    assert r.status_code == 200 and r.json()["scores"][0]["n"] == 2


def test_spark_without_pyspark_says_how_to_install(acme: Site, monkeypatch) -> None:
    choose(acme, "spark")
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark now fails
    r = acme.api(acme.tokens["acme"]["read"]).get("/api/w/acme/experience/people")
    assert r.status_code == 503, r.text
    assert "PySpark" in r.json()["error"] and "pip install 'cxlens[spark]'" in r.json()["hint"]
    page = acme.member("ann@acme.fi").get("/w/acme/experience")
    assert page.status_code == 200 and "PySpark" in page.text


def test_a_lake_that_cannot_be_written_is_a_503(acme: Site, tmp_path: Path,
                                                 monkeypatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the lake root should be", encoding="utf-8")
    monkeypatch.setenv("CXLENS_LAKE", str(blocker))
    choose(acme, "spark")
    r = acme.api(acme.tokens["acme"]["read"]).get("/api/w/acme/experience/score")
    assert r.status_code == 503, r.text
    assert "cannot write the lake" in r.json()["error"]
    c = acme.member("ann@acme.fi")
    r = c.get("/w/acme/customers?q=a@x.fi")  # the profile reads through the engine too
    assert r.status_code == 503 and "cannot write the lake" in r.text


def test_create_workspace_takes_the_engine(tmp_path: Path) -> None:
    from served import cli, make_home

    home = tmp_path / "home"
    make_home(home, "engine setting password")
    r = cli("admin", "create-workspace", "sparky", "--owner", "ops@acme.fi", "--engine",
            "spark", "--json", home=home)
    assert r.returncode == 0, r.stderr
    con = db.connect(home / "app.sqlite3")
    assert workspace_by_slug(con, "sparky").engine == "spark"
    assert workspace_by_slug(con, "acme").engine is None  # the server's default
    con.close()
    r = cli("admin", "create-workspace", "odd", "--owner", "ops@acme.fi", "--engine",
            "oracle", home=home)
    assert r.returncode == 2 and "unknown engine 'oracle'" in r.stderr
