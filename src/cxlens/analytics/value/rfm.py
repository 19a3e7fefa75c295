"""RFM: recency, frequency and monetary value, named segments, and moves between them.

At a snapshot day every customer who has bought by then gets three scores from 1 to 5:

* **R** — the day of the last purchase (later is better),
* **F** — the number of purchase days (orders on one day are one purchase, as in the value
  models),
* **M** — the revenue of all purchases up to the snapshot, in the chosen currency.

A score is the quintile of the customer's rank among the snapshot's customers:
``1 + floor(5 · (rank − 1) / n)`` with ``rank`` the SQL ``rank()`` in ascending order, so
equal values always get the same score (the lowest their tie allows: when most customers
bought once, they all have F = 1) and the result does not depend on row order. The named
segments are rules on the scores, the first that matches (docs/methods.md, "RFM"):

====================  =============================================
champions             R ≥ 4, F ≥ 4, M ≥ 4
loyal                 R ≥ 3, F ≥ 4
potential loyal       R ≥ 4, F 2–3
new                   R = 5, F = 1
promising             R = 4, F = 1
need attention        R = 3, F 2–3
about to sleep        R = 3, F = 1
can't lose            R ≤ 2, F ≥ 4, M ≥ 4
at risk               R ≤ 2, F ≥ 3
hibernating           R = 2, F ≤ 2
lost                  R = 1, F ≤ 2
====================  =============================================

The moves are counted at consecutive month ends (the last ``months`` fully observed months):
how many customers went from each segment at one month end to each segment at the next, and
how many arrived (first purchase in between). Scores are relative to each snapshot's
customers, so a customer can move without buying, as others buy around them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cxlens.analytics._money import CURRENCY
from cxlens.analytics.value._purchases import (
    data_end,
    month_index,
    month_last_day,
    month_name,
    purchases_sql,
)
from cxlens.analytics.value._summary import ValueInputError
from cxlens.warehouse.engine import Engine

SEGMENTS = {  # key: the name shown
    "champions": "champions", "loyal": "loyal", "potential_loyal": "potential loyal",
    "new": "new", "promising": "promising", "need_attention": "need attention",
    "about_to_sleep": "about to sleep", "cant_lose": "can't lose", "at_risk": "at risk",
    "hibernating": "hibernating", "lost": "lost",
}
EPOCH = date(1970, 1, 1)
_DAY = "date_diff('day', DATE '1970-01-01', CAST({d} AS DATE))"

SEGMENT_SQL = """CASE
  WHEN r >= 4 AND f >= 4 AND mo >= 4 THEN 'champions'
  WHEN r >= 3 AND f >= 4 THEN 'loyal'
  WHEN r >= 4 AND f >= 2 THEN 'potential_loyal'
  WHEN r = 5 THEN 'new'
  WHEN r = 4 THEN 'promising'
  WHEN r = 3 AND f >= 2 THEN 'need_attention'
  WHEN r = 3 THEN 'about_to_sleep'
  WHEN f >= 4 AND mo >= 4 THEN 'cant_lose'
  WHEN f >= 3 THEN 'at_risk'
  WHEN r = 2 THEN 'hibernating'
  ELSE 'lost' END"""

_SCORED = f"""
WITH p AS ({{purchases}}),
days AS (
  SELECT customer_id, {_DAY.format(d="d")} AS dn, sum(amount) AS amount
  FROM p GROUP BY customer_id, d
),
snaps AS (SELECT unnest($snapshots) AS e),
snap AS (
  SELECT s.e AS e, y.customer_id AS customer_id, max(y.dn) AS last_dn,
         CAST(count(*) AS BIGINT) AS frequency, sum(y.amount) AS monetary
  FROM snaps AS s JOIN days AS y ON y.dn <= s.e
  GROUP BY s.e, y.customer_id
),
ranked AS (
  SELECT e, customer_id, last_dn, frequency, monetary,
         count(*) OVER (PARTITION BY e) AS n,
         rank() OVER (PARTITION BY e ORDER BY last_dn) AS r_rank,
         rank() OVER (PARTITION BY e ORDER BY frequency) AS f_rank,
         rank() OVER (PARTITION BY e ORDER BY monetary) AS m_rank
  FROM snap
),
scored AS (
  SELECT e, customer_id, last_dn, frequency, monetary,
         CAST(1 + floor(5 * (r_rank - 1) / n) AS INTEGER) AS r,
         CAST(1 + floor(5 * (f_rank - 1) / n) AS INTEGER) AS f,
         CAST(1 + floor(5 * (m_rank - 1) / n) AS INTEGER) AS mo
  FROM ranked
),
seg AS (SELECT *, {SEGMENT_SQL} AS segment FROM scored)"""

CURRENT_SQL = _SCORED + """
SELECT segment, r, f, mo AS m, CAST(count(*) AS BIGINT) AS customers,
       CAST(sum($end_dn - last_dn) AS BIGINT) AS recency_days,
       CAST(sum(frequency) AS BIGINT) AS purchases, CAST(sum(monetary) AS DOUBLE) AS revenue
FROM seg WHERE e = $end_dn
GROUP BY segment, r, f, mo ORDER BY segment, r, f, m
"""

MOVES_SQL = _SCORED + """,
moved AS (
  SELECT e, segment,
         lag(segment) OVER (PARTITION BY customer_id ORDER BY e) AS prev_segment
  FROM seg WHERE e <= $last_month_end
)
SELECT e, coalesce(prev_segment, '') AS from_segment, segment AS to_segment,
       CAST(count(*) AS BIGINT) AS customers
FROM moved GROUP BY e, coalesce(prev_segment, ''), segment
ORDER BY e, from_segment, to_segment
"""


@dataclass(frozen=True)
class Segment:
    """A named segment at the snapshot: its customers and share, their mean days since the
    last purchase, mean purchases and revenue per customer, and its share of revenue."""

    key: str
    name: str
    customers: int
    share: float  # % of customers
    recency_days: float | None
    purchases: float | None
    revenue_per_customer: float | None
    revenue_share: float  # % of revenue


@dataclass(frozen=True)
class Move:
    """Customers who were in ``from_segment`` at the month end ``start`` (``None``: they
    first bought after it) and in ``to_segment`` at the month end ``stop``."""

    start: date
    stop: date
    from_segment: str | None
    to_segment: str
    customers: int


@dataclass(frozen=True)
class Rfm:
    """Segments at ``end``, the customers per (R, F) score cell (``grid[r-1][f-1]``, the
    usual map), and the month-to-month moves over ``month_ends``."""

    end: date
    currency: str
    customers: int
    segments: list[Segment]
    grid: list[list[int]]
    month_ends: list[date]
    moves: list[Move]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def move_counts(self, start: date) -> dict[tuple[str | None, str], int]:
        return {(m.from_segment, m.to_segment): m.customers for m in self.moves
                if m.start == start}


def rfm(engine: Engine, today: date, *, end: date | None = None, months: int = 12,
        currency: str = CURRENCY, rates: Mapping[str, float] | None = None) -> Rfm:
    """RFM scores and segments at ``end`` (default: yesterday, or the last purchase day if
    the data stop earlier) and the moves between segments at the last ``months`` + 1
    month ends up to it."""
    if not 1 <= months <= 60:
        raise ValueInputError(f"months must be between 1 and 60, not {months}")
    end = data_end(engine, today, end, currency)
    sql, params = purchases_sql(engine, end, currency=currency, rates=rates)
    last = month_index(end)
    full = last if end == month_last_day(last) else last - 1
    ends = [month_last_day(i) for i in range(full - months, full + 1)]
    snapshots = sorted({(d - EPOCH).days for d in [*ends, end]})
    args = {**params, "snapshots": snapshots}
    cur = engine.query(CURRENT_SQL.format(purchases=sql),
                       {**args, "end_dn": (end - EPOCH).days}).to_pylist()
    total = sum(int(r["customers"]) for r in cur)
    revenue = sum(float(r["revenue"]) for r in cur)
    grid = [[0] * 5 for _ in range(5)]
    agg: dict[str, list[float]] = {}
    for r in cur:
        grid[int(r["r"]) - 1][int(r["f"]) - 1] += int(r["customers"])
        a = agg.setdefault(r["segment"], [0, 0, 0, 0.0])
        for i, k in enumerate(("customers", "recency_days", "purchases", "revenue")):
            a[i] += r[k]
    segments = []
    for key, name in SEGMENTS.items():
        n, rec, pur, rev = agg.get(key, [0, 0, 0, 0.0])
        segments.append(Segment(
            key, name, int(n), 100.0 * n / total, rec / n if n else None,
            pur / n if n else None, rev / n if n else None,
            100.0 * rev / revenue if revenue else 0.0))
    moves = []
    by_day = {(d - EPOCH).days: d for d in ends}
    moved = engine.query(MOVES_SQL.format(purchases=sql),
                         {**args, "last_month_end": (ends[-1] - EPOCH).days})
    for r in moved.to_pylist():
        stop = by_day.get(int(r["e"]))
        if stop is None or stop == ends[0]:  # the first month end only starts the moves
            continue
        start = ends[ends.index(stop) - 1]
        moves.append(Move(start, stop, r["from_segment"] or None, r["to_segment"],
                          int(r["customers"])))
    notes = []
    if total < 50:
        notes.append(f"only {total} customers: a quintile is {total / 5:.0f} customers or "
                     "fewer, so the segments are rough")
    return Rfm(end, currency, total, segments, grid, ends, moves, notes)


def month_label(day: date) -> str:
    """``YYYY-MM`` of a month end, for tables and charts."""
    return month_name(month_index(day))
