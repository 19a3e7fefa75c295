"""One error shape for the JSON API, pinned here; the catch-all 500 with its reference;
paths out of HTTP answers; dry runs need the read scope."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi import APIRouter
from web_helpers import Site, page_csrf

from cxlens.web import errors
from cxlens.web.errors import public_fields, without_folders
from helpers import corrupt_parquet

ORDERS = "order_id;ts;amount;email\nA1;2026-01-05 10:00:00;10.50;anna@example.fi\n"


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


# ------------------------------------------------------------------ the catch-all (a 500)


def _boom_router() -> APIRouter:
    """Test-only routes that fail the way a bug does (not a UserError, not HTTPException)."""
    router = APIRouter()

    @router.get("/api/test-only/boom")
    def api_boom() -> None:
        raise RuntimeError("secret detail /srv/cxlens/workspaces/acme/warehouse.duckdb")

    @router.get("/w/test-only/boom")
    def page_boom() -> None:
        raise ZeroDivisionError("secret page detail")

    @router.post("/v1/test-only-boom")
    def v1_boom() -> None:
        raise ValueError("secret v1 detail")

    @router.get("/test-only/boom-json")
    async def async_boom() -> None:
        raise KeyError("secret key")

    return router


def test_an_unexpected_error_is_the_json_shape_with_a_logged_reference(
        site: Site, caplog: pytest.LogCaptureFixture) -> None:
    site.app.include_router(_boom_router())
    with caplog.at_level(logging.ERROR, logger="cxlens.web"):
        r = site.api(site.tokens["acme"]["read"]).get("/api/test-only/boom")
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"ok", "error", "status", "hint", "reference"}
    assert body["ok"] is False and body["status"] == 500
    ref = body["reference"]
    assert re.fullmatch(r"[0-9a-f]{8}", ref) and ref in body["error"]
    assert "secret" not in r.text and "Traceback" not in r.text
    logged = [rec for rec in caplog.records if ref in rec.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log
    assert "secret detail" in str(logged[0].exc_info[1])


def test_an_unexpected_error_on_a_page_is_the_error_page(site: Site) -> None:
    site.app.include_router(_boom_router())
    r = site.member("ann@acme.fi").get("/w/test-only/boom")
    assert r.status_code == 500 and "text/html" in r.headers["content-type"]
    ref = re.search(r"reference ([0-9a-f]{8})", r.text)
    assert ref and "secret" not in r.text and "Traceback" not in r.text
    r = site.client().get("/test-only/boom-json", headers={"Accept": "application/json"})
    assert r.status_code == 500 and r.json()["status"] == 500 and "secret" not in r.text


def test_an_unexpected_error_on_v1_also_speaks_segment(site: Site) -> None:
    site.app.include_router(_boom_router())
    r = site.client().post("/v1/test-only-boom", json={})
    body = r.json()
    assert r.status_code == 500 and body["ok"] is False and body["success"] is False
    assert body["code"] == "server_error" and body["reference"] in body["message"]
    assert "secret" not in r.text
    assert r.headers["access-control-allow-origin"] == "*"  # the browser SDK can read it


# ----------------------------------------------------------- paths out of HTTP answers


def test_an_upload_error_names_the_file_not_the_server_folder(site: Site,
                                                              tmp_path: Path) -> None:
    bad = corrupt_parquet(tmp_path / "answers.parquet")
    r = site.api(site.tokens["acme"]["ingest"]).post(
        "/api/w/acme/ingest", data={"kind": "feedback"},
        files={"file": ("answers.parquet", bad.read_bytes())})
    body = r.json()
    assert r.status_code == 422 and body["type"] == "InputError", body
    assert body["file"].endswith("-answers.parquet") and "/" not in body["file"]
    assert str(site.settings.home) not in r.text and "/uploads/" not in r.text
    assert body["error"].startswith("cannot read the file")


def test_the_examples_in_the_docstrings_hold() -> None:
    import doctest

    from cxlens import csv_out

    for module in (errors, csv_out):
        assert doctest.testmod(module, raise_on_error=True).attempted > 0, module


def test_without_folders_keeps_urls_and_relative_paths() -> None:
    text = 'cannot read "/home/x/ws/uploads/2026-a.csv" (see https://h/a/b, docs/web.md)'
    assert without_folders(text) == 'cannot read "2026-a.csv" (see https://h/a/b, docs/web.md)'
    assert public_fields({"file": "/a/b/c.csv", "line": 3}) == {"file": "c.csv", "line": 3}


def test_an_upload_page_error_names_the_file_not_the_server_folder(site: Site) -> None:
    owner = site.member("ann@acme.fi")
    token = page_csrf(owner, "/w/acme/data")
    r = owner.post("/w/acme/data/upload", data={"kind": "orders", "csrf_token": token},
                   files={"file": ("empty.csv", b"")})
    assert r.status_code == 400 and "empty.csv" in r.text
    assert "/uploads/" not in r.text and str(site.settings.home) not in r.text


def test_a_loaded_batch_answers_with_the_file_name_only(site: Site) -> None:
    r = site.api(site.tokens["acme"]["ingest"]).post(
        "/api/w/acme/ingest", data={"kind": "orders"},
        files={"file": ("o.csv", ORDERS.encode())})
    assert r.status_code == 200, r.text
    assert r.json()["file"].endswith("-o.csv") and "/" not in r.json()["file"]
    listed = site.api(site.tokens["acme"]["read"]).get("/api/w/acme/batches").json()
    assert listed["batches"][0]["source_file"] == r.json()["file"]


# ------------------------------------------------------- dry runs need the read scope


def test_an_ingest_only_token_cannot_dry_run(site: Site) -> None:
    """A dry run stores nothing, so ``changed: 1`` would only tell an ingest-only token
    that a record key exists: it needs ``read`` (a write token has it)."""
    files = {"file": ("o.csv", ORDERS.encode())}
    ingest = site.api(site.tokens["acme"]["ingest"])
    assert ingest.post("/api/w/acme/ingest", data={"kind": "orders"},
                       files=files).status_code == 200
    changed = ORDERS.replace("10.50", "99.00").encode()
    r = ingest.post("/api/w/acme/ingest", data={"kind": "orders", "dry_run": "true"},
                    files={"file": ("o.csv", changed)})
    assert r.status_code == 403 and "read" in r.json()["error"], r.text
    assert "changed" not in r.json()
    r = site.api(site.tokens["acme"]["write"]).post(
        "/api/w/acme/ingest", data={"kind": "orders", "dry_run": "true"},
        files={"file": ("o.csv", changed)})
    assert r.status_code == 200 and r.json()["changed"] == 1 and r.json()["dry_run"]
