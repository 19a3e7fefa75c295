"""The numbers of a workspace's overview: totals, trends and the latest NPS with its interval.

Every function takes an :class:`~cxlens.warehouse.engine.Engine` (DuckDB or Spark) and
returns a small dataclass or a list of rows; nothing here renders. The SQL is written once in
DuckDB's dialect and follows the portable house rules of docs/engine.md, so both engines give
the same numbers. The web pages, the API and reports call these same functions (see
docs/methods.md for the NPS interval).

Definitions used throughout:

* an **order** is a row of ``v_orders`` whose status is not ``refunded`` or ``lost``
  (open CRM deals and receipts without a status count); **revenue** is their ``amount`` in
  the workspace's reporting currency (``currency``, EUR by default), orders in other
  currencies converted at ``rates`` (``analytics._money``); orders in a currency without a
  rate are never added to it, and are counted instead (``Change.left_out``,
  ``TrendRow.other_currency_orders``);
* **new customers** in a bucket are customers whose ``first_seen`` falls in it;
* **active customers** are distinct customers with an order or an event in the bucket;
* **feedback answers** are customer feedback (``v_feedback`` rows other than ``enps``);
* **NPS** uses answers with ``metric = 'nps'``: promoters score 9–10, detractors 0–6.

Periods are half-open ``[start, end)`` dates in the warehouse's time (UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cxlens.analytics._intervals import nps_interval
from cxlens.analytics._money import CURRENCY, amount_sql
from cxlens.analytics._orders import counted_order
from cxlens.warehouse.engine import Engine

__all__ = [
    "GRAINS",
    "MIN_NPS_SAMPLE",
    "Change",
    "NpsResult",
    "Period",
    "TrendRow",
    "chosen_end",
    "data_until",
    "default_end",
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

COUNTED_ORDER = counted_order()
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


# The rows per day of the last 29 days with data (orders, events and feedback together).
_DAILY = """
SELECT day, count(*) AS n FROM (
    SELECT CAST(ts AS DATE) AS day FROM v_orders WHERE ts IS NOT NULL
    UNION ALL SELECT CAST(ts AS DATE) AS day FROM v_events WHERE ts IS NOT NULL
    UNION ALL SELECT CAST(ts AS DATE) AS day FROM v_feedback WHERE ts IS NOT NULL) AS d
GROUP BY day ORDER BY day DESC LIMIT 29
"""
PARTIAL_DAY = 0.5  # a last day with less than this share of a usual day's rows is partial


def data_until(engine: Engine) -> date | None:
    """The last complete day with data (orders, events, feedback answers); None with none.

    An export taken in the morning ends with a few hours of its last day; drawn beside whole
    days, that day reads as a collapse. So a last day holding less than half the median rows
    of the (up to) 28 days with data before it counts as partial, and the day before it is
    the last complete one.
    """
    rows = engine.query(_DAILY).to_pylist()
    if not rows:
        return None
    last: date = rows[0]["day"]
    usual = sorted(int(r["n"]) for r in rows[1:])
    if usual and rows[0]["n"] < PARTIAL_DAY * usual[len(usual) // 2]:
        return last - timedelta(days=1)
    return last


@dataclass(frozen=True)
class DefaultEnd:
    """The last day a period shows when the user has not chosen one, and why.

    ``stale`` is true when the data stop before yesterday: the period then ends on the last
    day with data, so that days nobody has loaded yet do not look like a collapse.
    """

    end: date
    data_until: date | None
    stale: bool


def chosen_end(engine: Engine, chosen: date | None, today: date) -> DefaultEnd:
    """The day a reader chose as it is, or else :func:`default_end`."""
    return DefaultEnd(chosen, None, False) if chosen else default_end(engine, today)


def default_end(engine: Engine, today: date) -> DefaultEnd:
    """Yesterday (the last complete day), or the last day with data if that is earlier.

    Today is left out: its data are still arriving, and a half day beside whole ones reads
    as a drop.
    """
    yesterday = today - timedelta(days=1)
    last = data_until(engine)
    if last is not None and last < yesterday:
        return DefaultEnd(last, last, True)
    return DefaultEnd(yesterday, last, False)


@dataclass(frozen=True)
class Change:
    """One total in a period and in the period before it."""

    name: str
    current: float
    previous: float
    # Rows of the current period left out of the total: for revenue, the counted orders in
    # other currencies than the one summed.
    left_out: int = 0

    @property
    def delta(self) -> float:
        return self.current - self.previous

    @property
    def pct(self) -> float | None:
        """Relative change in per cent; None when the previous value is 0."""
        return None if self.previous == 0 else 100.0 * self.delta / self.previous


_TOTALS = f"""
SELECT
  (SELECT count(*) FROM customers WHERE first_seen >= $s AND first_seen < $e) AS customers,
  (SELECT count(*) FROM v_orders WHERE ts >= $s AND ts < $e AND {COUNTED_ORDER}) AS orders,
  (SELECT CAST(coalesce(sum({{amount}}), 0) AS DOUBLE) FROM v_orders
     WHERE ts >= $s AND ts < $e AND {COUNTED_ORDER} AND {{in_currency}}) AS revenue,
  (SELECT count(*) FROM v_orders WHERE ts >= $s AND ts < $e AND {COUNTED_ORDER}
     AND NOT coalesce({{in_currency}}, false)) AS other_currency_orders,
  (SELECT count(*) FROM v_events WHERE ts >= $s AND ts < $e) AS events,
  (SELECT count(*) FROM v_feedback WHERE ts >= $s AND ts < $e AND metric <> 'enps')
     AS feedback
"""


def _money(rates: Mapping[str, float] | None) -> tuple[dict[str, str], dict[str, Any]]:
    """The amount in ``$currency`` (others converted at ``rates``) and the condition of the
    rows that have one, for ``str.format``; and their parameters (``_money.amount_sql``)."""
    amount, a_params, in_currency, c_params = amount_sql(rates or {})
    return {"amount": amount, "in_currency": in_currency}, {**a_params, **c_params}


def _totals_in(engine: Engine, p: Period, currency: str,
               rates: Mapping[str, float] | None = None) -> dict[str, float]:
    fmt, params = _money(rates)
    row = engine.query(_TOTALS.format(**fmt),
                       {**params, "s": p.start, "e": p.end, "currency": currency}
                       ).to_pylist()[0]
    return {name: float(row[name]) for name in (*TOTAL_NAMES, "other_currency_orders")}


def totals(engine: Engine, period: Period, currency: str = CURRENCY,
           rates: Mapping[str, float] | None = None) -> list[Change]:
    """New customers, orders, revenue, events and feedback answers in ``period`` and before.

    ``customers`` counts customers first seen in the period (new customers). Revenue is in
    ``currency``, other currencies converted at ``rates``; its ``left_out`` counts the
    period's orders in currencies without a rate.
    """
    now = _totals_in(engine, period, currency, rates)
    before = _totals_in(engine, period.previous(), currency, rates)
    return [Change(n, now[n], before[n],
                   int(now["other_currency_orders"]) if n == "revenue" else 0)
            for n in TOTAL_NAMES]


@dataclass(frozen=True)
class TrendRow:
    bucket: date
    orders: int
    revenue: float
    new_customers: int
    active_customers: int
    other_currency_orders: int = 0  # counted orders left out of revenue (other currency)
    # The bucket's days inside the period, and whether that is all of them: the first and
    # last week or month of a period are often partial and must not read as a drop.
    days: int = 1
    complete: bool = True


def _check_grain(grain: str) -> str:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}, not {grain!r}")
    return grain


def _bucket_of(d: date, grain: str) -> date:
    """The first day of the day, week (Monday) or month that ``d`` falls in."""
    if grain == "week":
        return d - timedelta(days=d.weekday())
    if grain == "month":
        return d.replace(day=1)
    return d


def _bucket_end(b: date, grain: str) -> date:
    """The first day after the bucket starting on ``b``."""
    if grain == "week":
        return b + timedelta(days=7)
    if grain == "month":
        return (b.replace(day=28) + timedelta(days=4)).replace(day=1)
    return b + timedelta(days=1)


def _buckets(period: Period, grain: str) -> list[date]:
    """Every bucket that starts within, or contains the start of, ``period``, in order.

    Computed here rather than in SQL: DuckDB's ``range()`` of timestamps has no Spark
    translation, and the calendar of a period is no data to pull from the warehouse.
    """
    days = (period.start + timedelta(days=i) for i in range(period.days))
    return sorted({_bucket_of(d, grain) for d in days})


# One row per bucket that has something; trends() adds the empty buckets. The grain is one
# of GRAINS (checked), the only text formatted into the SQL.
_TRENDS = """
WITH o AS (
    SELECT CAST(date_trunc('{g}', ts) AS DATE) AS bucket, count(*) AS orders,
           CAST(sum(CASE WHEN {in_currency} THEN {amount} END) AS DOUBLE) AS revenue,
           count(*) - count(CASE WHEN {in_currency} THEN 1 END) AS other
    FROM v_orders WHERE ts >= $s AND ts < $e AND {counted} GROUP BY 1
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
        SELECT CAST(date_trunc('{g}', ts) AS DATE) AS bucket, customer_id
        FROM v_events WHERE ts >= $s AND ts < $e AND customer_id IS NOT NULL
    ) AS touched GROUP BY bucket
),
b AS (SELECT bucket FROM o UNION SELECT bucket FROM n UNION SELECT bucket FROM a)
SELECT b.bucket AS bucket, coalesce(o.orders, 0) AS orders,
       coalesce(o.revenue, 0) AS revenue, coalesce(n.new, 0) AS new_customers,
       coalesce(a.active, 0) AS active_customers, coalesce(o.other, 0) AS other
FROM b
LEFT JOIN o ON o.bucket = b.bucket LEFT JOIN n ON n.bucket = b.bucket
LEFT JOIN a ON a.bucket = b.bucket
ORDER BY b.bucket
"""


def trends(engine: Engine, period: Period, grain: str = "week",
           currency: str = CURRENCY,
           rates: Mapping[str, float] | None = None) -> list[TrendRow]:
    """Orders, revenue, new and active customers per day, week (Monday) or month.

    Every bucket that starts within the period is present, with zeros where nothing happened;
    a bucket only partly inside the period says so (``days``, ``complete``). Revenue is in
    ``currency``, other currencies converted at ``rates``; ``other_currency_orders`` counts
    the orders left out (in a currency without a rate).
    """
    g = _check_grain(grain)
    fmt, params = _money(rates)
    sql = _TRENDS.format(g=g, counted=COUNTED_ORDER, **fmt)
    got = {r["bucket"]: r for r in engine.query(
        sql, {**params, "s": period.start, "e": period.end, "currency": currency}
    ).to_pylist()}
    out = []
    for b in _buckets(period, g):
        r = got.get(b)
        end = _bucket_end(b, g)
        inside = (min(end, period.end) - max(b, period.start)).days
        counts = ((int(r["orders"]), float(r["revenue"]), int(r["new_customers"]),
                   int(r["active_customers"]), int(r["other"])) if r else (0, 0.0, 0, 0, 0))
        out.append(TrendRow(b, *counts, days=inside, complete=inside == (end - b).days))
    return out


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
SELECT count(*) FILTER (WHERE score >= 9) AS promoters,
       count(*) FILTER (WHERE score > 6 AND score < 9) AS passives,
       count(*) FILTER (WHERE score <= 6) AS detractors
FROM v_feedback
WHERE metric = 'nps' AND score IS NOT NULL AND ts >= $s AND ts < $e
"""


def nps(engine: Engine, period: Period) -> NpsResult:
    """The NPS of the answers given in ``period``."""
    r = engine.query(_NPS_COUNTS, {"s": period.start, "e": period.end}).to_pylist()[0]
    return nps_from_counts(int(r["promoters"]), int(r["passives"]), int(r["detractors"]))


_NPS_TREND = """
SELECT CAST(date_trunc('{g}', ts) AS DATE) AS bucket,
       count(*) FILTER (WHERE score >= 9) AS promoters,
       count(*) FILTER (WHERE score > 6 AND score < 9) AS passives,
       count(*) FILTER (WHERE score <= 6) AS detractors
FROM v_feedback
WHERE metric = 'nps' AND score IS NOT NULL AND ts >= $s AND ts < $e
GROUP BY 1 ORDER BY 1
"""


def nps_trend(engine: Engine, period: Period, grain: str = "month") -> list[NpsResult]:
    """NPS with its interval per bucket (months by default); buckets without answers skipped."""
    g = _check_grain(grain)
    rows = engine.query(_NPS_TREND.format(g=g), {"s": period.start, "e": period.end})
    return [nps_from_counts(int(r["promoters"]), int(r["passives"]), int(r["detractors"]),
                            bucket=r["bucket"]) for r in rows.to_pylist()]
