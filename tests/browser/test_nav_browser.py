"""The workspace header in a real browser: one line at laptop width in every language, every
destination of the navigation reachable with the keyboard alone (the Experience group is a
``<details>`` disclosure), and screenshots of the open group at laptop and phone width."""

from __future__ import annotations

import pytest
from screens import shot

from cxlens.web import app as _app  # noqa: F401 - imports the pages, which register their items
from cxlens.web import nav

PAGE = "/w/demo/data"
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# The boxes of the header's visible children and of one link of the bar.
HEADER_BOXES = """() => {
  const header = document.querySelector("header.top");
  const boxes = [...header.children].map(e => e.getBoundingClientRect())
    .filter(r => r.width > 0 && r.height > 0).map(r => ({top: r.top, bottom: r.bottom}));
  const link = header.querySelector(".mainnav a").getBoundingClientRect();
  return {header: header.getBoundingClientRect().height, link: link.height, boxes};
}"""

# What has the focus: enough to decide the next key.
FOCUS = """() => {
  const e = document.activeElement;
  const details = e.closest("details");
  return {tag: e.tagName.toLowerCase(), href: e.getAttribute("href"),
          inHeader: !!e.closest("header.top"),
          summaryOfClosed: e.tagName === "SUMMARY" && !details.open,
          group: e.tagName === "SUMMARY" && (details.classList.contains("navgroup")
                                             || details.classList.contains("mainnav"))};
}"""


def accessible(page, selector: str) -> dict:
    """Role, name and states that Chromium gives assistive technology for ``selector``."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        ax = cdp.send("Accessibility.getPartialAXTree",
                      {"nodeId": node, "fetchRelatives": False})["nodes"][0]
    finally:
        cdp.detach()
    states = {p["name"]: p["value"].get("value") for p in ax.get("properties", [])}
    return {"role": ax["role"]["value"], "name": ax["name"]["value"], **states}


def destinations() -> set[str]:
    """The URL of every item an owner (the browser's user) sees."""
    return {url for _, url in nav.items_for("owner", "demo")}


def tab_through_header(page, *, open_groups: bool = True) -> list[dict]:
    """Press Tab from the top of the page until the focus leaves the header; Enter on the
    button of each closed menu of the navigation, as a keyboard user would."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    seen: list[dict] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        if not focus["inHeader"]:
            if seen:
                return seen
            continue
        seen.append(focus)
        if open_groups and focus["summaryOfClosed"] and focus["group"]:
            page.keyboard.press("Enter")
    raise AssertionError(f"the focus never left the header: {seen}")


@pytest.mark.parametrize("lang", ["en", "fi", "sv"])
def test_the_header_is_one_line_at_laptop_width(page, server, lang: str) -> None:
    page.set_viewport_size(LAPTOP)
    page.goto(f"{server.url}{PAGE}?lang={lang}")
    page.wait_for_selector(f"html[lang={lang}]")
    got = page.evaluate(HEADER_BOXES)
    # Every visible part of the header overlaps every other vertically: one line.
    assert max(b["top"] for b in got["boxes"]) < min(b["bottom"] for b in got["boxes"]), got
    assert got["header"] < 2 * got["link"], got
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, overflow
    if lang == "en":
        shot(page, "header-laptop", full_page=False)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_every_nav_destination_is_reachable_by_keyboard(page, server, viewport) -> None:
    page.set_viewport_size(viewport)
    page.goto(server.url + PAGE)
    reached = {f["href"] for f in tab_through_header(page) if f["tag"] == "a"}
    missing = destinations() - reached
    assert not missing, (missing, reached)


def test_the_experience_group_is_a_disclosure_used_by_keyboard(page, server) -> None:
    page.set_viewport_size(LAPTOP)
    page.goto(server.url + PAGE)
    group = page.locator("details.navgroup").first  # Experience; Value is the second
    button = group.locator("summary")
    links = group.locator("ul a")
    assert not group.evaluate("d => d.open") and not links.first.is_visible()
    # A disclosure button whose state is announced (<summary>: Chromium maps the
    # <details>' open to aria-expanded); the drawn triangle is not part of its name.
    summary = "details.navgroup > summary"
    ax = accessible(page, summary)
    assert ax["role"].startswith("DisclosureTriangle"), ax
    assert (ax["name"], ax["expanded"]) == ("Experience", False), ax

    button.focus()
    page.keyboard.press("Enter")
    assert links.first.is_visible()
    assert accessible(page, summary)["expanded"] is True
    assert [links.nth(i).inner_text() for i in range(links.count())] == [
        "Experience", "Drivers", "People", "Comments", "Surveys", "Follow-ups"]
    shot(page, "header-group-open-laptop", full_page=False)

    # Escape closes the menu and gives the focus back to its button.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Experience"
    page.keyboard.press("Escape")
    assert not links.first.is_visible()
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"

    # Enter, Tab, Tab, Enter: the Drivers page, with the group marked as the current one.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/w/demo/drivers")
    assert page.locator("details.navgroup summary.current").count() == 1
    assert group.locator('a[aria-current="page"]').get_attribute("href") == "/w/demo/drivers"

    # The switcher and the group share a name: opening one closes the other.
    page.locator("details.switcher summary").click()
    button.click()
    assert group.evaluate("d => d.open")
    assert not page.locator("details.switcher").evaluate("d => d.open")
    # A click elsewhere closes it.
    page.locator("main h1").click()
    assert not group.evaluate("d => d.open")


def test_the_phone_menu_holds_the_group(page, server) -> None:
    page.set_viewport_size(PHONE)
    page.goto(server.url + "/w/demo/surveys")
    page.locator("details.mainnav > summary").click()  # the menu starts closed on a phone
    group = page.locator("details.navgroup").first  # Experience; Value is the second
    assert group.locator("summary.current").is_visible()
    group.locator("summary").click()
    assert group.locator('a[aria-current="page"]').is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, overflow
    shot(page, "header-group-open-phone", full_page=False)


def test_the_phone_menu_starts_closed_and_the_content_comes_first(page, server) -> None:
    page.set_viewport_size(PHONE)
    page.goto(server.url + PAGE)
    nav = page.locator("details.mainnav nav")
    assert not nav.is_visible()
    assert page.locator("main h1").bounding_box()["y"] < 160  # not below the navigation
    page.locator("details.mainnav > summary").click()
    assert nav.is_visible() and nav.locator("a").first.is_visible()
    page.locator("details.mainnav > summary").click()
    assert not nav.is_visible()
    # at laptop width the navigation is always there
    page.set_viewport_size(LAPTOP)
    page.goto(server.url + PAGE)
    assert nav.is_visible()
