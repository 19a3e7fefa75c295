"""Journeys: each customer's touchpoints in time order, their sessions, and their outcomes.

The rows come from the journey log (:mod:`._log`: events, support tickets, orders and
feedback answers in one order). :func:`journey_log` numbers them per customer and cuts them
into sessions at an inactivity gap; :func:`outcomes` gives one row per customer with what
the journey led to — the first purchase, repeat purchases, revenue, churn, promoter and
detractor answers. The business moments and time to outcome read these two tables.
Definitions: docs/methods.md, "Journeys".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa

from cxlens.analytics._money import CURRENCY
from cxlens.analytics.journeys._log import (
    FIRST_PURCHASE,
    KIND_CASE,
    ORDER,
    REPEAT_PURCHASE,
    WINDOW,
    Selection,
    kind_name,
    log_sql,
)
from cxlens.warehouse.engine import Engine

DEFAULT_GAP_MINUTES = 30
DEFAULT_CHURN_DAYS = 180

_SESSIONS = f"""{{log}},
gaps AS (
    SELECT customer_id, ts, ts_s, kind, touchpoint, channel, store_id, amount,
           row_number() OVER w AS seq,
           ts_s - lag(ts_s) OVER w AS seconds_since_prev
    FROM log
    WINDOW w AS ({WINDOW})
)
SELECT customer_id, seq,
       CAST(sum(CASE WHEN seconds_since_prev IS NULL OR seconds_since_prev > $gap_seconds
                     THEN 1 ELSE 0 END)
            OVER (PARTITION BY customer_id ORDER BY seq
                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS session_no,
       ts, touchpoint, {KIND_CASE} AS kind, channel, store_id,
       CAST(amount AS DOUBLE) AS amount, seconds_since_prev
FROM gaps
ORDER BY customer_id, seq
"""


def journey_log(engine: Engine, sel: Selection | None = None,
                gap_minutes: int = DEFAULT_GAP_MINUTES,
                currency: str = CURRENCY) -> pa.Table:
    """Every touchpoint of the selected journeys, one row each, ordered by customer and
    ``seq`` (1, 2, … in the log's order): ``session_no`` (a new session starts at the first
    touchpoint and after more than ``gap_minutes`` without one), ``ts``, ``touchpoint``,
    ``kind`` (event, ticket, order, answer), ``channel``, ``store_id``, ``amount`` (orders
    in ``currency``) and ``seconds_since_prev``."""
    if gap_minutes < 0:
        raise ValueError("the session gap must be zero or more minutes")
    log, params = log_sql(sel or Selection(), currency)
    return engine.query(_SESSIONS.format(log=log),
                        {**params, "gap_seconds": int(gap_minutes) * 60})


_OUTCOMES = f"""{{log}},
per AS (
    SELECT customer_id, count(*) AS touchpoints, min(ts) AS first_ts, max(ts) AS last_ts,
           min(ts) FILTER (WHERE kind = 3 AND touchpoint = '{FIRST_PURCHASE}')
               AS first_purchase_at,
           count(*) FILTER (WHERE kind = 3) AS purchases,
           count(*) FILTER (WHERE kind = 3 AND touchpoint = '{REPEAT_PURCHASE}')
               AS repeat_purchases,
           CAST(coalesce(sum(amount), 0) AS DOUBLE) AS revenue,
           count(*) FILTER (WHERE touchpoint = 'answer:promoter') AS promoter_answers,
           count(*) FILTER (WHERE touchpoint = 'answer:detractor') AS detractor_answers
    FROM log
    GROUP BY customer_id
),
bought AS (
    SELECT customer_id, max(ts) AS last_purchase_at
    FROM orders_all WHERE ts < $as_of GROUP BY customer_id
)
SELECT p.customer_id AS customer_id, p.touchpoints AS touchpoints, p.first_ts AS first_ts,
       p.last_ts AS last_ts, p.first_purchase_at AS first_purchase_at,
       p.purchases AS purchases, p.repeat_purchases AS repeat_purchases,
       p.revenue AS revenue, b.last_purchase_at AS last_purchase_at,
       coalesce(b.last_purchase_at < $churn_from, false) AS churned,
       p.promoter_answers > 0 AS promoter, p.detractor_answers > 0 AS detractor
FROM per AS p LEFT JOIN bought AS b ON b.customer_id = p.customer_id
ORDER BY p.customer_id
"""

_LAST_DAY = "{log}\nSELECT CAST(max(ts) AS DATE) AS d FROM log"


def reference_end(engine: Engine, sel: Selection) -> date | None:
    """The day churn is measured at: the period's end, or else the day after the last
    touchpoint of the selection (None when it has none)."""
    if sel.end is not None:
        return sel.end
    log, params = log_sql(sel)
    last = engine.query(_LAST_DAY.format(log=log), params).to_pylist()[0]["d"]
    return None if last is None else last + timedelta(days=1)


def outcomes(engine: Engine, sel: Selection | None = None,
             churn_days: int = DEFAULT_CHURN_DAYS, currency: str = CURRENCY) -> pa.Table:
    """One row per customer of the selection, ordered by ``customer_id``: ``touchpoints``,
    ``first_ts``, ``last_ts``; ``first_purchase_at`` (their first order ever, when it falls in
    the period), ``purchases`` and ``repeat_purchases`` (orders in the period; repeat: not
    their first ever), ``revenue`` (those orders in ``currency``); ``last_purchase_at`` (the
    last order before the reference end, even before the period) and ``churned``: they had
    bought, but not in the ``churn_days`` before the reference end (the period's end, or the
    day after the selection's last touchpoint); ``promoter`` / ``detractor``: an NPS answer
    of 9–10 / 0–6 in the period."""
    sel = sel or Selection()
    if churn_days < 1:
        raise ValueError("the churn window must be at least one day")
    end = reference_end(engine, sel)
    log, params = log_sql(sel, currency)
    if end is None:  # nothing selected: the same (empty) columns
        end = date(1970, 1, 2)
    return engine.query(_OUTCOMES.format(log=log), {
        **params, "as_of": end, "churn_from": end - timedelta(days=int(churn_days))})


@dataclass(frozen=True)
class TouchpointCount:
    """One touchpoint of the selection: how often it happened and to how many customers."""

    touchpoint: str
    kind: str
    count: int
    customers: int


_TOUCHPOINTS = """{log}
SELECT touchpoint, min(kind) AS kind, count(*) AS n, count(DISTINCT customer_id) AS customers
FROM log GROUP BY touchpoint ORDER BY n DESC, touchpoint
"""


def touchpoints(engine: Engine, sel: Selection | None = None) -> list[TouchpointCount]:
    """Every touchpoint met in the selection, the most frequent first (ties by name); a
    name two kinds share is one touchpoint, its ``kind`` the first in the tie order."""
    log, params = log_sql(sel or Selection())
    rows = engine.query(_TOUCHPOINTS.format(log=log), params).to_pylist()
    return [TouchpointCount(r["touchpoint"], kind_name(r["kind"]), int(r["n"]),
                            int(r["customers"])) for r in rows]


__all__ = ["DEFAULT_CHURN_DAYS", "DEFAULT_GAP_MINUTES", "ORDER", "TouchpointCount",
           "journey_log", "outcomes", "reference_end", "touchpoints"]
