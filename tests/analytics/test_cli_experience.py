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
