"""The Content-Security-Policy in a real browser: every page of the demo workspace, the
public survey page, the sign-in page and the API docs open with no CSP violation, and the
charts are still drawn (issue 15). The one inline handler there was (the rollback
confirmation) now comes from static/cxlens-confirm.js; this checks it still asks."""

from __future__ import annotations

import re

from cxlens.web import app as _app  # noqa: F401 - imports the pages, which register their items
from cxlens.web import nav

# Collects every violation the page reports; Playwright adds it before any page script, and
# its init scripts are not subject to the page's policy.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(
  `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
"""
AS_OF = "?as_of=2026-11-27"  # the S demo's last day: every chart has data


def _watch(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text else None)
    page.add_init_script(WATCH)
    return messages


def _violations(page, console: list[str]) -> list[str]:
    return list(page.evaluate("window.__csp || []")) + console


def _charts_drawn(page) -> int:
    """Wait until every chart of the page has Plotly's SVG; how many there are."""
    charts = page.locator("div.chart[data-figure]").count()
    if charts:
        page.wait_for_function(
            "n => document.querySelectorAll('div.chart[data-figure] svg.main-svg').length"
            " >= n", arg=charts)
    return charts


def test_every_page_renders_without_a_csp_violation(page, server) -> None:
    console = _watch(page)
    paths = [url + (AS_OF if url.endswith("/") else "")
             for _, url in nav.items_for("owner", server.slug)] + ["/account"]
    assert len(paths) >= 9
    drawn = 0
    for path in paths:
        page.goto(server.url + path)
        assert page.locator("h1").first.is_visible(), path
        drawn += _charts_drawn(page)
        assert not _violations(page, console), (path, _violations(page, console))
    assert drawn >= 6  # overview, experience, drivers, people, surveys draw charts
    page.goto(f"{server.url}/w/{server.slug}/customers")
    page.locator("table.recent a").first.click()
    page.wait_for_selector("section.profile")
    assert not _violations(page, console)


def test_the_public_survey_sign_in_and_api_docs_pages_too(browser, page, server) -> None:
    html = page.goto(f"{server.url}/w/{server.slug}/surveys").text()
    public = re.search(r'/s/public/[A-Za-z0-9._-]+', html)
    assert public, "no public survey link on the Surveys page"
    context = browser.new_context()  # a customer, not signed in
    try:
        anon = context.new_page()
        console = _watch(anon)
        for path in (public.group(0), "/signin"):
            anon.goto(server.url + path)
            anon.wait_for_load_state("load")
            assert not _violations(anon, console), (path, _violations(anon, console))
        anon.goto(server.url + "/docs")
        anon.wait_for_selector(".swagger-ui .info .title")  # Swagger UI started
        anon.wait_for_selector(".swagger-ui .opblock")       # and read the schema
        assert not _violations(anon, console), _violations(anon, console)
    finally:
        context.close()


def test_the_rollback_still_asks_first(page, server) -> None:
    console = _watch(page)
    page.goto(f"{server.url}/w/{server.slug}/data")
    asked: list[str] = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()  # "Cancel": nothing is rolled back

    page.on("dialog", answer)
    button = page.locator("form[data-confirm] button").first
    button.click()  # returns once the dialog is answered
    assert asked and "roll" in asked[0].lower()
    assert page.url.endswith("/data")  # still here: the form was not sent
    assert not _violations(page, console)
