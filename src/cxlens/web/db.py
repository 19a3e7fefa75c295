"""The app database: users, workspaces, memberships, sessions, tokens — SQLite in the home.

SQLite (stdlib ``sqlite3``) in WAL mode, so the server, ``cxlens admin`` and tests can use
it at the same time. The schema is a list of migrations; ``migrations`` records which ran.
Every secret (session, API token, invitation, write key) is stored as its SHA-256 only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cxlens.warehouse.store import private

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE workspaces (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE memberships (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('owner', 'analyst', 'viewer')),
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, workspace_id)
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        csrf_secret TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'ingest')),
        token_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT
    );
    CREATE TABLE invitations (
        id INTEGER PRIMARY KEY,
        workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        email TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('owner', 'analyst', 'viewer')),
        token_hash TEXT NOT NULL UNIQUE,
        invited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        accepted_at TEXT,
        revoked_at TEXT
    );
    CREATE TABLE login_attempts (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL,
        ip TEXT NOT NULL,
        at TEXT NOT NULL,
        ok INTEGER NOT NULL
    );
    CREATE INDEX login_attempts_email ON login_attempts(email, at);
    CREATE INDEX login_attempts_ip ON login_attempts(ip, at);
    CREATE TABLE write_keys (
        id INTEGER PRIMARY KEY,
        workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        key_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    """,
    # 2: annotations — dated notes shown on every time chart of a workspace
    """
    CREATE TABLE annotations (
        id INTEGER PRIMARY KEY,
        workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        label TEXT NOT NULL,
        channel TEXT,
        campaign TEXT,
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT
    );
    CREATE INDEX annotations_workspace ON annotations(workspace_id, day);
    """,
    # 3: the engine a workspace's pages and API compute on (NULL: $CXLENS_SPARK decides)
    """
    ALTER TABLE workspaces ADD COLUMN engine TEXT CHECK (engine IN ('duckdb', 'spark'))
    """,
)


def now() -> datetime:
    return datetime.now(UTC)


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds")


def connect(path: Path) -> sqlite3.Connection:
    """A new connection (one per request); rows behave like dicts."""
    con = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA busy_timeout = 10000")
    return con


def migrate(path: Path) -> int:
    """Create or upgrade the app database; returns its schema version."""
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    con = connect(path)
    try:
        con.execute("PRAGMA journal_mode = WAL")
        # Owner only, also for a file an older version made 0644 (SQLite gives its -wal,
        # -shm and -journal files the database file's mode).
        private(*(Path(str(path) + suffix) for suffix in ("", "-wal", "-shm", "-journal")))
        con.execute("BEGIN IMMEDIATE")
        con.execute("CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, "
                    "applied_at TEXT NOT NULL)")
        done = con.execute("SELECT coalesce(max(version), 0) FROM migrations").fetchone()[0]
        if done > len(MIGRATIONS):
            con.execute("ROLLBACK")
            from cxlens.errors import UserError

            raise UserError(f"the app database {path} has schema version {done}, newer than "
                            f"this cxlens ({len(MIGRATIONS)})", hint="upgrade cxlens")
        for version, script in enumerate(MIGRATIONS, start=1):
            if version <= done:
                continue
            for statement in script.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute("INSERT INTO migrations VALUES (?, ?)", [version, iso(now())])
        con.execute("COMMIT")
        return len(MIGRATIONS)
    finally:
        con.close()


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
