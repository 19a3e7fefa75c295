"""Workspace isolation: nothing of workspace B is reachable with a login or token of A.

The routes are enumerated from the app itself, so every route added later under
``{slug}`` is covered without touching this test. Other path parameters get dummy values.
"""

from __future__ import annotations

import re

import pytest
from web_helpers import Site, page_csrf

from cxlens.web.app import route_table

PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def slug_routes(site: Site) -> list[tuple[str, str]]:
    found = []
    for path, methods in route_table(site.app):
        if "{slug}" in path:
            found += [(m, path) for m in sorted(methods or {"GET"}) if m != "HEAD"]
    return found


def fill(path: str, slug: str) -> str:
    return PARAM.sub(lambda m: slug if m.group(1) == "slug" else "1", path)


def test_the_enumeration_sees_pages_and_api(site: Site) -> None:
    paths = {p for _, p in slug_routes(site)}
    assert any(p.startswith("/w/{slug}") for p in paths)
    assert any(p.startswith("/api/w/{slug}") for p in paths)


@pytest.mark.parametrize("who", ["member", "read", "write", "ingest"])
def test_nothing_of_b_reaches_a(site: Site, who: str) -> None:
    if who == "member":
        client = site.member("ann@acme.fi")
        headers = {"X-CSRF-Token": page_csrf(client)}  # a valid token: only isolation may stop it
    else:
        client, headers = site.api(site.tokens["acme"][who]), {}
    checked = 0
    for method, path in slug_routes(site):
        url = fill(path, "beta")
        r = client.request(method, url, headers=headers, follow_redirects=False)
        assert r.status_code in (403, 404), (who, method, url, r.status_code, r.text[:200])
        assert "Beta" not in r.text and "bob@beta.se" not in r.text, (who, method, url)
        checked += 1
    assert checked >= 10


# GET routes with a required query parameter: the control gives them one.
REQUIRED_QUERY = {"/api/w/{slug}/text/comments": "?theme=delivery",
                  "/api/w/{slug}/text/quotes": "?theme=delivery",
                  "/api/w/{slug}/marketing/plan": "?budget=1000"}
# Downloads of a result the empty workspace does not have yet: a 404 that says why (not the
# "not found" of another workspace's page) is the answer a member gets.
NOT_YET = {"/w/{slug}/at-risk.csv": ("no data yet", "no model yet"),
           "/w/{slug}/targets.csv": ("no data yet", "no model yet")}
# Answers the empty workspace's data cannot give: a 422 that says why (no spend for curves).
CANNOT = {"/api/w/{slug}/marketing/curves": "no spend",
          "/api/w/{slug}/marketing/plan": "no spend",
          "/w/{slug}/planner.csv": "no spend"}


def test_a_still_reaches_its_own_workspace(site: Site) -> None:
    """The control: the same callers on their own workspace are not refused."""
    member = site.member("ann@acme.fi")
    read = site.api(site.tokens["acme"]["read"])
    for method, path in slug_routes(site):
        if method != "GET" or PARAM.sub("", path.replace("{slug}", "")) != \
                path.replace("{slug}", ""):
            continue  # GET routes whose only parameter is the slug
        client = member if path.startswith("/w/") else read
        r = client.get(fill(path, "acme") + REQUIRED_QUERY.get(path, ""), follow_redirects=False)
        if path in NOT_YET:
            assert r.status_code == 404 and any(m in r.text for m in NOT_YET[path]), path
            continue
        if path in CANNOT:
            assert r.status_code == 422 and CANNOT[path] in r.text, (path, r.text[:200])
            continue
        assert r.status_code == 200, (path, r.status_code, r.text[:200])


def test_bob_as_member_of_both_sees_both(site: Site) -> None:
    from cxlens.web import db
    from cxlens.web.accounts import user_by_email
    from cxlens.web.workspaces import add_member, workspace_by_slug

    con = db.connect(site.settings.db_path)
    add_member(con, workspace_by_slug(con, "acme"), user_by_email(con, "bob@beta.se"), "viewer")
    bob = site.member("bob@beta.se")
    assert bob.get("/w/acme/").status_code == 200
    assert bob.get("/w/acme/settings").status_code == 403  # a viewer, not the owner
    assert "Acme" in bob.get("/w/beta/").text  # the switcher lists both
