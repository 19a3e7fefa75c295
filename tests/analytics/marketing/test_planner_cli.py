"""``cxlens marketing curves`` and ``cxlens marketing plan`` on the S demo, and the bad
input the planner refuses with a message (exit code 2): spend in several currencies, too few
weeks, a budget below the commitments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxlens.analytics.marketing import mmm
from cxlens.cli import app
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_engine, open_warehouse

runner = CliRunner()


def _run(ws: Path, *args: str) -> tuple[int, str]:
    r = runner.invoke(app, ["marketing", *args, "-w", str(ws)])
    return r.exit_code, r.output


def test_curves_and_plan_on_the_demo(demo) -> None:
    ws, truths = demo
    code, text = _run(ws, "curves", "--bootstrap", "10", "--json")
    assert code == 0, text
    body = json.loads(text)
    assert {c["channel"] for c in body["channels"]} == set(truths["spend_response"]["curves"])
    code, text = _run(ws, "curves", "--bootstrap", "5")
    assert code == 0 and "Response curves" in text and "social_ads" in text
    code, text = _run(ws, "plan", "--budget", "3000", "--bootstrap", "10", "--split",
                      "search_ads=2000,social_ads=1000", "--json")
    assert code == 0, text
    p = json.loads(text)
    assert sum(a["amount"] for a in p["recommended"]["channels"]) == pytest.approx(3000.0)
    assert p["scenario"]["budget"] == pytest.approx(3000.0)
    code, text = _run(ws, "plan", "--budget", "3000", "--bootstrap", "5")
    assert code == 0 and "Recommended" in text and "Current split" in text


def test_a_budget_below_the_commitments_is_refused(demo) -> None:
    ws, _ = demo
    r = runner.invoke(app, ["marketing", "plan", "--budget", "100", "--committed",
                            "search_ads=90,social_ads=90", "--bootstrap", "0", "-w", str(ws)])
    assert r.exit_code != 0
    assert "below the current commitments" in str(r.exception) + r.output


SPEND = "date,channel,amount,currency\n" + "".join(
    f"2025-01-{d:02d},search_ads,{100 + d}.00,{cur}\n"
    for d in range(1, 29) for cur in (["EUR"] if d % 2 else ["EUR", "SEK"])[-1:])


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mmm_bad")
    (root / "spend.csv").write_text(SPEND, encoding="utf-8")
    with open_warehouse(root / "ws") as con:
        ingest(con, root / "spend.csv", "spend")
    return root / "ws"


def test_spend_in_several_currencies_is_refused(small: Path) -> None:
    with open_engine(small) as eng, pytest.raises(mmm.MMMError,
                                                  match="several currencies") as exc:
        mmm.read_series(eng)
    assert "EUR: 14" in str(exc.value) and "SEK: 14" in str(exc.value)


def test_four_weeks_are_too_few(tmp_path: Path) -> None:
    (tmp_path / "spend.csv").write_text(SPEND.replace("SEK", "EUR"), encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        ingest(con, tmp_path / "spend.csv", "spend")
    code, _ = _run(tmp_path / "ws", "curves")
    assert code != 0
    with open_engine(tmp_path / "ws") as eng, pytest.raises(mmm.MMMError,
                                                            match="at least 26 weeks"):
        mmm.fit(eng)
