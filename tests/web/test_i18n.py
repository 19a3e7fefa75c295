"""UI text in three languages, kept in web/locales/*.json; templates escape what users typed."""

from __future__ import annotations

import fnmatch
import json
import re
import string
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from web_helpers import PASSWORD, Site

from cxlens.web import db, i18n
from cxlens.web.accounts import user_by_email
from cxlens.web.i18n import CATALOGUE, LANGUAGES
from cxlens.web.nav import NAV
from cxlens.web.workspaces import create_workspace

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "cxlens" / "web"


def placeholders(text: str) -> set[tuple[str, str | None, str | None]]:
    """The ``{name!conversion:spec}`` fields of a ``str.format`` text (raises on a stray
    brace)."""
    return {(name, conv, spec) for _, name, spec, conv in string.Formatter().parse(text)
            if name is not None}


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_each_locale_file_is_valid_canonical_json_of_strings(lang: str) -> None:
    path = resources.files("cxlens.web").joinpath("locales", f"{lang}.json")
    raw = path.read_text(encoding="utf-8")
    texts = json.loads(raw)
    assert isinstance(texts, dict) and texts
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in texts.items())
    assert texts == CATALOGUE[lang] == i18n.load(lang)
    # Sorted keys, one a line, letters as they are: a changed text is a one-line diff.
    canonical = json.dumps(texts, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    assert raw == canonical, f"rewrite locales/{lang}.json in canonical form (see i18n.py)"


def test_every_key_exists_in_every_language() -> None:
    keys = set(CATALOGUE["en"])
    assert set(CATALOGUE) == set(LANGUAGES)
    assert (CATALOGUE["en"], CATALOGUE["fi"], CATALOGUE["sv"]) == (i18n.EN, i18n.FI, i18n.SV)
    for lang, texts in CATALOGUE.items():
        assert set(texts) == keys, (lang, keys ^ set(texts))
    for item in NAV:
        assert item.label_key in keys, item
        assert not item.group or item.group in keys, item


def test_no_text_is_empty_or_padded() -> None:
    for lang, texts in CATALOGUE.items():
        bad = [k for k, v in texts.items() if not v.strip() or v != v.strip()]
        assert not bad, (lang, bad)


def test_placeholders_are_the_same_in_every_language() -> None:
    for key, english in CATALOGUE["en"].items():
        expected = placeholders(english)
        for lang, texts in CATALOGUE.items():
            assert placeholders(texts[key]) == expected, (lang, key, texts[key])


def test_every_literal_key_of_the_templates_and_pages_exists() -> None:
    """``t('key')`` in a template and ``translate(lang, "key")`` in a page must name a key
    (a missing one would show the key itself on the page)."""
    pattern = re.compile(
        r"""\b(?:t\(|translate\(\s*[\w.]+\s*,)\s*['"]([a-z]\w*(?:\.\w+)+)['"]""")
    used: dict[str, str] = {}
    for path in [*WEB.rglob("*.html"), *WEB.rglob("*.py")]:
        for key in pattern.findall(path.read_text(encoding="utf-8")):
            used.setdefault(key, path.name)
    assert len(used) > 100  # the pattern still finds the keys
    missing = {k: where for k, where in used.items() if k not in CATALOGUE["en"]}
    assert not missing, missing


def test_the_locale_files_are_package_data() -> None:
    """A wheel holds only the files ``[tool.setuptools.package-data]`` names."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["cxlens"]
    for lang in LANGUAGES:
        rel = f"web/locales/{lang}.json"
        assert (WEB / "locales" / f"{lang}.json").is_file(), rel
        assert any(fnmatch.fnmatch(rel, g) for g in globs), rel


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


def test_one_term_per_concept_as_the_glossary_says() -> None:
    """locales/glossary.json names each concept's term in every language and the words it
    must not be called (Swedish revenue is "intäkter", never also "försäljning"; a Finnish
    upload is "tuoda", so "lataa" keeps meaning download)."""
    path = resources.files("cxlens.web").joinpath("locales", "glossary.json")
    glossary = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for concept, entry in glossary.items():
        if concept.startswith("_"):
            continue
        assert set(LANGUAGES) <= set(entry), concept
        for lang, words in entry["avoid"].items():
            for key, value in CATALOGUE[lang].items():
                said = re.sub(r"\{[^}]*\}", "", value).lower()  # not the {placeholders}
                found += [f"{lang} {key}: {w!r} ({concept}: say {entry[lang]!r})"
                          for w in words if w.lower() in said]
    assert not found, found
