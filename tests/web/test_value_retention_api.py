"""``GET /api/w/{slug}/value/cohorts``, ``/rfm``, ``/customers``, ``/distribution`` and
``/channels`` on the S demo: the same functions as the CLI, clear 422s for bad requests, and
an answer (not an error) for a workspace without purchases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_helpers import demo_home, quick_argon2

from cxlens.web.workspaces import create_token, create_workspace

BASE = "/api/w/{slug}/value/"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("value_retention_api")

    def extra(con, ws, owner) -> dict:
        empty, _ = create_workspace(con, ws.path.parent, "empty", "Tyhjä Oy", owner)
        return {"read": create_token(con, ws, "read", "read", owner),
                "empty_read": create_token(con, empty, "read", "read", owner)}

    with quick_argon2():
        app, more = demo_home(root, extra)
        with TestClient(app):
            yield {"app": app, **more}


def _get(site, path: str, token: str = "read", slug: str = "demo"):
    client = TestClient(site["app"], headers={"Authorization": f"Bearer {site[token]}"})
    return client.get(BASE.format(slug=slug) + path)


def test_cohorts_and_rfm(site) -> None:
    r = _get(site, "cohorts")
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["by"] == "month" and body["customers"] > 200
    cell = body["cohorts"][0]["cells"][1]
    assert cell["retention"]["method"] == "wilson" and cell["customers"] > 0
    by_channel = _get(site, "cohorts?by=channel").json()
    assert {c["key"] for c in by_channel["cohorts"]} >= {"web", "store"}
    r = _get(site, "rfm?months=3")
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert sum(s["customers"] for s in body["segments"]) == body["customers"]
    assert len(body["month_ends"]) == 4 and body["moves"]


def test_customers_and_channels(site) -> None:
    r = _get(site, "customers?top=5")
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert len(body["rows"]) == 5 and body["model"] in ("bgnbd", "paretonbd")
    clvs = [row["clv"]["value"] for row in body["rows"]]
    assert clvs == sorted(clvs, reverse=True)
    risk = _get(site, "customers?at_risk=true&top=3").json()
    assert risk["at_risk"] and len(risk["rows"]) <= 3
    assert all(row["p_alive_then"] - row["p_alive"]["value"] >= 0.1 for row in risk["rows"])
    ch = _get(site, "channels").json()
    assert ch["by"] == "channel" and {r["group"] for r in ch["rows"]} >= {"web", "store"}
    dist = _get(site, "distribution?bins=8&months=6").json()
    assert dist["horizon_months"] == 6 and dist["mean"]["low"] < dist["mean"]["value"]
    assert sum(b["customers"] for b in dist["bins"]) == dist["customers"] > 200
    nps = _get(site, "channels?by=nps_group").json()
    assert [r["group"] for r in nps["rows"]] == ["promoter", "passive", "detractor"]


def test_bad_requests_and_an_empty_workspace(site) -> None:
    for path, code in (("cohorts?by=week", 422), ("rfm?months=0", 422),
                       ("customers?top=0", 422), ("customers?discount=2", 422),
                       ("channels?by=store", 422), ("cohorts?currency=eur", 422),
                       ("distribution?bins=101", 422)):
        assert _get(site, path).status_code == code, path
    r = _get(site, "cohorts?channel=fax")
    assert r.status_code == 422 and "choose one of" in r.text
    for path in ("cohorts", "rfm", "customers", "distribution", "channels"):
        r = _get(site, path, token="empty_read", slug="empty")
        assert r.status_code == 200 and r.json()["ok"] is False, path
        assert "no purchases" in r.json()["reason"], path
