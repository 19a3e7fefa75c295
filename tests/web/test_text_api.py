"""``GET /api/w/{slug}/text/themes|comments|sentiment`` on the analysed S demo: the same JSON
as ``cxlens text … --json``, an answer (not a 500) for a workspace not analysed yet, 4xx for
bad requests, no reach into another workspace, and a comment's HTML back as plain text."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_helpers import demo_home, quick_argon2

from cxlens.web.workspaces import create_token, create_workspace
from helpers import assert_same

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from cxlens.text.analyse import analyse
    from cxlens.warehouse.store import open_warehouse

    root = tmp_path_factory.mktemp("text_api")

    def extra(con, ws, owner) -> dict:
        fresh, _ = create_workspace(con, ws.path.parent, "fresh", "Uusi Oy", owner)
        tiny, _ = create_workspace(con, ws.path.parent, "tiny", "Pieni Oy", owner)
        bare, _ = create_workspace(con, ws.path.parent, "bare", "Paljas Oy", owner)
        return {"demo_path": ws.path, "tiny_path": tiny.path, "bare_path": bare.path,
                "read": create_token(con, ws, "read", "read", owner),
                "fresh_read": create_token(con, fresh, "read", "read", owner),
                "tiny_read": create_token(con, tiny, "read", "read", owner),
                "bare_read": create_token(con, bare, "read", "read", owner)}

    with quick_argon2():
        app, more = demo_home(root, extra)
        with open_warehouse(more["demo_path"]) as con:
            analyse(con, now=NOW)
        with open_warehouse(more["tiny_path"]) as con:
            con.execute("INSERT INTO feedback (response_id, ts, metric, score, comment, _batch, "
                        "_line, _hash) VALUES ('r1', TIMESTAMP '2026-05-01 10:00:00', 'nps', 2, "
                        f"'Toimitus {SCRIPT} myöhästyi viikolla', 1, 2, 2)")
            analyse(con, now=NOW)
        with open_warehouse(more["bare_path"]) as con:
            con.execute("DROP TABLE comment_analysis")
        # The CLI reads a copy: the server's connection to the file has another configuration.
        shutil.copytree(more["demo_path"], root / "cli_demo")
        with TestClient(app):
            yield {"app": app, "cli_demo": root / "cli_demo", **more}


def api(site: dict, token: str = "read") -> TestClient:
    return TestClient(site["app"], headers={"Authorization": f"Bearer {site[token]}"})


def cli_json(*args: str, workspace) -> object:
    from cxlens.cli import app

    r = CliRunner().invoke(app, ["text", *args, "-w", str(workspace), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize(("path", "args"), [
    ("themes", ["themes"]),
    ("themes?metric=nps&by=store", ["themes", "--metric", "nps", "--by", "store"]),
    ("comments?theme=delivery&language=fi&limit=20",
     ["comments", "--theme", "delivery", "--language", "fi", "--limit", "20"]),
    ("sentiment", ["sentiment"]),
    ("quotes?theme=delivery", ["quotes", "--theme", "delivery"]),
    ("quotes?theme=price&language=fi&k=2&metric=nps&store=WEB",
     ["quotes", "--theme", "price", "--language", "fi", "--k", "2", "--metric", "nps",
      "--store", "WEB"]),
])
def test_the_api_and_the_cli_give_the_same_json(site, path: str, args: list[str]) -> None:
    r = api(site).get(f"/api/w/demo/text/{path}")
    assert r.status_code == 200, r.text[:300]
    assert r.json() == cli_json(*args, workspace=site["cli_demo"])


def test_themes_have_the_documented_fields(site) -> None:
    body = api(site).get("/api/w/demo/text/themes").json()
    assert body["metric"] == "nps" and body["comments"] > 0 and "groups" not in body["themes"][0]
    th = {t["theme"]: t for t in body["themes"]}["delivery"]
    assert {"theme", "terms", "mentions", "sentiment", "impact", "low", "high"} <= th.keys()
    assert {"fi", "sv", "en"} <= th["terms"].keys() and th["mentions"] > 0
    by = api(site).get("/api/w/demo/text/themes?by=touchpoint").json()
    assert all("touchpoint" in g for t in by["themes"] for g in t["groups"])


def test_a_workspace_never_analysed_is_told_what_to_run(site) -> None:
    """A new workspace has the analysis tables but no rows: the report's zeros and notes,
    as the CLI prints them, each naming `cxlens text analyse`."""
    fresh = api(site, "fresh_read")
    themes = fresh.get("/api/w/fresh/text/themes").json()
    assert themes["comments"] == 0 and "cxlens text analyse" in themes["notes"][0]
    assert fresh.get("/api/w/fresh/text/comments?theme=delivery").json() == []
    sentiment = fresh.get("/api/w/fresh/text/sentiment").json()
    assert sentiment["source"] == "lexicon" and "cxlens text analyse" in sentiment["note"]


def test_a_warehouse_without_the_analysis_is_an_answer_not_an_error(site) -> None:
    """Where ``report._require`` would raise (no ``comment_analysis`` table), ``ok: false``."""
    for path in ("themes", "comments?theme=delivery", "sentiment", "quotes?theme=delivery"):
        r = api(site, "bare_read").get(f"/api/w/bare/text/{path}")
        assert r.status_code == 200, (path, r.text[:300])
        body = r.json()
        assert body.get("ok") is False and "cxlens text analyse" in body["hint"], (path, body)


@pytest.mark.parametrize("query", [
    "themes?metric=ces", "themes?by=weather", "themes?start=9999-12-31",
    "themes?nonsense=1", "comments", "comments?theme=delivery&limit=0",
    "comments?theme=delivery&limit=100000", "comments?theme=" + "x" * 200,
    "quotes", "quotes?theme=delivery&k=0", "quotes?theme=delivery&k=21",
    "quotes?theme=delivery&start=9999-12-31", "quotes?theme=delivery&colour=red",
])
def test_bad_requests_are_a_422(site, query: str) -> None:
    r = api(site).get(f"/api/w/demo/text/{query}")
    assert r.status_code == 422, (query, r.text[:300])
    assert r.json()["ok"] is False


def test_an_unknown_theme_is_a_4xx_that_names_it(site) -> None:
    r = api(site).get("/api/w/demo/text/comments?theme=nope")
    assert r.status_code == 400 and "nope" in r.json()["error"]


def test_another_workspace_token_gets_nothing(site) -> None:
    for path in ("themes", "comments?theme=delivery", "sentiment", "quotes?theme=delivery"):
        for who, slug in (("fresh_read", "demo"), ("read", "tiny")):
            r = api(site, who).get(f"/api/w/{slug}/text/{path}")
            assert r.status_code in (403, 404), (who, slug, path, r.status_code)
            assert "Toimitus" not in r.text and "mentions" not in r.text


def test_html_in_a_comment_comes_back_as_text(site) -> None:
    r = api(site, "tiny_read").get("/api/w/tiny/text/comments?theme=delivery")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("application/json")
    assert SCRIPT in r.json()[0]["comment"]


@pytest.mark.spark
def test_a_workspace_on_spark_reads_the_analysis_from_the_lake(site, spark, tmp_path,
                                                               monkeypatch) -> None:
    """With the server on Spark every text endpoint reads the lake, which mirrors the
    analysis tables (brought up to date before the read), and answers as DuckDB does: the
    analysed demo, the never-analysed workspace and the one without the tables alike.
    Requests get child sessions of the tests' one (the server's own would stop it)."""
    from contextlib import contextmanager

    from cxlens.warehouse import lake as lk
    from cxlens.web.warehouses import SPARK_ENV, SharedSpark

    paths = [("demo", "read", p) for p in (
        "themes", "themes?metric=csat&by=touchpoint", "comments?theme=delivery&limit=20",
        "comments?theme=price&language=sv", "sentiment")]
    paths += [(slug, f"{slug}_read", p) for slug in ("fresh", "bare")
              for p in ("themes", "comments?theme=delivery", "sentiment")]
    duck = {}
    for slug, token, path in paths:
        r = api(site, token).get(f"/api/w/{slug}/text/{path}")
        assert r.status_code == 200, (slug, path, r.text[:300])
        duck[slug, path] = r.json()

    @contextmanager
    def child(self):
        yield spark.newSession()

    monkeypatch.setattr(SharedSpark, "session", child)
    monkeypatch.setenv(SPARK_ENV, "local[1]")
    monkeypatch.setenv(lk.LAKE_ENV, str(tmp_path / "lakes"))
    for slug, token, path in paths:
        r = api(site, token).get(f"/api/w/{slug}/text/{path}")
        assert r.status_code == 200, (slug, path, r.text[:300])
        assert_same(r.json(), duck[slug, path], f"{slug} {path}")
    assert (lk.lake_path(site["demo_path"]) / "CURRENT").exists()  # Spark read the lake
