"""Survey activity: invitations sent, reminders, answers and the response rate with its
95 % interval, per survey (for the Surveys page, and any other output that wants them).

The **response rate** is answered / delivered, where *delivered* counts the invitations
that reached the customer: sent by e-mail or handed out in the links CSV (``sent_at``), or
opened or answered by any route. Invitations still waiting to be sent are not in n (nobody
could answer them yet); delivered ones that later expired or were opted out stay in n (they
were a chance to answer that was not taken). Links still open can still be answered, so
the rate of a survey that is running is a lower bound of where it will end. The interval
is Wilson's score interval (``_intervals.wilson``; docs/methods.md), which keeps its
coverage for the small n of a survey's first days and for rates near 0 or 100 %.

Nothing here reads the survey definitions (YAML): only the warehouse tables that
:mod:`cxlens.surveys.store` creates, so a workspace without surveys gives empty results.
The tables are read through an :class:`~cxlens.warehouse.engine.Engine` (DuckDB or Spark)
with portable SQL (docs/engine.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cxlens.analytics._intervals import Estimate, wilson
from cxlens.analytics._rows import plain
from cxlens.analytics.experience import MIN_SAMPLE
from cxlens.warehouse.engine import Engine

__all__ = ["ResponseRate", "SurveyActivity", "SurveysSummary", "response_rate",
           "survey_activity"]

SURVEY_SOURCE = "cxlens-survey"  # feedback.source of the hosted survey's answers


@dataclass(frozen=True)
class ResponseRate:
    """``answered`` of ``n`` delivered invitations, in % with Wilson's 95 % interval."""

    answered: int
    n: int
    rate: Estimate
    too_small: bool  # n < MIN_SAMPLE: shown, not to act on


def response_rate(answered: int, delivered: int) -> ResponseRate:
    """The response rate of ``answered`` out of ``delivered`` invitations.

    >>> r = response_rate(81, 263)       # Newcombe (1998a), Table II: 0.2553 … 0.3662
    >>> round(r.rate.value, 2), round(r.rate.low, 2), round(r.rate.high, 2)
    (30.8, 25.53, 36.62)
    """
    if answered < 0 or delivered < 0 or answered > delivered:
        raise ValueError(f"answered {answered} of {delivered} is not a rate")
    rate = wilson(answered / delivered if delivered else 0.0, delivered)
    return ResponseRate(answered, delivered, rate, delivered < MIN_SAMPLE)


@dataclass(frozen=True)
class SurveyActivity:
    """One survey's invitations by what happened to them, and its response rate."""

    survey_id: str
    invitations: int  # every invitation made
    waiting: int  # made, not yet sent (state created)
    delivered: int  # sent, opened or answered: the n of the response rate
    reminders: int
    opened: int
    answered: int
    expired: int
    opted_out: int
    public_answers: int  # anonymous answers from the public link (not in the rate)
    last_sent: datetime | None  # the latest invitation or reminder sent
    response: ResponseRate


@dataclass(frozen=True)
class SurveysSummary:
    surveys: list[SurveyActivity] = field(default_factory=list)
    opted_out_customers: int = 0  # customers who asked for no surveys at all

    @property
    def delivered(self) -> int:
        return sum(s.delivered for s in self.surveys)

    @property
    def answered(self) -> int:
        return sum(s.answered for s in self.surveys)

    @property
    def waiting(self) -> int:
        return sum(s.waiting for s in self.surveys)


_ACTIVITY = """
WITH inv AS (
    SELECT survey_id, count(*) AS invitations,
           count(*) FILTER (WHERE state = 'created') AS waiting,
           count(*) FILTER (WHERE sent_at IS NOT NULL OR opened_at IS NOT NULL
                                  OR answered_at IS NOT NULL) AS delivered,
           count(*) FILTER (WHERE reminded_at IS NOT NULL) AS reminders,
           count(*) FILTER (WHERE opened_at IS NOT NULL) AS opened,
           count(*) FILTER (WHERE answered_at IS NOT NULL) AS answered,
           count(*) FILTER (WHERE state = 'expired') AS expired,
           count(*) FILTER (WHERE state = 'opted_out') AS opted_out,
           max(greatest(sent_at, reminded_at)) AS last_sent
    FROM survey_invitations GROUP BY survey_id
),
pub AS (
    SELECT survey_id, count(*) AS public_answers FROM v_feedback
    WHERE source = $source AND response_id LIKE 'pub-%' GROUP BY survey_id
),
ids AS (SELECT survey_id FROM surveys UNION SELECT survey_id FROM inv)
SELECT ids.survey_id AS survey_id, coalesce(inv.invitations, 0) AS invitations,
       coalesce(inv.waiting, 0) AS waiting, coalesce(inv.delivered, 0) AS delivered,
       coalesce(inv.reminders, 0) AS reminders, coalesce(inv.opened, 0) AS opened,
       coalesce(inv.answered, 0) AS answered, coalesce(inv.expired, 0) AS expired,
       coalesce(inv.opted_out, 0) AS opted_out,
       coalesce(pub.public_answers, 0) AS public_answers, inv.last_sent AS last_sent
FROM ids
LEFT JOIN inv ON inv.survey_id = ids.survey_id
LEFT JOIN pub ON pub.survey_id = ids.survey_id
ORDER BY ids.survey_id
"""

_OPTED_OUT = """
SELECT count(DISTINCT coalesce(customer_id, identity_key)) AS customers FROM survey_optouts
"""

_COUNTS = ("invitations", "waiting", "delivered", "reminders", "opened", "answered",
           "expired", "opted_out", "public_answers")
_SURVEY_TABLES = frozenset({"surveys", "survey_invitations", "survey_optouts"})


def survey_activity(engine: Engine) -> SurveysSummary:
    """Every stored survey (and any survey that has invitations), by survey id."""
    if not set(engine.tables()) >= _SURVEY_TABLES:
        return SurveysSummary()
    out = []
    for r in engine.query(_ACTIVITY, {"source": SURVEY_SOURCE}).to_pylist():
        counts = [int(r[k]) for k in _COUNTS]
        out.append(SurveyActivity(str(r["survey_id"]), *counts, plain(r["last_sent"]),
                                  response_rate(int(r["answered"]), int(r["delivered"]))))
    opted = engine.query(_OPTED_OUT).to_pylist()[0]["customers"]
    return SurveysSummary(out, int(opted))
