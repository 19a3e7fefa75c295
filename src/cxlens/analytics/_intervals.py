"""Interval estimates and tests on small aggregates (counts, sums, sums of squares).

Private to ``cxlens.analytics``: ``experience``, ``drivers`` and ``people`` build on these.
Every function takes sufficient statistics that the engine computed, never rows, so the
same code serves a warehouse of a thousand answers or of ten million. Formulas and
references are in docs/methods.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

Z95 = 1.959963984540054  # the 97.5 % quantile of the standard normal


@dataclass(frozen=True)
class Estimate:
    """A number with its standard error and 95 % interval; ``None`` where undefined.

    ``method`` names how the interval was computed (``"nps-adjusted-wald"``, ``"wilson"``,
    ``"t"``, ``"newcombe"``, ``"welch-t"`` …), so a reader of any output can look it up in
    docs/methods.md.
    """

    value: float | None
    se: float | None
    low: float | None
    high: float | None
    method: str

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "se": self.se, "low": self.low, "high": self.high,
                "method": self.method}


def empty(method: str) -> Estimate:
    return Estimate(None, None, None, None, method)


def n_effective(sum_w: float, sum_w2: float) -> float:
    """Kish's effective sample size (Σw)²/Σw²; equals n when every weight is 1."""
    return 0.0 if sum_w2 <= 0 else sum_w * sum_w / sum_w2


# --- NPS (a difference of two shares of one multinomial) -------------------------------

def nps_variance(p_p: float, p_d: float, n: float) -> float:
    """Var(p_P − p_D) = [p_P + p_D − (p_P − p_D)²] / n  (Rocks 2016), as a share²."""
    d = p_p - p_d
    return max(p_p + p_d - d * d, 0.0) / n


def nps_interval(p_p: float, p_d: float, n: float, *, adjusted: bool = True) -> Estimate:
    """NPS in points (−100..100) with its 95 % interval from shares and (effective) n.

    ``adjusted=True`` (default) is the adjusted Wald interval: one pseudo-answer is added to
    each of promoters, passives and detractors (n + 3), and the interval is centred on the
    adjusted score; it keeps its coverage for small n and for scores near ±100 where the
    plain Wald interval collapses (Rocks 2016). The ``value`` is always the observed NPS.
    The interval is clipped to [−100, 100].
    """
    method = "nps-adjusted-wald" if adjusted else "nps-wald"
    if n <= 0:
        return empty(method)
    score = 100.0 * (p_p - p_d)
    if adjusted:
        na = n + 3.0
        ap, ad = (p_p * n + 1.0) / na, (p_d * n + 1.0) / na
        centre, se = 100.0 * (ap - ad), 100.0 * math.sqrt(nps_variance(ap, ad, na))
    else:
        centre, se = score, 100.0 * math.sqrt(nps_variance(p_p, p_d, n))
    return Estimate(score, se, max(-100.0, centre - Z95 * se), min(100.0, centre + Z95 * se),
                    method)


def nps_adjusted_interval_vec(k_p: np.ndarray, k_d: np.ndarray,
                              n: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised adjusted Wald bounds (points) for arrays of counts; for simulations."""
    na = np.asarray(n, dtype=float) + 3.0
    ap, ad = (k_p + 1.0) / na, (k_d + 1.0) / na
    d = ap - ad
    se = np.sqrt(np.maximum(ap + ad - d * d, 0.0) / na)
    return (np.maximum(-100.0, 100.0 * (d - Z95 * se)),
            np.minimum(100.0, 100.0 * (d + Z95 * se)))


# --- proportions --------------------------------------------------------------------------

def wilson(p: float, n: float) -> Estimate:
    """Wilson (1927) score interval for a share ``p`` of ``n`` (effective) answers, in %."""
    if n <= 0:
        return empty("wilson")
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    se = math.sqrt(p * (1 - p) / n)
    return Estimate(100.0 * p, 100.0 * se, 100.0 * max(0.0, centre - half),
                    100.0 * min(1.0, centre + half), "wilson")


def newcombe_difference(p1: float, n1: float, p2: float, n2: float) -> tuple[Estimate, float]:
    """p1 − p2 (in percentage points) with Newcombe's (1998) hybrid Wilson interval.

    The p-value is the two-sided pooled two-proportion z-test.
    """
    a, b = wilson(p1, n1), wilson(p2, n2)
    assert a.low is not None and a.high is not None and b.low is not None and b.high is not None
    d = 100.0 * (p1 - p2)
    lo = d - math.sqrt((100 * p1 - a.low) ** 2 + (b.high - 100 * p2) ** 2)
    hi = d + math.sqrt((a.high - 100 * p1) ** 2 + (100 * p2 - b.low) ** 2)
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(p1 - p2) / se0))
    se = 100.0 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return Estimate(d, se, lo, hi, "newcombe"), float(p)


# --- means ----------------------------------------------------------------------------------

def mean_interval(mean: float, var: float, n: float) -> Estimate:
    """Mean with the t interval on n − 1 degrees of freedom (n may be an effective n)."""
    if n <= 0:
        return empty("t")
    if n < 2:
        return Estimate(mean, None, None, None, "t")
    se = math.sqrt(max(var, 0.0) / n)
    h = float(stats.t.ppf(0.975, n - 1)) * se
    return Estimate(mean, se, mean - h, mean + h, "t")


def welch_difference(m1: float, v1: float, n1: float,
                     m2: float, v2: float, n2: float) -> tuple[Estimate, float]:
    """m1 − m2 with the Welch t interval and two-sided p-value (Welch–Satterthwaite df)."""
    a, b = v1 / n1, v2 / n2
    se = math.sqrt(a + b)
    d = m1 - m2
    if se == 0:
        return Estimate(d, 0.0, d, d, "welch-t"), (1.0 if d == 0 else 0.0)
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    h = float(stats.t.ppf(0.975, df)) * se
    return Estimate(d, se, d - h, d + h, "welch-t"), float(2 * stats.t.sf(abs(d) / se, df))


def nps_difference(pp1: float, pd1: float, n1: float,
                   pp2: float, pd2: float, n2: float) -> tuple[Estimate, float]:
    """NPS₁ − NPS₂ of two independent samples, in points, with a z interval and p-value.

    Var = Var₁ + Var₂ with each the multinomial variance of its NPS; the variances use the
    adjusted shares (+1 answer per category) so that a sample of all promoters does not
    claim zero uncertainty. The difference itself is of the observed scores.
    """
    def adj_var(pp: float, pd: float, n: float) -> float:
        na = n + 3.0
        return nps_variance((pp * n + 1) / na, (pd * n + 1) / na, na)

    d = 100.0 * ((pp1 - pd1) - (pp2 - pd2))
    se = 100.0 * math.sqrt(adj_var(pp1, pd1, n1) + adj_var(pp2, pd2, n2))
    p = float(2 * stats.norm.sf(abs(d) / se))
    return Estimate(d, se, d - Z95 * se, d + Z95 * se, "nps-difference-z"), p


# --- many tests ---------------------------------------------------------------------------

def benjamini_hochberg(p: np.ndarray | list[float]) -> np.ndarray:
    """Benjamini–Hochberg (1995) adjusted p-values (q-values) in the input's order.

    q₍ᵢ₎ = min over j ≥ i of p₍ⱼ₎·m/j, capped at 1; reject where q < α controls the false
    discovery rate at α for independent (or positively dependent) tests.
    """
    p = np.asarray(p, dtype=float)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


# --- correlation ----------------------------------------------------------------------------

def fisher_z_interval(r: float, n: int) -> tuple[Estimate, float]:
    """Pearson r with Fisher's z interval tanh(atanh r ± 1.96/√(n−3)) and the p-value of r=0.

    Needs n ≥ 4; the p-value is the exact t-test of zero correlation on n − 2 df.
    """
    if n < 4 or not math.isfinite(r):
        return Estimate(r if math.isfinite(r) else None, None, None, None, "fisher-z"), math.nan
    rc = min(max(r, -0.9999999), 0.9999999)
    z, se = math.atanh(rc), 1.0 / math.sqrt(n - 3)
    t = rc * math.sqrt((n - 2) / (1 - rc * rc))
    p = float(2 * stats.t.sf(abs(t), n - 2))
    return Estimate(r, se, math.tanh(z - Z95 * se), math.tanh(z + Z95 * se), "fisher-z"), p
