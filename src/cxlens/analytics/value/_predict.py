"""Predictions from a fitted value model for rows of (x, t_x, T, spend), with intervals.

Shared by the per-customer values, the at-risk list and CLV by channel. The rows are
distinct summary keys (or a bounded list of customers), never one call per customer.

CLV over ``months`` is the expected spend per purchase (Gamma-Gamma) times the expected
purchases in each month ahead, each month discounted to now at an annual ``discount``
rate: ``Σ_k spend · (E[N(k)] − E[N(k−1)]) / (1 + discount)^(k/12)`` with ``E[N(k)]`` the
expected purchases in the next ``k`` months (a month is 365.25/12 days). Intervals come
from parameter draws (``Fit.draws``): the purchase and the spend parameters are drawn
independently (they are fitted separately), the prediction is made for each draw, and the
2.5 % and 97.5 % quantiles of the draws are the 95 % interval around the prediction at the
maximum-likelihood estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cxlens.analytics._intervals import Z95, Estimate, empty
from cxlens.analytics.value import gamma_gamma
from cxlens.analytics.value.models import MODELS, ValueModel

MONTH_DAYS = 365.25 / 12
DRAWS = 200
METHOD = "parameter-draws"
MEAN_METHOD = "draws+sampling"
# Parameter draws for a group's mean: only the spread of the mean over draws is used (not
# quantiles of each customer's value), and 100 estimate it to about 7 %; 200 doubled the
# time on the M demo (9 CPU-s for 15 000 channel × state rows, nearly all in BG/NBD's
# expected purchases at 12 monthly steps).
GROUP_DRAWS = 100


@dataclass(frozen=True)
class Horizon:
    """How far ahead CLV looks, in months, and the annual discount rate (0.10 = 10 %)."""

    months: int = 12
    discount: float = 0.10

    def check(self) -> None:
        from cxlens.analytics.value._summary import ValueInputError

        if not 1 <= self.months <= 120:
            raise ValueInputError(f"the horizon must be 1 to 120 months, not {self.months}")
        if not 0 <= self.discount < 1:
            raise ValueInputError(f"the discount rate must be at least 0 and below 1 "
                                  f"(0.10 = 10 % a year), not {self.discount}")


@dataclass(frozen=True)
class Predictions:
    """Per row: P(alive), expected purchases over the horizon, expected spend per purchase
    and CLV; NaN where the spend model is missing."""

    p_alive: np.ndarray
    purchases: np.ndarray
    spend: np.ndarray
    clv: np.ndarray


def predict(v: ValueModel, theta: np.ndarray, spend_theta: np.ndarray | None,
            x: np.ndarray, t_x: np.ndarray, T: np.ndarray, m: np.ndarray,
            h: Horizon) -> Predictions:
    """Predictions at one parameter vector; time in the model's unit (weeks)."""
    module = MODELS[v.chosen]
    step = MONTH_DAYS / v.summary.unit_days
    x = np.asarray(x, dtype="float64")
    # A parameter draw far from a poorly determined estimate can leave the region where the
    # formulas hold (BG/NBD's hypergeometric term has a pole where a + b + x - 1 <= 0): its
    # predictions are NaN, not a warning, and ``estimates`` counts how many draws failed.
    with np.errstate(all="ignore"):
        alive = module.p_alive(theta, x, t_x, T)
        cum = np.zeros(x.size)
        discounted = np.zeros(x.size)
        for k in range(1, h.months + 1):
            nxt = module.expected_purchases(theta, k * step, x, t_x, T)
            discounted += (nxt - cum) / (1 + h.discount) ** (k / 12)
            cum = nxt
        if spend_theta is None:
            spend = np.full(x.size, np.nan)
        else:
            spend = gamma_gamma.expected_spend(spend_theta, x, m)
        clv = spend * discounted

    def finite(a: np.ndarray) -> np.ndarray:
        return np.where(np.isfinite(a), a, np.nan)

    return Predictions(finite(alive), finite(cum), spend, finite(clv))


def point_and_draws(v: ValueModel, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                    m: np.ndarray, h: Horizon, draws: int = DRAWS,
                    seed: int = 0) -> tuple[Predictions, list[Predictions]]:
    """Predictions at the estimate and at ``draws`` parameter draws."""
    spend_fit = v.spend if v.spend is not None and v.spend.params[1] > 1 else None
    point = predict(v, v.purchases.params, None if spend_fit is None else spend_fit.params,
                    x, t_x, T, m, h)
    thetas = v.purchases.draws(draws, seed)
    spends = (None if spend_fit is None else spend_fit.draws(draws, seed + 1))
    out = [predict(v, thetas[i], None if spends is None else spends[i], x, t_x, T, m, h)
           for i in range(draws)]
    return point, out


# An interval needs nearly every parameter draw to give a prediction: when more than 5 %
# fall where the formulas do not hold (see ``predict``; Gamma-Gamma's q <= 1), the
# parameters are too poorly determined for the quantiles of the rest to mean anything, and
# the value is given without an interval.
MIN_VALID_DRAWS = 0.95


def estimates(point: np.ndarray, draws: np.ndarray) -> list[Estimate]:
    """One Estimate per row from its point value and its draws (rows × draws)."""
    lo, hi, se = (np.full(point.size, np.nan) for _ in range(3))
    ok = (np.isfinite(draws).sum(axis=1) >= max(2.0, MIN_VALID_DRAWS * draws.shape[1])
          if draws.ndim == 2 else np.zeros(point.size, bool))
    if ok.any():
        lo[ok], hi[ok] = np.nanquantile(draws[ok], [0.025, 0.975], axis=1)
        se[ok] = np.nanstd(draws[ok], axis=1, ddof=1)

    def num(a: float) -> float | None:
        return float(a) if np.isfinite(a) else None

    return [Estimate(num(p), num(s), num(a), num(b), METHOD)
            for p, s, a, b in zip(point, se, lo, hi, strict=True)]


def stack(preds: list[Predictions], name: str) -> np.ndarray:
    """One field of the draws as rows × draws."""
    return np.stack([getattr(p, name) for p in preds], axis=1)


def mean_estimate(n: np.ndarray, s1: np.ndarray, s2: np.ndarray,
                  per_draw: np.ndarray) -> Estimate:
    """Mean over customers (``s1`` the sum, ``s2`` the sum of squares over ``n`` customers)
    with the sampling and the parameter variance (``per_draw``: the mean at each draw)."""
    total = float(n.sum())
    if total <= 0 or not math.isfinite(float(s1.sum())):
        return empty(MEAN_METHOD)
    mean = float(s1.sum()) / total
    var = max(float(s2.sum()) / total - mean * mean, 0.0) * total / max(total - 1, 1)
    draws = per_draw[np.isfinite(per_draw)]
    if per_draw.size and draws.size < MIN_VALID_DRAWS * per_draw.size:
        return Estimate(mean, None, None, None, MEAN_METHOD)
    pvar = float(np.var(draws, ddof=1)) if draws.size > 1 else 0.0
    se = math.sqrt(var / total + pvar)
    # a value is never negative: the normal interval is cut at 0 for small groups
    return Estimate(mean, se, max(mean - Z95 * se, 0.0), mean + Z95 * se, MEAN_METHOD)
