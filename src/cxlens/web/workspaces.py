"""Workspaces and who may use them: memberships, invitations, API tokens, write keys.

One workspace is one company's data: ``<home>/workspaces/<slug>/`` holds its DuckDB
warehouse. Roles are ordered ``viewer < analyst < owner``; token scopes are ``read``,
``write`` (includes read and ingest) and ``ingest`` (only ingest, for pipelines).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from cxlens.errors import UserError
from cxlens.web import security
from cxlens.web.accounts import User, normalise_email
from cxlens.web.db import iso, now, transaction

Role = Literal["viewer", "analyst", "owner"]
Scope = Literal["read", "write", "ingest"]
ROLES: tuple[str, ...] = ("viewer", "analyst", "owner")
SCOPES: tuple[str, ...] = ("read", "write", "ingest")
# Which token scopes satisfy a needed scope.
SCOPE_GRANTS: dict[str, frozenset[str]] = {
    "read": frozenset({"read", "write"}),
    "write": frozenset({"write"}),
    "ingest": frozenset({"ingest", "write"}),
}
# The scopes a signed-in member has through their role.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "analyst": frozenset({"read", "write", "ingest"}),
    "owner": frozenset({"read", "write", "ingest"}),
}
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def role_at_least(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def scope_allows(held: frozenset[str] | set[str], needed: str) -> bool:
    return bool(set(held) & SCOPE_GRANTS[needed])


ENGINES: tuple[str, ...] = ("duckdb", "spark")


@dataclass(frozen=True)
class Workspace:
    id: int
    slug: str
    name: str
    path: Path
    # What its pages and API compute on (docs/engine.md): "duckdb", "spark", or None for
    # the server's default (Spark when $CXLENS_SPARK is set, else DuckDB).
    engine: str | None = None


def _ws(row: sqlite3.Row) -> Workspace:
    return Workspace(row["id"], row["slug"], row["name"], Path(row["path"]), row["engine"])


def set_engine(con: sqlite3.Connection, ws: Workspace, engine: str | None) -> None:
    """Choose the engine of the workspace's pages and API; ``None`` (or "") follows the
    server's default."""
    engine = engine or None
    if engine is not None and engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}",
                        hint=f"use {' or '.join(ENGINES)}, or the server's default")
    con.execute("UPDATE workspaces SET engine = ? WHERE id = ?", [engine, ws.id])


def create_workspace(con: sqlite3.Connection, workspaces_dir: Path, slug: str, name: str,
                     owner: User) -> tuple[Workspace, str]:
    """Create the workspace, its folder and its write key; returns the key (shown once)."""
    if not SLUG.match(slug):
        raise UserError(f"not a valid workspace slug: {slug!r}",
                        hint="use 1–40 lower-case letters, digits and dashes, e.g. acme-oy")
    if con.execute("SELECT 1 FROM workspaces WHERE slug = ?", [slug]).fetchone():
        raise UserError(f"a workspace {slug!r} already exists", hint="choose another slug")
    path = (Path(workspaces_dir) / slug).resolve()
    path.mkdir(parents=True, exist_ok=True)
    with transaction(con):
        cur = con.execute("INSERT INTO workspaces (slug, name, path, created_at) "
                          "VALUES (?, ?, ?, ?)", [slug, name or slug, str(path), iso(now())])
        ws = Workspace(int(cur.lastrowid or 0), slug, name or slug, path)
        con.execute("INSERT INTO memberships VALUES (?, ?, 'owner', ?)",
                    [owner.id, ws.id, iso(now())])
        key = _insert_write_key(con, ws)
    return ws, key


def workspace_by_slug(con: sqlite3.Connection, slug: str) -> Workspace | None:
    row = con.execute("SELECT * FROM workspaces WHERE slug = ?", [slug]).fetchone()
    return _ws(row) if row else None


def workspace_by_id(con: sqlite3.Connection, ws_id: int) -> Workspace | None:
    row = con.execute("SELECT * FROM workspaces WHERE id = ?", [ws_id]).fetchone()
    return _ws(row) if row else None


def workspaces_of(con: sqlite3.Connection, user: User) -> list[tuple[Workspace, str]]:
    rows = con.execute("SELECT w.*, m.role FROM workspaces w JOIN memberships m "
                       "ON m.workspace_id = w.id WHERE m.user_id = ? ORDER BY w.name",
                       [user.id]).fetchall()
    return [(_ws(r), r["role"]) for r in rows]


def role_of(con: sqlite3.Connection, user: User, ws: Workspace) -> str | None:
    row = con.execute("SELECT role FROM memberships WHERE user_id = ? AND workspace_id = ?",
                      [user.id, ws.id]).fetchone()
    return row["role"] if row else None


def members(con: sqlite3.Connection, ws: Workspace) -> list[dict[str, object]]:
    rows = con.execute("SELECT u.id, u.email, m.role, m.created_at FROM memberships m "
                       "JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ? "
                       "ORDER BY u.email", [ws.id]).fetchall()
    return [dict(r) for r in rows]


def add_member(con: sqlite3.Connection, ws: Workspace, user: User, role: str) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}", hint=f"use one of: {', '.join(ROLES)}")
    con.execute("INSERT INTO memberships VALUES (?, ?, ?, ?) ON CONFLICT (user_id, workspace_id) "
                "DO UPDATE SET role = excluded.role", [user.id, ws.id, role, iso(now())])


def remove_member(con: sqlite3.Connection, ws: Workspace, user_id: int) -> None:
    owners = con.execute("SELECT user_id FROM memberships WHERE workspace_id = ? AND "
                         "role = 'owner'", [ws.id]).fetchall()
    if [r[0] for r in owners] == [user_id]:
        raise UserError("the last owner cannot be removed", hint="make someone else owner first")
    con.execute("DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?",
                [ws.id, user_id])


# -------------------------------------------------------------------------- invitations


def invite(con: sqlite3.Connection, ws: Workspace, email: str, role: str, by: User,
           max_age: int) -> str:
    """Create an invitation; returns its one-time token (goes into the link only)."""
    email = normalise_email(email)
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}", hint=f"use one of: {', '.join(ROLES)}")
    token = security.new_secret()
    con.execute("INSERT INTO invitations (workspace_id, email, role, token_hash, invited_by, "
                "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [ws.id, email, role, security.sha256(token), by.id, iso(now()),
                 iso(now() + timedelta(seconds=max_age))])
    return token


@dataclass(frozen=True)
class Invitation:
    id: int
    workspace: Workspace
    email: str
    role: str


def invitation_of(con: sqlite3.Connection, token: str) -> Invitation | None:
    """The open invitation for a token; None when unknown, used, revoked or expired."""
    row = con.execute("SELECT * FROM invitations WHERE token_hash = ?",
                      [security.sha256(token)]).fetchone()
    if (not row or row["accepted_at"] or row["revoked_at"]
            or datetime.fromisoformat(row["expires_at"]) <= now()):
        return None
    ws = workspace_by_id(con, row["workspace_id"])
    return Invitation(row["id"], ws, row["email"], row["role"]) if ws else None


def accept_invitation(con: sqlite3.Connection, inv: Invitation, user: User) -> None:
    with transaction(con):
        done = con.execute("UPDATE invitations SET accepted_at = ? WHERE id = ? AND "
                           "accepted_at IS NULL", [iso(now()), inv.id]).rowcount
        if not done:
            raise UserError("this invitation has already been used",
                            hint="ask the owner for a new one")
        current = role_of(con, user, inv.workspace)
        if current is None or not role_at_least(current, inv.role):
            add_member(con, inv.workspace, user, inv.role)


def invitations(con: sqlite3.Connection, ws: Workspace) -> list[dict[str, object]]:
    rows = con.execute("SELECT id, email, role, created_at, expires_at FROM invitations "
                       "WHERE workspace_id = ? AND accepted_at IS NULL AND revoked_at IS NULL "
                       "AND expires_at > ? ORDER BY created_at DESC",
                       [ws.id, iso(now())]).fetchall()
    return [dict(r) for r in rows]


def revoke_invitation(con: sqlite3.Connection, ws: Workspace, inv_id: int) -> bool:
    return con.execute("UPDATE invitations SET revoked_at = ? WHERE id = ? AND workspace_id = ? "
                       "AND revoked_at IS NULL", [iso(now()), inv_id, ws.id]).rowcount > 0


# ---------------------------------------------------------------------------- API tokens


@dataclass(frozen=True)
class ApiToken:
    id: int
    workspace: Workspace
    name: str
    scope: str


def create_token(con: sqlite3.Connection, ws: Workspace, name: str, scope: str,
                 by: User | None) -> str:
    """Create an API token; returns it in full (shown once, stored only hashed)."""
    if scope not in SCOPES:
        raise UserError(f"unknown scope {scope!r}", hint=f"use one of: {', '.join(SCOPES)}")
    name = name.strip() or "token"
    token = security.new_secret(security.API_TOKEN_PREFIX)
    con.execute("INSERT INTO api_tokens (workspace_id, name, scope, token_hash, prefix, "
                "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [ws.id, name[:100], scope, security.sha256(token), token[:10],
                 by.id if by else None, iso(now())])
    return token


def token_of(con: sqlite3.Connection, token: str) -> ApiToken | None:
    """The live token for a bearer value (and its last use noted); None when unknown/revoked."""
    row = con.execute("SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
                      [security.sha256(token)]).fetchone()
    if not row:
        return None
    con.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [iso(now()), row["id"]])
    ws = workspace_by_id(con, row["workspace_id"])
    return ApiToken(row["id"], ws, row["name"], row["scope"]) if ws else None


def tokens(con: sqlite3.Connection, ws: Workspace) -> list[dict[str, object]]:
    rows = con.execute("SELECT id, name, scope, prefix, created_at, last_used_at, revoked_at "
                       "FROM api_tokens WHERE workspace_id = ? ORDER BY id", [ws.id]).fetchall()
    return [dict(r) for r in rows]


def revoke_token(con: sqlite3.Connection, ws: Workspace, token_id: int) -> bool:
    return con.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND workspace_id = ? "
                       "AND revoked_at IS NULL", [iso(now()), token_id, ws.id]).rowcount > 0


# ---------------------------------------------------------------------------- write keys


def _insert_write_key(con: sqlite3.Connection, ws: Workspace) -> str:
    key = security.new_secret(security.WRITE_KEY_PREFIX)
    con.execute("INSERT INTO write_keys (workspace_id, key_hash, prefix, created_at) "
                "VALUES (?, ?, ?, ?)", [ws.id, security.sha256(key), key[:10], iso(now())])
    return key


def rotate_write_key(con: sqlite3.Connection, ws: Workspace) -> str:
    """Revoke the workspace's write keys and make a new one; returns it (shown once)."""
    with transaction(con):
        con.execute("UPDATE write_keys SET revoked_at = ? WHERE workspace_id = ? AND "
                    "revoked_at IS NULL", [iso(now()), ws.id])
        return _insert_write_key(con, ws)


def write_key_prefix(con: sqlite3.Connection, ws: Workspace) -> str | None:
    row = con.execute("SELECT prefix FROM write_keys WHERE workspace_id = ? AND revoked_at IS "
                      "NULL ORDER BY id DESC LIMIT 1", [ws.id]).fetchone()
    return row["prefix"] if row else None


def workspace_of_write_key(con: sqlite3.Connection, key: str) -> Workspace | None:
    """The workspace a Segment write key belongs to (for the collection API)."""
    row = con.execute("SELECT workspace_id FROM write_keys WHERE key_hash = ? AND revoked_at "
                      "IS NULL", [security.sha256(key)]).fetchone()
    return workspace_by_id(con, row["workspace_id"]) if row else None
