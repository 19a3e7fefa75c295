"""Every form POST needs the CSRF token: missing or forged gets 403 and changes nothing."""

from __future__ import annotations

import re

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


# --- the CSRF rule does not depend on other headers (issue 15) --------------------------------

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Authorization headers that do not authenticate by a bearer token: what a browser adds by
# itself behind a Basic or Negotiate proxy, and values a forger can put anywhere.
NOT_A_TOKEN = ["Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXY=", "Basic dXNlcjpwYXNz", "garbage",
               "Bearer x", "Bearer cx_not-a-real-token", "Bearer cxlocal_not-the-token"]


def _unsafe_routes(site: Site) -> list[tuple[str, str]]:
    """Every unsafe (method, path) of the app outside /v1, with sample parameters."""
    from cxlens.web.app import route_table

    out = []
    for path, methods in route_table(site.app):
        if path.startswith("/v1/"):
            continue  # the write key, never a cookie, authenticates collection
        concrete = path.replace("{slug}", "acme").replace("{public_id}", "acme.x")
        concrete = re.sub(r"\{[a-z_]+\}", "1", concrete)
        out += [(m, concrete) for m in sorted(methods) if m in UNSAFE]
    return out


@pytest.mark.parametrize("authorization", NOT_A_TOKEN)
def test_a_cookie_request_needs_the_csrf_token_whatever_authorization_it_carries(
        site: Site, authorization: str) -> None:
    """The hole of issue 15: 'Authorization: Negotiate x' plus the session cookie skipped the
    CSRF check and made a write token. Now every unsafe route answers 403 without the token
    (401 for a bearer value that is no valid token: it says the token is wrong)."""
    c = site.member("ann@acme.fi")
    routes = _unsafe_routes(site)
    assert len(routes) > 30  # the enumeration found the app's routes
    for method, path in routes:
        r = c.request(method, path, headers={"Authorization": authorization},
                      data={"name": "sneaky", "scope": "write", "email": "x@acme.fi",
                            "password": PASSWORD})
        expected = 401 if authorization.startswith("Bearer") else 403
        assert r.status_code == expected, (method, path, r.status_code, r.text[:200])
    con = db.connect(site.settings.db_path)
    assert not con.execute("SELECT 1 FROM api_tokens WHERE name = 'sneaky'").fetchall()


def test_a_bearer_token_request_needs_no_csrf_token_and_ignores_cookies(site: Site) -> None:
    """A valid API token authenticates alone; the session cookie beside it adds nothing, so
    a page route (which needs a session) is refused rather than run without CSRF."""
    c = site.member("ann@acme.fi")
    token = site.tokens["acme"]["write"]
    auth = {"Authorization": f"Bearer {token}"}
    r = c.post("/api/w/acme/annotations", headers=auth,
               json={"day": "2026-01-05", "label": "campaign"})
    assert r.status_code in (200, 201), r.text
    # the same token with the cookie on a page route: the cookie is not used
    r = c.post("/w/acme/settings/tokens", headers=auth, data={"name": "sneaky", "scope": "read"},
               follow_redirects=False)
    assert r.status_code in (401, 403), r.text
    r = c.post("/signout", headers=auth, follow_redirects=False)
    assert c.get("/account").status_code == 200  # still signed in: the token ended nothing
    con = db.connect(site.settings.db_path)
    assert not con.execute("SELECT 1 FROM api_tokens WHERE name = 'sneaky'").fetchall()


def test_the_collection_api_with_its_write_key_needs_no_csrf_token(site: Site) -> None:
    c = site.client()
    r = c.post("/v1/track", auth=(site.write_keys["acme"], ""),
               json={"userId": "u1", "event": "Signed Up"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("authorization", ["Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXY=",
                                           "Basic dXNlcjpwYXNz"])
def test_a_browser_behind_a_proxy_that_is_not_signed_in_goes_to_the_sign_in_page(
        site: Site, authorization: str) -> None:
    """Basic or Negotiate come from the browser, not from an API client: a page sends it
    to sign in (it used to answer 403 'pages need a signed-in session')."""
    r = site.client().get("/w/acme/", headers={"Authorization": authorization},
                          follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    r = site.client().get("/w/acme/", headers={"Authorization": "Bearer cx_unknown"},
                          follow_redirects=False)
    assert r.status_code == 403  # an API client on a page: told to use /api
