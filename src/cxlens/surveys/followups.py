"""Closing the loop: a detractor's answer opens a follow-up item that someone works through.

Detractors (:func:`is_detractor`), each on its metric's standard scale:

    nps     0–6 on 0–10
    csat    1–2 on 1–5
    ces     1–3 on 1–7 (7 is the easiest, as the analytics read it)
    rating  1–2 on 1–5 (custom surveys)
    enps    none: employee answers are anonymous, there is nobody to call back

An item moves ``open → contacted → resolved`` (it may be set back, e.g. reopened), has an
owner (who calls) and a note, and keeps when it was created, contacted and resolved. It is
due ``DUE_DAYS`` after the answer — close the loop within two days, while the customer
still remembers — and is overdue while still ``open`` after that.
Items are opened in the transaction that loads the answer, so an answer never exists
without its item. Detractor answers loaded from other tools get theirs in the daily survey
run (:func:`open_for_imported`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from cxlens.clock import utc_naive
from cxlens.errors import UserError
from cxlens.surveys import store
from cxlens.surveys.definitions import Survey

STATUSES: tuple[str, ...] = ("open", "contacted", "resolved")
MAX_OWNER = 200
MAX_NOTE = 4000
DUE_DAYS = 2


def is_detractor(metric: str, score: float) -> bool:
    if metric == "nps":
        return score <= 6
    if metric in ("csat", "rating"):
        return score <= 2
    if metric == "ces":
        return score <= 3
    return False


@dataclass(frozen=True)
class Followup:
    followup_id: int
    response_id: str
    survey_id: str
    invitation_id: int | None
    customer_id: str | None
    identity_key: str | None
    metric: str
    score: float
    comment: str | None
    language: str | None
    status: str
    owner: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime
    contacted_at: datetime | None
    resolved_at: datetime | None

    @property
    def due_at(self) -> datetime:
        return self.created_at + timedelta(days=DUE_DAYS)

    def overdue(self, now: datetime) -> bool:
        """Nobody has contacted the customer yet and the item is past due (``now``: the
        edge's clock)."""
        return self.status == "open" and utc_naive(now) > self.due_at

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        d = asdict(self)
        d["due_at"] = self.due_at
        for k in ("created_at", "updated_at", "contacted_at", "resolved_at", "due_at"):
            d[k] = d[k].isoformat() if d[k] else None
        d["score"] = float(self.score)
        if now is not None:
            d["overdue"] = self.overdue(now)
        return d


_COLS = ("followup_id, response_id, survey_id, invitation_id, customer_id, identity_key, "
         "metric, score, comment, language, status, owner, note, created_at, updated_at, "
         "contacted_at, resolved_at")


def open_if_detractor(con: duckdb.DuckDBPyConnection, survey: Survey, score: float, *,
                      response_id: str, invitation_id: int | None, customer_id: str | None,
                      identity_key: str | None, comment: str | None,
                      language: str | None, now: datetime) -> int | None:
    """Open an item for a detractor's answer, created at ``now`` (inside the caller's
    transaction)."""
    if not is_detractor(survey.metric, score):
        return None
    fid = int(con.execute("SELECT coalesce(max(followup_id), 0) + 1 FROM survey_followups")
              .fetchall()[0][0])
    con.execute(f"INSERT INTO survey_followups ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "'open', NULL, NULL, ?, ?, NULL, NULL)",
                [fid, response_id, survey.id, invitation_id, customer_id, identity_key,
                 survey.metric, score, comment, language, utc_naive(now), utc_naive(now)])
    return fid


# Imported detractor answers (Typeform, Google Forms, reviews … loaded as feedback) of the
# last IMPORTED_DAYS open items too: the loop is closed for every unhappy customer someone can
# call, not only for those who answered a cxlens survey. Older answers are history, not work.
IMPORTED_DAYS = 14
_DETRACTOR_SQL = """(
    (f.metric = 'nps' AND f.score <= 6)
    OR (f.metric = 'csat' AND coalesce(f.scale_max, 5) = 5 AND f.score <= 2)
    OR (f.metric = 'ces' AND coalesce(f.scale_max, 7) = 7 AND f.score <= 3))"""


def open_for_imported(con: duckdb.DuckDBPyConnection, today: date,
                      days: int = IMPORTED_DAYS) -> int:
    """Open an item for each detractor answer of a known customer loaded in any way and
    given in the ``days`` days before ``today``, unless it has one; returns how many.

    The item is created at the answer's time, so it is due two days after the customer
    answered, as a cxlens survey's would be; an answer found late is overdue at once. Metrics
    on another scale than the standard one (a CSAT out of 10) are left alone: where their
    detractors begin is not known. Runs inside the caller's transaction.
    """
    start = today - timedelta(days=days)
    first = int(con.execute("SELECT coalesce(max(followup_id), 0) FROM survey_followups")
                .fetchall()[0][0])
    con.execute(f"""
        INSERT INTO survey_followups ({_COLS})
        SELECT ? + row_number() OVER (ORDER BY f.ts, f.response_id), f.response_id,
               coalesce(f.survey_id, f.source, f.metric), NULL, f.customer_id, f._idkey,
               f.metric, f.score, f.comment, f.language, 'open', NULL, NULL, f.ts, f.ts,
               NULL, NULL
        FROM v_feedback f
        WHERE f.ts >= ? AND f.ts < ? AND f.customer_id IS NOT NULL
          AND f.response_id IS NOT NULL AND f.score IS NOT NULL AND {_DETRACTOR_SQL}
          AND NOT EXISTS (SELECT 1 FROM survey_followups s WHERE s.response_id = f.response_id)
    """, [first, start, today])
    return int(con.execute("SELECT count(*) FROM survey_followups WHERE followup_id > ?",
                           [first]).fetchall()[0][0])


def list_followups(con: duckdb.DuckDBPyConnection, status: str | None = None,
                   limit: int = 500, owner: str | None = None) -> list[Followup]:
    """Items, oldest open first; ``status`` filters, and so does ``owner`` (``""``: the
    items nobody owns yet)."""
    if not store.ready(con):
        return []
    if status is not None and status not in STATUSES:
        raise UserError(f"{status!r} is not a follow-up status", column="status",
                        hint=f"use {', '.join(STATUSES)}")
    conds, params = [], []
    if status:
        conds.append("status = ?")
        params.append(status)
    if owner is not None:
        conds.append("owner = ?" if owner else "owner IS NULL")
        params += [owner] if owner else []
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    rows = con.execute(
        f"SELECT {_COLS} FROM survey_followups {where} ORDER BY CASE status WHEN 'open' "
        f"THEN 0 WHEN 'contacted' THEN 1 ELSE 2 END, created_at, followup_id LIMIT {int(limit)}",
        params).fetchall()
    return [Followup(*r) for r in rows]


def owners(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The owners named on any item, for a filter."""
    if not store.ready(con):
        return []
    return [r[0] for r in con.execute("SELECT DISTINCT owner FROM survey_followups WHERE "
                                      "owner IS NOT NULL ORDER BY owner").fetchall()]


def counts(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> dict[str, int]:
    """Items per status (every status present, zero when none); with ``now``, also the
    ``overdue`` ones (open past their due time)."""
    found: dict[str, int] = dict.fromkeys(STATUSES, 0)
    if store.ready(con):
        found |= {s: int(n) for s, n in con.execute(
            "SELECT status, count(*) FROM survey_followups GROUP BY status").fetchall()}
    if now is not None:
        found["overdue"] = 0
        if store.ready(con):
            found["overdue"] = int(con.execute(
                "SELECT count(*) FROM survey_followups WHERE status = 'open' AND created_at "
                f"+ INTERVAL {DUE_DAYS} DAY < ?", [utc_naive(now)]).fetchall()[0][0])
    return found


def get(con: duckdb.DuckDBPyConnection, followup_id: int) -> Followup | None:
    if not store.ready(con):
        return None
    rows = con.execute(f"SELECT {_COLS} FROM survey_followups WHERE followup_id = ?",
                       [followup_id]).fetchall()
    return Followup(*rows[0]) if rows else None


def update(con: duckdb.DuckDBPyConnection, followup_id: int, *, now: datetime,
           status: str | None = None, owner: str | None = None,
           note: str | None = None) -> Followup | None:
    """Change an item's status, owner or note at ``now`` (the edge's clock, recorded as
    ``updated_at`` and, with the status, ``contacted_at`` / ``resolved_at``); None when
    there is no such item."""
    if status is not None and status not in STATUSES:
        raise UserError(f"{status!r} is not a follow-up status", column="status",
                        hint=f"use {', '.join(STATUSES)}")
    if owner is not None and len(owner) > MAX_OWNER:
        raise UserError(f"the owner is longer than {MAX_OWNER} characters", column="owner",
                        hint="shorten it")
    if note is not None and len(note) > MAX_NOTE:
        raise UserError(f"the note is longer than {MAX_NOTE} characters", column="note",
                        hint="shorten it")
    if get(con, followup_id) is None:
        return None
    at = utc_naive(now)
    sets, params = ["updated_at = ?"], [at]
    if status is not None:
        sets.append("status = ?")
        params.append(status)
        if status == "contacted":
            sets.append("contacted_at = coalesce(contacted_at, ?)")
            params.append(at)
        if status == "resolved":
            sets.append("resolved_at = ?")
            params.append(at)
        if status == "open":
            sets.append("resolved_at = NULL")
    if owner is not None:
        sets.append("owner = ?")
        params.append(owner.strip() or None)
    if note is not None:
        sets.append("note = ?")
        params.append(note.strip() or None)
    con.execute(f"UPDATE survey_followups SET {', '.join(sets)} WHERE followup_id = ?",
                [*params, followup_id])
    return get(con, followup_id)
