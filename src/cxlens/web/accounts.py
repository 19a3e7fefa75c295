"""Users, sign-in with its throttle, and sessions.

A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256,
the user, the expiry and the session's CSRF secret. Signing in always creates a new session
(the old cookie's session is deleted), so a session id planted before sign-in is useless.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from cxlens.errors import UserError
from cxlens.web import security
from cxlens.web.db import iso, now, transaction


@dataclass(frozen=True)
class User:
    id: int
    email: str


@dataclass(frozen=True)
class Session:
    user: User
    csrf_secret: str
    expires_at: datetime


class Throttled(Exception):
    """Too many failed sign-ins for this e-mail or address; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed sign-ins")
        self.retry_after = retry_after


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 254:
        raise UserError(f"not an e-mail address: {email!r}", hint="write it as name@example.fi")
    return email


def check_password_rules(password: str) -> None:
    if len(password) < security.MIN_PASSWORD:
        raise UserError(f"the password is too short (at least {security.MIN_PASSWORD} "
                        "characters)", hint="choose a longer password")


def create_user(con: sqlite3.Connection, email: str, password: str) -> User:
    email = normalise_email(email)
    check_password_rules(password)
    if con.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchone():
        raise UserError(f"a user {email} already exists", hint="sign in instead")
    cur = con.execute("INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?)",
                      [email, security.hash_password(password), iso(now())])
    return User(int(cur.lastrowid or 0), email)


def user_by_email(con: sqlite3.Connection, email: str) -> User | None:
    row = con.execute("SELECT id, email FROM users WHERE email = ?",
                      [email.strip().lower()]).fetchone()
    return User(row["id"], row["email"]) if row else None


def authenticate(con: sqlite3.Connection, email: str, password: str, ip: str, *,
                 max_failures: int, max_failures_ip: int, window: int) -> User | None:
    """The user when email and password match; None otherwise (never says which was wrong).

    Raises Throttled before checking anything when the e-mail or the address has had too
    many failures within the window. Every attempt is recorded.

    The check and the count are one step: in one ``BEGIN IMMEDIATE`` transaction (SQLite's
    write lock, so concurrent sign-ins take turns here) the failures are counted and this
    attempt is recorded as a failure *before* the slow password check; a right password
    turns it into a success afterwards. So N concurrent wrong passwords cost at most
    ``max_failures`` password checks, not N (issue 15: 60 concurrent ones got 24 checks).
    """
    email = email.strip().lower()
    attempt = _claim_attempt(con, email, ip, max_failures=max_failures,
                             max_failures_ip=max_failures_ip, window=window)
    row = con.execute("SELECT id, email, password_hash FROM users WHERE email = ?",
                      [email]).fetchone()
    ok = security.verify_password(row["password_hash"] if row else None, password)
    if ok and row:
        with transaction(con):
            con.execute("UPDATE login_attempts SET ok = 1 WHERE id = ?", [attempt])
            con.execute("DELETE FROM login_attempts WHERE email = ? AND ok = 0", [email])
        return User(row["id"], row["email"])
    return None


def _claim_attempt(con: sqlite3.Connection, email: str, ip: str, *, max_failures: int,
                   max_failures_ip: int, window: int) -> int:
    """Count the failures and record this attempt as one, atomically; its id, or Throttled."""
    with transaction(con):
        since = iso(now() - timedelta(seconds=window))
        by_email = con.execute("SELECT count(*), min(at) FROM login_attempts WHERE email = ? "
                               "AND ok = 0 AND at >= ?", [email, since]).fetchone()
        by_ip = con.execute("SELECT count(*), min(at) FROM login_attempts WHERE ip = ? "
                            "AND ok = 0 AND at >= ?", [ip, since]).fetchone()
        for (count, first), limit in ((by_email, max_failures), (by_ip, max_failures_ip)):
            if count >= limit:
                until = datetime.fromisoformat(first) + timedelta(seconds=window)
                raise Throttled(max(1, int((until - now()).total_seconds())))
        cur = con.execute("INSERT INTO login_attempts (email, ip, at, ok) VALUES (?, ?, ?, 0)",
                          [email, ip, iso(now())])
        return int(cur.lastrowid or 0)


def change_password(con: sqlite3.Connection, user: User, current: str, new: str,
                    keep_session: str | None = None) -> None:
    """Needs the current password; signs out every other session of the user."""
    row = con.execute("SELECT password_hash FROM users WHERE id = ?", [user.id]).fetchone()
    if not row or not security.verify_password(row["password_hash"], current):
        raise UserError("the current password is not right", hint="type your current password")
    check_password_rules(new)
    with transaction(con):
        con.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                    [security.hash_password(new), user.id])
        con.execute("DELETE FROM sessions WHERE user_id = ? AND token_hash != ?",
                    [user.id, security.sha256(keep_session) if keep_session else ""])


def set_password(con: sqlite3.Connection, user: User, new: str) -> None:
    check_password_rules(new)
    con.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                [security.hash_password(new), user.id])


# ----------------------------------------------------------------------------- sessions


def start_session(con: sqlite3.Connection, user: User, max_age: int,
                  replaces: str | None = None) -> str:
    """A new session for the user; returns the cookie value (the only place it exists)."""
    token = security.new_secret()
    with transaction(con):
        if replaces:
            con.execute("DELETE FROM sessions WHERE token_hash = ?", [security.sha256(replaces)])
        con.execute("DELETE FROM sessions WHERE expires_at < ?", [iso(now())])
        con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                    [security.sha256(token), user.id, security.new_secret(), iso(now()),
                     iso(now() + timedelta(seconds=max_age))])
    return token


def session_of(con: sqlite3.Connection, token: str | None) -> Session | None:
    """The live session for a cookie value; None when unknown or expired."""
    if not token:
        return None
    row = con.execute(
        "SELECT s.csrf_secret, s.expires_at, u.id, u.email FROM sessions s "
        "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        [security.sha256(token)]).fetchone()
    if not row:
        return None
    expires = datetime.fromisoformat(row["expires_at"])
    if expires <= now():
        con.execute("DELETE FROM sessions WHERE token_hash = ?", [security.sha256(token)])
        return None
    return Session(User(row["id"], row["email"]), row["csrf_secret"], expires)


def end_session(con: sqlite3.Connection, token: str | None) -> None:
    if token:
        con.execute("DELETE FROM sessions WHERE token_hash = ?", [security.sha256(token)])
