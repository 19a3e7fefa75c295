"""One error shape for the JSON API, pinned here."""

from __future__ import annotations

from web_helpers import Site


def test_the_error_shape_is_pinned(site: Site) -> None:
    r = site.client().get("/api/w/acme/summary")
    assert r.status_code == 401
    assert r.json() == {"ok": False, "error": "sign in, or send 'Authorization: Bearer "
                        "<API token>'", "status": 401}
    r = site.api(site.tokens["acme"]["read"]).get("/api/w/nope/summary")
    assert r.json() == {"ok": False, "error": "no such workspace", "status": 404}
    r = site.api("cx_not_a_token").get("/api/w/acme")
    assert r.json() == {"ok": False, "error": "the API token is not valid (unknown or revoked)",
                        "status": 401}
    r = site.api(site.tokens["acme"]["write"]).post("/api/w/acme/batches/x/rollback")
    body = r.json()
    assert r.status_code == 422 and body["ok"] is False and body["status"] == 422
    assert body["errors"][0]["loc"] == ["path", "batch"]
    r = site.api(site.tokens["acme"]["write"]).post("/api/w/acme/batches/7/rollback")
    assert r.json() == {"ok": False, "error": "no batch 7", "status": 400, "type": "UserError",
                        "hint": "see `cxlens batches`"}


def test_unknown_api_path_and_oversized_body(site: Site) -> None:
    r = site.client().get("/api/nothing-here")
    assert r.json() == {"ok": False, "error": "Not Found", "status": 404}
    big = b"x" * (site.settings.max_body_bytes + 1)
    r = site.api(site.tokens["acme"]["write"]).post(
        "/api/w/acme/batches/1/rollback", content=big,
        headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["ok"] is False and r.json()["status"] == 413


def test_pages_get_an_html_error_and_openapi_is_served(site: Site) -> None:
    r = site.member("ann@acme.fi").get("/w/beta/")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert site.client().get("/docs").status_code == 200
    paths = site.client().get("/openapi.json").json()["paths"]
    assert "/api/w/{slug}/ingest" in paths and "/signin" not in paths
