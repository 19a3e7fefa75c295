"""Every form POST needs the CSRF token: missing or forged gets 403 and changes nothing."""

from __future__ import annotations

import pytest
from web_helpers import PASSWORD, Site, csrf_of, page_csrf

from cxlens.web import db


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_signed_in_form_without_a_valid_token_is_refused(site: Site, token: str | None) -> None:
    c = site.member("ann@acme.fi")
    data = {"name": "sneaky", "scope": "write"}
    if token:
        data["csrf_token"] = token
    r = c.post("/w/acme/settings/tokens", data=data)
    assert r.status_code == 403 and "CSRF" in r.text
    con = db.connect(site.settings.db_path)
    assert not con.execute("SELECT 1 FROM api_tokens WHERE name = 'sneaky'").fetchall()
    # the same form with the real token works
    data["csrf_token"] = page_csrf(c, "/w/acme/settings")
    assert c.post("/w/acme/settings/tokens", data=data).status_code == 200


def test_another_sessions_token_is_forged(site: Site) -> None:
    ann, bob = site.member("ann@acme.fi"), site.member("bob@beta.se")
    r = ann.post("/account/password", data={"current_password": PASSWORD,
                                            "new_password": "whatever long one",
                                            "csrf_token": page_csrf(bob)})
    assert r.status_code == 403


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_sign_in_form_needs_its_token_too(site: Site, token: str | None) -> None:
    c = site.client()
    c.get("/signin")
    data = {"email": "ann@acme.fi", "password": PASSWORD}
    if token:
        data["csrf_token"] = token
    assert c.post("/signin", data=data).status_code == 403


def test_header_token_works_for_json_calls_with_a_session(site: Site) -> None:
    c = site.member("ann@acme.fi")
    assert c.post("/api/w/acme/batches/1/rollback").status_code == 403
    r = c.post("/api/w/acme/batches/1/rollback",
               headers={"X-CSRF-Token": csrf_of(c.get("/account").text)})
    assert r.status_code == 400 and r.json()["error"] == "no batch 1"
