"""``GET /api/w/{slug}/value/fit`` on the S demo (``value_fit_out``, which the CLI prints too),
a clear 422 for a bad request, and an answer (not an error) for a workspace without
purchases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_helpers import demo_home, quick_argon2

from cxlens.web.workspaces import create_token, create_workspace

API = "/api/w/{slug}/value/fit"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("value_api")

    def extra(con, ws, owner) -> dict:
        empty, _ = create_workspace(con, ws.path.parent, "empty", "Tyhjä Oy", owner)
        return {"demo_path": ws.path, "read": create_token(con, ws, "read", "read", owner),
                "empty_read": create_token(con, empty, "read", "read", owner)}

    with quick_argon2():
        app, more = demo_home(root, extra)
        with TestClient(app):
            yield {"app": app, **more}


def test_the_api_and_the_cli_give_the_same_fit(site) -> None:
    client = TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})
    r = client.get(API.format(slug="demo"))
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["ok"] and body["unit"] == "week" and body["customers"] > 200
    assert {p["name"] for p in body["purchases"]["parameters"]} in (
        {"r", "alpha", "a", "b"}, {"r", "alpha", "s", "beta"})
    assert [c["model"] for c in body["candidates"]] == ["bgnbd", "paretonbd"]
    # the CLI prints the same model (tests/analytics/value/test_cli.py)


def test_bad_requests_and_an_empty_workspace(site) -> None:
    client = TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})
    r = client.get(API.format(slug="demo") + "?calibration_end=2026-12-01&end=2026-11-01")
    assert r.status_code == 422 and "must be before the end" in r.text
    assert client.get(API.format(slug="demo") + "?model=lifetimes").status_code == 422
    empty = TestClient(site["app"], headers={"Authorization": f"Bearer {site['empty_read']}"})
    r = empty.get(API.format(slug="empty"))
    assert r.status_code == 200 and r.json() == {
        "ok": False, "reason": r.json()["reason"]} and "no purchases" in r.json()["reason"]
