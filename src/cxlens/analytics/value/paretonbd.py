"""Pareto/NBD: purchases while alive, and a lifetime that ends at any moment.

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: who
are they and what will they do next? Management Science 33(1), 1-24. The likelihood and
the conditional expressions as in Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005),
"A note on deriving the Pareto/NBD model and related expressions"
(http://brucehardie.com/notes/009/).

Purchases are Poisson(λ), λ ~ Gamma(r, α); the lifetime is exponential(μ), μ ~ Gamma(s, β),
so a customer may leave between purchases (BG/NBD lets them leave only right after one).
The likelihood holds Gauss's hypergeometric function, whose derivatives in its parameters
have no closed form: the gradient here is by central differences of the vectorised
log-likelihood (8 evaluations per step), the one place where the value models are not
analytic. ``_fit`` does the rest as for BG/NBD.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyp2f1

from cxlens.analytics.value._fit import Fit, maximise
from cxlens.analytics.value.bgnbd import NotIdentifiable

NAMES = ("r", "alpha", "s", "beta")
STARTS = ((1.0, 1.0, 1.0, 1.0), (0.5, 10.0, 0.5, 10.0), (0.2, 5.0, 2.0, 50.0))


def _log_a0(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray,
            T: np.ndarray) -> np.ndarray:
    """log A0 of the note's equation (21)/(22), the part from dying between t_x and T."""
    r, alpha, s, beta = theta
    rsx = r + s + x
    if alpha >= beta:
        big, second, d = alpha, s + 1, alpha - beta
    else:
        big, second, d = beta, r + x, beta - alpha
    at_tx = np.log(hyp2f1(rsx, second, rsx + 1, d / (big + t_x))) - rsx * np.log(big + t_x)
    at_T = np.log(hyp2f1(rsx, second, rsx + 1, d / (big + T))) - rsx * np.log(big + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        return at_tx + np.log(-np.expm1(np.minimum(at_T - at_tx, 0.0)))


def _ll(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, s, beta = theta
    lead = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) - np.log(r + s + x) + _log_a0(theta, x, t_x, T)
    return lead + np.logaddexp(alive, died)


def log_likelihood(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                   T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood and its gradient by central differences."""
    ll = _ll(theta, x, t_x, T)
    g = np.empty((x.size, theta.size))
    for j in range(theta.size):
        h = 1e-6 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        g[:, j] = (_ll(up, x, t_x, T) - _ll(down, x, t_x, T)) / (2 * h)
    return ll, g


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, n: np.ndarray) -> Fit:
    """Maximum-likelihood Pareto/NBD on summary rows weighted by customer counts ``n``."""
    x = np.asarray(x, dtype="float64")
    if x.size == 0 or n.sum() == 0:
        raise NotIdentifiable("no customers to fit")
    if not np.any((x > 0) & (n > 0)):
        raise NotIdentifiable(
            "every customer bought exactly once: with no repeat purchases the model cannot "
            "tell how often customers buy from how soon they leave. Use a longer period")
    t_x, T = np.asarray(t_x, dtype="float64"), np.asarray(T, dtype="float64")
    return maximise(lambda th: log_likelihood(th, x, t_x, T), np.asarray(n, dtype="float64"),
                    NAMES, STARTS)


def p_alive(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive at T | x, t_x, T) (the note's equation 18)."""
    r, alpha, s, beta = theta
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) - np.log(r + s + x) + _log_a0(theta, x, t_x, T)
    return 1.0 / (1.0 + np.exp(died - alive))


def expected_purchases(theta: np.ndarray, t: float, x: np.ndarray, t_x: np.ndarray,
                       T: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (the note's equation 27); needs s > 1 for
    the closed form's limit, and uses the s = 1 limit (a logarithm) near it."""
    r, alpha, s, beta = theta
    rate = (r + x) / (alpha + T)
    if abs(s - 1) < 1e-9:
        life = (beta + T) * np.log((beta + T + t) / (beta + T))
    else:
        life = (beta + T) / (s - 1) * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
    return rate * life * p_alive(theta, x, t_x, T)


def expected_new(theta: np.ndarray, t: np.ndarray) -> np.ndarray:
    """E[purchases in (0, t]] of a customer just acquired (the note's equation 16)."""
    r, alpha, s, beta = theta
    t = np.asarray(t, dtype="float64")
    if abs(s - 1) < 1e-9:
        return r * beta / alpha * np.log((beta + t) / beta)
    return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))
