"""Files a real server run creates are its owner's only: 0600, folders 0700 (issue 15).

``app.sqlite3`` and its WAL files, ``warehouse.duckdb`` and its WAL, uploads and mapping
proposals hold customer data and secrets' hashes; they were created 0644. A real
``cxlens serve`` with an upload, an ingest handed over by the CLI and a proposal, then
every path under the home is checked.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx2 as httpx
import pytest

from cxlens.warehouse.store import private
from served import cli, make_home, serve

PASSWORD = "file modes password"


@pytest.fixture
def loose_umask():
    """The test process's umask as a typical shell has it: what the files got before."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _loose(home: Path) -> list[str]:
    bad = []
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            bad.append(f"{path.relative_to(home)} {oct(mode)}")
    return bad


def test_a_server_run_with_ingest_leaves_only_private_files(tmp_path: Path,
                                                            loose_umask: None) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    make_home(home, PASSWORD)
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,ts,amount,email\nO1,2026-03-01 12:00:00,10.50,a@x.fi\n",
                      encoding="utf-8")
    with serve(home, tmp_path / "server.log") as (url, _):
        with httpx.Client(base_url=url, timeout=60) as web:
            page = web.get("/signin").text
            csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
            assert web.post("/signin", data={"email": "ops@acme.fi", "password": PASSWORD,
                                             "csrf_token": csrf}).status_code == 303
            csrf = web.get("/account").text.split('name="csrf_token" value="')[1].split('"')[0]
            r = web.post("/api/w/acme/ingest", headers={"X-CSRF-Token": csrf},
                         data={"kind": "orders"},
                         files={"file": ("shop.csv", orders.read_bytes(), "text/csv")})
            assert r.status_code == 200, r.text
            # a header nobody can map: the server writes a mapping proposal (proposals/)
            r = web.post("/api/w/acme/ingest", headers={"X-CSRF-Token": csrf},
                         data={"kind": "orders"},
                         files={"file": ("odd.csv", b"foo,bar\n1,2\n", "text/csv")})
            assert r.status_code == 422, r.text
        done = cli("ingest", str(orders), "--kind", "orders", "--workspace",
                   str(home / "workspaces" / "acme"), home=home)
        assert done.returncode == 0, done.stderr
        workspace = home / "workspaces" / "acme"
        assert (workspace / "warehouse.duckdb").exists()
        assert any(workspace.rglob("*.mapping.yml"))
        assert not any(workspace.rglob("*shop.csv"))  # uploads go once loaded
        assert not _loose(home), _loose(home)
    assert not _loose(home), _loose(home)  # and after the server's final flush and stop


def test_files_of_an_older_install_are_tightened_when_opened(tmp_path: Path) -> None:
    from cxlens.warehouse.store import open_warehouse
    from cxlens.web import db

    app_db = tmp_path / "app.sqlite3"
    db.migrate(app_db)
    ws = tmp_path / "ws"
    with open_warehouse(ws):
        pass
    for path in (app_db, ws / "warehouse.duckdb"):
        path.chmod(0o644)
    db.migrate(app_db)
    with open_warehouse(ws):
        pass
    assert stat.S_IMODE(app_db.stat().st_mode) == 0o600
    assert stat.S_IMODE((ws / "warehouse.duckdb").stat().st_mode) == 0o600


def test_private_leaves_missing_files_alone(tmp_path: Path) -> None:
    private(tmp_path / "nothing here")  # no error
