"""Pareto/NBD: purchases while alive, and a lifetime that ends at any moment.

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: who
are they and what will they do next? Management Science 33(1), 1-24. The likelihood and
the conditional expressions as in Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005),
"A note on deriving the Pareto/NBD model and related expressions"
(http://brucehardie.com/notes/009/).

Purchases are Poisson(λ), λ ~ Gamma(r, α); the lifetime is exponential(μ), μ ~ Gamma(s, β),
so a customer may leave between purchases (BG/NBD lets them leave only right after one).

The note writes the likelihood with Gauss's hypergeometric function, which is slow near
z = 1 (30-50 µs a value where β ≫ α, the region an optimiser visits on data with little
churn: 200 s for one fit on the M demo) and has no closed-form derivatives in its
parameters. Here the same likelihood is computed from its integral, before the
hypergeometric closed form is taken:

    L = Γ(r+x)/Γ(r) α^r β^s [ (α+T)^-(r+x) (β+T)^-s + s ∫ from t_x to T of
        (α+τ)^-(r+x) (β+τ)^-(s+1) dτ ]

(alive at T, or died at τ after the last purchase), by Gauss-Legendre quadrature in
log(min(α, β) + τ), in 6 pieces of 16 nodes, cut where the integrand has fallen by e^-40.
The gradient is then analytic: the derivatives move under the integral, on the same
nodes. ``tests/analytics/value`` checks it against the hypergeometric form.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from cxlens.analytics.value._fit import Fit, maximise
from cxlens.analytics.value.bgnbd import purchase_rows

_Y, _W = np.polynomial.legendre.leggauss(16)
PIECES = 6
NAMES = ("r", "alpha", "s", "beta")
STARTS = ((1.0, 1.0, 1.0, 1.0), (0.5, 10.0, 0.5, 10.0), (0.2, 5.0, 2.0, 50.0))


def _nodes(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray,
           T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes τ and weights (rows × 96) for the integral over (t_x, T)."""
    r, alpha, s, beta = theta
    m = min(alpha, beta)
    v0, v_end = np.log(m + t_x), np.log(m + T)

    def rate(tau: np.ndarray) -> np.ndarray:  # -d log(integrand) / d log(m + tau)
        return (r + x) * (m + tau) / (alpha + tau) + (s + 1) * (m + tau) / (beta + tau) - 1

    slowest = np.minimum(rate(t_x), rate(T))  # the rate is monotone in tau
    hi = np.where(slowest > 0.1, np.minimum(v_end, v0 + 40.0 / np.maximum(slowest, 0.1)),
                  v_end)
    width = (hi - v0) / PIECES
    y = (np.arange(PIECES)[:, None] + (_Y[None, :] + 1) / 2).ravel()
    v = v0[:, None] + width[:, None] * y[None, :]
    e = np.exp(v)
    return e - m, (width[:, None] / 2) * np.tile(_W, PIECES)[None, :] * e


def _terms(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray):
    """log of the alive term, and the died term's nodes: log integrand·weight·s."""
    r, alpha, s, beta = theta
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    tau, w = _nodes(theta, x, t_x, T)
    with np.errstate(divide="ignore"):
        died = (np.log(s) + np.log(w) - (r + x)[:, None] * np.log(alpha + tau)
                - (s + 1) * np.log(beta + tau))
    return alive, tau, died


def log_likelihood(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                   T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood and its analytic gradient in (r, alpha, s, beta)."""
    r, alpha, s, beta = theta
    alive, tau, died = _terms(theta, x, t_x, T)
    top = np.maximum(alive, died.max(axis=1))
    pa = np.exp(alive - top)
    pd = np.exp(died - top[:, None])
    total = pa + pd.sum(axis=1)
    pa, pd = pa / total, pd / total[:, None]  # shares of the likelihood's two parts
    ll = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
          + top + np.log(total))
    g = np.empty((x.size, 4))
    g[:, 0] = (digamma(r + x) - digamma(r) + np.log(alpha) - pa * np.log(alpha + T)
               - (pd * np.log(alpha + tau)).sum(axis=1))
    g[:, 1] = (r / alpha - pa * (r + x) / (alpha + T)
               - (r + x) * (pd / (alpha + tau)).sum(axis=1))
    g[:, 2] = (np.log(beta) - pa * np.log(beta + T)
               + pd.sum(axis=1) / s - (pd * np.log(beta + tau)).sum(axis=1))
    g[:, 3] = s / beta - pa * s / (beta + T) - (s + 1) * (pd / (beta + tau)).sum(axis=1)
    return ll, g


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, n: np.ndarray) -> Fit:
    """Maximum-likelihood Pareto/NBD on summary rows weighted by customer counts ``n``."""
    x, t_x, T = purchase_rows(x, t_x, T, n)
    return maximise(lambda th: log_likelihood(th, x, t_x, T), np.asarray(n, dtype="float64"),
                    NAMES, STARTS)


def p_alive(theta: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive at T | x, t_x, T): the alive term's share of the likelihood (the note's
    equation 18)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    alive, _, died = _terms(theta, x, t_x, T)
    top = np.maximum(alive, died.max(axis=1))
    pa = np.exp(alive - top)
    return pa / (pa + np.exp(died - top[:, None]).sum(axis=1))


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
