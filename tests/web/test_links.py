"""Links the server hands out start with its configured address, never the Host header.

An invitation link built from a forged ``Host`` would send the invited person, through
the owner's own e-mail, to the forger's site. ``WebSettings.link_base`` is the one place
the start of a link is decided (issue 15).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import PASSWORD, page_csrf, sign_in

from cxlens.web import db
from cxlens.web.accounts import create_user
from cxlens.web.app import create_app
from cxlens.web.settings import WebSettings
from cxlens.web.workspaces import create_workspace


def _owner(settings: WebSettings) -> TestClient:
    app = create_app(settings)
    con = db.connect(settings.db_path)
    try:
        user = create_user(con, "ann@acme.fi", PASSWORD)
        create_workspace(con, settings.workspaces_dir, "acme", "Acme", user)
    finally:
        con.close()
    return sign_in(TestClient(app), "ann@acme.fi")


def _invite(c: TestClient, host: str) -> tuple[str, str]:
    r = c.post("/w/acme/settings/invitations", headers={"Host": host},
               data={"email": "eve@acme.fi", "role": "viewer",
                     "csrf_token": page_csrf(c, "/w/acme/settings")})
    assert r.status_code == 200, r.text
    link = re.search(r"<code>([^<]+/invite/[^<]+)</code>", r.text)
    assert link
    return link.group(1), r.text


@pytest.mark.parametrize("host", ["evil.example", "evil.example:443", "127.0.0.1:8000@evil"])
def test_a_forged_host_header_does_not_reach_the_invitation_link(tmp_path: Path,
                                                                host: str) -> None:
    c = _owner(WebSettings.load(home=tmp_path / "home", port=8123))
    link, html = _invite(c, host)
    assert link.startswith("http://127.0.0.1:8123/invite/") and "evil" not in link
    assert 'id="link-base-warning"' not in html  # a loopback server's address is right


def test_the_public_url_starts_the_links(tmp_path: Path) -> None:
    c = _owner(WebSettings.load(home=tmp_path / "home", public_url="https://cx.example.fi/"))
    link, html = _invite(c, "evil.example")
    assert link.startswith("https://cx.example.fi/invite/")
    assert 'id="link-base-warning"' not in html


def test_without_a_public_url_a_server_on_all_addresses_warns(tmp_path: Path) -> None:
    c = _owner(WebSettings.load(home=tmp_path / "home", host="0.0.0.0", port=8124))
    link, html = _invite(c, "evil.example")
    assert "evil" not in link and link.startswith("http://") and ":8124/invite/" in link
    assert 'id="link-base-warning"' in html and "CXLENS_PUBLIC_URL" in html


@pytest.mark.parametrize(("host", "expected", "guessed"), [
    ("127.0.0.1", "http://127.0.0.1:9000", False),
    ("localhost", "http://localhost:9000", False),
    ("::1", "http://[::1]:9000", False),
    ("192.0.2.7", "http://192.0.2.7:9000", True),
])
def test_link_base_of_each_listening_address(tmp_path: Path, host: str, expected: str,
                                             guessed: bool) -> None:
    settings = WebSettings.load(home=tmp_path / "home", host=host, port=9000)
    assert settings.link_base() == (expected, guessed)


def test_the_surveys_page_warns_about_a_guessed_address_too(tmp_path: Path) -> None:
    guessed = _owner(WebSettings.load(home=tmp_path / "a", host="0.0.0.0"))
    html = guessed.get("/w/acme/surveys").text
    assert 'id="link-base-warning"' in html and "CXLENS_PUBLIC_URL" in html
    local = _owner(WebSettings.load(home=tmp_path / "b"))
    assert 'id="link-base-warning"' not in local.get("/w/acme/surveys").text
