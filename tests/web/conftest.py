"""Fixtures for the web tests: a temporary home, the app, signed-in clients, tokens.

``site`` builds two workspaces, ``acme`` (owner ann) and ``beta`` (owner bob), each with a
read, a write and an ingest token, so tests (isolation above all) have A and B to compare.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import PASSWORD, Site

from cxlens.web import db
from cxlens.web.accounts import create_user
from cxlens.web.app import create_app
from cxlens.web.settings import WebSettings
from cxlens.web.workspaces import create_token, create_workspace


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with small costs: the tests check the logic, not the work factor."""
    from argon2 import PasswordHasher

    from cxlens.web import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                            parallelism=1))


@pytest.fixture
def settings(tmp_path: Path) -> WebSettings:
    return WebSettings.load(home=tmp_path / "home", login_max_failures=3,
                            login_max_failures_ip=6)


@pytest.fixture
def site(settings: WebSettings) -> Iterator[Site]:
    app = create_app(settings)
    s = Site(settings, app)
    con = db.connect(settings.db_path)
    try:
        for slug, email in (("acme", "ann@acme.fi"), ("beta", "bob@beta.se")):
            user = create_user(con, email, PASSWORD)
            ws, key = create_workspace(con, settings.workspaces_dir, slug, slug.title(), user)
            s.write_keys[slug] = key
            s.tokens[slug] = {scope: create_token(con, ws, f"{scope} token", scope, user)
                              for scope in ("read", "write", "ingest")}
    finally:
        con.close()
    with TestClient(app):  # runs the lifespan, so warehouses are closed at the end
        yield s
