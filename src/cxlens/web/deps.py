"""Dependencies as ``Annotated`` aliases, so routes stay thin.

    Db                  a sqlite3 connection to the app database, closed after the request
    Settings            the server's WebSettings
    OptionalSession     the live session of the cookie, or None
    CurrentUser         the signed-in user (pages redirect to /signin, the API answers 401)
    WorkspaceRole(r)    pages under /w/{slug}/: the caller is a member with role >= r
    TokenScope(s)       JSON under /api/w/{slug}/: a token of this workspace with scope s,
                        the server's local token (loopback only), or a member's session
    Pool                the server's warehouses (Warehouses)
    ServerClock         the server's clock (app.state.clock): the time of the request

Both workspace dependencies answer 404 for a workspace the caller cannot see — the same
answer as for a workspace that does not exist — and 403 when the caller can see it but
lacks the role or scope. ``csrf_guard`` runs for every route (it is an app dependency).

Who authenticates a request is decided once, in :func:`token_auth`: a valid API token
(``Bearer cx_…``) or the server's local token (``Bearer cxlocal_…`` from loopback) makes the
request a token request — its cookies are then ignored (:func:`get_session` answers None) and
it needs no CSRF token, since a browser never attaches a bearer token by itself. Every other
request, whatever ``Authorization`` header it carries (browsers send Basic or Negotiate by
themselves behind some proxies), is a cookie request and its unsafe methods need the CSRF
token.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from cxlens.clock import Clock
from cxlens.warehouse.engine import Engine
from cxlens.web import db, security
from cxlens.web.accounts import Session, User, session_of
from cxlens.web.errors import SignInRequired
from cxlens.web.settings import WebSettings
from cxlens.web.templating import PRE_COOKIE, SESSION_COOKIE
from cxlens.web.warehouses import Warehouse, Warehouses
from cxlens.web.workspaces import (
    ROLE_SCOPES,
    SCOPES,
    ApiToken,
    Workspace,
    role_at_least,
    role_of,
    scope_allows,
    token_of,
    workspace_by_slug,
)

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def get_settings(request: Request) -> WebSettings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[sqlite3.Connection]:
    con = db.connect(request.app.state.settings.db_path)
    try:
        yield con
    finally:
        con.close()


def get_pool(request: Request) -> Warehouses:
    return request.app.state.warehouses


def get_clock(request: Request) -> Clock:
    """The server's one clock (``app.state.clock``): routes read the time here and pass it
    down; library code never reads the wall clock (cxlens.clock)."""
    return request.app.state.clock


Settings = Annotated[WebSettings, Depends(get_settings)]
Db = Annotated[sqlite3.Connection, Depends(get_db)]
Pool = Annotated[Warehouses, Depends(get_pool)]
ServerClock = Annotated[Clock, Depends(get_clock)]


def bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def is_local_token(request: Request, token: str) -> bool:
    expected = getattr(request.app.state, "local_token_hash", None)
    client = request.client.host if request.client else ""
    return (token.startswith(security.LOCAL_TOKEN_PREFIX) and client in LOOPBACK
            and security.same(security.sha256(token), expected))


LOCAL = "local"  # token_auth's answer for the server's own local token


def token_auth(request: Request, con: sqlite3.Connection) -> ApiToken | str | None:
    """The API token (or ``LOCAL``) that authenticates this request; None for a cookie
    request. Looked up once per request: the CSRF rule and the route must agree on it."""
    if hasattr(request.state, "token_auth"):
        return request.state.token_auth  # type: ignore[no-any-return]
    token = bearer(request)
    found: ApiToken | str | None = None
    if token is not None and token.startswith(security.LOCAL_TOKEN_PREFIX):
        found = LOCAL if is_local_token(request, token) else None
    elif token is not None and token.startswith(security.API_TOKEN_PREFIX):
        found = token_of(con, token)
    request.state.token_auth = found
    return found


def get_session(request: Request, con: Db) -> Session | None:
    """The cookie's session; None without one, and None for a request authenticated by a
    bearer token (its cookies must not add a second, CSRF-free identity)."""
    if token_auth(request, con) is not None:
        request.state.session = None
        return None
    session = session_of(con, request.cookies.get(SESSION_COOKIE))
    request.state.session = session
    return session


OptionalSession = Annotated[Session | None, Depends(get_session)]


def current_user(session: OptionalSession) -> User:
    if session is None:
        raise SignInRequired()
    return session.user


CurrentUser = Annotated[User, Depends(current_user)]


@dataclass(frozen=True)
class WorkspaceAccess:
    """Who is using which workspace, and what they may do there."""

    workspace: Workspace
    role: str | None = None  # the member's role; None for a token
    user: User | None = None
    token: ApiToken | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    pool: Any = None
    local: bool = False  # the server's own local token (cxlens on this machine)

    @property
    def warehouse(self) -> Warehouse:
        """The workspace's warehouse as the server holds it (see web/warehouses.py)."""
        return self.pool.get(self.workspace.path)

    def engine(self) -> AbstractContextManager[Engine]:
        """The engine the workspace's analytics read through: its setting, else the
        server's default (``Warehouse.engine``)."""
        return self.warehouse.engine(self.workspace.engine)

    def can(self, scope: str) -> bool:
        return scope_allows(self.scopes, scope)


def _not_found() -> HTTPException:
    return HTTPException(404, "no such workspace")


def _member_access(con: sqlite3.Connection, user: User, slug: str,
                   pool: Warehouses) -> WorkspaceAccess:
    ws = workspace_by_slug(con, slug)
    role = role_of(con, user, ws) if ws else None
    if ws is None or role is None:
        raise _not_found()
    return WorkspaceAccess(ws, role=role, user=user, scopes=ROLE_SCOPES[role], pool=pool)


def WorkspaceRole(min_role: str) -> Any:
    """``access: WorkspaceRole("analyst")``: a signed-in member of {slug} with that role."""

    def dependency(slug: str, request: Request, session: OptionalSession, con: Db,
                   pool: Pool) -> WorkspaceAccess:
        if session is None:
            if bearer(request) is not None:  # Basic/Negotiate come from browsers: sign in
                raise HTTPException(403, "pages need a signed-in session; API tokens work "
                                         "under /api/w/{slug}/")
            raise SignInRequired()
        access = _member_access(con, session.user, slug, pool)
        if not role_at_least(str(access.role), min_role):
            raise HTTPException(403, f"this needs the {min_role} role in this workspace")
        return access

    return Annotated[WorkspaceAccess, Depends(dependency)]


def _bad_token(token: str) -> HTTPException:
    """401 for a bearer value that authenticates nothing."""
    what = ("the local token is not valid here" if token.startswith(security.LOCAL_TOKEN_PREFIX)
            else "the API token is not valid (unknown or revoked)")
    return HTTPException(401, what, headers={"WWW-Authenticate": "Bearer"})


def TokenScope(scope: str) -> Any:
    """``access: TokenScope("read")``: may the caller use {slug} with this scope?"""
    if scope not in SCOPES:
        raise ValueError(scope)

    def dependency(slug: str, request: Request, con: Db, pool: Pool,
                   session: OptionalSession) -> WorkspaceAccess:
        token = bearer(request)
        if token is not None and token.startswith(security.LOCAL_TOKEN_PREFIX):
            if not is_local_token(request, token):
                raise _bad_token(token)
            ws = workspace_by_slug(con, slug)
            if ws is None:
                raise _not_found()
            return WorkspaceAccess(ws, scopes=frozenset(SCOPES), pool=pool, local=True)
        if token is not None:
            found = token_auth(request, con)
            api_token = found if isinstance(found, ApiToken) else None
            if api_token is None:
                raise _bad_token(token)
            if api_token.workspace.slug != slug:
                raise _not_found()
            access = WorkspaceAccess(api_token.workspace, token=api_token,
                                     scopes=frozenset({api_token.scope}), pool=pool)
        elif session is not None:
            access = _member_access(con, session.user, slug, pool)
        else:
            raise SignInRequired()
        if not access.can(scope):
            raise HTTPException(403, f"this needs the {scope!r} scope")
        return access

    return Annotated[WorkspaceAccess, Depends(dependency)]


async def csrf_guard(request: Request, session: OptionalSession, con: Db) -> None:
    """Every unsafe request carries the CSRF token unless a bearer token authenticates it.

    The token comes as the form field ``csrf_token`` or the header ``X-CSRF-Token``; it is
    the session's secret, or before sign-in an HMAC of the ``cxlens_pre`` cookie. Only a
    request that a valid API token or the local token authenticates (:func:`token_auth`;
    its cookies are then ignored), and the collection API ``/v1`` (write key in a header or
    the body, never a cookie), skip it. Any other ``Authorization`` header — Basic or
    Negotiate that a browser adds by itself, an unknown bearer value — changes nothing.
    """
    if request.method not in UNSAFE:
        return
    if request.url.path.startswith("/v1/"):
        return  # collection uses no cookie: the write key is in a header or the body
    if token_auth(request, con) is not None:
        return
    token = bearer(request)
    if token is not None:  # a bearer value that authenticates nothing: say so (401)
        raise _bad_token(token)
    sent = request.headers.get("x-csrf-token")
    ctype = request.headers.get("content-type", "")
    if sent is None and ctype.startswith(("application/x-www-form-urlencoded",
                                          "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if session is not None:
        expected = session.csrf_secret
    else:
        pre = request.cookies.get(PRE_COOKIE)
        expected = (security.sign(request.app.state.settings.secret_key, "pre:" + pre)
                    if pre else None)
    if not security.same(sent, expected):
        raise HTTPException(403, "the form's security token (CSRF) is missing or wrong; "
                                 "reload the page and try again")
