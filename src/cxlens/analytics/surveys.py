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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from cxlens.analytics._intervals import Estimate, wilson
from cxlens.analytics.experience import MIN_SAMPLE

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


_ACTIVITY = f"""
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
    WHERE source = '{SURVEY_SOURCE}' AND response_id LIKE 'pub-%' GROUP BY survey_id
),
ids AS (SELECT survey_id FROM surveys UNION SELECT survey_id FROM inv)
SELECT ids.survey_id, coalesce(invitations, 0), coalesce(waiting, 0),
       coalesce(delivered, 0), coalesce(reminders, 0), coalesce(opened, 0),
       coalesce(answered, 0), coalesce(expired, 0), coalesce(opted_out, 0),
       coalesce(public_answers, 0), last_sent
FROM ids LEFT JOIN inv USING (survey_id) LEFT JOIN pub USING (survey_id)
ORDER BY ids.survey_id
"""


def _has_survey_tables(con: duckdb.DuckDBPyConnection) -> bool:
    names = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name IN "
        "('surveys', 'survey_invitations', 'survey_optouts')").fetchall()}
    return len(names) == 3


def survey_activity(con: duckdb.DuckDBPyConnection) -> SurveysSummary:
    """Every stored survey (and any survey that has invitations), by survey id."""
    if not _has_survey_tables(con):
        return SurveysSummary()
    rows = con.execute(_ACTIVITY).fetchall()
    out = [SurveyActivity(str(r[0]), *(int(v) for v in r[1:10]), r[10],
                          response_rate(int(r[6]), int(r[3]))) for r in rows]
    opted = con.execute("SELECT count(DISTINCT coalesce(customer_id, identity_key)) "
                        "FROM survey_optouts").fetchall()[0][0]
    return SurveysSummary(out, int(opted))
