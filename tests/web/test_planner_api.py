"""``GET /api/w/{slug}/marketing/curves`` and ``/marketing/plan`` on the S demo: the
answers, the fit kept under the data version, and a clear 422 for every bad parameter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_helpers import demo_home, quick_argon2

from cxlens.web.workspaces import create_token, create_workspace

API = "/api/w/demo/marketing"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("planner_api")

    def extra(con, ws, owner) -> dict:
        empty, _ = create_workspace(con, ws.path.parent, "empty", "Tyhjä Oy", owner)
        return {"read": create_token(con, ws, "read", "read", owner),
                "empty_read": create_token(con, empty, "read", "read", owner)}

    with quick_argon2():
        app, more = demo_home(root, extra)
        with TestClient(app):
            yield {"app": app, **more}


def _client(site, token: str = "read") -> TestClient:
    return TestClient(site["app"], headers={"Authorization": f"Bearer {site[token]}"})


def test_curves_and_a_plan(site) -> None:
    c = _client(site)
    r = c.get(f"{API}/curves?n_boot=10")
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["outcome"] == "new_customers" and body["currency"] == "EUR"
    assert {ch["channel"] for ch in body["channels"]} == {"search_ads", "social_ads"}
    for ch in body["channels"]:
        assert 0 <= ch["decay"] <= 1 and ch["k"] > 0 and "decay" in ch["intervals"]
    r = c.get(f"{API}/plan?budget=2000&n_boot=10&split=search_ads=1500,social_ads=500")
    assert r.status_code == 200, r.text[:300]
    p = r.json()
    assert sum(a["amount"] for a in p["recommended"]["channels"]) == pytest.approx(2000.0)
    assert p["current"]["budget"] == pytest.approx(2000.0)
    assert p["scenario"]["channels"][0]["amount"] == pytest.approx(1500.0)


@pytest.mark.parametrize(("query", "says"), [
    ("plan", "give budget, target or split"),
    ("plan?budget=-5", "budget"),
    ("plan?budget=100&days=0", "days"),
    ("plan?budget=100&split=tv-5", "CHANNEL=AMOUNT"),
    ("plan?budget=100&split=tv=5&n_boot=0", "no channel 'tv'"),
    ("plan?budget=100&committed=search_ads=80,social_ads=80&n_boot=0",
     "below the current commitments"),
    ("curves?outcome=profit", "outcome"),
    ("curves?n_boot=5000", "n_boot"),
])
def test_bad_parameters_are_422(site, query: str, says: str) -> None:
    r = _client(site).get(f"{API}/{query}")
    assert r.status_code == 422, r.text[:300]
    assert says in r.text


def test_a_workspace_without_spend_is_a_422_that_says_why(site) -> None:
    r = _client(site, "empty_read").get("/api/w/empty/marketing/curves?n_boot=0")
    assert r.status_code == 422 and "no spend rows" in r.text
