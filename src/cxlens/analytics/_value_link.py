"""Experience to value: what promoters, passives and detractors spend after they answer.

Re-exported by ``cxlens.analytics.experience``; see docs/methods.md ("Experience to value").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from cxlens.analytics._bootstrap import N_BOOT, bootstrap_mean
from cxlens.analytics._intervals import (
    Estimate,
    empty,
    newcombe_difference,
    welch_difference,
    wilson,
)
from cxlens.analytics._money import CURRENCY
from cxlens.analytics._orders import counted_order
from cxlens.clock import utc_naive
from cxlens.warehouse.engine import Engine

NPS_GROUPS = ("promoter", "passive", "detractor")
COUNTED_ORDER = counted_order("o")


@dataclass(frozen=True)
class GroupValue:
    """Revenue per customer (EUR, BCa bootstrap interval over the group's customers) and
    repurchase rate (%, Wilson) of one group in the ``days`` after its answer."""

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
    """Promoters against detractors over ``days``: mean revenue per promoter minus per
    detractor (the worth of one detractor turned promoter; Welch interval and p-value), the
    difference of their repurchase rates (percentage points; Newcombe interval, pooled
    z-test), and the two groups' sizes."""

    days: int
    difference: Estimate
    p_value: float | None
    n_promoters: int
    n_detractors: int
    repurchase_difference: Estimate
    repurchase_p_value: float | None

    @property
    def too_small(self) -> bool:
        """Either group has fewer than MIN_SAMPLE customers."""
        from cxlens.analytics.experience import MIN_SAMPLE

        return min(self.n_promoters, self.n_detractors) < MIN_SAMPLE


@dataclass(frozen=True)
class ValueByGroup:
    """Per horizon and NPS group, and the worth of one detractor turned promoter.

    ``promoter_minus_detractor[days]`` is the difference of mean revenue per customer,
    promoters − detractors, with its Welch interval; ``repurchase_difference[days]`` the
    difference of repurchase rates in percentage points with Newcombe's interval. Both are
    associations, not causal effects. ``observed_until`` is the end of the order data used;
    only answers whose whole window ends by then count. The groups' revenue intervals are
    BCa bootstraps with ``n_boot`` replicates drawn from ``seed``.
    """

    observed_until: datetime | None
    groups: list[GroupValue]
    promoter_minus_detractor: dict[int, Estimate]
    p_values: dict[int, float | None]
    repurchase_difference: dict[int, Estimate]
    repurchase_p_values: dict[int, float | None]
    n_boot: int = N_BOOT
    seed: int = 0
    # Revenue is summed in one currency; counted orders up to ``observed_until`` in other
    # currencies are not added (they still count as repurchases), and are counted here.
    currency: str = CURRENCY
    other_currency_orders: int = 0

    def get(self, days: int, group: str) -> GroupValue:
        for g in self.groups:
            if g.days == days and g.group == group:
                return g
        raise KeyError((days, group))

    def worth(self) -> list[Worth]:
        """One row per horizon: promoters − detractors, with both groups' sizes."""
        n = {(g.days, g.group): g.n for g in self.groups}  # empty without orders
        return [Worth(d, e, self.p_values.get(d), n.get((d, "promoter"), 0),
                      n.get((d, "detractor"), 0),
                      self.repurchase_difference.get(d, empty("newcombe")),
                      self.repurchase_p_values.get(d))
                for d, e in sorted(self.promoter_minus_detractor.items())]


def _observed_until(engine: Engine, as_of: date | datetime | None,
                    now: datetime | None) -> datetime | None:
    """The end of the order data used: ``as_of``, else the last counted order not after
    ``now`` (or the last counted order at all without ``now``); naive UTC like the
    warehouse's timestamps."""
    if isinstance(as_of, datetime):
        return utc_naive(as_of)
    if as_of is not None:
        return datetime(as_of.year, as_of.month, as_of.day)
    if now is None:
        table = engine.query(
            f"SELECT max(o.ts) AS until FROM v_orders AS o WHERE {COUNTED_ORDER}")
    else:
        table = engine.query(
            f"SELECT max(o.ts) AS until FROM v_orders AS o "
            f"WHERE {COUNTED_ORDER} AND o.ts <= $now", {"now": utc_naive(now)})
    until = table.column("until")[0].as_py()
    return None if until is None else utc_naive(until)


# Each group's distinct revenues per customer with how many customers had each (most have
# 0, so a group is a handful of rows) and how many of them bought again: the aggregate the
# bootstrap resamples. Revenue is summed as the warehouse's DECIMAL (exact, so the engines
# agree to the cent on every distinct value and group alike) and only then made a DOUBLE.
# "answer + d days" is ``ts + d * INTERVAL 1 DAY``: calendar days of 24 h on UTC times on
# both engines (docs/engine.md).
VALUE_SQL = f"""
WITH ans AS (
  SELECT customer_id, ts,
         CASE WHEN score >= 9 THEN 'promoter' WHEN score >= 7 THEN 'passive'
              ELSE 'detractor' END AS grp
  FROM (
    SELECT customer_id, ts, score, row_number() OVER (
             PARTITION BY customer_id ORDER BY ts, _batch, _line) AS rn
    FROM v_feedback
    WHERE metric = 'nps' AND score IS NOT NULL AND customer_id IS NOT NULL) AS f
  WHERE rn = 1
),
h AS (SELECT unnest($days) AS d),
x AS (
  SELECT h.d AS d, a.customer_id AS customer_id, a.grp AS grp,
         coalesce(sum(CASE WHEN o.currency = $currency THEN o.amount END), 0) AS rev,
         CASE WHEN count(o.order_id) > 0 THEN 1 ELSE 0 END AS rep
  FROM ans AS a CROSS JOIN h
  LEFT JOIN v_orders AS o ON o.customer_id = a.customer_id AND o.ts > a.ts
       AND o.ts <= a.ts + h.d * INTERVAL 1 DAY AND {COUNTED_ORDER}
  WHERE a.ts + h.d * INTERVAL 1 DAY <= $until
  GROUP BY h.d, a.customer_id, a.grp
)
SELECT x.d AS days, x.grp AS grp, CAST(x.rev AS DOUBLE) AS revenue,
       count(*) AS customers, CAST(sum(x.rep) AS BIGINT) AS repurchased
FROM x
GROUP BY x.d, x.grp, x.rev
ORDER BY days, grp, revenue
"""


def value_by_group(engine: Engine, days: Sequence[int] = (90, 180),
                   as_of: date | datetime | None = None, n_boot: int = N_BOOT,
                   seed: int = 0, now: datetime | None = None,
                   currency: str = CURRENCY) -> ValueByGroup:
    """Revenue and repurchase of promoters, passives and detractors after they answered.

    The unit is a customer: each customer's **first** NPS answer (so nobody counts twice).
    For a horizon of *d* days, the customer's counted orders (status not refunded/lost)
    dated after the answer and at most *d* days later are summed; repurchase means at least
    one such order. An answer counts for a horizon only when its window is fully observed:
    answer + *d* days ≤ ``as_of``, by default the last order date in the data that is not
    after ``now`` (open CRM deals can carry expected close dates ahead of today). ``now``
    is the edge's clock (:mod:`cxlens.clock`); without it every counted order bounds the
    window, so the result depends on the data alone.

    The engine returns each group's distinct revenues with their counts (the many zeros
    collapse to one row); revenue per customer gets a BCa bootstrap interval over the
    group's customers (``n_boot`` replicates, seeded per horizon and group from ``seed``, so
    a group's interval does not depend on which other groups exist).
    """
    horizons = sorted({int(d) for d in days})
    if not horizons or horizons[0] <= 0:
        raise ValueError("days must be positive numbers of days")
    if n_boot < 100:
        raise ValueError("n_boot must be at least 100 bootstrap replicates")
    until = _observed_until(engine, as_of, now)
    if until is None:
        return ValueByGroup(None, [], {d: empty("welch-t") for d in horizons},
                            dict.fromkeys(horizons), {d: empty("newcombe") for d in horizons},
                            dict.fromkeys(horizons), n_boot, seed, currency)
    table = engine.query(VALUE_SQL, {"days": horizons, "until": until, "currency": currency})
    other = engine.query(
        f"SELECT count(*) AS n FROM v_orders AS o WHERE {COUNTED_ORDER} AND o.ts <= $until "
        "AND NOT coalesce(o.currency = $currency, false)",
        {"until": until, "currency": currency}).column("n")[0].as_py()
    rows = zip(*(table.column(c).to_pylist()
                 for c in ("days", "grp", "revenue", "customers", "repurchased")), strict=True)
    sample: dict[tuple[int, str], list[tuple[float, int, int]]] = {}
    for d, g, rev, c, r in rows:
        sample.setdefault((int(d), g), []).append((float(rev), int(c), int(r)))
    groups = []
    stats: dict[tuple[int, str], tuple[int, float, float, int]] = {}
    for d in horizons:
        for gi, g in enumerate(NPS_GROUPS):
            part = sample.get((d, g), [])
            rev = np.array([p[0] for p in part])
            cnt = np.array([p[1] for p in part], dtype=np.int64)
            n, r = int(cnt.sum()), sum(p[2] for p in part)
            mean = float(rev @ cnt) / n if n else 0.0
            var = float(((rev - mean) ** 2) @ cnt) / (n - 1) if n > 1 else 0.0
            rng = np.random.default_rng([seed, d, gi])
            revenue = bootstrap_mean(np.repeat(rev[rev != 0], cnt[rev != 0]), n, rng, n_boot)
            groups.append(GroupValue(d, g, n, revenue,
                                     wilson(r / n, n) if n else empty("wilson")))
            stats[(d, g)] = (n, mean, var, r)
    diffs: dict[int, Estimate] = {}
    ps: dict[int, Any] = {}
    rep_diffs: dict[int, Estimate] = {}
    rep_ps: dict[int, Any] = {}
    for d in horizons:
        (n1, m1, v1, r1), (n2, m2, v2, r2) = stats[(d, "promoter")], stats[(d, "detractor")]
        if n1 < 2 or n2 < 2:
            diffs[d], ps[d] = empty("welch-t"), None
        else:
            diffs[d], ps[d] = welch_difference(m1, v1, n1, m2, v2, n2)
        if n1 < 1 or n2 < 1:
            rep_diffs[d], rep_ps[d] = empty("newcombe"), None
        else:
            rep_diffs[d], rep_ps[d] = newcombe_difference(r1 / n1, n1, r2 / n2, n2)
    return ValueByGroup(until, groups, diffs, ps, rep_diffs, rep_ps, n_boot, seed, currency,
                        int(other))
