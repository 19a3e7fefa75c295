"""The cxlens web app and JSON API (FastAPI + Jinja2, server-rendered, offline).

Public surface: :func:`create_app`, :class:`WebSettings`, :func:`serve`, imported lazily so
that ``cxlens`` commands which only look for a running server stay quick. The layout and the
extension points (pages, endpoints, navigation, UI text) are described in docs/web.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WebSettings", "create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from cxlens.web.app import create_app

        return create_app
    if name == "serve":
        from cxlens.web.server import serve

        return serve
    if name == "WebSettings":
        from cxlens.web.settings import WebSettings

        return WebSettings
    raise AttributeError(name)
