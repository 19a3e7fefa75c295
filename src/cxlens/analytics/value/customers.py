"""Per customer: P(alive), expected purchases, expected spend and CLV with intervals; and
the high-value customers at risk.

Takes a fitted :class:`~cxlens.analytics.value.models.ValueModel` (``fit_value``'s result:
callers cache it, a Pareto/NBD fit takes seconds to tens of seconds), uses the purchase
model it chose and its Gamma-Gamma spend model, and the same purchases (currency, end day)
it was fitted on.

The engine gives each customer's state — repeat purchases ``x``, the last one at ``t_x``,
age ``T`` at the end, mean repeat spend, and the same state ``lookback_days`` earlier — and
groups customers by it: predictions are made once per distinct state (``_predict``). Only
the customers a list needs (top N by CLV, or those at risk) are then fetched by their
state's code, a bounded query, and their intervals computed.

**At risk** means: CLV in the top ``top_share`` of all customers (default the top 20 %) and
no purchase since ``lookback_days`` ago (default 90), over which their probability of being
alive fell by at least ``min_drop`` (default 0.10) — both probabilities computed with the
parameters fitted on all data, so the drop is the customer's own silence, not a change of
model. (Without the silence rule BG/NBD would flag customers who just bought a second
time: with no repeat purchase a BG/NBD customer cannot have dropped out, P(alive) = 1.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from cxlens.analytics._intervals import Estimate
from cxlens.analytics._quantiles import weighted_quantiles
from cxlens.analytics.value._predict import (
    DRAWS,
    Horizon,
    estimates,
    point_and_draws,
    predict,
    stack,
)
from cxlens.analytics.value._purchases import purchases_sql
from cxlens.analytics.value._summary import ValueInputError
from cxlens.analytics.value.models import MODELS, ValueModel
from cxlens.warehouse.engine import Engine

_CODE = ("CAST({x} AS BIGINT) * 1099511627776 + CAST({t} AS BIGINT) * 1048576 "
         "+ CAST({a} AS BIGINT)")

STATE_SQL = f"""
WITH p AS ({{purchases}}),
days AS (SELECT customer_id, d, sum(amount) AS amount FROM p GROUP BY customer_id, d),
firsts AS (
  SELECT customer_id, min(d) AS first_d, max(d) AS last_d, CAST(count(*) AS BIGINT) AS orders,
         sum(amount) AS revenue,
         arg_min(channel, struct_pack(t := ts, b := _batch, l := _line)) AS channel
  FROM p GROUP BY customer_id
),
st AS (
  SELECT f.customer_id AS customer_id, f.first_d AS first_d, f.last_d AS last_d,
         f.orders AS orders, f.revenue AS revenue, f.channel AS channel,
         CAST(count(*) FILTER (WHERE y.d > f.first_d) AS BIGINT) AS x,
         date_diff('day', CAST(f.first_d AS DATE), CAST(f.last_d AS DATE)) AS t_x_days,
         date_diff('day', CAST(f.first_d AS DATE), CAST($end AS DATE)) AS age_days,
         CAST(sum(y.amount) FILTER (WHERE y.d > f.first_d) AS DOUBLE) AS repeat_amount,
         CAST(count(*) FILTER (WHERE y.d > f.first_d AND y.d <= $then) AS BIGINT) AS x_then,
         date_diff('day', CAST(f.first_d AS DATE),
                   CAST(max(y.d) FILTER (WHERE y.d <= $then) AS DATE)) AS t_x_then_days,
         date_diff('day', CAST(f.first_d AS DATE), CAST($then AS DATE)) AS age_then_days
  FROM firsts AS f JOIN days AS y ON y.customer_id = f.customer_id
  GROUP BY f.customer_id, f.first_d, f.last_d, f.orders, f.revenue, f.channel
),
coded AS (
  SELECT *, {_CODE.format(x="x", t="t_x_days", a="age_days")} AS code,
         CASE WHEN first_d <= $then
              THEN {_CODE.format(x="x_then", t="t_x_then_days", a="age_then_days")}
              ELSE -1 END AS then_code
  FROM st
)"""

KEYS_SQL = STATE_SQL + """
SELECT code, then_code, x, t_x_days, age_days, repeat_amount, x_then, t_x_then_days,
       age_then_days, CAST(count(*) AS BIGINT) AS customers
FROM coded
GROUP BY code, then_code, x, t_x_days, age_days, repeat_amount, x_then, t_x_then_days,
         age_then_days
ORDER BY code, then_code, repeat_amount NULLS FIRST
"""

PICK_SQL = STATE_SQL + """
SELECT customer_id, code, then_code, channel, first_d, last_d, orders,
       CAST(revenue AS DOUBLE) AS revenue, x, t_x_days, age_days, repeat_amount, x_then,
       t_x_then_days, age_then_days
FROM coded WHERE list_contains($codes, code)
ORDER BY customer_id
"""


@dataclass(frozen=True)
class CustomerValue:
    """One customer: what they did up to the end and what the model expects.

    ``p_alive`` is a probability (0–1) with its interval; ``p_alive_then`` the point value
    ``lookback_days`` earlier (``None`` if they had not bought yet); ``purchases`` the
    expected purchases over the horizon, ``spend`` the expected spend per purchase and
    ``clv`` the discounted value over the horizon (in the currency), each with an interval.
    """

    customer_id: str
    channel: str
    first_purchase: date
    last_purchase: date
    orders: int
    revenue: float
    p_alive: Estimate
    p_alive_then: float | None
    purchases: Estimate
    spend: Estimate
    clv: Estimate


@dataclass(frozen=True)
class CustomerValues:
    """The customers of a list (top by CLV, or at risk) and how they were chosen.

    ``customers`` is every customer modelled; ``matching`` how many match the list's rule
    (all of them for the top list; the at-risk ones otherwise), of which ``rows`` are the
    first ``top`` by CLV. ``high_value_clv`` is the CLV from which a customer is in the
    top ``top_share``.
    """

    end: date
    then: date
    currency: str
    model: str
    horizon_months: int
    discount: float
    at_risk: bool
    top_share: float
    min_drop: float
    customers: int
    matching: int
    high_value_clv: float | None
    rows: list[CustomerValue]
    draws: int
    seed: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class _State:
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    m: np.ndarray
    then: np.ndarray  # bool: bought by then
    x_then: np.ndarray
    t_x_then: np.ndarray
    T_then: np.ndarray


def _state(cols: Mapping[str, list], unit: float) -> _State:
    def arr(name: str) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in cols[name]], dtype="float64")

    x = arr("x")
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(x > 0, arr("repeat_amount") / np.maximum(x, 1), np.nan)
    then = np.asarray(cols["then_code"], dtype="int64") >= 0
    return _State(x, arr("t_x_days") / unit, arr("age_days") / unit, m, then,
                  np.nan_to_num(arr("x_then")), np.nan_to_num(arr("t_x_then_days")) / unit,
                  np.where(then, arr("age_then_days"), 0.0) / unit)


def _p_then(v: ValueModel, s: _State) -> np.ndarray:
    out = np.full(s.x.size, np.nan)
    if s.then.any():
        out[s.then] = MODELS[v.chosen].p_alive(v.purchases.params, s.x_then[s.then],
                                                s.t_x_then[s.then], s.T_then[s.then])
    return out


def _at_risk(s: _State, worth: np.ndarray, high: float, p_then: np.ndarray,
             p_now: np.ndarray, min_drop: float) -> np.ndarray:
    """High value, bought by then, silent since then, and P(alive) fell by ``min_drop``."""
    return (worth >= high) & s.then & (s.x == s.x_then) & (p_then - p_now >= min_drop)


def customer_values(engine: Engine, v: ValueModel, *, at_risk: bool = False,
                    top: int | None = 100, horizon: Horizon | None = None,
                    lookback_days: int = 90, top_share: float = 0.2, min_drop: float = 0.1,
                    rates: Mapping[str, float] | None = None, draws: int = DRAWS,
                    seed: int = 0) -> CustomerValues:
    """The ``top`` customers by CLV (``None``: all that match), or the high-value customers
    at risk (see the module's docstring), with intervals from ``draws`` parameter draws.
    ``rates`` must be those the model was fitted with."""
    h = horizon or Horizon()
    h.check()
    if top is not None and top < 1:
        raise ValueInputError(f"top must be a positive number of customers, not {top}")
    if not 7 <= lookback_days <= 365:
        raise ValueInputError(f"the look-back must be 7 to 365 days, not {lookback_days}")
    if not 0 < top_share <= 1 or not 0 < min_drop <= 1:
        raise ValueInputError("the high-value share and the drop must be in (0, 1]")
    then = v.end - timedelta(days=lookback_days)
    sql, params = purchases_sql(engine, v.end, currency=v.currency, rates=rates)
    args = {**params, "then": then}
    keys = engine.query(KEYS_SQL.format(purchases=sql), args).to_pydict()
    unit = v.summary.unit_days
    s = _state(keys, unit)
    n = np.asarray(keys["customers"], dtype="int64")
    point = predict(v, v.purchases.params, None if v.spend is None or v.spend.params[1] <= 1
                    else v.spend.params, s.x, s.t_x, s.T, s.m, h)
    notes = []
    has_clv = bool(np.isfinite(point.clv).any())
    worth = point.clv if has_clv else point.purchases
    if not has_clv:
        notes.append("no spend model (see `cxlens value fit`): customers are ranked by "
                     "expected purchases and CLV is left out")
    order = np.argsort(worth)
    high = weighted_quantiles(worth[order], n[order], (1 - top_share,))[0]
    p_then = _p_then(v, s)
    if at_risk:
        with np.errstate(invalid="ignore"):
            match = _at_risk(s, worth, high, p_then, point.p_alive, min_drop)
    else:
        match = np.ones(n.size, bool)
    matching = int(n[match].sum())
    idx = np.flatnonzero(match)
    idx = idx[np.argsort(-worth[idx], kind="stable")]
    if top is not None:
        idx = idx[: int(np.searchsorted(np.cumsum(n[idx]), top) + 1)]
    codes = sorted({int(keys["code"][i]) for i in idx})
    rows: list[CustomerValue] = []
    if codes:
        picked = engine.query(PICK_SQL.format(purchases=sql), {**args, "codes": codes})
        rows = _rows(v, picked.to_pydict(), unit, h, draws, seed, at_risk, high, min_drop)
        rows = rows[:top] if top is not None else rows
    return CustomerValues(v.end, then, v.currency, v.chosen, h.months, h.discount, at_risk,
                          top_share, min_drop, int(n.sum()), matching,
                          float(high) if has_clv else None, rows, draws, seed, notes)


def _rows(v: ValueModel, cols: dict[str, list], unit: float, h: Horizon, draws: int,
          seed: int, at_risk: bool, high: float, min_drop: float) -> list[CustomerValue]:
    """The fetched customers with intervals, filtered by the list's rule, best first."""
    s = _state(cols, unit)
    point, more = point_and_draws(v, s.x, s.t_x, s.T, s.m, h, draws, seed)
    has_clv = bool(np.isfinite(point.clv).any())
    worth = point.clv if has_clv else point.purchases
    p_then = _p_then(v, s)
    keep = np.ones(s.x.size, bool)
    if at_risk:
        with np.errstate(invalid="ignore"):
            keep = _at_risk(s, worth, high, p_then, point.p_alive, min_drop)
    est = {name: estimates(getattr(point, name), stack(more, name))
           for name in ("p_alive", "purchases", "spend", "clv")}
    out = []
    for i in np.flatnonzero(keep):
        out.append(CustomerValue(
            str(cols["customer_id"][i]), str(cols["channel"][i]), cols["first_d"][i],
            cols["last_d"][i], int(cols["orders"][i]), float(cols["revenue"][i]),
            est["p_alive"][i], None if not s.then[i] else float(p_then[i]),
            est["purchases"][i], est["spend"][i], est["clv"][i]))
    out.sort(key=lambda c: (-((c.clv if has_clv else c.purchases).value or 0.0),
                            c.customer_id))
    return out
