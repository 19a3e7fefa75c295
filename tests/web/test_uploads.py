"""Hostile uploads cost the server nothing, and no upload outlives its use (issue 15).

A real ``cxlens serve`` takes the 1.4 KB corner-cell workbook from an ingest-only token and
through the Data page: a 4xx with a message, the server still answers, and
``<workspace>/uploads/`` is empty afterwards. In-process tests cover the rest of the upload
life: finished, refused, never confirmed, left over from an earlier run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from web_helpers import PASSWORD, Site, csrf_of, sign_in

from cxlens.web import db, uploads
from cxlens.web.app import create_app
from cxlens.web.pages import data as data_page
from cxlens.web.workspaces import create_token, workspace_by_slug
from served import make_home, serve
from workbooks import package, two_corner_cells

ORDERS = ("order_id,ts,amount,email\nU-1,2026-03-01 10:00:00,12.50,u1@example.fi\n"
          "U-2,2026-03-02 10:00:00,oops,u2@example.fi\n")


def _left(workspace: Path) -> list[str]:
    folder = workspace / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _lying_workbook(tmp: Path) -> bytes:
    """Declares A1, holds a cell at XFD1048576: only the child's own scan sees it."""
    def lie(parts: dict[str, bytes]) -> None:
        parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
            b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
                             b"</sheetData>")

    return package(tmp / "lie.xlsx", [["order_id"], ["A"]], dimension="A1",
                   mutate=lie).read_bytes()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("uploads")
    home = root / "home"
    make_home(home, PASSWORD)
    con = db.connect(home / "app.sqlite3")
    try:
        ws = workspace_by_slug(con, "acme")
        assert ws is not None
        token = create_token(con, ws, "ingest only", "ingest", None)
    finally:
        con.close()
    with serve(home, root / "server.log") as (url, proc):
        yield {"url": url, "proc": proc, "token": token, "root": root,
               "workspace": home / "workspaces" / "acme"}


def test_corner_cell_workbook_through_the_api(served: dict) -> None:
    api = httpx.Client(base_url=served["url"], timeout=60,
                       headers={"Authorization": f"Bearer {served['token']}"})
    r = api.post("/api/w/acme/ingest", data={"kind": "orders"},
                 files={"file": ("corner.xlsx", two_corner_cells())})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["ok"] is False
    assert "A1:XFD1048576" in body["error"] and "20,000,000 cells" in body["error"]
    assert "CSV" in body["hint"]
    # The same cells behind a declared A1: the child refuses, the server never reads it.
    r = api.post("/api/w/acme/ingest", data={"kind": "orders"},
                 files={"file": ("lie.xlsx", _lying_workbook(served["root"]))})
    assert r.status_code == 422 and "has cells spanning A1:XFD1048576" in r.json()["error"]
    # Still serving, and still loading files.
    assert served["proc"].poll() is None
    assert httpx.get(f"{served['url']}/signin", timeout=10).status_code == 200
    ok = api.post("/api/w/acme/ingest", data={"kind": "orders"},
                  files={"file": ("orders.csv", ORDERS.encode())})
    assert ok.status_code == 200, ok.text
    assert (ok.json()["rows_in"], ok.json()["loaded"], ok.json()["quarantined"]) == (2, 1, 1)
    assert _left(served["workspace"]) == []


def test_corner_cell_workbook_through_the_data_page(served: dict) -> None:
    web = httpx.Client(base_url=served["url"], timeout=60)
    token = csrf_of(web.get("/signin").text)
    assert web.post("/signin", data={"email": "ops@acme.fi", "password": PASSWORD,
                                     "csrf_token": token}).status_code == 303
    token = csrf_of(web.get("/w/acme/data").text)
    r = web.post("/w/acme/data/upload", data={"kind": "orders", "csrf_token": token},
                 files={"file": ("corner.xlsx", two_corner_cells())})
    assert r.status_code == 400
    assert "A1:XFD1048576" in r.text and "20,000,000 cells" in r.text
    assert served["proc"].poll() is None
    assert web.get("/w/acme/data").status_code == 200
    assert _left(served["workspace"]) == []


def test_refused_and_finished_api_uploads_are_deleted(site: Site) -> None:
    api = site.api(site.tokens["acme"]["ingest"])
    workspace = site.settings.workspaces_dir / "acme"
    ok = api.post("/api/w/acme/ingest", data={"kind": "orders"},
                  files={"file": ("orders.csv", ORDERS.encode())})
    assert ok.status_code == 200, ok.text
    refused = api.post("/api/w/acme/ingest", data={"kind": "orders"},
                       files={"file": ("empty.csv", b"order_id,ts,amount\n")})
    assert refused.status_code == 422
    assert _left(workspace) == []


def test_a_mapping_proposal_is_still_answered_after_its_upload_is_gone(site: Site) -> None:
    api = site.api(site.tokens["acme"]["ingest"])
    r = api.post("/api/w/acme/ingest", data={"kind": "orders"},
                 files={"file": ("odd.csv", b"Tilaus,Milloin\nA,2026-01-01\n")})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"] == "MappingUnsure" and "kind: orders" in body["proposal_yaml"]
    workspace = site.settings.workspaces_dir / "acme"
    assert _left(workspace) == []
    assert (workspace / "proposals" / Path(body["proposal"]).name).is_file()


def _preview(client: TestClient, name: str, content: bytes) -> tuple[str, str]:
    token = csrf_of(client.get("/w/acme/data").text)
    r = client.post("/w/acme/data/upload", data={"kind": "orders", "csrf_token": token},
                    files={"file": (name, content)})
    assert r.status_code == 200, r.text
    confirm = re.search(r'action="(/w/acme/data/upload/[^"/]+)"', r.text).group(1)
    return confirm, token


def test_data_page_uploads_go_when_done_refused_or_never_confirmed(site: Site) -> None:
    ann = site.member("ann@acme.fi")
    workspace = site.settings.workspaces_dir / "acme"
    # Done: the job's file goes when the batch is loaded.
    confirm, token = _preview(ann, "orders.csv", ORDERS.encode())
    assert len(_left(workspace)) == 1  # held while the preview waits
    job = ann.post(confirm, data={"csrf_token": token}, follow_redirects=False)
    job_id = job.headers["location"].rsplit("/", 1)[1]
    deadline = time.monotonic() + 60
    while ann.get(f"/api/w/acme/jobs/{job_id}").json()["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert ann.get(f"/api/w/acme/jobs/{job_id}").json()["status"] == "done"
    assert _left(workspace) == []
    # Refused at preview.
    r = ann.post("/w/acme/data/upload", data={"kind": "orders", "csrf_token": token},
                 files={"file": ("empty.csv", b"order_id,ts,amount\n")})
    assert r.status_code == 400 and _left(workspace) == []
    # Never confirmed: the expiry forgets the job and deletes its file.
    confirm, token = _preview(ann, "later.csv", ORDERS.encode())
    assert len(_left(workspace)) == 1
    assert data_page.expire_jobs(site.app, max_age=3600) == 0  # not yet
    assert data_page.expire_jobs(site.app, max_age=0) == 2  # and the finished job
    assert _left(workspace) == []
    late = ann.post(confirm, data={"csrf_token": token}, follow_redirects=False)
    assert late.status_code == 404


def test_uploads_of_an_earlier_run_are_deleted_at_start(site: Site) -> None:
    workspace = site.settings.workspaces_dir / "beta"
    for sub in ("uploads", "proposals"):
        (workspace / sub).mkdir(exist_ok=True)
        (workspace / sub / "20250101T000000-stale.csv").write_text("x")
    app = create_app(site.settings)
    with TestClient(app):
        assert _left(workspace) == []
        assert list((workspace / "proposals").iterdir()) == []


def test_the_sweep_spares_held_and_young_files(tmp_path: Path) -> None:
    ws = tmp_path / "workspaces" / "w"
    (ws / "uploads").mkdir(parents=True)
    old, young = ws / "uploads" / "old.csv", ws / "uploads" / "young.csv"
    for f in (old, young):
        f.write_text("x")
    held = ws / "uploads" / "held.csv"
    held.write_text("x")
    uploads._in_use.add(held)
    try:
        import os

        os.utime(old, (time.time() - 7200, time.time() - 7200))
        os.utime(held, (time.time() - 7200, time.time() - 7200))
        assert uploads.sweep(tmp_path / "workspaces") == 1
        assert sorted(p.name for p in (ws / "uploads").iterdir()) == ["held.csv", "young.csv"]
    finally:
        uploads.discard(held)


def test_a_shared_strings_blow_up_through_the_api_with_lowered_limits(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory limit lowered so that a 60 MB shared-strings workbook exceeds it: the
    child is stopped, the answer names the limit, and the upload is gone."""
    import dataclasses

    from cxlens.sources import excel

    monkeypatch.setattr(excel, "LIMITS", dataclasses.replace(excel.LIMITS,
                                                             memory_bytes=400 << 20))
    rows: list[list[object]] = [["order_id", "note"]]
    rows += [[f"O{i}", f"{i:06d}" + "x" * 2000] for i in range(30_000)]
    book = package(tmp_path / "strings.xlsx", rows).read_bytes()
    api = site.api(site.tokens["acme"]["ingest"])
    r = api.post("/api/w/acme/ingest", data={"kind": "orders"},
                 files={"file": ("strings.xlsx", book)})
    assert r.status_code == 422, r.text
    assert "more than the 400 MiB memory limit" in r.json()["error"]
    assert _left(site.settings.workspaces_dir / "acme") == []
    assert site.api(site.tokens["acme"]["read"]).get("/api/w/acme/batches").status_code == 200


def test_the_server_expires_unconfirmed_uploads_by_itself(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweeper task of a running app, made quick: a preview nobody confirms loses its
    file and its job without any further request."""
    monkeypatch.setattr(data_page, "SWEEP_EVERY_SECONDS", 0.05)
    monkeypatch.setattr(uploads, "MAX_AGE_SECONDS", 0)
    app = create_app(site.settings)
    workspace = site.settings.workspaces_dir / "acme"
    with TestClient(app) as client:
        ann = sign_in(client, "ann@acme.fi")
        _preview(ann, "orders.csv", ORDERS.encode())
        deadline = time.monotonic() + 30
        while _left(workspace) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _left(workspace) == []
        _, jobs = data_page._app_jobs(app)
        assert jobs == {}
