"""The browser tests' fixtures for every module of this folder: one server and one Playwright
session for the whole run. They are written in ``browser_fixtures.py`` and only named here;
a module that star-imported them would get its own copies, and a second session-scoped
``sync_playwright()`` inside the first fails."""

from __future__ import annotations

from browser_fixtures import browser, page, server

__all__ = ["browser", "page", "server"]
