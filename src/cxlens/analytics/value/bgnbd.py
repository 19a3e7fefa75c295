"""BG/NBD: how often customers buy and when they quietly stop.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way:
an alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284.

While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after every
purchase they drop out with probability p ~ Beta(a, b). The likelihood of (x, t_x, T) has a
closed form (the paper's equation 6), written here in logs with its analytic gradient
(digamma terms), so a fit on the compressed summary takes milliseconds per thousand rows.
Predictions (the paper's equations 9 and 10, and P(alive) from its appendix) are vectorised
over summary rows; their intervals come from parameter draws (``_fit.Fit.draws``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from cxlens.analytics.value._fit import Fit, maximise

NAMES = ("r", "alpha", "a", "b")
STARTS = ((1.0, 1.0, 1.0, 1.0), (0.5, 5.0, 0.5, 2.0), (0.1, 20.0, 2.0, 10.0))


class NotIdentifiable(ValueError):
    """The data cannot determine the model (for example, nobody bought twice)."""


def purchase_rows(x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                  n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The summary as floats, refused when no purchase model can be fitted on it."""
    x = np.asarray(x, dtype="float64")
    if x.size == 0 or n.sum() == 0:
        raise NotIdentifiable("no customers to fit")
    if not np.any((x > 0) & (n > 0)):
        raise NotIdentifiable(
            "every customer bought exactly once: with no repeat purchases the model cannot "
            "tell how often customers buy from how soon they leave. Use a longer period")
    return x, np.asarray(t_x, dtype="float64"), np.asarray(T, dtype="float64")


def log_likelihood(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                   T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood and its gradient in (r, alpha, a, b)."""
    r, alpha, a, b = theta
    rep = x > 0
    xb = np.where(rep, b + x - 1, 1.0)  # b + x - 1, defined where it is used
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(rep, np.log(a) - np.log(xb) - (r + x) * np.log(alpha + t_x), -np.inf)
    top = np.maximum(a3, a4)
    w3, w4 = np.exp(a3 - top), np.exp(a4 - top)
    s = w3 + w4
    ll = a1 + a2 + top + np.log(s)
    p3, p4 = w3 / s, w4 / s
    g = np.empty((x.size, 4))
    g[:, 0] = (digamma(r + x) - digamma(r) + np.log(alpha)
               - p3 * np.log(alpha + T) - p4 * np.log(alpha + t_x))
    g[:, 1] = r / alpha - p3 * (r + x) / (alpha + T) - p4 * (r + x) / (alpha + t_x)
    g[:, 2] = digamma(a + b) - digamma(a + b + x) + p4 / a
    g[:, 3] = (digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x)
               - p4 / xb)
    return ll, g


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, n: np.ndarray) -> Fit:
    """Maximum-likelihood BG/NBD on summary rows weighted by their customer counts ``n``."""
    x, t_x, T = purchase_rows(x, t_x, T, n)
    return maximise(lambda th: log_likelihood(th, x, t_x, T), np.asarray(n, dtype="float64"),
                    NAMES, STARTS)


def _alive_odds(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                T: np.ndarray) -> np.ndarray:
    """delta(x>0) * a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x): P(dead)/P(alive)."""
    r, alpha, a, b = theta
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.exp(np.log(a) - np.log(b + x - 1)
                      + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
    return np.where(x > 0, odds, 0.0)


def p_alive(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(the customer is still alive at T | x, t_x, T)."""
    return 1.0 / (1.0 + _alive_odds(theta, x, t_x, T))


def expected_purchases(theta: np.ndarray, t: float, x: np.ndarray, t_x: np.ndarray,
                       T: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (the paper's equation 10). NaN where
    a + b + x - 1 <= 0: the hypergeometric series has no meaning there (a parameter draw
    far from a poorly determined estimate can land there; estimates never do)."""
    r, alpha, a, b = theta
    z = t / (alpha + T + t)
    c = a + b + np.asarray(x, dtype="float64") - 1
    lead = c / (a - 1)
    tail = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    body = lead * (1 - tail * hyp2f1(r + x, b + x, c, z))
    return np.where(c > 0, body / (1.0 + _alive_odds(theta, x, t_x, T)), np.nan)


def expected_new(theta: np.ndarray, t: np.ndarray) -> np.ndarray:
    """E[purchases in (0, t]] of a customer just acquired, not counting the first one
    (the paper's equation 9)."""
    r, alpha, a, b = theta
    t = np.asarray(t, dtype="float64")
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


def p_repeat_count(theta: np.ndarray, k: int, t: float) -> float:
    """P(X(t) = k) for a customer observed from birth: the paper's equation 8, used to
    check the fit against the histogram of repeat purchases."""
    r, alpha, a, b = theta
    lg = gammaln(r + k) - gammaln(r) - gammaln(k + 1)
    first = np.exp(betaln(a, b + k) - betaln(a, b) + lg
                   + r * np.log(alpha / (alpha + t)) + k * np.log(t / (alpha + t)))
    if k == 0:
        return float(first)
    js = np.arange(k)
    terms = np.exp(gammaln(r + js) - gammaln(r) - gammaln(js + 1)
                   + js * np.log(t / (alpha + t)))
    second = np.exp(betaln(a + 1, b + k - 1) - betaln(a, b)) * (
        1 - (alpha / (alpha + t)) ** r * terms.sum())
    return float(first + second)
