"""Maximum likelihood on a compressed summary: shared by the value models.

Each model gives its log-likelihood per summary row and its analytic gradient in the
natural parameters; this module fits on the log of the parameters (all are positive) with
L-BFGS-B, restarts from other points when the first run does not converge, and takes
standard errors from the Hessian of the total log-likelihood (the finite-difference
Jacobian of the analytic gradient, symmetrised). Parameter uncertainty is carried into
predictions by drawing parameters from the normal approximation on the log scale, which
keeps every draw positive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

# log-parameters are kept within exp(±LOG_BOUND): far outside anything a real data set
# gives, but finite, so a parameter running away is seen (``at_bound``) instead of
# overflowing.
LOG_BOUND = 12.0

LogLik = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""theta -> (per-row log-likelihood, per-row gradient of shape (rows, k))."""


@dataclass(frozen=True)
class Fit:
    """A fitted model's parameters, their standard errors and covariance (natural scale),
    the covariance on the log scale (for draws), the log-likelihood and how the optimiser
    ended. ``at_bound`` names parameters that ran to the edge of the search space: the
    data cannot pin them down."""

    names: tuple[str, ...]
    params: np.ndarray
    se: np.ndarray
    cov: np.ndarray
    log_cov: np.ndarray
    log_likelihood: float
    converged: bool
    iterations: int
    message: str
    at_bound: tuple[str, ...]

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.names, (float(v) for v in self.params), strict=True))

    def draws(self, n: int, seed: int) -> np.ndarray:
        """``n`` parameter vectors from the fit's normal approximation on the log scale."""
        rng = np.random.default_rng(seed)
        if not np.all(np.isfinite(self.log_cov)):
            return np.repeat(self.params[None, :], n, axis=0)
        z = rng.multivariate_normal(np.log(self.params), self.log_cov, size=n,
                                    method="eigh")
        return np.exp(z)


def _hessian(grad: Callable[[np.ndarray], np.ndarray], theta: np.ndarray) -> np.ndarray:
    """Central differences of the analytic gradient, relative steps, symmetrised."""
    k = theta.size
    h = np.empty((k, k))
    for j in range(k):
        step = 1e-5 * max(abs(theta[j]), 1e-8)
        up, down = theta.copy(), theta.copy()
        up[j] += step
        down[j] -= step
        h[:, j] = (grad(up) - grad(down)) / (2 * step)
    return (h + h.T) / 2


def maximise(loglik: LogLik, weights: np.ndarray, names: Sequence[str],
             starts: Sequence[Sequence[float]]) -> Fit:
    """Fit by maximum likelihood, weighting each summary row by its customer count."""
    total = float(weights.sum())

    def objective(phi: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.exp(phi)
        ll, g = loglik(theta)
        if not np.all(np.isfinite(ll)):
            return np.inf, np.zeros_like(phi)
        # plain sums, not ``weights @ g``: a BLAS product this small only pays OpenBLAS's
        # thread hand-offs (3x slower on a busy 2-core machine, bench/value.py)
        value = -float((weights * ll).sum()) / total
        grad = -(weights[:, None] * g).sum(axis=0) * theta / total
        return value, grad

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    best = None
    for start in starts:
        res = optimize.minimize(objective, np.log(np.asarray(start, dtype=float)), jac=True,
                                method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9})
        # L-BFGS-B stops "abnormally" when its line search cannot improve on the last point
        # at machine precision; with a vanishing gradient that point is the optimum.
        res.success = bool(res.success or np.max(np.abs(res.jac)) < 1e-6)
        if best is None or (np.isfinite(res.fun) and res.fun < best.fun):
            best = res
        if res.success:  # the other starts are for a run that failed
            break
    assert best is not None
    theta = np.exp(best.x)
    at_bound = tuple(n for n, v in zip(names, best.x, strict=True)
                     if abs(v) > LOG_BOUND - 1e-3)

    def total_grad(t: np.ndarray) -> np.ndarray:
        return (weights[:, None] * loglik(t)[1]).sum(axis=0)

    h = _hessian(total_grad, theta)
    try:
        cov = np.linalg.inv(-h)
        ok = bool(np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0))
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        cov = np.full((theta.size, theta.size), np.nan)
    se = np.sqrt(np.diag(cov)) if ok else np.full(theta.size, np.nan)
    log_cov = cov / np.outer(theta, theta)
    converged = bool(best.success) and ok and not at_bound
    message = str(best.message) if best.success else f"did not converge: {best.message}"
    if not ok:
        message += "; the Hessian is not negative definite (no standard errors)"
    return Fit(tuple(names), theta, se, cov, log_cov, float(-best.fun * total), converged,
               int(best.nit), message, at_bound)
