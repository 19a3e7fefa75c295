"""The Planner page over HTTP on the S demo: the curves' chart and table with intervals, the
recommended split beside today's, the scenario form and its result, the CSV, a workspace
without spend says why, bad parameters a 422, and the page in Finnish and Swedish."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_helpers import demo_home_with_orders, quick_argon2, sign_in

ONCE = "order_id,ts,amount,email\no1,2026-01-10 10:00:00,10,a@x.fi\n"


@pytest.fixture(scope="module")
def viewer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app, _ = demo_home_with_orders(tmp_path_factory.mktemp("planner_pages"),
                                   {"once": ("Once Oy", ONCE)})
    with TestClient(app), quick_argon2():
        yield sign_in(TestClient(app), "viewer@demo.fi")


def test_the_page_shows_curves_plan_and_scenario(viewer: TestClient) -> None:
    r = viewer.get("/w/demo/planner?budget=3000&days=30&channel=search_ads&amount=2000"
                   "&channel=social_ads&amount=1000&lang=en")
    assert r.status_code == 200, r.text[:300]
    html = r.text
    for part in ('id="chart-curves"', 'id="curves"', 'id="recommended"', 'id="current"',
                 'id="gain"', 'id="scenario-form"', 'id="scenario"', "search_ads",
                 "social_ads", "Recommended split"):
        assert part in html, part
    csv = viewer.get("/w/demo/planner.csv")
    assert csv.status_code == 200 and "search_ads" in csv.text
    default = viewer.get("/w/demo/planner")  # a budget at the recent pace
    assert default.status_code == 200 and 'id="recommended"' in default.text


@pytest.mark.parametrize(("lang", "word"), [("fi", "Suositeltu jako"),
                                            ("sv", "Rekommenderad fördelning")])
def test_the_page_speaks_finnish_and_swedish(viewer: TestClient, lang: str, word: str) -> None:
    r = viewer.get(f"/w/demo/planner?budget=3000&lang={lang}")
    assert r.status_code == 200 and word in r.text


def test_a_workspace_without_spend_says_why(viewer: TestClient) -> None:
    r = viewer.get("/w/once/planner?lang=en")
    assert r.status_code == 200 and 'id="planner-empty"' in r.text
    assert "no spend rows" in r.text


@pytest.mark.parametrize("query", ["budget=-1", "days=0", "outcome=profit",
                                   "channel=search_ads", "channel=a&amount=-3"])
def test_bad_parameters_are_422(viewer: TestClient, query: str) -> None:
    assert viewer.get(f"/w/demo/planner?{query}").status_code == 422
