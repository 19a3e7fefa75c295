"""Invitations: the owner makes a one-time link; accepting creates the user or adds them."""

from __future__ import annotations

import re

from web_helpers import PASSWORD, Site, csrf_of, page_csrf, sign_in

# The links start with the server's configured address (CXLENS_PUBLIC_URL, else where it
# listens: 127.0.0.1:8000 by default), never with the request's Host header.
BASE = "http://127.0.0.1:8000"


def invite(site: Site, email: str, role: str) -> str:
    ann = site.member("ann@acme.fi")
    r = ann.post("/w/acme/settings/invitations", headers={"Host": "evil.example"},
                 data={"email": email, "role": role,
                       "csrf_token": page_csrf(ann, "/w/acme/settings")})
    assert r.status_code == 200 and "evil.example" not in r.text
    link = re.search(rf"<code>({re.escape(BASE)}/invite/[^<]+)</code>", r.text).group(1)
    assert link not in ann.get("/w/acme/settings").text  # shown once
    return link.removeprefix(BASE)


def test_a_new_person_accepts_and_becomes_a_member(site: Site) -> None:
    path = invite(site, "Eve@Acme.fi", "analyst")
    c = site.client()
    page = c.get(path)
    assert page.status_code == 200 and "eve@acme.fi" in page.text and "Analyst" in page.text
    r = c.post(path, data={"password": "eves long password", "csrf_token": csrf_of(page.text)},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/w/acme/"
    assert c.get("/w/acme/").status_code == 200  # signed in as the new member
    assert c.get("/w/beta/").status_code == 404
    again = site.client()
    assert again.get(path).status_code == 404  # one-time
    sign_in(site.client(), "eve@acme.fi", "eves long password")


def test_an_existing_user_proves_their_password(site: Site) -> None:
    path = invite(site, "bob@beta.se", "viewer")
    c = site.client()
    page = c.get(path)
    assert "already have an account" in page.text
    r = c.post(path, data={"password": "not bobs password", "csrf_token": csrf_of(page.text)})
    assert r.status_code == 400
    r = c.post(path, data={"password": PASSWORD, "csrf_token": csrf_of(page.text)},
               follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/w/acme/").status_code == 200 and c.get("/w/beta/").status_code == 200
    assert c.get("/w/acme/settings").status_code == 403  # viewer


def test_revoked_or_bogus_invitation_is_refused(site: Site) -> None:
    path = invite(site, "zed@acme.fi", "viewer")
    ann = site.member("ann@acme.fi")
    page = ann.get("/w/acme/settings").text
    inv_id = re.search(r"/settings/invitations/(\d+)/revoke", page).group(1)
    ann.post(f"/w/acme/settings/invitations/{inv_id}/revoke",
             data={"csrf_token": csrf_of(page)})
    assert site.client().get(path).status_code == 404
    assert site.client().get("/invite/bogus").status_code == 404
