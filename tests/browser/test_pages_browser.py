"""The pages in a real browser: charts drawn by Plotly, the upload flow with a bad row,
Finnish text, and a screenshot of every page at laptop and phone width
(tests/artifacts/, git-ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest
from screens import shot

PAGES = {"overview": "/w/demo/?as_of=2026-11-27", "customers": "/w/demo/customers",
         "data": "/w/demo/data", "notes": "/w/demo/annotations"}


@pytest.mark.parametrize("width", [1280, 390], ids=["laptop", "phone"])
def test_every_page_renders_and_the_charts_draw(page, server, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900 if width > 500 else 844})
    for name, path in PAGES.items():
        page.goto(server.url + path)
        assert page.locator("h1").first.is_visible()
        if name == "overview":
            page.wait_for_selector("div.chart .plotly svg.main-svg")
            assert page.locator("div.chart .plotly").count() == 4
        if name == "customers":
            page.locator("table.recent a").first.click()
            page.wait_for_selector("section.profile")
        # Nothing overflows the window sideways (tables scroll inside their card).
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (name, width, overflow)
        shot(page, f"{name}-{'laptop' if width > 500 else 'phone'}")


def test_upload_with_a_bad_row_shows_the_reason(page, server, tmp_path: Path) -> None:
    csv = tmp_path / "shop_orders.csv"
    csv.write_text("order_id,ts,amount,email\n"
                   "B-1,2026-11-20 10:00:00,19.90,b1@example.fi\n"
                   "B-2,2026-11-21 11:00:00,kaksi euroa,b2@example.fi\n"
                   "B-3,2026-11-22 12:00:00,5.00,b3@example.fi\n", encoding="utf-8")
    page.goto(server.url + "/w/demo/data")
    page.set_input_files("input[type=file]", str(csv))
    page.select_option("select[name=kind]", "orders")
    page.click("#upload form button")
    page.wait_for_selector("table.preview")
    assert "kaksi euroa" in page.inner_text("table.preview")
    shot(page, "upload-preview-laptop")
    page.click("#confirm")
    page.wait_for_selector("#done")
    assert page.inner_text("#rows_in") == "3"
    assert page.inner_text("#quarantined") == "1"
    reason = page.inner_text("table.quarantine")
    assert "not a number" in reason and "kaksi euroa" in reason
    shot(page, "upload-result-laptop")


def test_switch_to_finnish(page, server) -> None:
    page.goto(server.url + "/w/demo/?as_of=2026-11-27")
    page.click("a[hreflang=fi]")
    page.wait_for_selector("html[lang=fi]")
    body = page.inner_text("body")
    assert "Yleiskuva" in body and "Uudet asiakkaat" in body and "Kirjaudu ulos" in body
    page.goto(server.url + "/w/demo/data")  # the choice is remembered
    assert "Lähteet" in page.inner_text("body")
    shot(page, "data-fi-laptop")


def test_the_chart_toolbar_offers_no_link_out(page, server) -> None:
    """Download as PNG and reset axes only: no Plotly Cloud, no Chart Studio, no lasso."""
    page.goto(server.url + "/w/demo/?as_of=2026-11-27")
    page.wait_for_selector("div.chart .plotly svg.main-svg")
    chart = page.locator("div.chart").first
    chart.hover()
    buttons = chart.locator(".modebar-btn")
    titles = {buttons.nth(i).get_attribute("data-title") for i in range(buttons.count())}
    assert titles == {"Download plot as a PNG", "Reset axes"}, titles
    assert page.locator(".modebar a[href]:not([href^='javascript'])").count() == 0
    links = page.eval_on_selector_all("div.chart a[href]", "els => els.map(e => e.href)")
    assert all(h.startswith(server.url) for h in links), links


def test_charts_speak_the_page_language(page, server) -> None:
    """Finnish month names on the time axis and Finnish words in the toolbar."""
    page.goto(server.url + "/w/demo/?as_of=2026-11-27&days=365&grain=month&lang=fi")
    page.wait_for_selector("div.chart .plotly svg.main-svg")
    chart = page.locator("div.chart").first
    ticks = " ".join(chart.locator(".xtick text").evaluate_all(
        "els => els.map(e => e.textContent)")).lower()
    assert any(m in ticks for m in ("tammi", "helmi", "maalis", "huhti", "touko", "kesä",
                                    "heinä", "elo", "syys", "loka", "marras", "joulu")), ticks
    chart.hover()
    titles = chart.locator(".modebar-btn").evaluate_all(
        "els => els.map(e => e.getAttribute('data-title'))")
    assert "Lataa kuvana (PNG)" in titles, titles


@pytest.mark.parametrize("lang", ["en", "fi"])
def test_the_overview_opens_with_what_stands_out(page, server, lang: str) -> None:
    page.goto(server.url + f"/w/demo/?as_of=2026-09-27&days=365&lang={lang}")
    page.wait_for_selector("#insights[data-loaded=yes]")
    items = page.locator("#insights .insight-list li")
    assert items.count() >= 1
    first = items.first.inner_text()
    assert "95 %" in first and "n " in first, first
    assert page.locator("#insights .insight-list li a").first.get_attribute("href").startswith(
        "/w/demo/")
    shot(page, f"overview-insights-{lang}-laptop")
