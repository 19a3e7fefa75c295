"""How CLV is spread over the customers: a histogram, its quantiles, the mean and total with
intervals, and how much of the value the top customers hold.

A management team reads "average CLV" as if every customer were worth it; in a retailer's
base most customers are worth little and a few are worth a lot. The histogram and the share
held by the top 10 % and 20 % show that at a glance.

The engine groups customers by their state — repeat purchases ``x``, the last at ``t_x``,
age ``T``, repeat spend — with a count (the same state as the per-customer values); Python
predicts the CLV once per distinct state (point values, at the maximum-likelihood
parameters). Bins are of one width, a round number, up to the 95th percentile; the last bin
holds everything above it, so the few very valuable customers do not squeeze the rest into
a single bar (on the demo the 99th percentile is 17 times the 90th).

**Intervals.** The mean has the interval of a group's mean (``_predict.mean_estimate``): the
spread between customers and the spread of the mean over parameter draws. The draws are
made per distinct (x, t_x, T) with the state's mean repeat spend, which gives the exact sum
over its customers because Gamma-Gamma's expected spend is linear in a customer's repeat
spend (``gamma_gamma.expected_spend``) — far fewer rows than one per customer state. The
total is the mean times the number of customers, with the same relative interval. The
quantiles and the top shares are point values from the fitted parameters.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from cxlens.analytics._intervals import Estimate
from cxlens.analytics._quantiles import weighted_quantiles
from cxlens.analytics.value._predict import (
    GROUP_DRAWS,
    Horizon,
    mean_estimate,
    point_and_draws,
    predict,
    stack,
)
from cxlens.analytics.value._purchases import purchases_sql
from cxlens.analytics.value.customers import STATE_SQL
from cxlens.analytics.value.models import ValueModel
from cxlens.warehouse.engine import Engine

STATES_SQL = STATE_SQL + """
SELECT x, t_x_days, age_days, repeat_amount, CAST(count(*) AS BIGINT) AS customers
FROM st
GROUP BY x, t_x_days, age_days, repeat_amount
ORDER BY x, t_x_days, age_days, repeat_amount NULLS FIRST
"""

BINS = 20
CUT = 0.95  # the bins cover customers up to this quantile; the rest share the open last bin
TOP_SHARES = (0.01, 0.1, 0.2, 0.5)


@dataclass(frozen=True)
class ClvBin:
    """Customers with a CLV from ``low`` up to (not including) ``high``; ``high`` is
    ``None`` for the last bin, which holds everything from ``low`` up."""

    low: float
    high: float | None
    customers: int
    value: float


@dataclass(frozen=True)
class TopShare:
    """The most valuable ``customers`` share (0.1 = the top 10 %) hold ``value`` of the
    total CLV (a share, 0–1)."""

    customers: float
    value: float


@dataclass(frozen=True)
class ClvDistribution:
    """CLV over the next ``horizon_months`` of every customer who has bought (in
    ``currency``), from the ``model`` chosen by ``fit_value``."""

    end: date
    currency: str
    model: str
    horizon_months: int
    discount: float
    customers: int
    mean: Estimate
    total: Estimate
    median: float | None
    p90: float | None
    p99: float | None
    maximum: float | None
    bins: list[ClvBin]
    top: list[TopShare]
    draws: int
    seed: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _nice_width(span: float, bins: int) -> float:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten that covers ``span`` in
    ``bins`` bins."""
    raw = max(span / bins, 1e-9)
    power = 10.0 ** math.floor(math.log10(raw))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * power >= raw * (1 - 1e-12):
            return step * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def histogram(values: np.ndarray, counts: np.ndarray, bins: int = BINS) -> list[ClvBin]:
    """Equal round-width bins from 0 up to the 95th percentile (:data:`CUT`), the last bin
    open-ended (``values`` sorted, ``counts`` customers per value)."""
    if counts.sum() == 0:
        return []
    top = weighted_quantiles(values, counts, (CUT,))[0]
    width = _nice_width(top, bins) if top > 0 else 1.0
    n_closed = max(1, math.ceil(top / width))
    edges = np.arange(n_closed + 1) * width
    which = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n_closed)
    cust = np.bincount(which, weights=counts, minlength=n_closed + 1)
    val = np.bincount(which, weights=counts * values, minlength=n_closed + 1)
    out = [ClvBin(float(edges[i]), float(edges[i + 1]), int(cust[i]), float(val[i]))
           for i in range(n_closed)]
    if cust[n_closed] > 0:
        out.append(ClvBin(float(edges[n_closed]), None, int(cust[n_closed]),
                          float(val[n_closed])))
    return out


def top_shares(values: np.ndarray, counts: np.ndarray,
               shares: tuple[float, ...] = TOP_SHARES) -> list[TopShare]:
    """The share of the total held by the most valuable customers (``values`` sorted
    ascending); a state split by the cut counts in part."""
    total = float((values * counts).sum())
    n = float(counts.sum())
    if n == 0 or total <= 0:
        return []
    v, c = values[::-1], counts[::-1].astype("float64")
    cum_n = np.cumsum(c)
    cum_v = np.cumsum(c * v)
    out = []
    for s in shares:
        k = s * n
        i = int(np.searchsorted(cum_n, k, side="left"))
        before_n = cum_n[i - 1] if i > 0 else 0.0
        before_v = cum_v[i - 1] if i > 0 else 0.0
        held = before_v + (k - before_n) * v[i]
        out.append(TopShare(s, float(held / total)))
    return out


def clv_distribution(engine: Engine, v: ValueModel, *, horizon: Horizon | None = None,
                     rates: Mapping[str, float] | None = None, draws: int = GROUP_DRAWS,
                     seed: int = 0, bins: int = BINS) -> ClvDistribution:
    """The CLV distribution of all customers under the fitted model ``v`` (see the module's
    docstring). ``rates`` must be those the model was fitted with."""
    h = horizon or Horizon()
    h.check()
    sql, params = purchases_sql(engine, v.end, currency=v.currency, rates=rates)
    t = engine.query(STATES_SQL.format(purchases=sql), {**params, "then": v.end}).to_pydict()
    unit = v.summary.unit_days
    n = np.asarray(t["customers"], dtype="float64")
    x = np.asarray(t["x"], dtype="float64")
    t_x = np.asarray(t["t_x_days"], dtype="float64") / unit
    age = np.asarray(t["age_days"], dtype="float64") / unit
    repeat = np.array([0.0 if r is None else r for r in t["repeat_amount"]], dtype="float64")
    spend_fit = v.spend if v.spend is not None and v.spend.params[1] > 1 else None
    customers = int(n.sum())
    if spend_fit is None or customers == 0:
        empty = Estimate(None, None, None, None, "draws+sampling")
        return ClvDistribution(
            v.end, v.currency, v.chosen, h.months, h.discount, customers, empty, empty, None,
            None, None, None, [], [], draws, seed,
            ["no spend model (see `cxlens value fit`): no CLV to show"])
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(x > 0, repeat / np.maximum(x, 1), np.nan)
    clv = predict(v, v.purchases.params, spend_fit.params, x, t_x, age, m, h).clv
    order = np.argsort(clv, kind="stable")
    values, counts = clv[order], n[order]
    median, p90, p99 = weighted_quantiles(values, counts, (0.5, 0.9, 0.99))
    per_draw = _mean_per_draw(v, h, n, x, t_x, age, repeat, draws, seed)
    mean = mean_estimate(n, n * clv, n * clv * clv, per_draw)
    total = Estimate(*(None if e is None else e * customers
                       for e in (mean.value, mean.se, mean.low, mean.high)), mean.method)
    return ClvDistribution(
        v.end, v.currency, v.chosen, h.months, h.discount, customers, mean, total, median,
        p90, p99, float(values[-1]), histogram(values, counts, bins), top_shares(values, counts),
        draws, seed)


def _mean_per_draw(v: ValueModel, h: Horizon, n: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                   age: np.ndarray, repeat: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """The mean CLV over all customers at each parameter draw, predicted once per distinct
    (x, t_x, T) with the state's mean repeat spend (exact: see the module's docstring)."""
    keys = np.stack([x, t_x, age], axis=1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.ravel()
    n_s = np.bincount(inv, weights=n)
    repeat_s = np.bincount(inv, weights=n * repeat)
    xs = uniq[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        m_s = np.where(xs > 0, repeat_s / (n_s * np.maximum(xs, 1)), np.nan)
    _, more = point_and_draws(v, xs, uniq[:, 1], uniq[:, 2], m_s, h, draws, seed)
    return (n_s[:, None] * stack(more, "clv")).sum(axis=0) / n_s.sum()
