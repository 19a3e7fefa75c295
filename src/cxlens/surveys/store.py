"""The survey tables in the workspace's warehouse, and the definitions and opt-outs in them.

Survey state lives in the warehouse (not the app database) because triggers, quiet periods
and opt-outs are joins against orders, events and customers, and an answer must be marked
in the same transaction that loads it into ``feedback`` (docs/surveys.md says more). The
tables are created by :func:`ensure`, versioned under the ``meta`` key
``surveys_schema_version`` so they evolve apart from the core schema. No table has a
unique index (DuckDB rewrites indexed rows on UPDATE); uniqueness is kept by the single
writer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import duckdb

from cxlens.clock import utc_naive
from cxlens.errors import UserError
from cxlens.surveys.definitions import Survey, parse

SCHEMA_VERSION = 1
META_KEY = "surveys_schema_version"

_DDL = (
    """CREATE TABLE IF NOT EXISTS surveys (
        survey_id VARCHAR NOT NULL, metric VARCHAR NOT NULL, definition VARCHAR NOT NULL,
        public_id VARCHAR NOT NULL, warnings VARCHAR, created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS survey_triggers (
        trigger_id VARCHAR NOT NULL, survey_id VARCHAR NOT NULL, event VARCHAR NOT NULL,
        days INTEGER NOT NULL, quiet_days INTEGER NOT NULL, reminder_days INTEGER,
        expire_days INTEGER NOT NULL, catch_up_days INTEGER NOT NULL, touchpoint VARCHAR,
        position INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS survey_invitations (
        invitation_id BIGINT NOT NULL, nonce VARCHAR NOT NULL, token_hash VARCHAR NOT NULL,
        survey_id VARCHAR NOT NULL, trigger_id VARCHAR, customer_id VARCHAR,
        identity_key VARCHAR, email VARCHAR, language VARCHAR NOT NULL, touchpoint VARCHAR,
        store_id VARCHAR, record_id VARCHAR, invited_on DATE NOT NULL,
        state VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, sent_at TIMESTAMP,
        opened_at TIMESTAMP, reminded_at TIMESTAMP, answered_at TIMESTAMP,
        expires_at TIMESTAMP NOT NULL, draft VARCHAR, response_id VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS survey_optouts (
        identity_key VARCHAR NOT NULL, customer_id VARCHAR, opted_out_at TIMESTAMP NOT NULL,
        source VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS survey_followups (
        followup_id BIGINT NOT NULL, response_id VARCHAR NOT NULL, survey_id VARCHAR NOT NULL,
        invitation_id BIGINT, customer_id VARCHAR, identity_key VARCHAR,
        metric VARCHAR NOT NULL, score DECIMAL(18,4) NOT NULL, comment VARCHAR,
        language VARCHAR, status VARCHAR NOT NULL, owner VARCHAR, note VARCHAR,
        created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL,
        contacted_at TIMESTAMP, resolved_at TIMESTAMP)""",
)
TABLES = ("surveys", "survey_triggers", "survey_invitations", "survey_optouts",
          "survey_followups")


def ready(con: duckdb.DuckDBPyConnection) -> bool:
    """Do the survey tables exist (so a read can go ahead)?"""
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [META_KEY]).fetchall()
    return bool(rows) and int(rows[0][0]) >= SCHEMA_VERSION


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the survey tables if needed (a write: run it through the single writer)."""
    if ready(con):
        return
    con.execute("BEGIN")
    try:
        for ddl in _DDL:
            con.execute(ddl)
        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [META_KEY, str(SCHEMA_VERSION)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


@dataclass(frozen=True)
class StoredSurvey:
    survey: Survey
    public_id: str
    warnings: list[str]


def save_survey(con: duckdb.DuckDBPyConnection, source: str, file: str | None = None, *,
                now: datetime) -> StoredSurvey:
    """Validate and store a definition (replacing one with the same id) as of ``now``;
    keeps its public id."""
    survey, warnings = parse(source, file)
    ensure(con)
    old = con.execute("SELECT public_id FROM surveys WHERE survey_id = ?",
                      [survey.id]).fetchall()
    public_id = old[0][0] if old else secrets.token_urlsafe(9)
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM surveys WHERE survey_id = ?", [survey.id])
        con.execute("INSERT INTO surveys VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [survey.id, survey.metric, source, public_id, "\n".join(warnings),
                     utc_naive(now), utc_naive(now)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return StoredSurvey(survey, public_id, warnings)


def get_survey(con: duckdb.DuckDBPyConnection, survey_id: str) -> StoredSurvey | None:
    if not ready(con):
        return None
    rows = con.execute("SELECT definition, public_id, warnings FROM surveys "
                       "WHERE survey_id = ?", [survey_id]).fetchall()
    if not rows:
        return None
    survey, _ = parse(rows[0][0], f"survey {survey_id}")
    return StoredSurvey(survey, rows[0][1], [w for w in (rows[0][2] or "").split("\n") if w])


def survey_by_public_id(con: duckdb.DuckDBPyConnection, public_id: str) -> StoredSurvey | None:
    if not ready(con):
        return None
    rows = con.execute("SELECT survey_id FROM surveys WHERE public_id = ?",
                       [public_id]).fetchall()
    return get_survey(con, rows[0][0]) if rows else None


def list_surveys(con: duckdb.DuckDBPyConnection) -> list[StoredSurvey]:
    if not ready(con):
        return []
    ids = [r[0] for r in con.execute("SELECT survey_id FROM surveys ORDER BY survey_id")
           .fetchall()]
    return [s for s in (get_survey(con, i) for i in ids) if s is not None]


def require_survey(con: duckdb.DuckDBPyConnection, survey_id: str) -> StoredSurvey:
    s = get_survey(con, survey_id)
    if s is None:
        raise UserError(f"no survey {survey_id!r} in this workspace",
                        hint="add it first: cxlens survey add FILE.yml (or --builtin nps)")
    return s


# ------------------------------------------------------------------------------- opt-outs

def opt_out(con: duckdb.DuckDBPyConnection, *, customer_id: str | None,
            identity_key: str | None, source: str, now: datetime) -> int:
    """Record that this customer wants no surveys (since ``now``): every identity key of
    the customer.

    Keys rather than the customer id alone, so the opt-out still holds when identity
    resolution later merges the customer into another id. Returns the keys recorded.
    """
    ensure(con)
    keys: set[str] = {identity_key} if identity_key else set()
    if customer_id:
        keys |= {k for (k,) in con.execute(
            "SELECT identity_key FROM identities WHERE customer_id = ?", [customer_id])
            .fetchall()}
    have = {k for (k,) in con.execute("SELECT identity_key FROM survey_optouts").fetchall()}
    new = sorted(keys - have)
    if new:
        con.executemany("INSERT INTO survey_optouts VALUES (?, ?, ?, ?)",
                        [(k, customer_id, utc_naive(now), source) for k in new])
    return len(new)


def opted_out_sql(customer: str, identity_key: str) -> str:
    """SQL condition: the customer (column expressions) has opted out."""
    return (f"(EXISTS (SELECT 1 FROM survey_optouts oo WHERE oo.identity_key = {identity_key} "
            f"OR oo.customer_id = {customer} OR oo.identity_key IN (SELECT oi.identity_key "
            f"FROM identities oi WHERE oi.customer_id = {customer})))")


def is_opted_out(con: duckdb.DuckDBPyConnection, customer_id: str | None,
                 identity_key: str | None) -> bool:
    if not ready(con) or (customer_id is None and identity_key is None):
        return False
    return bool(con.execute(f"SELECT {opted_out_sql('$1', '$2')}",
                            [customer_id, identity_key]).fetchall()[0][0])
