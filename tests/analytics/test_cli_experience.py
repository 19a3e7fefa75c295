"""`cxlens experience …` prints what the analytics compute, as tables or JSON."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.errors import UserError

runner = CliRunner()


def test_score_by_month_as_json_has_n_and_intervals(demo) -> None:
    ws, _ = demo
    r = runner.invoke(app, ["experience", "score", "nps", "--period", "month", "-w", str(ws),
                            "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["scores"]
    assert rows and all(row["n"] > 0 and "low" in row["value"] for row in rows)
    assert all(row["too_small"] == (row["n_eff"] < 30) for row in rows)


def test_drivers_table_lists_the_planted_order(demo) -> None:
    ws, _ = demo
    r = runner.invoke(app, ["experience", "drivers", "csat", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    order = [r.output.index(a) for a in ("Delivery", "Product quality", "Staff", "Price")]
    assert order == sorted(order)


def test_people_and_a_bad_date(demo) -> None:
    ws, _ = demo
    r = runner.invoke(app, ["experience", "people", "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    assert "T-FI-TRE" in r.output
    bad = runner.invoke(app, ["experience", "score", "nps", "--start", "31.02.2026",
                              "-w", str(ws)])
    assert bad.exit_code != 0


def test_score_weighted_to_the_customers(demo) -> None:
    from cxlens.analytics import weighting
    from cxlens.analytics.experience import score
    from cxlens.warehouse.store import open_engine

    ws, _ = demo
    r = runner.invoke(app, ["experience", "score", "nps", "--weight-by", "country", "-w",
                            str(ws), "--json"])
    assert r.exit_code == 0, r.output
    with open_engine(ws) as eng:
        ref = score(eng, "nps", weights=weighting.poststratify(eng, "nps", "country").weights)
    assert json.loads(r.output)["scores"][0]["value"]["value"] == ref[0].value.value
    both = runner.invoke(app, ["experience", "score", "nps", "--weights", "w",
                               "--weight-by", "country", "-w", str(ws)])
    assert both.exit_code != 0
    unknown = runner.invoke(app, ["experience", "score", "nps", "--weights", "w", "-w", str(ws)])
    assert unknown.exit_code != 0


def test_value_by_promoter_group(demo) -> None:
    ws, _ = demo
    r = runner.invoke(app, ["experience", "value", "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert {g["group"] for g in data["groups"]} == {"promoter", "passive", "detractor"}
    assert [w["days"] for w in data["worth"]] == [90, 180]
    assert data["n_boot"] == 2000 and data["seed"] == 0
    w90 = data["worth"][0]
    assert w90["repurchase_difference"]["method"] == "newcombe"
    assert {g["revenue"]["method"] for g in data["groups"]} == {"bca-bootstrap"}
    human = runner.invoke(app, ["experience", "value", "--days", "60", "-w", str(ws)])
    assert human.exit_code == 0 and "one detractor turned promoter, 60 days" in human.output
    assert "BCa bootstrap" in human.output and "points (Newcombe)" in human.output


def test_changes_by_group_and_period_and_bad_input(demo) -> None:
    ws, truths = demo
    r = runner.invoke(app, ["experience", "changes", "enps", "--by", "team_id", "-w", str(ws)])
    assert r.exit_code == 0, r.output
    assert truths["people_link"]["low_enps_team"] in r.output and "significant" in r.output
    r = runner.invoke(app, ["experience", "changes", "nps", "--period", "quarter", "-w",
                            str(ws), "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert "segments" not in body and body["grain"] == "quarter"
    assert body["periods"]["current"]["n"] > 0 and 0 <= body["periods"]["p_value"] <= 1
    for bad, says in [([], "--by DIM"), (["--by", "nope"], "unknown dimension"),
                      (["--by", "store_id", "--filter", "country"], "dimension:value"),
                      (["--by", "store_id", "--weight-by", "country", "--shares", "FI:x"],
                       "positive number"),
                      (["--by", "store_id", "--shares", "FI:1"], "--weight-by too"),
                      (["--period", "year"], "grain"),
                      (["--by", "store_id", "--on", "median"], "on must be")]:
        r = runner.invoke(app, ["experience", "changes", "nps", *bad, "-w", str(ws)])
        assert r.exit_code != 0, bad
        assert isinstance(r.exception, UserError) and says in str(r.exception), (bad, r)


def test_score_with_filters(demo) -> None:
    ws, _ = demo
    both = runner.invoke(app, ["experience", "score", "nps", "--json", "-w", str(ws),
                               "--filter", "country:FI", "--filter", "country:SE"])
    fi = runner.invoke(app, ["experience", "score", "nps", "--json", "-w", str(ws),
                             "--filter", "country:FI"])
    assert both.exit_code == 0 and fi.exit_code == 0, both.output + fi.output
    assert 0 < json.loads(fi.output)["scores"][0]["n"] < json.loads(both.output)["scores"][0]["n"]


def test_new_options_reach_the_analytics_and_are_checked(demo) -> None:
    """--n-boot/--seed (drivers, value) and --min-answers (people), the API's parameters."""
    ws, _ = demo
    r = runner.invoke(app, ["experience", "drivers", "csat", "--n-boot", "60", "--seed", "4",
                            "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert (body["n_boot"], body["seed"]) == (60, 4) and body["drivers"]
    r = runner.invoke(app, ["experience", "people", "--min-answers", "100000", "-w", str(ws),
                            "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["min_answers"] == 100000 and body["n_teams"] == 0  # no team has that many
    r = runner.invoke(app, ["experience", "value", "--n-boot", "200", "--seed", "9",
                            "-w", str(ws), "--json"])
    assert r.exit_code == 0 and (json.loads(r.output)["n_boot"], json.loads(r.output)["seed"]) \
        == (200, 9)
    for bad in (["drivers", "--n-boot", "10"], ["value", "--n-boot", "50"],
                ["people", "--min-answers", "0"], ["value", "--days", "0"],
                ["drivers", "--method", "pca"], ["score", "nps", "--filter", "shoe:42"],
                ["people", "--start", "2026-02-01", "--end", "2026-01-01"]):
        r = runner.invoke(app, ["experience", *bad, "-w", str(ws)])
        assert r.exit_code != 0, bad


def test_overview_gives_the_overview_numbers(demo) -> None:
    from datetime import date

    from cxlens.analytics import overview as ov
    from cxlens.warehouse.store import open_engine

    ws, _ = demo
    r = runner.invoke(app, ["overview", "--days", "365", "--grain", "month", "--as-of",
                            "2026-06-30", "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    period = ov.period_ending(date(2026, 6, 30), 365)
    with open_engine(ws) as eng:
        totals = {c.name: c.current for c in ov.totals(eng, period)}
        nps = ov.nps(eng, period)
        trend = ov.trends(eng, period, "month")
    assert {t["name"]: t["current"] for t in body["totals"]} == totals
    assert body["nps"]["nps"] == nps.score and body["nps"]["n"] == nps.n > 0
    assert [t["orders"] for t in body["trends"]] == [t.orders for t in trend]
    assert body["start"] == str(period.start) and len(body["nps_trend"]) >= 12
    human = runner.invoke(app, ["overview", "--as-of", "2026-06-30", "-w", str(ws)])
    assert human.exit_code == 0 and "NPS" in human.output and "orders" in human.output
    for bad in (["--days", "7"], ["--grain", "year"], ["--as-of", "30.6.2026"]):
        r = runner.invoke(app, ["overview", *bad, "-w", str(ws)])
        assert r.exit_code != 0 and isinstance(r.exception, UserError), bad
