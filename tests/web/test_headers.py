"""Security headers on every answer, no inline script in any template, /docs offline.

Issue 15: no Content-Security-Policy or frame-ancestors; an inline ``onsubmit`` handler in
data.html; Swagger UI at /docs loaded from a CDN. The browser side (no violation on any
page, charts still drawn) is tests/browser/test_csp_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from web_helpers import Site

from cxlens.web.assets import asset
from cxlens.web.headers import CSP

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "cxlens" / "web" / "templates"


def _directives() -> dict[str, str]:
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in CSP.split("; ")}


def test_the_policy_forbids_inline_scripts_framing_plugins_and_base_changes() -> None:
    d = _directives()
    assert d["script-src"] == "'self'" and d["default-src"] == "'self'"
    assert d["frame-ancestors"] == "'none'" and d["object-src"] == "'none'"
    assert d["base-uri"] == "'none'" and d["form-action"] == "'self'"
    assert "unsafe-eval" not in CSP and "http" not in CSP  # no CDN anywhere


def test_every_kind_of_answer_carries_the_headers(site: Site) -> None:
    member = site.member("ann@acme.fi")
    answers = {
        "page": member.get("/w/acme/"),
        "sign-in": site.client().get("/signin"),
        "api": site.api(site.tokens["acme"]["read"]).get("/api/w/acme"),
        "static": site.client().get(asset("cxlens.css")),
        "not found": site.client().get("/no/such/page"),
        "too large": site.client().post("/v1/track", content=b"x" * 2_000_000,
                                        headers={"Content-Type": "application/json"}),
        "docs": site.client().get("/docs"),
    }
    for what, r in answers.items():
        assert r.headers.get("content-security-policy") == CSP, what
        assert r.headers.get("x-frame-options") == "DENY", what
        assert r.headers.get("x-content-type-options") == "nosniff", what
        assert r.headers.get("referrer-policy") == "no-referrer", what
    assert answers["too large"].status_code == 413


def test_a_server_error_carries_them_too(site: Site) -> None:
    from fastapi.testclient import TestClient

    @site.app.get("/test-only/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    r = TestClient(site.app, raise_server_exceptions=False).get("/test-only/boom")
    assert r.status_code == 500
    assert r.headers.get("content-security-policy") == CSP
    assert r.headers.get("x-frame-options") == "DENY"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
                           re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_no_template_has_an_inline_script_or_event_handler() -> None:
    found = []
    for path in sorted(TEMPLATES.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        found += [f"{path.name}: {m.group(0)}" for m in INLINE_SCRIPT.finditer(text)]
        found += [f"{path.name}: {m.group(0)}" for m in HANDLER.finditer(text)]
        assert "javascript:" not in text.lower(), path.name
    assert not found, found


def test_the_rollback_form_asks_through_the_static_script(site: Site) -> None:
    html = (TEMPLATES / "data.html").read_text(encoding="utf-8")
    assert "data-confirm=" in html and "onsubmit" not in html
    assert "cxlens-confirm.js" in (TEMPLATES / "base.html").read_text(encoding="utf-8")
    assert site.client().get(asset("cxlens-confirm.js")).status_code == 200


def test_api_docs_come_from_this_server(site: Site) -> None:
    c = site.client()
    page = c.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources  # nothing external
    assert "<script>" not in page.text
    for s in sources:
        assert c.get(s).status_code == 200, s
    assert c.get("/docs/assets/swagger-ui-bundle.js").headers["content-type"].startswith(
        ("text/javascript", "application/javascript"))
