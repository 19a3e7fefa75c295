"""Fixtures for the survey tests: the warehouse of ``survey_data`` and a served workspace."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from survey_data import TODAY, build_warehouse

from cxlens import clock
from cxlens.surveys import triggers
from cxlens.warehouse.store import open_warehouse


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "acme"
    build_warehouse(ws)
    return ws


@pytest.fixture
def con(workspace: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with open_warehouse(workspace) as c:
        yield c


@dataclass
class Served:
    app: FastAPI
    client: TestClient
    workspace: Path
    home: Path
    tokens: dict[str, str]


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """A home with workspace ``acme`` (owner ann@acme.fi), its warehouse built as above."""
    from argon2 import PasswordHasher

    from cxlens.web import db, security
    from cxlens.web.accounts import create_user
    from cxlens.web.app import create_app
    from cxlens.web.settings import WebSettings
    from cxlens.web.workspaces import create_token, create_workspace

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                            parallelism=1))
    settings = WebSettings.load(home=tmp_path / "home")
    app = create_app(settings)
    app.state.clock = clock.fixed(TODAY)  # the server's day is the data's day
    c = db.connect(settings.db_path)
    try:
        user = create_user(c, "ann@acme.fi", "correct horse battery")
        ws, _ = create_workspace(c, settings.workspaces_dir, "acme", "Acme", user)
        tokens = {scope: create_token(c, ws, scope, scope, user) for scope in ("read", "write")}
    finally:
        c.close()
    build_warehouse(ws.path)
    with open_warehouse(ws.path) as con:
        triggers.run(con, ws.path, TODAY)
    with TestClient(app) as client:
        yield Served(app, client, ws.path, settings.home, tokens)
