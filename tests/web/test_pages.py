"""The pages of issue 3 over HTTP: each renders for a member of a small S-demo workspace,
CSV downloads hold the table's numbers, annotations CRUD with CSRF, the upload flow end to
end, and what a viewer may not do."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD, sign_in
from cxlens.demo import generate
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_warehouse
from cxlens.web import db
from cxlens.web.accounts import create_user
from cxlens.web.app import create_app
from cxlens.web.settings import WebSettings
from cxlens.web.workspaces import add_member, create_token, create_workspace

AS_OF = "2026-11-27"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A home with workspace ``demo`` (S demo loaded): owner, analyst and viewer."""
    from argon2 import PasswordHasher

    from cxlens.web import security

    saved = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    root = tmp_path_factory.mktemp("pages")
    settings = WebSettings.load(home=root / "home")
    app = create_app(settings)
    con = db.connect(settings.db_path)
    try:
        owner = create_user(con, "owner@demo.fi", PASSWORD)
        ws, _ = create_workspace(con, settings.workspaces_dir, "demo", "Demo Oy", owner)
        for email, role in (("analyst@demo.fi", "analyst"), ("viewer@demo.fi", "viewer")):
            add_member(con, ws, create_user(con, email, PASSWORD), role)
        read_token = create_token(con, ws, "read", "read", owner)
        write_token = create_token(con, ws, "write", "write", owner)
    finally:
        con.close()
    manifest = generate(root / "files", size="S", seed=7)
    with open_warehouse(ws.path) as wh:
        for f in manifest.files:
            ingest(wh, f.path, f.kind, preset=f.preset)
    with TestClient(app):
        yield {"app": app, "root": root, "read": read_token, "write": write_token}
    security._hasher = saved


def member(demo: dict, who: str) -> TestClient:
    return sign_in(TestClient(demo["app"]), f"{who}@demo.fi")


@pytest.fixture(scope="module")
def owner(demo: dict) -> TestClient:
    return member(demo, "owner")


@pytest.fixture(scope="module")
def viewer(demo: dict) -> TestClient:
    return member(demo, "viewer")


@pytest.fixture(scope="module")
def analyst(demo: dict) -> TestClient:
    return member(demo, "analyst")


def text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.parametrize("path", ["/w/demo/", "/w/demo/customers", "/w/demo/data",
                                  "/w/demo/annotations", f"/w/demo/?as_of={AS_OF}&days=30"
                                  "&grain=day", "/w/demo/?days=365&grain=month"])
def test_each_page_renders_for_every_role(path: str, owner, analyst, viewer) -> None:
    for client in (owner, analyst, viewer):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:2000])
        assert "Demo Oy" in r.text
