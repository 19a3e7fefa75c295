"""What a customer is worth by acquisition channel, and by NPS group.

**By channel** (the acquisition channel: the channel of the first counted order; or by
acquisition campaign, the campaign of the earliest event naming one up to the first
purchase, ``_purchases.acquisition_sql``), two numbers per channel, each the mean over
the channel's customers with an interval and n:

* ``new_customer_value`` — the worth of a new customer: what a customer spends in their
  first ``horizon.months`` months after the first purchase, first purchase included,
  undiscounted. Where those months are observed it is the customer's revenue in them;
  where they are not over yet (customers acquired less than the horizon ago) the model's
  expected purchases in the rest of the window, times the expected spend per purchase, are
  added to what was spent so far. This is the number marketing ROI divides by the cost of
  acquiring a customer (issue 14).
* ``clv`` — the channel's current customers' CLV from the end over the horizon,
  discounted (``_predict``).

**By NPS group** (promoter 9–10, passive 7–8, detractor 0–6 by the customer's first NPS
answer, as in experience → value): the group's mean CLV beside its revenue per customer to
date and the 90-day revenue after the answer from ``value_by_group``.

The interval of a mean combines the spread between customers (the standard error of a
mean, ``s/√n``) and the parameters' uncertainty (the spread of the mean over parameter
draws): ``mean ± 1.96·√(s²/n + var_draws)``, cut at 0, method ``"draws+sampling"``. The engine
groups customers by (group, state) with sums of their early revenue; Python predicts per
distinct state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from cxlens.analytics._intervals import Estimate
from cxlens.analytics.value._predict import (
    GROUP_DRAWS,
    MONTH_DAYS,
    Horizon,
    mean_estimate,
    point_and_draws,
    stack,
)
from cxlens.analytics.value._purchases import acquisition_sql, purchases_sql
from cxlens.analytics.value._summary import ValueInputError
from cxlens.analytics.value.models import MODELS, ValueModel
from cxlens.warehouse.engine import Engine

_STATE = """
WITH p AS ({purchases}),
days AS (SELECT customer_id, d, sum(amount) AS amount FROM p GROUP BY customer_id, d),
{acquisition},
st AS (
  SELECT f.customer_id AS customer_id, f.channel AS channel, f.campaign AS campaign,
         CAST(count(*) FILTER (WHERE y.d > f.first_d) AS BIGINT) AS x,
         date_diff('day', CAST(f.first_d AS DATE), CAST(max(y.d) AS DATE)) AS t_x_days,
         date_diff('day', CAST(f.first_d AS DATE), CAST($end AS DATE)) AS age_days,
         CAST(sum(y.amount) FILTER (WHERE y.d > f.first_d) AS DOUBLE) AS repeat_amount,
         sum(y.amount) AS revenue,
         CAST(coalesce(sum(y.amount) FILTER (
           WHERE date_diff('day', CAST(f.first_d AS DATE), CAST(y.d AS DATE)) < $window),
           0) AS DECIMAL(18, 4)) AS early
  FROM firsts AS f JOIN days AS y ON y.customer_id = f.customer_id
  GROUP BY f.customer_id, f.first_d, f.channel, f.campaign
)"""

CHANNEL_SQL = _STATE + """
SELECT {group} AS grp, x, t_x_days, age_days, repeat_amount,
       CAST(count(*) AS BIGINT) AS customers, CAST(sum(revenue) AS DOUBLE) AS revenue,
       CAST(sum(early) AS DOUBLE) AS early, CAST(sum(early * early) AS DOUBLE) AS early2
FROM st
GROUP BY {group}, x, t_x_days, age_days, repeat_amount
ORDER BY grp, x, t_x_days, age_days, repeat_amount NULLS FIRST
"""

NPS_SQL = _STATE + """,
ans AS (
  SELECT customer_id,
         CASE WHEN score >= 9 THEN 'promoter' WHEN score >= 7 THEN 'passive'
              ELSE 'detractor' END AS grp
  FROM (
    SELECT customer_id, score, row_number() OVER (
             PARTITION BY customer_id ORDER BY ts, _batch, _line) AS rn
    FROM v_feedback
    WHERE metric = 'nps' AND score IS NOT NULL AND customer_id IS NOT NULL
      AND CAST(ts AS DATE) <= $end) AS f
  WHERE rn = 1
)
SELECT a.grp AS grp, s.x AS x, s.t_x_days AS t_x_days, s.age_days AS age_days,
       s.repeat_amount AS repeat_amount, CAST(count(*) AS BIGINT) AS customers,
       CAST(sum(s.revenue) AS DOUBLE) AS revenue, CAST(sum(s.early) AS DOUBLE) AS early,
       CAST(sum(s.early * s.early) AS DOUBLE) AS early2
FROM st AS s JOIN ans AS a ON a.customer_id = s.customer_id
GROUP BY a.grp, s.x, s.t_x_days, s.age_days, s.repeat_amount
ORDER BY grp, x, t_x_days, age_days, repeat_amount NULLS FIRST
"""


@dataclass(frozen=True)
class GroupWorth:
    """One channel or NPS group: ``customers``, revenue per customer to date, the worth of
    a new customer over the horizon and the mean CLV (see the module's docstring)."""

    group: str
    customers: int
    revenue_per_customer: float
    new_customer_value: Estimate
    clv: Estimate
    revenue_90d: Estimate | None = None  # NPS groups: revenue in 90 days after the answer


@dataclass(frozen=True)
class Worths:
    """Rows per channel (or NPS group) with the model and horizon they were computed on."""

    by: str
    end: date
    currency: str
    model: str
    horizon_months: int
    discount: float
    rows: list[GroupWorth]
    draws: int
    seed: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _worths(engine: Engine, v: ValueModel, sql: str, by: str, h: Horizon,
            rates: Mapping[str, float] | None, draws: int, seed: int) -> Worths:
    h.check()
    purchases, params = purchases_sql(engine, v.end, currency=v.currency, rates=rates)
    window = round(h.months * MONTH_DAYS)
    fmt = {"purchases": purchases, "acquisition": acquisition_sql(by == "campaign"),
           "group": "campaign" if by == "campaign" else "channel"}
    t = engine.query(sql.format(**fmt), {**params, "window": window}).to_pydict()
    unit = v.summary.unit_days
    grp = np.asarray(t["grp"], dtype=object)
    x = np.asarray(t["x"], dtype="float64")
    t_x = np.asarray(t["t_x_days"], dtype="float64") / unit
    age = np.asarray(t["age_days"], dtype="float64")
    n = np.asarray(t["customers"], dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(x > 0, np.array([np.nan if r is None else r for r in t["repeat_amount"]],
                                     dtype="float64") / np.maximum(x, 1), np.nan)
    revenue = np.asarray(t["revenue"], dtype="float64")
    early = np.asarray(t["early"], dtype="float64")
    early2 = np.asarray(t["early2"], dtype="float64")
    point, more = point_and_draws(v, x, t_x, age / unit, m, h, draws, seed)
    # the rest of the first-months window of customers acquired less than it ago
    rest = np.maximum(window - age, 0.0) / unit
    module = MODELS[v.chosen]
    young = rest > 0

    def ahead(theta: np.ndarray, spend: np.ndarray) -> np.ndarray:
        out = np.zeros(x.size)
        if young.any():
            out[young] = spend[young] * module.expected_purchases(
                theta, rest[young], x[young], t_x[young], age[young] / unit)
        return out

    thetas = v.purchases.draws(draws, seed)
    pred_point = ahead(v.purchases.params, point.spend)
    pred_draws = np.stack([ahead(thetas[i], more[i].spend) for i in range(draws)], axis=1)
    clv_draws = stack(more, "clv")
    rows = []
    for g in sorted(set(grp.tolist())):
        k = grp == g
        nk = n[k]
        total = float(nk.sum())
        value_s1 = early[k] + nk * pred_point[k]
        value_s2 = early2[k] + 2 * pred_point[k] * early[k] + nk * pred_point[k] ** 2
        value_draws = (early[k][:, None] + nk[:, None] * pred_draws[k]).sum(axis=0) / total
        clv_s1 = nk * point.clv[k]
        clv_s2 = nk * point.clv[k] ** 2
        clv_per_draw = (nk[:, None] * clv_draws[k]).sum(axis=0) / total
        rows.append(GroupWorth(
            str(g), int(total), float(revenue[k].sum()) / total,
            mean_estimate(nk, value_s1, value_s2, value_draws),
            mean_estimate(nk, clv_s1, clv_s2, clv_per_draw)))
    notes = []
    if not np.isfinite(point.spend).any():
        notes.append("no spend model (see `cxlens value fit`): only observed revenue and no "
                     "CLV")
    return Worths(by, v.end, v.currency, v.chosen, h.months, h.discount, rows, draws, seed,
                  notes)


def clv_by_channel(engine: Engine, v: ValueModel, *, by: str = "channel",
                   horizon: Horizon | None = None, rates: Mapping[str, float] | None = None,
                   draws: int = GROUP_DRAWS, seed: int = 0) -> Worths:
    """Per acquisition channel (or ``by="campaign"``: acquisition campaign, ``_purchases``):
    n, revenue per customer, the worth of a new customer over the horizon and the mean CLV,
    with intervals (for marketing ROI)."""
    if by not in ("channel", "campaign"):
        raise ValueInputError(f"worth by {by!r}: choose channel or campaign")
    return _worths(engine, v, CHANNEL_SQL, by, horizon or Horizon(), rates, draws, seed)


def clv_by_nps_group(engine: Engine, v: ValueModel, *, horizon: Horizon | None = None,
                     rates: Mapping[str, float] | None = None, draws: int = GROUP_DRAWS,
                     seed: int = 0) -> Worths:
    """Per NPS group of the customers' first answer: CLV beside revenue (to date, and in the
    90 days after the answer from experience → value)."""
    from cxlens.analytics._value_link import value_by_group

    res = _worths(engine, v, NPS_SQL, "nps_group", horizon or Horizon(), rates, draws, seed)
    link = value_by_group(engine, days=(90,), as_of=v.end, currency=v.currency)
    rows = []
    for r in res.rows:
        try:
            rev = link.get(90, r.group).revenue
        except KeyError:
            rev = None
        rows.append(dataclasses.replace(r, revenue_90d=rev))
    order = {"promoter": 0, "passive": 1, "detractor": 2}
    rows.sort(key=lambda r: order.get(r.group, 3))
    return dataclasses.replace(res, rows=rows)
