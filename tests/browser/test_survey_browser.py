"""A survey end to end in a real browser: hand out the personal links from the Surveys page
(CSV), open one as the customer, answer the NPS question with the keyboard, see the
thank-you page, and see the Experience page's NPS and its n move by one answer; the
detractor's item on the Follow-ups page is worked through. Screenshots of the new pages at
laptop and phone width go to tests/artifacts/."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from screens import shot

from cxlens.surveys import definitions

SCORE = 3  # a detractor: the answer also opens a follow-up item


def nps_now(page, server) -> tuple[int, list[str]]:
    """The n of the Experience page's NPS for the default window, and the last month's row
    of its trend table (period start, NPS, low, high, n, too few)."""
    page.goto(server.url + "/w/demo/experience?metric=nps")
    card = page.locator("li.kpi").first
    n = re.search(r"n (\d+)", card.locator("span.change").inner_text())
    assert n, card.inner_text()
    rows = page.locator('table[data-chart="trend"] tbody tr')
    last = rows.nth(rows.count() - 1).locator("td")
    return int(n.group(1)), [last.nth(i).text_content().strip() for i in range(6)]


def no_sideways_overflow(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, overflow


def test_answer_by_keyboard_and_the_nps_moves(page, browser, server, tmp_path: Path) -> None:
    page.goto(server.url + "/w/demo/surveys")
    page.wait_for_selector("div.chart .plotly svg.main-svg")
    assert "nps-purchase" in page.inner_text("table.triggers")
    shot(page, "surveys-laptop")
    n_before, month_before = nps_now(page, server)

    page.goto(server.url + "/w/demo/surveys")
    with page.expect_download() as download:
        page.click("#download-links")
    target = tmp_path / "links.csv"
    download.value.save_as(target)
    with open(target, encoding="utf-8", newline="") as fh:
        links = list(csv.DictReader(fh))
    assert links, "the demo's trigger made no invitations today"
    row = links[0]
    assert row["link"].startswith(f"{server.url}/s/demo.") and row["kind"] == "invitation"

    # The customer: a browser of their own, not signed in.
    customer = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        answer = customer.new_page()
        answer.set_default_timeout(15_000)
        answer.goto(row["link"])
        lang = row["language"]
        assert answer.locator("html").get_attribute("lang") == lang
        nps = definitions.builtin("nps")
        assert definitions.text(nps.main.text, lang) in answer.inner_text("legend")
        shot(answer, "survey-answer-phone")
        # Keyboard only: focus the scale, arrow to the score, tab to the comment, type,
        # tab to Send and press Enter.
        answer.focus('input[name="score"][value="0"]')
        for _ in range(SCORE):
            answer.keyboard.press("ArrowRight")
        assert answer.locator('input[name="score"]:checked').get_attribute("value") == \
            str(SCORE)
        answer.keyboard.press("Tab")
        assert answer.evaluate("document.activeElement.name") == "comment"
        answer.keyboard.type("Toimitus myöhästyi <b>viikon</b>")
        answer.keyboard.press("Tab")
        assert answer.evaluate("document.activeElement.value") == "send"
        answer.keyboard.press("Enter")
        answer.wait_for_selector(f"text={definitions.text(nps.thanks, lang)}")
        shot(answer, "survey-thanks-phone")
        closed = answer.goto(row["link"])
        assert closed is not None and closed.status == 410  # one answer per link
    finally:
        customer.close()

    n_after, month_after = nps_now(page, server)
    assert n_after == n_before + 1
    if month_after[0] == month_before[0]:  # this month's row: one answer more, NPS moved
        assert int(month_after[4]) == int(month_before[4] or 0) + 1
        assert month_after[1] != month_before[1]
    else:  # the demo's last month was before this one: the new month has just this answer
        assert (month_after[1], month_after[4]) == ("-100.00", "1")
    shot(page, "experience-after-answer-laptop")

    # The detractor's item, worked through on the Follow-ups page.
    page.goto(server.url + "/w/demo/followups?status=open")
    item = page.locator("table.followups tbody tr", has_text="Toimitus myöhästyi")
    assert item.count() == 1 and item.locator("td.comment").inner_text() == \
        "Toimitus myöhästyi <b>viikon</b>"
    shot(page, "followups-laptop")
    edit = page.locator("#edit-" + item.get_attribute("id").removeprefix("item-"))
    edit.locator("details summary").click()
    edit.locator('select[name="status"]').select_option("contacted")
    edit.locator('select[name="owner"]').select_option("ann@demo.fi")  # a member
    edit.locator('textarea[name="note"]').fill("Soitettu, hyvitys sovittu")
    edit.locator("form button").click()
    page.wait_for_url(re.compile(r"/w/demo/followups\?status=open"))
    page.goto(server.url + "/w/demo/followups?status=contacted")
    done = page.locator("table.followups tbody tr", has_text="Toimitus myöhästyi")
    assert done.locator("td.owner").inner_text() == "ann@demo.fi"
    assert done.locator("td.note").inner_text() == "Soitettu, hyvitys sovittu"


@pytest.mark.parametrize("width", [1280, 390], ids=["laptop", "phone"])
def test_the_new_pages_fit_the_window(page, server, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900 if width > 500 else 844})
    for name in ("surveys", "followups"):
        page.goto(f"{server.url}/w/demo/{name}")
        assert page.locator("h1").first.is_visible()
        if name == "surveys":
            page.wait_for_selector("div.chart .plotly svg.main-svg")
        no_sideways_overflow(page)
        shot(page, f"{name}-{'laptop' if width > 500 else 'phone'}")
