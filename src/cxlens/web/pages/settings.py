"""Workspace settings (owners): members, invitations, API tokens, the write key, the
engine the pages and API compute on, and the money settings (reporting currency and
exchange rates, kept in the workspace's folder: :mod:`cxlens.money`).

A new token, write key or invitation link is rendered once in the response to the POST
that made it and never again: the database keeps only its hash.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from cxlens.errors import UserError
from cxlens.money import Money, checked, parse_rate_items, read_money, write_money
from cxlens.web import workspaces as wss
from cxlens.web.deps import Db, Settings, WorkspaceAccess, WorkspaceRole
from cxlens.web.pages import see_other
from cxlens.web.params import RowId
from cxlens.web.templating import render
from cxlens.web.warehouses import engine_name

router = APIRouter(include_in_schema=False)
Owner = WorkspaceRole("owner")


def page(request: Request, con: sqlite3.Connection, access: WorkspaceAccess,
         status: int = 200, **extra: Any) -> Response:
    ws = access.workspace
    base, guessed = request.app.state.settings.link_base()
    try:
        money = read_money(ws.path)
    except UserError as exc:  # a file broken by hand: say so, and offer to set it again
        money = Money()
        extra.setdefault("error", str(exc))
    return render(request, "settings.html", {
        "link_base": base, "link_base_guessed": guessed,
        "access": access, "members": wss.members(con, ws),
        "invitations": wss.invitations(con, ws), "tokens": wss.tokens(con, ws),
        "write_key_prefix": wss.write_key_prefix(con, ws), "roles": wss.ROLES,
        "scopes": wss.SCOPES, "engines": wss.ENGINES, "engine_default": engine_name(None),
        "ws_money": money, "rates_text": "\n".join(f"{c}={r:g}" for c, r in money.rates.items()),
        **extra}, status=status)


def back(access: WorkspaceAccess) -> Response:
    return see_other(f"/w/{access.workspace.slug}/settings")


@router.get("/w/{slug}/settings")
def settings_page(request: Request, access: Owner, con: Db) -> Response:
    return page(request, con, access)


@router.post("/w/{slug}/settings/invitations")
def invite(request: Request, access: Owner, con: Db, settings: Settings,
           email: Annotated[str, Form(max_length=254)],
           role: Annotated[str, Form()] = "viewer") -> Response:
    try:
        token = wss.invite(con, access.workspace, email, role, access.user,  # type: ignore[arg-type]
                           settings.invitation_max_age)
    except UserError as exc:
        return page(request, con, access, status=400, error=exc.message)
    link = settings.link_base()[0] + f"/invite/{token}"  # never the request's Host header
    return page(request, con, access, new_invitation={"email": email.strip().lower(),
                                                      "link": link})


@router.post("/w/{slug}/settings/invitations/{invitation_id}/revoke")
def revoke_invitation(access: Owner, con: Db, invitation_id: RowId) -> Response:
    if not wss.revoke_invitation(con, access.workspace, invitation_id):
        raise HTTPException(404, "no such open invitation")
    return back(access)


@router.post("/w/{slug}/settings/members/{user_id}/remove")
def remove_member(request: Request, access: Owner, con: Db, user_id: RowId) -> Response:
    try:
        wss.remove_member(con, access.workspace, user_id)
    except UserError as exc:
        return page(request, con, access, status=400, error=exc.message)
    return back(access)


@router.post("/w/{slug}/settings/tokens")
def create_token(request: Request, access: Owner, con: Db,
                 name: Annotated[str, Form(max_length=100)],
                 scope: Annotated[str, Form()] = "read") -> Response:
    try:
        token = wss.create_token(con, access.workspace, name, scope, access.user)
    except UserError as exc:
        return page(request, con, access, status=400, error=exc.message)
    return page(request, con, access, new_token=token)


@router.post("/w/{slug}/settings/tokens/{token_id}/revoke")
def revoke_token(access: Owner, con: Db, token_id: RowId) -> Response:
    if not wss.revoke_token(con, access.workspace, token_id):
        raise HTTPException(404, "no such live token in this workspace")
    return back(access)


@router.post("/w/{slug}/settings/write-key")
def rotate_write_key(request: Request, access: Owner, con: Db) -> Response:
    key = wss.rotate_write_key(con, access.workspace)
    return page(request, con, access, new_write_key=key)


@router.post("/w/{slug}/settings/engine")
def set_engine(request: Request, access: Owner, con: Db,
               engine: Annotated[str, Form(max_length=20)] = "") -> Response:
    """DuckDB, Spark, or "" for the server's default ($CXLENS_SPARK): from the next request
    on, every page and API result of the workspace is computed there (docs/engine.md)."""
    try:
        wss.set_engine(con, access.workspace, engine)
    except UserError as exc:
        return page(request, con, access, status=400, error=exc.message)
    return back(access)


@router.post("/w/{slug}/settings/money")
def set_money(request: Request, access: Owner, con: Db,
              currency: Annotated[str, Form(max_length=10)] = "",
              rates: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """The reporting currency and the exchange rates (``CUR=RATE``, one a line): every money
    figure of the workspace is summed in them from the next request on."""
    try:
        items = [x for x in re.split(r"[\s;]+", rates) if x]
        money = checked(currency, parse_rate_items(items))
    except UserError as exc:
        return page(request, con, access, status=400, error=exc.message)
    write_money(access.workspace.path, money)
    return back(access)
