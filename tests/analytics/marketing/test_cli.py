"""``cxlens marketing attribution`` on the S demo: tables and JSON (the API's model), and
a UserError (a message and exit code 2 from ``main()``) for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.errors import UserError
from cxlens.warehouse.store import open_warehouse

runner = CliRunner()
ADS = ["--campaign", "%Search%=search_ads", "--campaign", "%Prospecting%=social_ads",
       "--campaign", "%Retargeting%=social_ads"]


def _json(ws, *args: str) -> dict:
    r = runner.invoke(app, ["marketing", "attribution", *args, "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_every_model_side_by_side_on_the_demo(demo) -> None:
    ws, _ = demo
    a = _json(ws, *ADS, "--bootstrap", "30")
    assert a["ok"] and a["reason"] is None and a["campaigns"]["%Search%"] == "search_ads"
    assert [m["model"] for m in a["models"]] == [
        "first", "last", "linear", "position", "time_decay", "markov", "shapley"]
    assert {"search_ads", "social_ads", "email", "store", "support", "web"} <= set(
        a["channels_seen"])
    touched = a["conversions"] - a["untouched_conversions"]
    for m in a["models"]:
        assert sum(c["conversions"] for c in m["channels"]) == pytest.approx(touched)
        for c in m["channels"]:
            assert {"channel", "conversions", "revenue", "removal_effect", "low",
                    "high"} <= set(c)
            data_driven = m["model"] in ("markov", "shapley")
            assert (c["low"] is not None) == data_driven
            assert (c["removal_effect"] is not None) == (m["model"] == "markov")


def test_one_model_of_order_two_and_the_tables(demo) -> None:
    ws, _ = demo
    a = _json(ws, "--model", "markov", "--order", "2", "--bootstrap", "0")
    assert [m["model"] for m in a["models"]] == ["markov"] and a["order"] == 2
    web = next(c for c in a["models"][0]["channels"] if c["channel"] == "web")
    assert 0 < web["removal_effect"] <= 1 and web["low"] is None
    r = runner.invoke(app, ["marketing", "attribution", "-w", str(ws), "--bootstrap", "10",
                            "--first-purchase", "--lookback", "14"])
    assert r.exit_code == 0, r.output
    assert "Share of conversions by model" in r.output and "removal" in r.output


@pytest.mark.parametrize(("args", "msg"), [
    (["--model", "magic"], "is not a model"),
    (["--campaign", "nochannel"], "PATTERN=CHANNEL"),
    (["--start", "2026-02-01", "--end", "2026-01-01"], "--start must be before --end"),
    (["--start", "yesterday"], "is not a date"),
    (["--currency", "euro"], "is not a currency code"),
])
def test_bad_options_are_a_user_error(demo, args, msg) -> None:
    ws, _ = demo
    r = runner.invoke(app, ["marketing", "attribution", "-w", str(ws), *args])
    # main() prints a UserError and exits with its code, 2 (the runner shows the exception)
    assert isinstance(r.exception, UserError) and msg in str(r.exception)
    assert UserError.exit_code == 2


def test_a_workspace_without_events_says_so(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "ws"):
        pass
    r = runner.invoke(app, ["marketing", "attribution", "-w", str(tmp_path / "ws")])
    assert r.exit_code == 0 and "no touchpoints or orders in the selection" in r.output
    a = _json(tmp_path / "ws")
    assert a["reason"] == "no touchpoints or orders in the selection" and a["paths"] == 0
