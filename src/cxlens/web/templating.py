"""Rendering pages: one Jinja environment (autoescape on) and ``render()``.

``render(request, "page.html", {...})`` gives every template: ``t(key, **values)`` in the
request's language, ``lang``/``languages``, ``user``, ``csrf_token`` (put it in every form as
``{{ csrf_field() }}``), and — when the context has ``access`` (a
:class:`~cxlens.web.deps.WorkspaceAccess`) — ``workspace``, ``role``, ``nav`` (the items of
:mod:`cxlens.web.nav` this role sees, grouped by ``nav.menu_for``) and ``switcher`` (the
user's workspaces).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from cxlens import __version__
from cxlens.web import assets, db, formats, i18n, nav, security
from cxlens.web.workspaces import workspaces_of

TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "cxlens_session"
PRE_COOKIE = "cxlens_pre"  # before sign-in: the CSRF token is an HMAC of this random value

env = Environment(loader=FileSystemLoader(TEMPLATES),
                  autoescape=select_autoescape(default=True, default_for_string=True))
env.globals["asset"] = assets.asset  # {{ asset("cxlens.css") }}: the content-hashed URL


def raw_cells(raw: str | None) -> list[tuple[str | None, str]]:
    """A quarantined row's raw JSON as (column, value) pairs for a table; text that is not
    a JSON object stays one cell."""
    import json

    try:
        row = json.loads(raw) if raw else None
    except ValueError:
        row = None
    if not isinstance(row, dict):
        return [(None, raw or "")]
    return [(str(k), "" if v is None else str(v)) for k, v in row.items()]


env.filters["raw_cells"] = raw_cells
# A canonical field by its label in the page's language: {{ fields|map('field_label', t) }}
env.filters["field_label"] = lambda name, t: f"{t('field.' + name)} ({name})"


def lang_of(request: Request) -> str:
    return i18n.pick(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE),
                     request.headers.get("accept-language"))


def csrf_token(request: Request) -> str:
    """The token forms must send back: the session's secret, or before sign-in an HMAC."""
    session = getattr(request.state, "session", None)
    if session is not None:
        return str(session.csrf_secret)
    pre = request.cookies.get(PRE_COOKIE) or getattr(request.state, "new_pre", None)
    if not pre:
        pre = request.state.new_pre = secrets.token_urlsafe(24)
    return security.sign(request.app.state.settings.secret_key, "pre:" + pre)


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status: int = 200) -> HTMLResponse:
    ctx = dict(context or {})
    lang = lang_of(request)
    session = getattr(request.state, "session", None)
    user = session.user if session else None
    token = csrf_token(request)
    access = ctx.get("access")
    ctx.update(
        request=request, lang=lang, languages=i18n.LANGUAGES, user=user, csrf_token=token,
        version=__version__,
        t=lambda key, **values: i18n.translate(lang, key, **values),
        num=lambda value, digits=0, sign=False: formats.num(value, lang, digits, sign),
        event_label=lambda event_type: i18n.event_label(lang, event_type),
        timeline_label=lambda what: i18n.timeline_label(lang, what),
        kind_label=lambda kind: i18n.kind_label(lang, kind),
        identity_label=lambda identity_type: i18n.identity_label(lang, identity_type),
        value_label=lambda value: i18n.value_label(lang, value),
        money=lambda value, currency=formats.CURRENCY, digits=0, sign=False: formats.money(
            value, lang, currency, digits, sign),
        csrf_field=lambda: Markup('<input type="hidden" name="csrf_token" value="{}">')
        .format(escape(token)),
    )
    if access is not None:
        ctx.update(workspace=access.workspace, role=access.role,
                   nav=nav.menu_for(access.role or "viewer", access.workspace.slug))
    if user is not None:
        con = db.connect(request.app.state.settings.db_path)
        try:
            ctx["switcher"] = workspaces_of(con, user)
        finally:
            con.close()
    html = env.get_template(name).render(ctx)
    response = HTMLResponse(html, status_code=status)
    secure = request.app.state.settings.cookie_secure
    if getattr(request.state, "new_pre", None):
        response.set_cookie(PRE_COOKIE, request.state.new_pre, httponly=True, samesite="lax",
                            secure=secure, path="/")
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax",
                            secure=secure, path="/")
    return response
