"""API tokens: created by the owner and shown once, listed by prefix, scoped, revocable."""

from __future__ import annotations

import re

from web_helpers import Site, page_csrf

from cxlens.web import db


def test_token_is_shown_once_and_listed_by_prefix(site: Site) -> None:
    c = site.member("ann@acme.fi")
    r = c.post("/w/acme/settings/tokens", data={"name": "pipeline", "scope": "ingest",
                                                 "csrf_token": page_csrf(c, "/w/acme/settings")})
    token = re.search(r"<code>(cx_[^<]+)</code>", r.text).group(1)
    page = c.get("/w/acme/settings").text
    assert token not in page and token[:10] + "…" in page
    con = db.connect(site.settings.db_path)
    assert not con.execute("SELECT 1 FROM api_tokens WHERE token_hash = ? OR prefix = ?",
                           [token, token]).fetchall()
    assert site.api(token).get("/api/w/acme").status_code == 403  # ingest cannot read


def test_scopes(site: Site) -> None:
    t = site.tokens["acme"]
    assert site.api(t["read"]).get("/api/w/acme/summary").status_code == 200
    assert site.api(t["write"]).get("/api/w/acme/summary").status_code == 200
    assert site.api(t["ingest"]).get("/api/w/acme/summary").status_code == 403
    # rollback needs write: read and ingest tokens are refused before anything happens
    assert site.api(t["read"]).post("/api/w/acme/batches/1/rollback").status_code == 403
    assert site.api(t["ingest"]).post("/api/w/acme/batches/1/rollback").status_code == 403
    assert site.api(t["write"]).post("/api/w/acme/batches/1/rollback").status_code == 400
    # ingest needs ingest (or write)
    csv = (b"order_id,ts,amount,email\n1,2026-01-02 10:00:00,12.50,a@x.fi\n")
    files = {"file": ("orders.csv", csv, "text/csv")}
    r = site.api(t["read"]).post("/api/w/acme/ingest", data={"kind": "orders"}, files=files)
    assert r.status_code == 403
    r = site.api(t["ingest"]).post("/api/w/acme/ingest", data={"kind": "orders"}, files=files)
    assert r.status_code == 200, r.text
    assert r.json()["rows_in"] == 1 and r.json()["loaded"] == 1 and r.json()["balanced"]
    info = site.api(t["read"]).get("/api/w/acme").json()
    assert info == {"ok": True, "slug": "acme", "name": "Acme", "role": None,
                    "scopes": ["read"]}


def test_a_path_needs_the_local_token(site: Site) -> None:
    r = site.api(site.tokens["acme"]["write"]).post(
        "/api/w/acme/ingest", data={"kind": "orders", "path": "/etc/passwd"})
    assert r.status_code == 403
    r = site.api("cxlocal_guess").post("/api/w/acme/ingest",
                                       data={"kind": "orders", "path": "/etc/passwd"})
    assert r.status_code == 401


def test_revoked_token_stops_working(site: Site) -> None:
    token = site.tokens["acme"]["read"]
    assert site.api(token).get("/api/w/acme").status_code == 200
    c = site.member("ann@acme.fi")
    con = db.connect(site.settings.db_path)
    token_id = con.execute("SELECT id FROM api_tokens WHERE name = 'read token' AND "
                           "workspace_id = (SELECT id FROM workspaces WHERE slug = 'acme')"
                           ).fetchone()[0]
    assert con.execute("SELECT last_used_at FROM api_tokens WHERE id = ?",
                       [token_id]).fetchone()[0]
    r = c.post(f"/w/acme/settings/tokens/{token_id}/revoke",
               data={"csrf_token": page_csrf(c, "/w/acme/settings")}, follow_redirects=False)
    assert r.status_code == 303
    assert site.api(token).get("/api/w/acme").status_code == 401
    assert "revoked" in c.get("/w/acme/settings").text


def test_only_the_owner_manages_tokens(site: Site) -> None:
    from cxlens.web.accounts import create_user
    from cxlens.web.workspaces import add_member, workspace_by_slug

    con = db.connect(site.settings.db_path)
    user = create_user(con, "ana@acme.fi", "another long password")
    add_member(con, workspace_by_slug(con, "acme"), user, "analyst")
    from web_helpers import sign_in

    c = sign_in(site.client(), "ana@acme.fi", "another long password")
    assert c.get("/w/acme/").status_code == 200
    assert c.get("/w/acme/settings").status_code == 403
    r = c.post("/w/acme/settings/tokens", data={"name": "x", "scope": "write",
                                                 "csrf_token": page_csrf(c)})
    assert r.status_code == 403
