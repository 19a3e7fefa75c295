"""Helpers the web tests share: sign-in, form tokens and the two-workspace site.

A module of its own (not conftest.py) so that tests import it by a unique name: importing
from ``conftest`` breaks as soon as pytest collects another folder's conftest first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cxlens.web.settings import WebSettings

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no csrf_token field in the page"
    return m.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD,
            expect: int = 303) -> TestClient:
    token = csrf_of(client.get("/signin").text)
    r = client.post("/signin", data={"email": email, "password": password, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == expect, r.text
    return client


def page_csrf(client: TestClient, path: str = "/account") -> str:
    return csrf_of(client.get(path).text)


@dataclass
class Site:
    settings: WebSettings
    app: FastAPI
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    write_keys: dict[str, str] = field(default_factory=dict)

    def client(self) -> TestClient:
        return TestClient(self.app)

    def member(self, email: str) -> TestClient:
        return sign_in(self.client(), email)

    def api(self, token: str) -> TestClient:
        return TestClient(self.app, headers={"Authorization": f"Bearer {token}"})


@contextmanager
def quick_argon2() -> Iterator[None]:
    """Argon2 with small costs for a module-scoped fixture (the autouse one is per test)."""
    from argon2 import PasswordHasher

    from cxlens.web import security

    saved = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        yield
    finally:
        security._hasher = saved


def demo_home(root: Path, extra: Callable[[Any, Any, Any], dict[str, Any]] | None = None
              ) -> tuple[FastAPI, dict[str, Any]]:
    """A server home with workspace ``demo`` (the S demo, seed 7, loaded through ingest)
    and its members owner@, analyst@ and viewer@demo.fi; ``extra(con, workspace, owner)``
    adds more (tokens, other workspaces) and returns what the tests need of it."""
    from cxlens.demo import generate
    from cxlens.ingest.load import ingest
    from cxlens.warehouse.store import open_warehouse
    from cxlens.web import db
    from cxlens.web.accounts import create_user
    from cxlens.web.app import create_app
    from cxlens.web.workspaces import add_member, create_workspace

    settings = WebSettings.load(home=root / "home")
    app = create_app(settings)
    con = db.connect(settings.db_path)
    try:
        owner = create_user(con, "owner@demo.fi", PASSWORD)
        ws, _ = create_workspace(con, settings.workspaces_dir, "demo", "Demo Oy", owner)
        for email, role in (("analyst@demo.fi", "analyst"), ("viewer@demo.fi", "viewer")):
            add_member(con, ws, create_user(con, email, PASSWORD), role)
        more = extra(con, ws, owner) if extra else {}
    finally:
        con.close()
    manifest = generate(root / "files", size="S", seed=7)
    with open_warehouse(ws.path) as wh:
        for f in manifest.files:
            ingest(wh, f.path, f.kind, preset=f.preset)
    return app, more
