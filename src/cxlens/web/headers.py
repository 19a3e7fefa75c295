"""Security headers on every response: a Content-Security-Policy without inline scripts,
no framing, no MIME sniffing, no referrer.

The policy allows scripts only from this server (``script-src 'self'``): templates load
their scripts and Plotly from ``/assets/`` (web/assets.py), and hand data to them in
``<script type="application/json">`` blocks, which are never run. Inline event handlers
(``onsubmit=…``) are not allowed either: ``static/cxlens-confirm.js`` asks for confirmation
from a ``data-confirm`` attribute instead. Styles allow ``'unsafe-inline'``: Plotly and
Swagger UI set ``style`` attributes and insert ``<style>`` rules as they draw, and a style
cannot run code. ``img-src`` allows ``data:`` and ``blob:`` for the same two (icons in their
CSS, Plotly's "download as PNG"). ``tests/web/test_headers.py`` pins the headers and
``tests/browser/test_csp_browser.py`` opens every page and watches for violations.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Invitation and survey links carry their token in the path: never send it elsewhere.
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityHeaders:
    """Add :data:`HEADERS` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
