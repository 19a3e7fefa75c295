"""The value models' likelihoods against independent forms, and their analytic gradients
against finite differences, over parameters from tame to extreme."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln, hyp2f1

from cxlens.analytics.value import bgnbd, gamma_gamma, paretonbd

RNG = np.random.default_rng(5)
X = np.array([0, 0, 1, 1, 2, 5, 12, 40, 3, 0], dtype=float)
T = np.array([38.9, 5.0, 38.9, 10.0, 52.0, 60.0, 104.0, 104.0, 20.0, 0.5])
TX = np.where(X > 0, T * np.array([0, 0, 0.1, 0.9, 0.5, 0.99, 0.3, 0.98, 1.0, 0]), 0.0)


def paretonbd_closed_form(theta, x, t_x, T):
    """The note's hypergeometric form (Fader, Hardie & Lee 2005, equations 21-22)."""
    r, alpha, s, beta = theta
    rsx = r + s + x
    if alpha >= beta:
        big, second, d = alpha, s + 1, alpha - beta
    else:
        big, second, d = beta, r + x, beta - alpha
    a0 = (hyp2f1(rsx, second, rsx + 1, d / (big + t_x)) / (big + t_x) ** rsx
          - hyp2f1(rsx, second, rsx + 1, d / (big + T)) / (big + T) ** rsx)
    lead = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return lead + np.log(1 / ((alpha + T) ** (r + x) * (beta + T) ** s) + s / rsx * a0)


@pytest.mark.parametrize("theta", [
    (0.55, 10.58, 0.61, 11.67),   # CDNOW
    (0.2, 3.0, 2.5, 1.0),         # beta < alpha
    (1.5, 50.0, 0.3, 200.0),      # beta >> alpha
    (0.9, 8.0, 12.0, 150.0),      # homogeneous-ish dropout
    (3.0, 1.0, 0.05, 0.5),        # a few very frequent buyers
])
def test_paretonbd_quadrature_equals_the_closed_form(theta) -> None:
    th = np.array(theta)
    ours, _ = paretonbd.log_likelihood(th, X, TX, T)
    np.testing.assert_allclose(ours, paretonbd_closed_form(th, X, TX, T), rtol=1e-9)


def _numeric_gradient(loglik, theta):
    g = np.empty((X.size, theta.size))
    for j in range(theta.size):
        h = 1e-6 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        g[:, j] = (loglik(up) - loglik(down)) / (2 * h)
    return g


@pytest.mark.parametrize(("model", "theta"), [
    ("bgnbd", (0.243, 4.414, 0.793, 2.426)),
    ("bgnbd", (2.0, 30.0, 5.0, 40.0)),
    ("paretonbd", (0.55, 10.58, 0.61, 11.67)),
    ("paretonbd", (1.5, 50.0, 0.3, 200.0)),
])
def test_purchase_gradients_are_right(model, theta) -> None:
    module = {"bgnbd": bgnbd, "paretonbd": paretonbd}[model]
    th = np.array(theta, dtype=float)
    _, analytic = module.log_likelihood(th, X, TX, T)
    numeric = _numeric_gradient(lambda t: module.log_likelihood(t, X, TX, T)[0], th)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_gamma_gamma_gradient_is_right() -> None:
    x = np.array([1.0, 2.0, 5.0, 30.0])
    m = np.array([12.5, 40.0, 7.9, 101.0])
    th = np.array([6.25, 3.74, 15.44])
    _, analytic = gamma_gamma.log_likelihood(th, x, m)
    g = np.empty((x.size, 3))
    for j in range(3):
        h = 1e-6 * th[j]
        up, down = th.copy(), th.copy()
        up[j] += h
        down[j] -= h
        g[:, j] = (gamma_gamma.log_likelihood(up, x, m)[0]
                   - gamma_gamma.log_likelihood(down, x, m)[0]) / (2 * h)
    np.testing.assert_allclose(analytic, g, rtol=1e-6)


def test_bgnbd_probabilities_sum_to_one() -> None:
    """The paper's P(X(t) = k) over k sums to 1, and its mean is E[X(t)] (equation 9)."""
    th = np.array([0.243, 4.414, 0.793, 2.426])
    p = np.array([bgnbd.p_repeat_count(th, k, 39.0) for k in range(400)])
    assert p.sum() == pytest.approx(1.0, abs=1e-6)
    assert (np.arange(400) @ p) == pytest.approx(float(bgnbd.expected_new(th, 39.0)),
                                                 rel=1e-4)
