"""Invitations and their tokens: one personal link per invitation, stored hashed.

An invitation ties a workspace, a survey, a customer (id and identity key), a language, a
touchpoint and the record that triggered it (an order id …). Its states::

    created ──► sent ──► opened ──► answered
       │          │         ├────► expired      (expires_at passed, nothing submitted)
       └──────────┴─────────┴────► opted_out    (the customer asked for no more surveys)

The link is ``/s/<slug>.<secret>``: the slug says which workspace's warehouse to open, the
secret is ``HMAC-SHA256(workspace key, nonce)`` over a random per-invitation nonce. Only the
SHA-256 of the whole token is stored, so the database alone never yields a working link;
the workspace key (``survey.key`` beside the warehouse, mode 0600) lets delivery re-derive
the link for the first mail and the reminder without keeping it anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

STATES: tuple[str, ...] = ("created", "sent", "opened", "answered", "expired", "opted_out")
OPEN_STATES: tuple[str, ...] = ("created", "sent", "opened")
KEY_FILE = "survey.key"


def workspace_key(workspace: Path) -> bytes:
    """The workspace's survey key, made on first use (random, 32 bytes, file mode 0600)."""
    path = Path(workspace) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def slug_of(workspace: Path) -> str:
    return Path(workspace).resolve().name


def make_token(key: bytes, slug: str, nonce: str) -> str:
    mac = hmac.new(key, nonce.encode(), hashlib.sha256).digest()
    return f"{slug}.{base64.urlsafe_b64encode(mac[:24]).decode().rstrip('=')}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """``(slug, secret)`` of a well-formed token, else None."""
    slug, dot, secret = token.partition(".")
    if not dot or not slug or len(secret) != 32 or len(slug) > 40:
        return None
    return slug, secret


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Invitation:
    invitation_id: int
    survey_id: str
    trigger_id: str | None
    customer_id: str | None
    identity_key: str | None
    email: str | None
    language: str
    touchpoint: str | None
    store_id: str | None
    record_id: str | None
    state: str
    expires_at: datetime
    sent_at: datetime | None
    draft: dict[str, Any]
    nonce: str

    def link(self, key: bytes, slug: str, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/s/{make_token(key, slug, self.nonce)}"


_COLS = ("invitation_id, survey_id, trigger_id, customer_id, identity_key, email, language, "
         "touchpoint, store_id, record_id, state, expires_at, sent_at, draft, nonce")


def _inv(row: tuple[Any, ...]) -> Invitation:
    r = list(row)
    r[13] = json.loads(r[13]) if r[13] else {}
    return Invitation(*r)


def by_token(con: duckdb.DuckDBPyConnection, token: str) -> Invitation | None:
    rows = con.execute(f"SELECT {_COLS} FROM survey_invitations WHERE token_hash = ?",
                       [token_hash(token)]).fetchall()
    return _inv(rows[0]) if rows else None


def by_id(con: duckdb.DuckDBPyConnection, invitation_id: int) -> Invitation | None:
    rows = con.execute(f"SELECT {_COLS} FROM survey_invitations WHERE invitation_id = ?",
                       [invitation_id]).fetchall()
    return _inv(rows[0]) if rows else None


def select(con: duckdb.DuckDBPyConnection, where: str,
           params: list[Any] | None = None) -> list[Invitation]:
    return [_inv(r) for r in con.execute(
        f"SELECT {_COLS} FROM survey_invitations si WHERE {where} ORDER BY invitation_id",
        params or []).fetchall()]


def insert(con: duckdb.DuckDBPyConnection, key: bytes, slug: str,
           rows: list[dict[str, Any]], invited_on: Any, expire_days: dict[str, int]) -> int:
    """Insert planned invitations (state ``created``), each with a fresh nonce and token hash.

    ``rows`` carry survey_id, trigger_id, customer_id, identity_key, email, language,
    touchpoint, store_id, record_id. Run inside the caller's transaction.
    """
    if not rows:
        return 0
    first = int(con.execute("SELECT coalesce(max(invitation_id), 0) + 1 "
                            "FROM survey_invitations").fetchall()[0][0])
    values = []
    for i, r in enumerate(rows):
        nonce = new_nonce()
        values.append((first + i, nonce, token_hash(make_token(key, slug, nonce)),
                       r["survey_id"], r.get("trigger_id"), r.get("customer_id"),
                       r.get("identity_key"), r.get("email"), r["language"],
                       r.get("touchpoint"), r.get("store_id"), r.get("record_id"),
                       invited_on, invited_on,
                       expire_days.get(str(r.get("trigger_id")), 30)))
    con.executemany(
        "INSERT INTO survey_invitations (invitation_id, nonce, token_hash, survey_id, "
        "trigger_id, customer_id, identity_key, email, language, touchpoint, store_id, "
        "record_id, invited_on, state, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, 'created', now()::TIMESTAMP, "
        "?::DATE + to_days(?::INTEGER) + INTERVAL 1 DAY)", values)
    return len(values)


def set_state(con: duckdb.DuckDBPyConnection, invitation_id: int, state: str,
              stamp: str | None = None, at: datetime | None = None) -> None:
    """Move an invitation to ``state``, writing the moment (``at``, else now) to ``stamp``."""
    assert state in STATES
    extra = f", {stamp} = coalesce(?, now()::TIMESTAMP)" if stamp else ""
    params = [state, at] if stamp else [state]
    con.execute(f"UPDATE survey_invitations SET state = ?{extra} WHERE invitation_id = ?",
                [*params, invitation_id])


def mark_opened(con: duckdb.DuckDBPyConnection, inv: Invitation,
                at: datetime | None = None) -> None:
    """First view of the page: created/sent → opened (a link from the CSV may skip 'sent')."""
    if inv.state in ("created", "sent"):
        set_state(con, inv.invitation_id, "opened", "opened_at", at)


def save_draft(con: duckdb.DuckDBPyConnection, invitation_id: int,
               values: dict[str, Any]) -> None:
    con.execute("UPDATE survey_invitations SET draft = ? WHERE invitation_id = ?",
                [json.dumps(values, ensure_ascii=False), invitation_id])


def expire(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> int:
    """Open invitations whose time is up become ``expired``; returns how many."""
    at = "now()::TIMESTAMP" if now is None else "?::TIMESTAMP"
    params = [] if now is None else [now]
    n = con.execute(f"SELECT count(*) FROM survey_invitations WHERE state IN "
                    f"('created', 'sent', 'opened') AND expires_at <= {at}", params
                    ).fetchall()[0][0]
    if n:
        con.execute(f"UPDATE survey_invitations SET state = 'expired' WHERE state IN "
                    f"('created', 'sent', 'opened') AND expires_at <= {at}", params)
    return int(n)


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {s: int(n) for s, n in con.execute(
        "SELECT state, count(*) FROM survey_invitations GROUP BY ALL").fetchall()}
