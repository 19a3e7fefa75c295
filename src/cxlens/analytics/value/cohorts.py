"""Cohorts and retention: who comes back, month by month after the first purchase.

Customers are grouped by the month of their first purchase (or by acquisition channel: the
channel of their first counted order, earliest by time and then by arrival). For each
cohort and each month since the first purchase (0 = the month of the first purchase, a
calendar month, not 30 days) the result gives

* the customers observed that month (``customers``: the cohort, or for a channel the
  customers of every first-purchase month for which that month is fully observed),
* how many bought that month (``active``) and their share (retention, Wilson interval),
* the cumulative share who had bought again (a second purchase day) by the end of it,
* the revenue that month, in total and per observed customer.

Only fully observed calendar months are in the grid: the month the data end in is partial
unless they end on its last day; it is named (``partial_month``), and its cohort is listed
with its size and no cells. The time between purchases (days between consecutive purchase
days of a customer) is summarised exactly — median and quartiles from the engine's
histogram of gaps, never an approximate percentile (docs/engine.md).

The engine returns one row per (cohort month, channel, month since) — the heat map's cells —
and one per (cohort month, channel, gap in days); Python only adds them up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np

from cxlens.analytics._intervals import Estimate, wilson
from cxlens.analytics._money import CURRENCY
from cxlens.analytics._quantiles import weighted_quantiles
from cxlens.analytics.value._purchases import (
    MONTH,
    acquisition_sql,
    data_end,
    month_index,
    month_last_day,
    month_name,
    purchases_sql,
)
from cxlens.analytics.value._summary import ValueInputError
from cxlens.warehouse.engine import Engine

By = Literal["month", "channel", "campaign"]

_DAYS = f"""
p AS ({{purchases}}),
days AS (
  SELECT customer_id, d, {MONTH.format(d="d")} AS m, sum(amount) AS amount
  FROM p GROUP BY customer_id, d
),{{acquisition}}"""

CELLS_SQL = f"""
WITH {_DAYS},
rep AS (
  SELECT y.customer_id AS customer_id, min(y.m) AS repeat_m
  FROM days AS y JOIN firsts AS f ON f.customer_id = y.customer_id
  WHERE y.d > f.first_d GROUP BY y.customer_id
),
cm AS (
  SELECT f.customer_id AS customer_id, f.cohort AS cohort, f.channel AS channel,
         f.campaign AS campaign, y.m - f.cohort AS k, sum(y.amount) AS amount,
         max(CASE WHEN r.repeat_m = y.m THEN 1 ELSE 0 END) AS first_repeat
  FROM firsts AS f JOIN days AS y ON y.customer_id = f.customer_id
  LEFT JOIN rep AS r ON r.customer_id = f.customer_id
  GROUP BY f.customer_id, f.cohort, f.channel, f.campaign, y.m
)
SELECT cohort, channel, campaign, k, CAST(count(*) AS BIGINT) AS active,
       CAST(sum(amount) AS DOUBLE) AS revenue, CAST(sum(first_repeat) AS BIGINT) AS repeats
FROM cm GROUP BY cohort, channel, campaign, k ORDER BY cohort, channel, campaign, k
"""

GAPS_SQL = f"""
WITH {_DAYS},
g AS (
  SELECT customer_id, d, lag(d) OVER (PARTITION BY customer_id ORDER BY d) AS prev_d
  FROM days
)
SELECT f.cohort AS cohort, f.channel AS channel, f.campaign AS campaign,
       date_diff('day', CAST(g.prev_d AS DATE), CAST(g.d AS DATE)) AS gap,
       CAST(count(*) AS BIGINT) AS n
FROM g JOIN firsts AS f ON f.customer_id = g.customer_id
WHERE g.prev_d IS NOT NULL
GROUP BY f.cohort, f.channel, f.campaign,
         date_diff('day', CAST(g.prev_d AS DATE), CAST(g.d AS DATE))
ORDER BY cohort, channel, campaign, gap
"""


@dataclass(frozen=True)
class Gaps:
    """Days between consecutive purchase days: ``n`` gaps, exact median and quartiles
    (linear interpolation between order statistics); ``None`` without any gap."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None


@dataclass(frozen=True)
class CohortCell:
    """One cohort in one month since its first purchase (see the module's docstring);
    ``month`` is the calendar month for a first-purchase-month cohort."""

    months_since: int
    month: str | None
    customers: int
    active: int
    retention: Estimate
    repeat: Estimate
    revenue: float
    revenue_per_customer: float


@dataclass(frozen=True)
class Cohort:
    key: str
    customers: int
    partial: bool  # first bought in the partial month: no fully observed month yet
    cells: list[CohortCell]
    gaps: Gaps


@dataclass(frozen=True)
class Cohorts:
    """Cohorts by ``by`` up to ``end``; ``last_full_month`` is the last fully observed
    calendar month, ``partial_month`` the one after it when the data end inside it.
    Revenue in ``currency``. ``gaps`` is over all customers."""

    by: str
    end: date
    currency: str
    customers: int
    last_full_month: str
    partial_month: str | None
    cohorts: list[Cohort]
    gaps: Gaps
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _gaps(values: np.ndarray, counts: np.ndarray) -> Gaps:
    keep = counts > 0
    values, counts = values[keep], counts[keep]
    if not counts.size:
        return Gaps(0, None, None, None)
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    uniq, inv = np.unique(values, return_inverse=True)
    summed = np.bincount(inv, weights=counts).astype("int64")
    q1, med, q3 = weighted_quantiles(uniq.astype("float64"), summed, (0.25, 0.5, 0.75))
    return Gaps(int(summed.sum()), med, q1, q3)


def cohorts(engine: Engine, today: date, *, by: By = "month", end: date | None = None,
            channel: str | None = None, currency: str = CURRENCY,
            rates: Mapping[str, float] | None = None) -> Cohorts:
    """Retention, repeat purchase and revenue per cohort and month since first purchase.

    ``by`` groups customers by their first purchase month or acquisition channel;
    ``channel`` keeps only customers acquired through that channel. ``end`` is the last
    day of data used (default: yesterday, or the last purchase day if the data stop
    earlier). ``today`` comes from the edge.
    """
    if by not in ("month", "channel", "campaign"):
        raise ValueInputError(f"cohorts by {by!r}: choose month, channel or campaign")
    end = data_end(engine, today, end, currency)
    sql, params = purchases_sql(engine, end, currency=currency, rates=rates)
    fmt = {"purchases": sql, "acquisition": acquisition_sql(by == "campaign")}
    cells = engine.query(CELLS_SQL.format(**fmt), params).to_pydict()
    gaps = engine.query(GAPS_SQL.format(**fmt), params).to_pydict()
    cohort = np.asarray(cells["cohort"], dtype="int64")
    chan = np.asarray(cells["channel"], dtype=object)
    camp = np.asarray(cells["campaign"], dtype=object)
    k = np.asarray(cells["k"], dtype="int64")
    active = np.asarray(cells["active"], dtype="int64")
    revenue = np.asarray(cells["revenue"], dtype="float64")
    repeats = np.asarray(cells["repeats"], dtype="int64")
    g_cohort = np.asarray(gaps["cohort"], dtype="int64")
    g_chan = np.asarray(gaps["channel"], dtype=object)
    g_camp = np.asarray(gaps["campaign"], dtype=object)
    g_gap = np.asarray(gaps["gap"], dtype="int64")
    g_n = np.asarray(gaps["n"], dtype="int64")
    if channel is not None:
        known = sorted(set(chan[k == 0]))
        if channel not in known:
            raise ValueInputError(f"no customer was acquired through channel {channel!r} up "
                                  f"to {end}: choose one of {', '.join(known)}")
        keep, g_keep = chan == channel, g_chan == channel
        cohort, chan, camp, k, active, revenue, repeats = (
            a[keep] for a in (cohort, chan, camp, k, active, revenue, repeats))
        g_cohort, g_chan, g_camp, g_gap, g_n = (
            a[g_keep] for a in (g_cohort, g_chan, g_camp, g_gap, g_n))

    last_m = month_index(end)
    full = last_m if end == month_last_day(last_m) else last_m - 1
    partial = None if full == last_m else month_name(last_m)
    def keys(months: np.ndarray, channels: np.ndarray, campaigns: np.ndarray) -> np.ndarray:
        if by == "month":
            return np.array([month_name(int(c)) for c in months], dtype=object)
        return channels if by == "channel" else campaigns

    key = keys(cohort, chan, camp)
    g_key = keys(g_cohort, g_chan, g_camp)
    # customers per (first month, group): everybody is active in month 0
    sizes: dict[tuple[int, str], int] = {}
    for c, g, kk, a in zip(cohort, key, k, active, strict=True):
        if kk == 0:
            sizes[(int(c), str(g))] = sizes.get((int(c), str(g)), 0) + int(a)
    out = []
    for name in sorted(set(key.tolist())):
        m = key == name
        members = {(c, g): n for (c, g), n in sizes.items() if g == name}
        size = sum(members.values())
        grid = []
        for months_since in range(0, full - int(cohort[m].min()) + 1):
            seen = cohort + months_since <= full
            n = sum(v for (c, _h), v in members.items() if c + months_since <= full)
            here = m & seen & (k == months_since)
            upto = m & seen & (k <= months_since)
            act, rep = int(active[here].sum()), int(repeats[upto].sum())
            rev = float(revenue[here].sum())
            grid.append(CohortCell(
                months_since, month_name(int(cohort[m][0]) + months_since)
                if by == "month" else None, n, act, wilson(act / n, n),
                wilson(rep / n, n), rev, rev / n))
        gm = g_key == name
        out.append(Cohort(str(name), size, not grid, grid, _gaps(g_gap[gm], g_n[gm])))
    total = sum(c.customers for c in out)
    notes = []
    if partial:
        notes.append(f"{partial} is not over (the data end {end}): it is left out of the "
                     "grid, and customers who first bought in it have no cells yet")
    return Cohorts(by, end, currency, total, month_name(full), partial, out,
                   _gaps(g_gap, g_n), notes)
