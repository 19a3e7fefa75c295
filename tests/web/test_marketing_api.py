"""``GET /api/w/{slug}/marketing/attribution`` on the S demo: the CLI's JSON, a clear 422
for every bad parameter, and an answer (not an error) for a workspace without journeys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_helpers import demo_home, quick_argon2

from cxlens.web.workspaces import create_token, create_workspace

API = "/api/w/{slug}/marketing/attribution"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("marketing_api")

    def extra(con, ws, owner) -> dict:
        empty, _ = create_workspace(con, ws.path.parent, "empty", "Tyhjä Oy", owner)
        return {"demo_path": ws.path, "read": create_token(con, ws, "read", "read", owner),
                "empty_read": create_token(con, empty, "read", "read", owner)}

    with quick_argon2():
        app, more = demo_home(root, extra)
        with TestClient(app):
            yield {"app": app, **more}


def _client(site, token: str = "read") -> TestClient:
    return TestClient(site["app"], headers={"Authorization": f"Bearer {site[token]}"})


def test_the_api_gives_the_models_side_by_side(site) -> None:
    # the CLI prints the same model with --json (attribution_out; tests/analytics/marketing/
    # test_cli.py), so only the API's own side is checked here
    query = ("?model=all&order=2&lookback=21&n_boot=20&campaign=%25Search%25%3Dsearch_ads"
             "&campaign=%25Prospecting%25%3Dsocial_ads")
    r = _client(site).get(API.format(slug="demo") + query)
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["ok"] and body["order"] == 2 and body["lookback_days"] == 21
    assert body["campaigns"] == {"%Search%": "search_ads", "%Prospecting%": "social_ads"}
    assert [m["model"] for m in body["models"]] == [
        "first", "last", "linear", "position", "time_decay", "markov", "shapley"]
    assert {"search_ads", "social_ads", "web", "store"} <= set(body["channels_seen"])
    markov = body["models"][-2]["channels"]
    assert all(c["removal_effect"] is not None and c["low"] <= c["high"] for c in markov)
    assert sum(c["conversion_share"] for c in markov) == pytest.approx(1.0)
    again = _client(site).get(API.format(slug="demo") + query).json()
    for m, n in zip(body["models"], again["models"], strict=True):  # the bootstrap is seeded
        # (time decay's sums of doubles may add up in another order: equal to 1e-9)
        for c, d in zip(m["channels"], n["channels"], strict=True):
            assert d["channel"] == c["channel"]
            for k, v in c.items():
                if isinstance(v, float):
                    assert d[k] == pytest.approx(v, rel=1e-9), (m["model"], k)


def test_one_model_with_a_selection(site) -> None:
    r = _client(site).get(API.format(slug="demo") + "?model=shapley&segment=B2C&n_boot=0"
                          "&conversion=first&start=2025-01-01&end=2027-01-01")
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["selection"]["segment"] == "B2C" and body["conversion"] == "first"
    assert [m["model"] for m in body["models"]] == ["shapley"]


@pytest.mark.parametrize("query", [
    "?model=magic", "?order=4", "?order=0", "?lookback=0", "?lookback=99999",
    "?conversion=some", "?half_life=0", "?n_boot=-1", "?campaign=nochannel",
    "?campaign=%3Dweb", "?start=2026-02-01&end=2026-01-01", "?start=9999-12-31",
    "?currency=euro", "?sale_touch=perhaps", "?unknown=1",
])
def test_bad_parameters_are_422(site, query: str) -> None:
    r = _client(site).get(API.format(slug="demo") + query)
    assert r.status_code == 422, (query, r.text[:300])
    assert r.json()["ok"] is False


def test_a_workspace_without_journeys_is_an_answer_saying_so(site) -> None:
    r = _client(site, "empty_read").get(API.format(slug="empty"))
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["reason"] == "no touchpoints or orders in the selection"
    assert body["paths"] == 0 and all(m["channels"] == [] for m in body["models"])
