"""The navigation bar of a workspace: a registry that features extend.

Each item is ``NavItem(key, label_key, url_pattern, min_role, order)``. ``url_pattern`` is
formatted with ``slug``; ``label_key`` is an i18n key (add it to all three files of
``web/locales/``, see :mod:`cxlens.web.i18n`). A page module registers its item when it is
imported::

    from cxlens.web.nav import NavItem, register
    register(NavItem("data", "nav.data", "/w/{slug}/data", "viewer", order=20))
"""

from __future__ import annotations

from dataclasses import dataclass

from cxlens.web.workspaces import role_at_least


@dataclass(frozen=True)
class NavItem:
    key: str
    label_key: str
    url_pattern: str
    min_role: str = "viewer"
    order: int = 50


NAV: list[NavItem] = []


def register(item: NavItem) -> NavItem:
    """Add (or replace, by key) an item of the workspace navigation."""
    NAV[:] = [i for i in NAV if i.key != item.key] + [item]
    NAV.sort(key=lambda i: (i.order, i.key))
    return item


def items_for(role: str, slug: str) -> list[tuple[NavItem, str]]:
    """The items a member with ``role`` sees, each with its URL in workspace ``slug``."""
    return [(i, i.url_pattern.format(slug=slug)) for i in NAV if role_at_least(role, i.min_role)]


register(NavItem("overview", "nav.overview", "/w/{slug}/", "viewer", order=10))
register(NavItem("settings", "nav.settings", "/w/{slug}/settings", "owner", order=90))
