"""UI text in three languages; templates escape what users typed."""

from __future__ import annotations

from web_helpers import PASSWORD, Site

from cxlens.web import db
from cxlens.web.accounts import user_by_email
from cxlens.web.i18n import CATALOGUE, LANGUAGES
from cxlens.web.nav import NAV
from cxlens.web.workspaces import create_workspace


def test_every_key_exists_in_every_language() -> None:
    keys = set(CATALOGUE["en"])
    assert set(CATALOGUE) == set(LANGUAGES)
    for lang, texts in CATALOGUE.items():
        assert set(texts) == keys, (lang, keys ^ set(texts))
        assert all(v.strip() for v in texts.values()), lang
    for item in NAV:
        assert item.label_key in keys, item


def test_language_is_switchable_and_remembered(site: Site) -> None:
    c = site.client()
    assert "Sign in to cxlens" in c.get("/signin").text
    r = c.get("/signin?lang=fi")
    assert "Kirjaudu cxlensiin" in r.text and '<html lang="fi">' in r.text
    assert "Kirjaudu cxlensiin" in c.get("/signin").text  # the cookie remembers
    assert "Logga in i cxlens" in c.get("/signin?lang=sv").text
    fresh = site.client()
    assert "Logga in" in fresh.get("/signin", headers={"Accept-Language": "sv-FI,sv;q=0.9"}).text


def test_a_workspace_name_is_escaped(site: Site) -> None:
    con = db.connect(site.settings.db_path)
    create_workspace(con, site.settings.workspaces_dir, "evil", "<script>alert(1)</script>",
                     user_by_email(con, "ann@acme.fi"))
    c = site.member("ann@acme.fi")
    for path in ("/", "/w/evil/", "/w/evil/settings", "/w/acme/"):
        html = c.get(path).text
        assert "<script>" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    assert PASSWORD not in html
