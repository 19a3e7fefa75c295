"""The numbers of a workspace's overview: totals, trends and the latest NPS with its interval.

Every function takes a DuckDB connection (or cursor) of a warehouse and returns a small
dataclass or a list of rows; nothing here renders. The web pages, the API and reports call
these same functions (see docs/methods.md for the NPS interval).

Definitions used throughout:

* an **order** is a row of ``v_orders`` whose status is not ``refunded`` or ``lost``
  (open CRM deals and receipts without a status count); **revenue** is their ``amount``;
* **new customers** in a bucket are customers whose ``first_seen`` falls in it;
* **active customers** are distinct customers with an order or an event in the bucket;
* **feedback answers** are customer feedback (``v_feedback`` rows other than ``enps``);
* **NPS** uses answers with ``metric = 'nps'``: promoters score 9–10, detractors 0–6.

Periods are half-open ``[start, end)`` dates in the warehouse's time (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb

from cxlens.analytics._intervals import nps_interval

__all__ = [
    "GRAINS",
    "MIN_NPS_SAMPLE",
    "Change",
    "NpsResult",
    "Period",
    "TrendRow",
    "nps",
    "nps_from_counts",
    "nps_trend",
    "period_ending",
    "totals",
    "trends",
]

GRAINS = ("day", "week", "month")
MIN_NPS_SAMPLE = 30  # below this many answers an NPS is flagged as too small to act on
Z95 = 1.959963984540054

COUNTED_ORDER = "coalesce(status, '') NOT IN ('refunded', 'lost')"
TOTAL_NAMES = ("customers", "orders", "revenue", "events", "feedback")


@dataclass(frozen=True)
class Period:
    """``[start, end)``: ``end`` is the first day after the period."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start)


def period_ending(as_of: date, days: int) -> Period:
    """The ``days`` days up to and including ``as_of``."""
    end = as_of + timedelta(days=1)
    return Period(end - timedelta(days=days), end)


@dataclass(frozen=True)
class Change:
    """One total in a period and in the period before it."""

    name: str
    current: float
    previous: float

    @property
    def delta(self) -> float:
        return self.current - self.previous

    @property
    def pct(self) -> float | None:
        """Relative change in per cent; None when the previous value is 0."""
        return None if self.previous == 0 else 100.0 * self.delta / self.previous


def _totals_in(con: duckdb.DuckDBPyConnection, p: Period) -> dict[str, float]:
    row = con.execute(
        f"""
        SELECT
          (SELECT count(*) FROM customers WHERE first_seen >= $s AND first_seen < $e),
          (SELECT count(*) FROM v_orders WHERE ts >= $s AND ts < $e AND {COUNTED_ORDER}),
          (SELECT coalesce(sum(amount), 0) FROM v_orders
             WHERE ts >= $s AND ts < $e AND {COUNTED_ORDER}),
          (SELECT count(*) FROM v_events WHERE ts >= $s AND ts < $e),
          (SELECT count(*) FROM v_feedback WHERE ts >= $s AND ts < $e AND metric <> 'enps')
        """,
        {"s": p.start, "e": p.end},
    ).fetchall()[0]
    return {name: float(v) for name, v in zip(TOTAL_NAMES, row, strict=True)}


def totals(con: duckdb.DuckDBPyConnection, period: Period) -> list[Change]:
    """New customers, orders, revenue, events and feedback answers in ``period`` and before.

    ``customers`` counts customers first seen in the period (new customers).
    """
    now, before = _totals_in(con, period), _totals_in(con, period.previous())
    return [Change(n, now[n], before[n]) for n in TOTAL_NAMES]


@dataclass(frozen=True)
class TrendRow:
    bucket: date
    orders: int
    revenue: float
    new_customers: int
    active_customers: int


def _check_grain(grain: str) -> str:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}, not {grain!r}")
    return grain


def trends(con: duckdb.DuckDBPyConnection, period: Period, grain: str = "week") -> list[TrendRow]:
    """Orders, revenue, new and active customers per day, week (Monday) or month.

    Every bucket that starts within the period is present, with zeros where nothing happened.
    """
    g = _check_grain(grain)
    rows = con.execute(
        f"""
        WITH buckets AS (
            SELECT DISTINCT CAST(date_trunc('{g}', d) AS DATE) AS bucket
            FROM range(CAST($s AS TIMESTAMP), CAST($e AS TIMESTAMP), INTERVAL 1 DAY) r(d)
        ),
        o AS (
            SELECT CAST(date_trunc('{g}', ts) AS DATE) AS bucket, count(*) AS orders,
                   CAST(sum(amount) AS DOUBLE) AS revenue
            FROM v_orders WHERE ts >= $s AND ts < $e AND {COUNTED_ORDER} GROUP BY 1
        ),
        n AS (
            SELECT CAST(date_trunc('{g}', first_seen) AS DATE) AS bucket, count(*) AS new
            FROM customers WHERE first_seen >= $s AND first_seen < $e GROUP BY 1
        ),
        a AS (
            SELECT bucket, count(DISTINCT customer_id) AS active FROM (
                SELECT CAST(date_trunc('{g}', ts) AS DATE) AS bucket, customer_id
                FROM v_orders WHERE ts >= $s AND ts < $e AND customer_id IS NOT NULL
                UNION ALL
                SELECT CAST(date_trunc('{g}', ts) AS DATE), customer_id
                FROM v_events WHERE ts >= $s AND ts < $e AND customer_id IS NOT NULL
            ) GROUP BY 1
        )
        SELECT b.bucket, coalesce(o.orders, 0), coalesce(o.revenue, 0),
               coalesce(n.new, 0), coalesce(a.active, 0)
        FROM buckets b
        LEFT JOIN o USING (bucket) LEFT JOIN n USING (bucket) LEFT JOIN a USING (bucket)
        ORDER BY b.bucket
        """,
        {"s": period.start, "e": period.end},
    ).fetchall()
    return [TrendRow(b, int(o), float(r), int(n), int(a)) for b, o, r, n, a in rows]


@dataclass(frozen=True)
class NpsResult:
    """An NPS with its 95 % interval (Wald, multinomial variance; docs/methods.md)."""

    n: int
    promoters: int
    passives: int
    detractors: int
    score: float | None  # -100..100; None without answers
    se: float | None  # standard error, in NPS points
    low: float | None
    high: float | None
    bucket: date | None = None

    @property
    def too_small(self) -> bool:
        """Fewer than MIN_NPS_SAMPLE answers: too uncertain to act on."""
        return self.n < MIN_NPS_SAMPLE

    def as_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "n": self.n, "promoters": self.promoters,
                "passives": self.passives, "detractors": self.detractors, "nps": self.score,
                "se": self.se, "low": self.low, "high": self.high,
                "too_small": self.too_small}


def nps_from_counts(promoters: int, passives: int, detractors: int,
                    bucket: date | None = None) -> NpsResult:
    """NPS = 100·(p_P − p_D) with the adjusted-Wald 95 % interval (docs/methods.md).

    The same interval as :func:`cxlens.analytics.experience.score`, so the Overview and the
    Experience page never disagree: Var = [p_P + p_D − (p_P − p_D)²]/n on counts with one
    pseudo-answer added to each group, clipped to [−100, 100] (Rocks 2016).
    """
    n = promoters + passives + detractors
    if n == 0:
        return NpsResult(0, 0, 0, 0, None, None, None, None, bucket)
    est = nps_interval(promoters / n, detractors / n, n)
    return NpsResult(n, promoters, passives, detractors, est.value, est.se, est.low, est.high,
                     bucket)


_NPS_COUNTS = """
SELECT count(*) FILTER (WHERE score >= 9),
       count(*) FILTER (WHERE score > 6 AND score < 9),
       count(*) FILTER (WHERE score <= 6)
FROM v_feedback
WHERE metric = 'nps' AND score IS NOT NULL AND ts >= $s AND ts < $e
"""


def nps(con: duckdb.DuckDBPyConnection, period: Period) -> NpsResult:
    """The NPS of the answers given in ``period``."""
    p, m, d = con.execute(_NPS_COUNTS, {"s": period.start, "e": period.end}).fetchall()[0]
    return nps_from_counts(int(p), int(m), int(d))


def nps_trend(con: duckdb.DuckDBPyConnection, period: Period,
              grain: str = "month") -> list[NpsResult]:
    """NPS with its interval per bucket (months by default); buckets without answers skipped."""
    g = _check_grain(grain)
    rows = con.execute(
        f"""
        SELECT CAST(date_trunc('{g}', ts) AS DATE) AS bucket,
               count(*) FILTER (WHERE score >= 9),
               count(*) FILTER (WHERE score > 6 AND score < 9),
               count(*) FILTER (WHERE score <= 6)
        FROM v_feedback
        WHERE metric = 'nps' AND score IS NOT NULL AND ts >= $s AND ts < $e
        GROUP BY 1 ORDER BY 1
        """,
        {"s": period.start, "e": period.end},
    ).fetchall()
    return [nps_from_counts(int(p), int(m), int(d), bucket=b) for b, p, m, d in rows]
