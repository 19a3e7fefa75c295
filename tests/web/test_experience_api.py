"""The experience API (``/api/w/{slug}/experience/…``): known answers on a six-answer
workspace computed by hand, the demo's planted truths, the same numbers as the analytics
functions and the pages, parameters refused with a clear 422, tokens and isolation."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from scipy import stats
from web_helpers import demo_home, quick_argon2, sign_in

from cxlens.analytics import experience as exp
from cxlens.analytics._intervals import nps_difference, nps_interval
from cxlens.web.workspaces import create_token, create_workspace

# Customers a, b, c in FI and d in SE (75 % / 25 %). NPS answers:
#   r1 a FI web 10 Jan (weight 2)   r3 d SE store 10 Jan (weight 1)
#   r2 b FI web  0 Jan (weight 1)   r4 d SE store  7 Feb (no weight)
#   r6 c FI web  3 Jan (weight 1)   r5 —  store    0 Feb (weight 0.5; no customer)
CUSTOMERS = """email,country,segment
a@x.fi,FI,B2C
b@x.fi,FI,B2C
c@x.fi,FI,B2B
d@x.se,SE,B2B
"""
FEEDBACK = """response_id,ts,metric,score,email,touchpoint,store_id,weight
r1,2026-01-05 10:00:00,nps,10,a@x.fi,web,WEB,2
r2,2026-01-06 10:00:00,nps,0,b@x.fi,web,WEB,1
r3,2026-01-07 10:00:00,nps,10,d@x.se,store,S1,1
r4,2026-02-03 10:00:00,nps,7,d@x.se,store,S1,
r5,2026-02-04 10:00:00,nps,0,,store,S1,0.5
r6,2026-01-08 10:00:00,nps,3,c@x.fi,web,WEB,1
"""
ORDERS = """order_id,ts,amount,email
o0,2025-12-01 10:00:00,500,a@x.fi
o1,2026-01-20 10:00:00,100,a@x.fi
o2,2026-05-15 10:00:00,50,a@x.fi
o3,2026-02-01 10:00:00,20,b@x.fi
o4,2026-03-01 10:00:00,40,c@x.fi
"""
API = "/api/w/hand/experience"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Workspace ``demo`` (S demo) and ``hand`` (the answers above), with tokens."""
    from cxlens.ingest.load import ingest
    from cxlens.warehouse.store import open_warehouse

    root = tmp_path_factory.mktemp("experience_api")

    def extra(con, ws, owner) -> dict:
        hand, _ = create_workspace(con, ws.path.parent, "hand", "Hand Oy", owner)
        tokens = {s: create_token(con, ws, s, s, owner) for s in ("read", "write", "ingest")}
        return {"hand_path": hand.path, "demo_path": ws.path, "tokens": tokens,
                "hand_read": create_token(con, hand, "read", "read", owner)}

    with quick_argon2():
        app, more = demo_home(root, extra)
        files = root / "hand-files"
        files.mkdir()
        with open_warehouse(more["hand_path"]) as wh:
            for kind, body in (("customers", CUSTOMERS), ("orders", ORDERS),
                               ("feedback", FEEDBACK)):
                (files / f"{kind}.csv").write_text(body, encoding="utf-8")
                assert ingest(wh, files / f"{kind}.csv", kind).balanced
        with TestClient(app):
            yield {"app": app, **more}


@pytest.fixture(scope="module")
def hand(site: dict) -> TestClient:
    return TestClient(site["app"], headers={"Authorization": f"Bearer {site['hand_read']}"})


@pytest.fixture(scope="module")
def demo(site: dict) -> TestClient:
    return TestClient(site["app"],
                      headers={"Authorization": f"Bearer {site['tokens']['read']}"})


def get(client: TestClient, url: str, status: int = 200) -> dict:
    r = client.get(url)
    assert r.status_code == status, (url, r.text[:500])
    return r.json()


# --- known answers ---------------------------------------------------------------------------


def test_score_overall_with_its_interval(hand) -> None:
    body = get(hand, f"{API}/score")
    assert body["ok"] and body["min_sample"] == 30 and body["weighting"] is None
    (s,) = body["scores"]
    # 2 promoters (r1, r3), 1 passive (r4), 3 detractors of 6: NPS −16.7
    ref = nps_interval(2 / 6, 3 / 6, 6)
    assert s["n"] == 6 and s["too_small"] and s["value"]["method"] == "nps-adjusted-wald"
    assert s["value"]["value"] == pytest.approx(-100 / 6)
    assert (s["value"]["low"], s["value"]["high"]) == pytest.approx((ref.low, ref.high))
    assert s["share"]["value"] == pytest.approx(100 * 2 / 6)
    assert s["detractors"]["value"] == pytest.approx(50.0)
    assert s["mean"]["value"] == pytest.approx(30 / 6)


def test_score_by_group_period_and_filter(hand) -> None:
    by = {s["group"]: s for s in get(hand, f"{API}/score?by=touchpoint")["scores"]}
    assert by["web"]["value"]["value"] == pytest.approx(-100 / 3) and by["web"]["n"] == 3
    assert by["store"]["value"]["value"] == pytest.approx(0.0)
    months = get(hand, f"{API}/score?period=month")["scores"]
    assert [(m["bucket"], m["n"], m["value"]["value"]) for m in months] == [
        ("2026-01-01", 4, 0.0), ("2026-02-01", 2, -50.0)]
    se = get(hand, f"{API}/score?filter=country:SE")
    assert se["filters"] == {"country": ["SE"]}
    assert se["scores"][0]["value"]["value"] == pytest.approx(50.0)
    both = get(hand, f"{API}/score?filter=country:SE&filter=country:FI")["scores"][0]
    assert both["n"] == 5  # r5 has no customer, so no country
    window = get(hand, f"{API}/score?start=2026-02-01&end=2026-03-01")["scores"][0]
    assert window["n"] == 2


def test_score_with_weights_the_answers_carry(hand) -> None:
    body = get(hand, f"{API}/score?weights=weight")
    assert body["weighting"]["weights"] == "weight"
    (s,) = body["scores"]
    # r4 has no weight: promoters 2 + 1, detractors 1 + 0.5 + 1 of 5.5 → NPS 9.09
    assert s["n"] == 5 and s["value"]["value"] == pytest.approx(100 * 0.5 / 5.5)
    assert s["n_eff"] == pytest.approx(5.5 ** 2 / 7.25)  # Kish: (Σw)² / Σw²


def test_score_weighted_to_the_customer_base(hand) -> None:
    body = get(hand, f"{API}/score?weight_by=country")
    w = body["weighting"]
    assert (w["weight_by"], w["population"], w["answers"], w["left_out"]) == (
        "country", "customers", 6, 1)
    assert [(c["group"], c["population"], c["answers"], c["sample"], c["weight"])
            for c in w["cells"]] == [("FI", 75.0, 3, 60.0, 1.25), ("SE", 25.0, 2, 40.0, 0.625)]
    (s,) = body["scores"]
    # FI −33.3 and SE 50 in the customers' mix 75/25: −12.5 (unweighted −16.7)
    assert s["value"]["value"] == pytest.approx(-12.5) and s["n"] == 5
    given = get(hand, f"{API}/score?weight_by=country&shares=FI:1,SE:1")
    assert given["weighting"]["population"] == "given"
    assert given["scores"][0]["value"]["value"] == pytest.approx((-100 / 3 + 50) / 2)


def test_changes_periods_and_segments(hand) -> None:
    body = get(hand, f"{API}/changes?by=touchpoint")
    p = body["periods"]
    assert (p["current_period"], p["previous_period"]) == (
        ["2026-02-01", "2026-03-01"], ["2026-01-01", "2026-02-01"])
    assert p["difference"]["value"] == pytest.approx(-50.0)
    assert p["current"]["n"] == 2 and p["previous"]["n"] == 4 and p["current"]["too_small"]
    seg = {t["group"]: t for t in body["segments"]}
    diff, pv = nps_difference(1 / 3, 2 / 3, 3, 1 / 3, 1 / 3, 3)
    web = seg["web"]
    assert web["difference"]["value"] == pytest.approx(diff.value)
    assert web["difference"]["low"] == pytest.approx(diff.low)
    assert web["p_value"] == pytest.approx(pv)
    assert web["q_value"] == pytest.approx(pv)  # two tests with the same p: q = p·2/2
    assert web["segment"]["n"] == 3 and web["rest"]["n"] == 3 and not web["significant"]
    assert body["alpha"] == 0.05


@pytest.mark.parametrize("query, args", [
    ("by=touchpoint&grain=month", ["--by", "touchpoint", "--period", "month"]),
    ("by=store_id&grain=quarter&on=mean&weights=weight&start=2026-01-01",
     ["--by", "store_id", "--period", "quarter", "--on", "mean", "--weights", "weight",
      "--start", "2026-01-01"]),
    ("by=touchpoint&grain=month&weight_by=country&shares=FI:60,SE:40&filter=store_id:WEB"
     "&filter=store_id:S1",
     ["--by", "touchpoint", "--period", "month", "--weight-by", "country",
      "--shares", "FI:60,SE:40", "--filter", "store_id:WEB", "--filter", "store_id:S1"]),
])
def test_cli_changes_gives_the_api_json(site, hand, query: str, args: list[str]) -> None:
    """``cxlens experience changes`` is the /changes endpoint from a shell: the same
    parameters give the same JSON (issue 8: every API result is also a CLI command)."""
    import json

    from typer.testing import CliRunner

    from cxlens.cli import app

    api = get(hand, f"{API}/changes?{query}")
    # the server holds the warehouse open for writing; the CLI opens it read-only after it
    site["app"].state.warehouses.get(site["hand_path"]).close()
    r = CliRunner().invoke(app, ["experience", "changes", "nps", *args,
                                 "-w", str(site["hand_path"]), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == api
    i = args.index("--period")
    no_period = args[:i] + args[i + 2:]  # the weighting keeps the API's default month
    r = CliRunner().invoke(app, ["experience", "changes", "nps", *no_period,
                                 "-w", str(site["hand_path"]), "--json"])
    body = json.loads(r.output)
    assert "periods" not in body and body["grain"] is None
    if "--weight-by" not in args or args[i + 1] == "month":
        assert body["segments"] == api["segments"]


@pytest.mark.parametrize("endpoint, query, args", [
    ("score", "metric=csat&by=store_id&period=quarter&start=2025-01-01&filter=country:FI",
     ["score", "csat", "--by", "store_id", "--period", "quarter", "--start", "2025-01-01",
      "--filter", "country:FI"]),
    ("score", "metric=nps&by=touchpoint&weight_by=country&shares=FI:50,SE:50",
     ["score", "nps", "--by", "touchpoint", "--weight-by", "country", "--shares",
      "FI:50,SE:50"]),
    ("drivers", "metric=csat&method=shapley&n_boot=60&seed=9",
     ["drivers", "csat", "--method", "shapley", "--n-boot", "60", "--seed", "9"]),
    ("people", "min_answers=12&start=2025-06-01",
     ["people", "--min-answers", "12", "--start", "2025-06-01"]),
    ("value", "days=30&days=200&n_boot=250&seed=4&as_of=2026-06-01",
     ["value", "--days", "30", "--days", "200", "--n-boot", "250", "--seed", "4",
      "--as-of", "2026-06-01"]),
])
def test_cli_gives_the_api_json(site, demo, endpoint: str, query: str,
                                args: list[str]) -> None:
    """Every experience endpoint is also a command: ``cxlens experience ENDPOINT`` with the
    same parameters as options prints the endpoint's JSON (issue 8)."""
    import json

    from typer.testing import CliRunner

    from cxlens.cli import app

    api = get(demo, f"/api/w/demo/experience/{endpoint}?{query}")
    site["app"].state.warehouses.get(site["demo_path"]).close()  # the CLI opens it read-only
    r = CliRunner().invoke(app, ["experience", *args, "-w", str(site["demo_path"]), "--json"])
    assert r.exit_code == 0, (r.output, r.exception)
    assert json.loads(r.output) == api


def test_value_by_promoter_group(hand) -> None:
    body = get(hand, f"{API}/value?as_of=2026-08-01")
    g = {(x["days"], x["group"]): x for x in body["groups"]}
    assert body["observed_until"] == "2026-08-01T00:00:00"
    # 90 days: promoters a 100, d 0; detractors b 20, c 40 (o0 predates the answer)
    assert g[(90, "promoter")]["revenue"]["value"] == pytest.approx(50.0)
    assert g[(90, "promoter")]["repurchase"]["value"] == pytest.approx(50.0)
    assert g[(90, "detractor")]["revenue"]["value"] == pytest.approx(30.0)
    assert g[(90, "passive")]["n"] == 0 and g[(90, "passive")]["revenue"]["value"] is None
    assert g[(180, "promoter")]["revenue"]["value"] == pytest.approx(75.0)  # o2 too
    assert all(x["too_small"] for x in body["groups"])
    w90 = next(w for w in body["worth"] if w["days"] == 90)
    assert w90["promoter_minus_detractor"]["value"] == pytest.approx(20.0)
    assert w90["promoter_minus_detractor"]["se"] == pytest.approx(math.sqrt(2600))
    ref = stats.ttest_ind([100, 0], [20, 40], equal_var=False)
    assert w90["p_value"] == pytest.approx(ref.pvalue)
    assert (w90["n_promoters"], w90["n_detractors"], w90["too_small"]) == (2, 2, True)
    # repurchase 1/2 against 2/2: −50 points with Newcombe's interval
    assert w90["repurchase_difference"]["value"] == pytest.approx(-50.0)
    assert w90["repurchase_difference"]["method"] == "newcombe"
    # two customers are too few to bootstrap: the mean comes without an interval
    assert g[(90, "promoter")]["revenue"]["low"] is None
    assert (body["n_boot"], body["seed"]) == (2000, 0)
    only = get(hand, f"{API}/value?as_of=2026-08-01&days=30&days=60&n_boot=500&seed=3")
    assert sorted({x["days"] for x in only["groups"]}) == [30, 60]
    assert (only["n_boot"], only["seed"]) == (500, 3)


def test_drivers_without_ratings_is_a_200_that_says_why(hand) -> None:
    body = get(hand, f"{API}/drivers")
    assert body["ok"] and not body["available"] and "attribute ratings" in body["reason"]
    assert body["drivers"] == []


# --- the demo ---------------------------------------------------------------------------------


def test_drivers_both_methods_put_delivery_first(demo) -> None:
    for method in ("johnson", "shapley"):
        body = get(demo, f"/api/w/demo/experience/drivers?method={method}&n_boot=100")
        assert body["available"] and body["method"] == method and body["n_boot"] == 100
        first = body["drivers"][0]
        assert first["attribute"] == "Delivery" and first["rank"] == 1
        assert first["importance"]["low"] <= first["importance"]["value"] <= \
            first["importance"]["high"]
        assert sum(d["importance"]["value"] for d in body["drivers"]) == \
            pytest.approx(body["r2"]["value"])
        assert body["n"] >= 30 and not body["too_small"]


def test_people_flags_the_planted_team(demo) -> None:
    body = get(demo, "/api/w/demo/experience/people")
    assert "T-FI-TRE" in body["low_enps_teams"]
    team = next(t for t in body["teams"] if t["team_id"] == "T-FI-TRE")
    assert team["low_enps"] and team["enps_vs_rest"]["q_value"] < 0.05
    assert team["enps"]["n"] > 0 and "too_small" in team["enps"]
    assert body["correlation"]["method"] == "fisher-z"


def test_the_same_numbers_as_the_analytics_and_the_page(site, demo) -> None:
    """The API calls the analytics functions the page calls: same window, same numbers."""
    body = get(demo, "/api/w/demo/experience/score?by=store_id&start=2024-12-01"
                     "&end=2026-11-28")
    api = body["scores"]
    # the stores by the names the HR list gives them, on the page too
    assert body["group_names"]["FI-TRE"] == "Tampere Ratina"
    wh = site["app"].state.warehouses.get(site["hand_path"].parent / "demo")
    with wh.engine() as eng:
        ref = exp.score(eng, "nps", by="store_id", start=date(2024, 12, 1),
                        end=date(2026, 11, 28))
    assert [(s["group"], s["n"], s["value"]["value"]) for s in api] == [
        (r.group, r.n, pytest.approx(r.value.value)) for r in ref]
    viewer = sign_in(TestClient(site["app"]), "viewer@demo.fi")
    html = viewer.get("/w/demo/experience?metric=nps&by=store_id&months=24"
                      "&as_of=2026-11-27").text
    for s in api:
        assert f"<td class=\"num\">{s['value']['value']:.2f}</td>" in html, s["group"]
    assert "Tampere Ratina (FI-TRE)" in html


# --- parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "says"), [
    ("score?metric=foo", "query.metric"),
    ("score?metrc=nps", "metrc"),  # a misspelt parameter is refused, not ignored
    ("score?by=customer.email", "query.by"),  # groups, never persons
    ("score?period=year", "query.period"),
    ("score?start=2026-02-01&end=2026-01-01", "start must be before end"),
    ("score?start=yesterday", "query.start"),
    ("score?filter=country", "dimension:value"),
    ("score?filter=email:a@x.fi", "'email' is not one of"),
    ("score?weights=nope", "keys that do: weight"),
    ("score?weights=weight&weight_by=country", "not both"),
    ("score?shares=FI:1", "give weight_by too"),
    ("score?weight_by=country&shares=FI:-1", "positive number"),
    ("score?weight_by=country&shares=FI", "group:share"),
    ("score?weight_by=city", "no customer has a city"),
    ("changes?on=median", "query.on"),
    ("changes?grain=year", "query.grain"),
    ("drivers?method=ols", "query.method"),
    ("drivers?n_boot=10", "query.n_boot"),
    ("people?min_answers=0", "query.min_answers"),
    ("value?days=0", "query.days"),
    ("value?days=abc", "query.days"),
    ("value?as_of=2026-13-01", "query.as_of"),
])
def test_bad_parameters_are_a_clear_422(hand, query: str, says: str) -> None:
    body = get(hand, f"{API}/{query}", status=422)
    assert body["ok"] is False and body["status"] == 422
    assert says in body["error"], body["error"]


def test_no_data_yet_is_an_empty_answer_not_an_error(site) -> None:
    from cxlens.web import db
    from cxlens.web.accounts import user_by_email

    con = db.connect(site["app"].state.settings.db_path)
    try:
        owner = user_by_email(con, "owner@demo.fi")
        empty, _ = create_workspace(con, site["hand_path"].parent, "void", "Void", owner)
        token = create_token(con, empty, "r", "read", owner)
    finally:
        con.close()
    client = TestClient(site["app"], headers={"Authorization": f"Bearer {token}"})
    for what in ("score", "changes", "drivers", "people", "value"):
        assert get(client, f"/api/w/void/experience/{what}")["ok"], what
    assert get(client, "/api/w/void/experience/score")["scores"][0]["n"] == 0
    assert get(client, "/api/w/void/experience/value")["groups"] == []


# --- who may read it -------------------------------------------------------------------------


def test_tokens_and_members(site) -> None:
    app, tokens = site["app"], site["tokens"]
    url = "/api/w/demo/experience/score"
    for scope, status in (("read", 200), ("write", 200), ("ingest", 403)):
        r = TestClient(app, headers={"Authorization": f"Bearer {tokens[scope]}"}).get(url)
        assert r.status_code == status, scope
    assert TestClient(app).get(url).status_code == 401
    bogus = TestClient(app, headers={"Authorization": "Bearer cx_not_a_token"}).get(url)
    assert bogus.status_code == 401
    viewer = sign_in(TestClient(app), "viewer@demo.fi")
    assert viewer.get(url).status_code == 200
    assert viewer.get("/api/w/hand/experience/score").status_code == 404  # not a member
    other = TestClient(app, headers={"Authorization": f"Bearer {site['hand_read']}"})
    for what in ("score", "changes", "drivers", "people", "value"):
        r = other.get(f"/api/w/demo/experience/{what}")
        assert r.status_code == 404 and r.json()["error"] == "no such workspace", what


def test_the_isolation_test_enumerates_the_new_routes(site) -> None:
    from cxlens.web.app import route_table

    paths = {p for p, _ in route_table(site["app"])}
    for what in ("score", "changes", "drivers", "people", "value"):
        assert f"/api/w/{{slug}}/experience/{what}" in paths


def test_openapi_documents_the_models(site) -> None:
    spec = TestClient(site["app"]).get("/openapi.json").json()
    op = spec["paths"]["/api/w/{slug}/experience/score"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"metric", "by", "period", "start", "end", "filter", "weights", "weight_by",
            "shares"} <= names
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/ScoresOut")
    assert "ScoreOut" in spec["components"]["schemas"]


def test_the_allowed_groups_are_analytics_dimensions() -> None:
    from cxlens.web.api.experience_models import GROUP_DIMENSIONS

    assert set(exp.DIMENSIONS) <= set(GROUP_DIMENSIONS)
    assert set(GROUP_DIMENSIONS) - set(exp.DIMENSIONS) == {"customer.language"}
