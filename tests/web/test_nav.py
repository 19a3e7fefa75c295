"""The navigation registry: items on the bar, items gathered into a group's menu."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web_helpers import Site

from cxlens.web import nav
from cxlens.web.nav import EXPERIENCE, NavGroup, NavItem, menu_for, register


@pytest.fixture
def registry() -> Iterator[list[NavItem]]:
    """An empty registry for the test; the app's items come back afterwards."""
    saved = list(nav.NAV)
    nav.NAV.clear()
    try:
        yield nav.NAV
    finally:
        nav.NAV[:] = saved


def shape(entries: list) -> list:
    return [(e.label_key, [(i.key, url) for i, url in e.links]) if isinstance(e, NavGroup)
            else e[0].key for e in entries]


def test_a_group_stands_where_its_first_item_would(registry) -> None:
    register(NavItem("home", "nav.overview", "/w/{slug}/", order=10))
    register(NavItem("b", "nav.drivers", "/w/{slug}/b", order=13, group=EXPERIENCE))
    register(NavItem("a", "nav.experience", "/w/{slug}/a", order=12, group=EXPERIENCE))
    register(NavItem("data", "nav.data", "/w/{slug}/data", order=30))
    register(NavItem("c", "nav.people", "/w/{slug}/c", order=40, group=EXPERIENCE))
    assert shape(menu_for("viewer", "acme")) == [
        "home", (EXPERIENCE, [("a", "/w/acme/a"), ("b", "/w/acme/b"), ("c", "/w/acme/c")]),
        "data"]
    # The flat list is what it was.
    assert [i.key for i, _ in nav.items_for("viewer", "acme")] == ["home", "a", "b", "data", "c"]


def test_a_group_of_one_visible_item_is_a_plain_link(registry) -> None:
    register(NavItem("a", "nav.experience", "/w/{slug}/a", order=12, group=EXPERIENCE))
    register(NavItem("b", "nav.settings", "/w/{slug}/b", "owner", order=13, group=EXPERIENCE))
    assert shape(menu_for("viewer", "acme")) == ["a"]
    assert shape(menu_for("owner", "acme")) == [
        (EXPERIENCE, [("a", "/w/acme/a"), ("b", "/w/acme/b")])]


def test_an_item_registered_without_a_group_stays_on_the_bar(registry) -> None:
    item = NavItem("data", "nav.data", "/w/{slug}/data", "viewer", order=20)  # as in docs
    assert item.group == ""
    register(item)
    assert menu_for("viewer", "x") == [(item, "/w/x/data")]


def test_the_layout_draws_the_experience_group(site: Site) -> None:
    html = site.member("ann@acme.fi").get("/w/acme/").text
    assert '<details class="menu navgroup" name="topmenu">' in html
    assert "<summary>Experience</summary>" in html  # not the current group on Overview
    for page in ("experience", "drivers", "people", "surveys", "followups"):
        assert f'href="/w/acme/{page}"' in html, page
    assert 'href="/w/acme/" aria-current="page"' in html


def test_journeys_and_the_value_group_stand_after_experience(site: Site) -> None:
    """Journeys and Moments make the Journeys group a menu after the Experience group;
    Retention, Value and At risk make the Value group a menu, in that order."""
    from cxlens.web.nav import JOURNEYS, VALUE

    entries = menu_for("viewer", "acme")
    keys = [e.label_key if isinstance(e, NavGroup) else e[0].key for e in entries]
    assert keys[keys.index(EXPERIENCE) + 1:][:2] == [JOURNEYS, VALUE]
    journeys = next(e for e in entries if isinstance(e, NavGroup) and e.label_key == JOURNEYS)
    assert journeys.keys[:2] == ["journeys", "moments"]
    group = next(e for e in entries if isinstance(e, NavGroup) and e.label_key == VALUE)
    assert group.keys == ["retention", "value", "at_risk"]
    assert {i.key: i.group for i in nav.NAV}.items() >= {"journeys": JOURNEYS,
                                                          "moments": JOURNEYS,
                                                          "value": VALUE}.items()
    html = site.member("ann@acme.fi").get("/w/acme/journeys").text
    assert 'href="/w/acme/journeys" aria-current="page"' in html
    assert 'href="/w/acme/moments"' in html
    assert 'href="/w/acme/value"' in html


def test_the_marketing_group_stands_after_the_value_group(site: Site) -> None:
    """Marketing ROI opens the Marketing group, right after the Value group (alone in it,
    it is a plain link until Attribution and the Planner join it)."""
    from cxlens.web.nav import MARKETING, VALUE

    entries = menu_for("viewer", "acme")
    keys = [e.label_key if isinstance(e, NavGroup) else e[0].key for e in entries]
    after = keys[keys.index(VALUE) + 1]
    assert after in (MARKETING, "marketing_roi"), keys
    assert {i.key: i.group for i in nav.NAV}["marketing_roi"] == MARKETING
    html = site.member("ann@acme.fi").get("/w/acme/marketing").text
    assert 'href="/w/acme/marketing" aria-current="page"' in html
