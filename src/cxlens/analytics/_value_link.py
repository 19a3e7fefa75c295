"""Experience to value: what promoters, passives and detractors spend after they answer.

Re-exported by ``cxlens.analytics.experience``; see docs/methods.md ("Experience to value").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from cxlens.analytics._intervals import (
    Estimate,
    empty,
    mean_interval,
    welch_difference,
    wilson,
)

NPS_GROUPS = ("promoter", "passive", "detractor")
COUNTED_ORDER = "coalesce(o.status, '') NOT IN ('refunded', 'lost')"


@dataclass(frozen=True)
class GroupValue:
    """Revenue per customer (EUR, t interval) and repurchase rate (%, Wilson) of one group
    in the ``days`` after its answer."""

    days: int
    group: str
    n: int
    revenue: Estimate
    repurchase: Estimate

    @property
    def too_small(self) -> bool:
        from cxlens.analytics.experience import MIN_SAMPLE

        return self.n < MIN_SAMPLE


@dataclass(frozen=True)
class Worth:
    """The worth of one detractor turned promoter over ``days``: mean revenue per promoter
    minus per detractor (Welch interval, p-value), and the two groups' sizes."""

    days: int
    difference: Estimate
    p_value: float | None
    n_promoters: int
    n_detractors: int

    @property
    def too_small(self) -> bool:
        """Either group has fewer than MIN_SAMPLE customers."""
        from cxlens.analytics.experience import MIN_SAMPLE

        return min(self.n_promoters, self.n_detractors) < MIN_SAMPLE


@dataclass(frozen=True)
class ValueByGroup:
    """Per horizon and NPS group, and the worth of one detractor turned promoter.

    ``promoter_minus_detractor[days]`` is the difference of mean revenue per customer,
    promoters − detractors, with its Welch interval: an association, not a causal effect.
    ``observed_until`` is the end of the order data used; only answers whose whole window
    ends by then count.
    """

    observed_until: datetime | None
    groups: list[GroupValue]
    promoter_minus_detractor: dict[int, Estimate]
    p_values: dict[int, float | None]

    def get(self, days: int, group: str) -> GroupValue:
        for g in self.groups:
            if g.days == days and g.group == group:
                return g
        raise KeyError((days, group))

    def worth(self) -> list[Worth]:
        """One row per horizon: promoters − detractors, with both groups' sizes."""
        n = {(g.days, g.group): g.n for g in self.groups}  # empty without orders
        return [Worth(d, e, self.p_values.get(d), n.get((d, "promoter"), 0),
                      n.get((d, "detractor"), 0))
                for d, e in sorted(self.promoter_minus_detractor.items())]


def value_by_group(con: duckdb.DuckDBPyConnection, days: Sequence[int] = (90, 180),
                   as_of: date | datetime | None = None) -> ValueByGroup:
    """Revenue and repurchase of promoters, passives and detractors after they answered.

    The unit is a customer: each customer's **first** NPS answer (so nobody counts twice).
    For a horizon of *d* days, the customer's counted orders (status not refunded/lost)
    dated after the answer and at most *d* days later are summed; repurchase means at least
    one such order. An answer counts for a horizon only when its window is fully observed:
    answer + *d* days ≤ ``as_of``, by default the last order date in the data that is not
    in the future (open CRM deals can carry expected close dates ahead of today).
    """
    horizons = sorted({int(d) for d in days})
    if not horizons or horizons[0] <= 0:
        raise ValueError("days must be positive numbers of days")
    if as_of is None:
        until = con.execute(
            f"SELECT max(o.ts) FROM v_orders o WHERE {COUNTED_ORDER} "
            "AND o.ts <= CAST(current_timestamp AS TIMESTAMP)").fetchall()[0][0]
    elif isinstance(as_of, datetime):
        until = as_of
    else:
        until = datetime(as_of.year, as_of.month, as_of.day)
    if until is None:
        return ValueByGroup(None, [], {d: empty("welch-t") for d in horizons},
                            dict.fromkeys(horizons))
    rows = con.execute(
        f"""
        WITH ans AS (
          SELECT customer_id, ts, score FROM (
            SELECT customer_id, ts, score, row_number() OVER (
                     PARTITION BY customer_id ORDER BY ts, response_id) AS rn
            FROM v_feedback
            WHERE metric = 'nps' AND score IS NOT NULL AND customer_id IS NOT NULL)
          WHERE rn = 1
        ),
        h AS (SELECT unnest($days) AS d),
        x AS (
          SELECT h.d, a.customer_id,
                 CASE WHEN a.score >= 9 THEN 'promoter' WHEN a.score >= 7 THEN 'passive'
                      ELSE 'detractor' END AS grp,
                 coalesce(sum(CAST(o.amount AS DOUBLE)), 0) AS rev,
                 CAST(count(o.order_id) > 0 AS INTEGER) AS rep
          FROM ans a CROSS JOIN h
          LEFT JOIN v_orders o ON o.customer_id = a.customer_id AND o.ts > a.ts
               AND o.ts <= a.ts + to_days(CAST(h.d AS INTEGER)) AND {COUNTED_ORDER}
          WHERE a.ts + to_days(CAST(h.d AS INTEGER)) <= $until
          GROUP BY h.d, a.customer_id, grp
        )
        SELECT d, grp, count(*), avg(rev), coalesce(var_samp(rev), 0), sum(rep)
        FROM x GROUP BY d, grp ORDER BY d, grp
        """,
        {"days": horizons, "until": until},
    ).fetchall()
    stats: dict[tuple[int, str], tuple[int, float, float]] = {}
    groups = []
    by_key = {(int(d), g): (int(n), float(m), float(v), int(r)) for d, g, n, m, v, r in rows}
    for d in horizons:
        for g in NPS_GROUPS:
            n, m, v, r = by_key.get((d, g), (0, 0.0, 0.0, 0))
            rev = mean_interval(m, v, n) if n else empty("t")
            rep = wilson(r / n, n) if n else empty("wilson")
            groups.append(GroupValue(d, g, n, rev, rep))
            stats[(d, g)] = (n, m, v)
    diffs: dict[int, Estimate] = {}
    ps: dict[int, Any] = {}
    for d in horizons:
        (n1, m1, v1), (n2, m2, v2) = stats[(d, "promoter")], stats[(d, "detractor")]
        if n1 < 2 or n2 < 2:
            diffs[d], ps[d] = empty("welch-t"), None
        else:
            diffs[d], ps[d] = welch_difference(m1, v1, n1, m2, v2, n2)
    return ValueByGroup(until, groups, diffs, ps)
