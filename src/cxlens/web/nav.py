"""The navigation bar of a workspace: a registry that features extend.

Each item is ``NavItem(key, label_key, url_pattern, min_role, order, group)``.
``url_pattern`` is formatted with ``slug``; ``label_key`` is an i18n key (add it to all three
files of ``web/locales/``, see :mod:`cxlens.web.i18n`). A page module registers its item
when it is imported::

    from cxlens.web.nav import NavItem, register
    register(NavItem("data", "nav.data", "/w/{slug}/data", "viewer", order=20))

``group`` (an i18n key, e.g. :data:`EXPERIENCE`) puts the item in a disclosure menu of the
bar instead of on the bar itself, so the bar fits one line on a laptop. The menu stands where
its first item (by ``order``) would stand; a group that a role sees only one item of is shown
as that plain link. Items without a group are on the bar as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cxlens.web.workspaces import role_at_least

EXPERIENCE = "nav.group.experience"  # Experience, Drivers, People, Surveys, Follow-ups
JOURNEYS = "nav.group.journeys"  # Journeys; Moments next
VALUE = "nav.group.value"  # Retention, Value, At risk


@dataclass(frozen=True)
class NavItem:
    key: str
    label_key: str
    url_pattern: str
    min_role: str = "viewer"
    order: int = 50
    group: str = ""


@dataclass
class NavGroup:
    """A disclosure menu of the bar: its label and the links in it."""

    label_key: str
    links: list[tuple[NavItem, str]] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [item.key for item, _ in self.links]


NAV: list[NavItem] = []


def register(item: NavItem) -> NavItem:
    """Add (or replace, by key) an item of the workspace navigation."""
    NAV[:] = [i for i in NAV if i.key != item.key] + [item]
    NAV.sort(key=lambda i: (i.order, i.key))
    return item


def items_for(role: str, slug: str) -> list[tuple[NavItem, str]]:
    """The items a member with ``role`` sees, each with its URL in workspace ``slug``."""
    return [(i, i.url_pattern.format(slug=slug)) for i in NAV if role_at_least(role, i.min_role)]


def menu_for(role: str, slug: str) -> list[tuple[NavItem, str] | NavGroup]:
    """The bar as the layout draws it: the items of :func:`items_for` in order, those of one
    group gathered into a :class:`NavGroup` where the group's first item stands."""
    entries: list[tuple[NavItem, str] | NavGroup] = []
    groups: dict[str, NavGroup] = {}
    for item, url in items_for(role, slug):
        if not item.group:
            entries.append((item, url))
            continue
        if item.group not in groups:
            groups[item.group] = NavGroup(item.group)
            entries.append(groups[item.group])
        groups[item.group].links.append((item, url))
    return [e.links[0] if isinstance(e, NavGroup) and len(e.links) == 1 else e
            for e in entries]


register(NavItem("overview", "nav.overview", "/w/{slug}/", "viewer", order=10))
register(NavItem("settings", "nav.settings", "/w/{slug}/settings", "owner", order=90))
