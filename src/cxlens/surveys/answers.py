"""Answers: check them against the survey, keep drafts, and load the submitted ones.

:func:`validate` turns a submitted form into values, or into errors per question as codes
with parameters (the page words them in the invitation's language): a score must be a whole
number on the question's scale — ``11``, ``-1``, ``ten`` and ``7.5`` on 0–10 are refused.

:func:`submit` loads one answer into ``feedback`` through the ordinary ingest path
(:func:`cxlens.ingest.load.load_staged` with the built-in mapping ``survey_answers``), so it
is typed, validated, deduplicated, identity-resolved and accounted like any file row. In the
same transaction the invitation becomes ``answered`` and, for a detractor, a follow-up is
opened (:mod:`cxlens.surveys.followups`). Run it through the warehouse's single writer.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from cxlens.errors import UserError
from cxlens.ingest.load import BatchResult, Plan, load_staged
from cxlens.ingest.mapping import Mapping, Rule
from cxlens.schema import IDENTITY_TYPES
from cxlens.sources.readers import stage_arrow
from cxlens.surveys import followups, invitations, store
from cxlens.surveys.definitions import MAX_TEXT_ANSWER, Survey
from cxlens.surveys.invitations import Invitation

SOURCE = "cxlens-survey"
_STAGE = "_survey_answer"
_INT = re.compile(r"^[+-]?\d{1,3}$")
_COLUMNS = ("response_id", "ts", "metric", "score", "scale_max", "survey_id", "comment",
            "language", "touchpoint", "channel", "store_id", "team_id", "source",
            *IDENTITY_TYPES, "properties")
MAPPING = Mapping(
    kind="feedback", name="survey_answers", source=SOURCE, properties="none",
    description="Answers of cxlens's own hosted surveys (built in)",
    columns={c: Rule(column=c) for c in _COLUMNS if c != "ts"}
    | {"ts": Rule(column="ts", format="iso")},
)


class AnswerRefused(UserError):
    """The answer cannot be taken: already submitted, expired, opted out, unknown."""

    def __init__(self, message: str, reason: str, status: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Problem:
    """One question's error: ``code`` is scale, whole, required, choice or too_long."""

    code: str
    params: dict[str, Any]


def validate(survey: Survey, form: dict[str, str], *,
             final: bool) -> tuple[dict[str, Any], dict[str, Problem]]:
    """The answer values by question id, and the problems (empty when all is well).

    A draft (``final=False``) may leave questions out; a final answer needs the main
    question and every ``required`` one.
    """
    values: dict[str, Any] = {}
    problems: dict[str, Problem] = {}
    for q in survey.questions:
        raw = (form.get(q.id) or "").strip()
        if not raw:
            if final and (q.main or q.required):
                problems[q.id] = Problem("required", {})
            continue
        if q.type == "rating":
            lo, hi = q.scale or survey.scale
            if not _INT.match(raw):
                problems[q.id] = Problem("whole", {"lo": lo, "hi": hi, "value": raw[:20]})
            elif not lo <= int(raw) <= hi:
                problems[q.id] = Problem("scale", {"lo": lo, "hi": hi, "value": raw})
            else:
                values[q.id] = int(raw)
        elif q.type == "choice":
            if raw not in q.option_ids():
                problems[q.id] = Problem("choice", {"value": raw[:40]})
            else:
                values[q.id] = raw
        else:
            if len(raw) > MAX_TEXT_ANSWER:
                problems[q.id] = Problem("too_long", {"max": MAX_TEXT_ANSWER})
            else:
                values[q.id] = raw
    return values, problems


def check_open(con: duckdb.DuckDBPyConnection, inv: Invitation,
               now: datetime | None = None) -> None:
    """Raise :class:`AnswerRefused` unless this invitation can still be answered."""
    now = now or _utcnow()
    if inv.state == "answered":
        raise AnswerRefused("this survey was already answered with this link", "answered", 410)
    if inv.state == "opted_out" or store.is_opted_out(con, inv.customer_id, inv.identity_key):
        raise AnswerRefused("you have opted out of our surveys", "opted_out", 410)
    if inv.state == "expired" or inv.expires_at <= now:
        raise AnswerRefused("this survey link has expired", "expired", 410)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _row(survey: Survey, values: dict[str, Any], *, response_id: str, language: str,
         touchpoint: str | None, channel: str, store_id: str | None, team_id: str | None,
         identity_key: str | None, extra: dict[str, Any],
         at: datetime | None = None) -> dict[str, str | None]:
    main, comment = survey.main, survey.comment
    lo, hi = survey.scale
    props = {q.id: values[q.id] for q in survey.questions
             if q.id in values and q is not main and q is not comment}
    row: dict[str, str | None] = {c: None for c in _COLUMNS}
    row.update(
        response_id=response_id,
        ts=(at or _utcnow()).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        metric=survey.metric, score=str(values[main.id]), scale_max=str(hi),
        survey_id=survey.id, comment=values.get(comment.id) if comment else None,
        language=language, touchpoint=touchpoint, channel=channel, store_id=store_id,
        team_id=team_id, source=SOURCE,
        properties=json.dumps({**props, **extra, "scale_min": lo}, ensure_ascii=False),
    )
    if identity_key:
        kind, _, value = identity_key.partition(":")
        if kind in IDENTITY_TYPES:
            row[kind] = value
    return row


def _load(con: duckdb.DuckDBPyConnection, row: dict[str, str | None],
          after: Any) -> BatchResult:
    arrow = pa.table({**{c: pa.array([row[c]], type=pa.string()) for c in _COLUMNS},
                      "_line": pa.array([2], type=pa.int64())})
    staged = stage_arrow(con, arrow, _STAGE, list(_COLUMNS))
    staged.source_name = f"survey:{row['survey_id']}"

    def after_load(batch: int) -> None:
        bad = con.execute("SELECT reason FROM quarantine WHERE batch_id = ?",
                          [batch]).fetchall()
        if bad:  # validate() lets nothing through that ingest refuses; keep it that way
            raise UserError(f"the answer could not be stored: {bad[0][0]}")
        after(batch)

    result = load_staged(con, Plan(MAPPING, staged, how="survey"), f"survey:{row['survey_id']}",
                         None, lambda step, frac: None, after_load=after_load)
    con.execute(f"DROP TABLE IF EXISTS {_STAGE}")
    return result


def submit(con: duckdb.DuckDBPyConnection, survey: Survey, inv: Invitation,
           values: dict[str, Any], now: datetime | None = None) -> str:
    """Load the final answer of an invitation; returns its ``response_id``.

    ``now`` (UTC, naive) is the moment of the answer; the server leaves it to the clock,
    the demo gives its own day so that it loads the same answers on any calendar day.
    """
    store.ensure(con)
    now = now or _utcnow()
    fresh = invitations.by_id(con, inv.invitation_id)  # the state as the writer sees it
    if fresh is None:
        raise AnswerRefused("unknown survey link", "unknown", 404)
    check_open(con, fresh, now)
    response_id = f"inv-{inv.invitation_id}"
    row = _row(survey, values, response_id=response_id, language=inv.language,
               touchpoint=inv.touchpoint, channel="email", store_id=inv.store_id,
               team_id=None, identity_key=inv.identity_key,
               extra={"invitation_id": inv.invitation_id, "trigger_id": inv.trigger_id,
                      "record_id": inv.record_id}, at=now)

    def after(batch: int) -> None:
        con.execute("UPDATE survey_invitations SET state = 'answered', answered_at = ?, "
                    "response_id = ?, draft = ? WHERE invitation_id = ?",
                    [now, response_id, json.dumps(values, ensure_ascii=False),
                     inv.invitation_id])
        followups.open_if_detractor(con, survey, values[survey.main.id], response_id=response_id,
                                    invitation_id=inv.invitation_id,
                                    customer_id=inv.customer_id, identity_key=inv.identity_key,
                                    comment=row["comment"], language=inv.language)

    _load(con, row, after)
    return response_id


def submit_public(con: duckdb.DuckDBPyConnection, survey: Survey, values: dict[str, Any], *,
                  language: str, store_id: str | None = None,
                  team_id: str | None = None) -> str:
    """Load an anonymous answer from the public link; returns its ``response_id``.

    Anonymous answers have nobody to call back, so they open no follow-up.
    """
    store.ensure(con)
    response_id = f"pub-{secrets.token_hex(8)}"
    row = _row(survey, values, response_id=response_id, language=language, touchpoint=None,
               channel="web", store_id=store_id, team_id=team_id, identity_key=None,
               extra={"public": True})
    _load(con, row, lambda batch: None)
    return response_id


def opt_out(con: duckdb.DuckDBPyConnection, inv: Invitation) -> None:
    """The customer of this invitation wants no more surveys: record it, close the link."""
    store.opt_out(con, customer_id=inv.customer_id, identity_key=inv.identity_key,
                  source=f"invitation:{inv.invitation_id}")
    con.execute("UPDATE survey_invitations SET state = 'opted_out' WHERE state IN "
                "('created', 'sent', 'opened') AND (invitation_id = ? OR customer_id = ?)",
                [inv.invitation_id, inv.customer_id])
