"""`cxlens text discover`, `cxlens text theme …` and `cxlens text alerts`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from text_fixtures import insert_rows, planted_rows
from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.errors import UserError
from cxlens.warehouse.store import open_warehouse

runner = CliRunner()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    with open_warehouse(tmp_path / "ws") as con:
        insert_rows(con, planted_rows(240, days=200))
    r = runner.invoke(app, ["text", "analyse", "-w", str(tmp_path / "ws"), "--json"])
    assert r.exit_code == 0, r.output
    return tmp_path / "ws"


def _run(*args: str) -> dict:
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_discover_and_edit_themes(ws: Path) -> None:
    w = ["-w", str(ws)]
    found = _run("text", "discover", *w, "--json")
    assert set(found["pool"]) == {"fi", "sv", "en"} and "analysis" in found
    table = runner.invoke(app, ["text", "discover", *w])
    assert table.exit_code == 0 and "comments without a theme" in table.output
    got = _run("text", "theme", "rule", "checkout", "-k", "kassa", "--language", "fi", *w,
               "--json")
    assert got["edit_id"] == 1 and got["reassigned"] == 240
    _run("text", "theme", "rename", "delivery", "--label", "Shipping", *w, "--json")
    _run("text", "theme", "merge", "queue", "--into", "store_environment", *w, "--json")
    _run("text", "theme", "split", "product_quality", "--new", "tents", "-k", "tent", *w,
         "--json")
    _run("text", "theme", "undo", "3", *w, "--json")
    listed = _run("text", "theme", "list", *w, "--json")
    assert [e["op"] for e in listed["edits"]] == ["rule", "rename", "merge", "split"]
    assert [e["active"] for e in listed["edits"]] == [True, True, False, True]
    rep = {t["theme"]: t for t in _run("text", "themes", *w, "--json")["themes"]}
    assert rep["delivery"]["label"] == "Shipping" and "queue" in rep
    assert rep["checkout"]["mentions"] > 0 and rep["tents"]["source"] == "user"
    assert runner.invoke(app, ["text", "theme", "list", *w]).exit_code == 0
    for bad, msg in ((["merge", "price", "--into", "price"], "itself"),
                     (["pin", "price"], "not a discovered one"),
                     (["split", "price", "--new", "X-1", "-k", "a"], "not allowed")):
        r = runner.invoke(app, ["text", "theme", *bad, *w])
        assert isinstance(r.exception, UserError) and msg in r.exception.message


def test_alerts_json_and_table(ws: Path) -> None:
    w = ["-w", str(ws)]
    rep = _run("text", "alerts", "--today", "2026-07-10", "--history", "3", *w, "--json")
    assert rep["period"] == "month" and rep["start"] == "2026-07-01"
    assert rep["history_start"] == "2026-04-01" and rep["comments"] > 0
    assert all({"theme", "measure", "p", "q", "rising"} <= set(a) for a in rep["checked"])
    table = runner.invoke(app, ["text", "alerts", "--today", "2026-07-10", "--period", "week",
                                *w])
    assert table.exit_code == 0 and "tests" in table.output
    bad = runner.invoke(app, ["text", "alerts", "--period", "year", "--today", "2026-07-10",
                              *w])
    assert isinstance(bad.exception, UserError)
    bad = runner.invoke(app, ["text", "alerts", "--today", "10.7.2026", *w])
    assert isinstance(bad.exception, UserError)
