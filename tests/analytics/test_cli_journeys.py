"""`cxlens journeys paths|map` on the S demo: sensible maps and paths, tables and JSON,
clear messages for bad input."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.errors import UserError

runner = CliRunner()


def _json(ws, *args: str) -> dict:
    r = runner.invoke(app, ["journeys", *args, "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_the_demo_map_is_sensible(demo) -> None:
    ws, _ = demo
    m = _json(ws, "map")
    nodes = {n["touchpoint"]: n for n in m["nodes"]}
    edges = {(e["source"], e["target"]): e for e in m["edges"]}
    # every source is there: web events, orders, answers, tickets
    assert {"page_view", "first_purchase", "repeat_purchase", "answer:promoter"} <= set(nodes)
    assert any(n.startswith("support_ticket") for n in nodes)
    assert sum(n["starts"] for n in m["nodes"]) == sum(n["ends"] for n in m["nodes"]) \
        == m["customers"]
    assert sum(n["count"] for n in m["nodes"]) == m["touchpoints"]
    # a visit's steps follow each other within minutes; a repeat purchase comes days later
    web = edges[("session_start", "page_view")]
    assert web["customers"] > 100 and 0 <= web["median_s"] <= web["p90_s"] < 3600
    assert edges[("first_purchase", "repeat_purchase")]["median_s"] > 86400
    # first purchases: one per customer at most
    assert nodes["first_purchase"]["count"] <= m["customers"]
    assert all(e["transitions"] >= e["customers"] > 0 for e in m["edges"])


def test_paths_to_and_from_on_the_demo(demo) -> None:
    ws, _ = demo
    frm = _json(ws, "paths", "--from", "add_to_cart", "--top", "5")
    assert frm["reached"] > 0 and len(frm["paths"]) == 6 and frm["paths"][-1]["other"]
    assert abs(sum(p["share"] for p in frm["paths"]) - 1) < 1e-9
    assert all(p["steps"][0] == "add_to_cart" for p in frm["paths"][:-1])
    to = _json(ws, "paths", "--to", "first_purchase", "--steps", "3")
    assert all(p["steps"][-1] == "first_purchase" and len(p["steps"]) <= 3
               for p in to["paths"] if not p["other"])
    assert to["reached"] <= to["customers"]


def test_tables_and_messages(demo) -> None:
    ws, _ = demo
    r = runner.invoke(app, ["journeys", "map", "-w", str(ws), "--top", "5"])
    assert r.exit_code == 0 and "session_start" in r.output and "median" in r.output
    r = runner.invoke(app, ["journeys", "paths", "--from", "add_to_cart", "-w", str(ws)])
    assert r.exit_code == 0 and "add_to_cart →" in r.output
    r = runner.invoke(app, ["journeys", "paths", "--to", "no_such", "-w", str(ws)])
    assert r.exit_code == 0 and "no customer in the selection met 'no_such'" in r.output
    assert "page_view" in r.output  # the touchpoints there, to pick from
    r = runner.invoke(app, ["journeys", "paths", "--to", "a", "--from", "b", "-w", str(ws)])
    # main() prints a UserError and exits with its code, 2 (the runner shows the exception)
    assert isinstance(r.exception, UserError) and "not both" in str(r.exception)
    r = runner.invoke(app, ["journeys", "map", "--start", "2026-02-30", "-w", str(ws)])
    assert isinstance(r.exception, UserError) and "not a date" in str(r.exception)
    r = runner.invoke(app, ["journeys", "map", "--start", "2026-02-01", "--end", "2026-01-01",
                            "-w", str(ws)])
    assert isinstance(r.exception, UserError) and "before" in str(r.exception)
    r = runner.invoke(app, ["journeys", "map", "--segment", "nobody", "-w", str(ws)])
    assert r.exit_code == 0 and "no touchpoints in the selection" in r.output
