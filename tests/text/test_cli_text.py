"""`cxlens text …` prints what cxlens.text computes, as tables or JSON."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.errors import UserError
from cxlens.warehouse.store import open_warehouse

runner = CliRunner()


def test_analyse_reports_counts_per_language(demo_copy: Path) -> None:
    r = runner.invoke(app, ["text", "analyse", "-w", str(demo_copy), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["analysed"] == 0 and res["unchanged"] == res["comments"]
    assert sum(res["languages"].values()) == res["comments"]
    r = runner.invoke(app, ["text", "analyse", "-w", str(demo_copy), "--retrain"])
    assert r.exit_code == 0, r.output
    assert "comments per language" in r.output and "sentiment:" in r.output


def test_themes_json_has_the_documented_fields(text_demo) -> None:
    ws, _ = text_demo
    r = runner.invoke(app, ["text", "themes", "--metric", "nps", "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    for t in rep["themes"]:
        assert {"theme", "terms", "mentions", "sentiment", "impact", "low", "high"} <= set(t)
        assert set(t["terms"]) == {"fi", "sv", "en"}
    assert rep["themes"][0]["theme"] == "delivery"
    table = runner.invoke(app, ["text", "themes", "-w", str(ws)])
    assert table.exit_code == 0 and "Delivery" in table.output
    by = runner.invoke(app, ["text", "themes", "--by", "store", "-w", str(ws), "--json"])
    assert by.exit_code == 0, by.output
    delivery = json.loads(by.output)["themes"][0]
    assert sum(g["mentions"] for g in delivery["groups"]) == delivery["mentions"]
    assert runner.invoke(app, ["text", "themes", "--by", "team", "-w", str(ws)]).exit_code == 0
    bad = runner.invoke(app, ["text", "themes", "--by", "weather", "-w", str(ws)])
    assert isinstance(bad.exception, UserError)


def test_comments_of_a_theme_and_sentiment(text_demo) -> None:
    ws, _ = text_demo
    r = runner.invoke(app, ["text", "comments", "--theme", "delivery", "--language", "fi",
                            "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert rows and all("delivery" in x["themes"] and x["language"] == "fi" for x in rows)
    r = runner.invoke(app, ["text", "sentiment", "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    assert {x["language"] for x in json.loads(r.output)["languages"]} >= {"fi", "sv", "en"}
    assert runner.invoke(app, ["text", "sentiment", "-w", str(ws)]).exit_code == 0


def test_html_in_a_comment_is_printed_escaped(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    with open_warehouse(ws) as con:
        con.execute("INSERT INTO feedback (response_id, ts, metric, score, comment, _batch, "
                    "_line, _hash) VALUES ('r1', TIMESTAMP '2026-05-01 10:00:00', 'nps', 2, "
                    "'[bold]Toimitus[/bold] <script>alert(1)</script> myöhästyi viikolla', "
                    "1, 2, 2)")
    assert runner.invoke(app, ["text", "analyse", "-w", str(ws)]).exit_code == 0
    r = runner.invoke(app, ["text", "comments", "--theme", "delivery", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    assert "[bold]Toimitus[/bold]" in r.output and "<script>" in r.output


def test_clear_errors(tmp_path: Path, text_demo) -> None:
    ws, _ = text_demo
    # UserError is what `cxlens` turns into a message and an exit code (cli.main).
    bad = runner.invoke(app, ["text", "comments", "--theme", "nope", "-w", str(ws)])
    assert isinstance(bad.exception, UserError) and "no theme 'nope'" in str(bad.exception)
    metric = runner.invoke(app, ["text", "themes", "--metric", "ces", "-w", str(ws)])
    assert isinstance(metric.exception, UserError)
    assert "no theme impact on 'ces'" in str(metric.exception)
    with open_warehouse(tmp_path / "fresh"):
        pass
    never = runner.invoke(app, ["text", "themes", "-w", str(tmp_path / "fresh")])
    assert never.exit_code == 0, never.output  # an empty workspace: zeros and a note
    missing = runner.invoke(app, ["text", "themes", "-w", str(tmp_path / "none")])
    assert isinstance(missing.exception, UserError)
    assert "no warehouse" in str(missing.exception)
