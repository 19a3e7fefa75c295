"""The bootstrap of a mean over customers, with its BCa interval, for zero-inflated amounts.

Private to ``cxlens.analytics`` (``_value_link`` uses it). Revenue per customer after an
answer is zero for most customers and skewed among the rest, so a sample is passed
compressed: its size ``n`` and its non-zero values. The resampling is exactly Efron's
nonparametric bootstrap (n draws with replacement from the n customers), drawn in two steps:
how many of the n draws hit a customer with a non-zero value is Binomial(n, k/n), and those
draws are uniform over the k non-zero values. That costs B·k draws rather than B·n.

Method, references and the measured coverage: docs/methods.md ("Experience to value").
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from cxlens.analytics._intervals import Estimate, empty

N_BOOT = 2000
"""Bootstrap replicates by default: Efron & Tibshirani (1993, §19.3) ask for at least 1 000
for percentile-based intervals; 2 000 keeps the Monte Carlo error of a bound small."""

MIN_BOOTSTRAP = 10
"""Fewer customers than this in a group: the mean is shown without an interval."""

LEVEL = 0.95
_CHUNK = 2_000_000  # draws per batch: bounds memory for groups of many buyers


def resample_means(nonzero: np.ndarray, n: int, n_boot: int,
                   rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` bootstrap means of a sample of ``n`` values whose non-zero ones are
    ``nonzero`` (the rest are 0)."""
    nonzero = np.asarray(nonzero, dtype=float)
    k = len(nonzero)
    if n <= 0 or k > n:
        raise ValueError("need 0 <= len(nonzero) <= n and n > 0")
    if k == 0:
        return np.zeros(n_boot)
    hits = rng.binomial(n, k / n, n_boot)
    sums = np.empty(n_boot)
    lo = 0
    while lo < n_boot:  # batches of replicates with at most _CHUNK draws (at least one)
        cum = np.cumsum(hits[lo:])
        hi = lo + max(1, int(np.searchsorted(cum, _CHUNK, side="right")))
        h = hits[lo:hi]
        csum = np.concatenate(([0.0], np.cumsum(nonzero[rng.integers(0, k, int(h.sum()))])))
        ends = np.cumsum(h)
        sums[lo:hi] = csum[ends] - csum[ends - h]
        lo = hi
    return sums / n


def mean_acceleration(deviations: np.ndarray) -> float:
    """The BCa acceleration of a mean from the deviations x − x̄ of all n values:
    a = Σd³ / (6·(Σd²)^{3/2}), which is the jackknife formula of Efron & Tibshirani (1993,
    eq. 14.15) worked out for the mean (the jackknife means are x̄ − d/(n − 1))."""
    d = np.asarray(deviations, dtype=float)
    s2 = float(np.sum(d * d))
    return 0.0 if s2 <= 0 else float(np.sum(d ** 3)) / (6.0 * s2 ** 1.5)


def bca_bounds(theta: float, reps: np.ndarray, accel: float,
               level: float = LEVEL) -> tuple[float, float]:
    """The BCa interval (Efron 1987) from the replicates ``reps`` of the estimate ``theta``.

    z₀ = Φ⁻¹(share of replicates below θ̂, ties counted half); the bounds are the replicates'
    quantiles at Φ(z₀ + (z₀ + z)/(1 − a(z₀ + z))) for z = ∓z_{(1+level)/2}. Being quantiles of
    resampled means, the bounds stay inside the range the data allow (≥ 0 for amounts ≥ 0).
    """
    b = len(reps)
    tol = 1e-9 * max(1.0, abs(theta))
    below = np.count_nonzero(reps < theta - tol)
    ties = np.count_nonzero(np.abs(reps - theta) <= tol)
    g = min(max((below + 0.5 * ties) / b, 0.5 / b), 1 - 0.5 / b)
    z0 = float(stats.norm.ppf(g))
    z = np.array([-1.0, 1.0]) * float(stats.norm.ppf((1 + level) / 2))
    w = z0 + z
    alpha = stats.norm.cdf(z0 + w / np.maximum(1.0 - accel * w, 1e-12))
    lo, hi = np.quantile(reps, alpha)
    return float(lo), float(hi)


def bootstrap_mean(nonzero: np.ndarray, n: int, rng: np.random.Generator,
                   n_boot: int = N_BOOT) -> Estimate:
    """Mean of a zero-inflated sample with its BCa bootstrap interval (``method``
    ``"bca-bootstrap"``); ``se`` is the standard deviation of the replicates.

    With fewer than ``MIN_BOOTSTRAP`` values the mean comes without an interval: the
    bootstrap can only resample what it saw, and from a handful of customers its interval
    is far too narrow to mean anything.
    """
    if n <= 0:
        return empty("bca-bootstrap")
    nonzero = np.asarray(nonzero, dtype=float)
    mean = float(nonzero.sum()) / n
    if n < MIN_BOOTSTRAP:
        return Estimate(mean, None, None, None, "bca-bootstrap")
    reps = resample_means(nonzero, n, n_boot, rng)
    dev = np.concatenate((nonzero - mean, np.full(n - len(nonzero), -mean)))
    lo, hi = bca_bounds(mean, reps, mean_acceleration(dev))
    return Estimate(mean, float(np.std(reps, ddof=1)), lo, hi, "bca-bootstrap")
