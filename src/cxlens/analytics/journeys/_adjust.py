"""Adjusted comparisons on aggregated cells: propensity, IPW, doubly robust, the bootstrap.

Private to the journeys family. The engine returns one row per (covariate cell, group,
``pos``) with the count ``n``, the outcome's sum ``s`` and sum of squares ``ss``; nothing
here sees a customer. The estimand is the effect **on those who met the moment** (ATT):

* the propensity ``e(x)`` is a logistic regression of meeting the moment on the covariates'
  main effects (one-hot), fitted to the cells as a grouped binomial by Newton–Raphson with a
  small ridge penalty (so a covariate that separates the groups gives a finite fit);
* comparison cells are weighted by the odds ``e/(1 − e)`` (IPW for the ATT);
* the outcome model ``m₀(x)`` is a least-squares fit of the comparison's cell means on the
  same main effects, weighted by the cells' counts; the doubly robust estimate is the
  treated's mean residual minus the weighted comparison's mean residual (it is consistent
  when either model is right);
* cells with ``e > MAX_PROPENSITY`` are off support (next to no comparable customers):
  their treated are left out (counted in ``trimmed``). A cell whose treated have no
  comparison in that very cell but an ordinary propensity stays: the main-effects models
  carry the comparison over from the neighbouring cells;
* the bootstrap redraws the customers with **Poisson weights** (Hanley & MacGibbon 2006;
  Chamandy et al. 2012): every customer counts Poisson(1) times in a replicate, so a
  (cell, group, pos) class of ``n`` customers counts Poisson(``n``) — for a 0/1 outcome
  exactly the Poisson bootstrap of the customers, drawn on the classes. It approximates
  resampling N customers with replacement (the multinomial draw this replaced; the total
  now varies around N by about √N) at about half the cost of the draws, and the classes
  are drawn independently. For revenue the non-zero customers of a class are not kept one
  by one: their resampled sum is drawn normal with the class's mean and variance (zeros
  stay exact). Both models are refitted on every replicate.

Method and limits: docs/methods.md ("Business moments").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_PROPENSITY = 0.99
RIDGE = 1e-3
N_BOOT = 500
"""Bootstrap replicates: the 2.5 % and 97.5 % quantiles of 500 replicates have a Monte
Carlo error near 0.1 standard errors, small beside the interval."""


@dataclass
class Design:
    """Cells of one moment: ``X`` (cells × main-effect columns, an intercept first),
    ``D`` (cells × every covariate level, for the balance) and the classes' cell, group,
    ``pos``, ``n``, ``s`` and ``ss``."""

    X: np.ndarray
    D: np.ndarray
    levels: list[tuple[str, str]]
    cell: np.ndarray
    g: np.ndarray
    pos: np.ndarray
    n: np.ndarray
    s: np.ndarray
    ss: np.ndarray

    @property
    def cells(self) -> int:
        return self.X.shape[0]


def design(rows: list[dict], covariates: tuple[str, ...]) -> Design:
    """The design of one moment's rows (as the cells query returns them)."""
    keys = [tuple(r[c] for c in covariates) for r in rows]
    uniq = sorted(set(keys), key=lambda k: tuple(str(v) for v in k))
    index = {k: i for i, k in enumerate(uniq)}
    cols, dcols, levels = [np.ones(len(uniq))], [], []
    for j, name in enumerate(covariates):
        vals = sorted({k[j] for k in uniq}, key=str)
        for v_i, v in enumerate(vals):
            col = np.array([1.0 if k[j] == v else 0.0 for k in uniq])
            dcols.append(col)
            levels.append((name, str(v)))
            if v_i > 0:
                cols.append(col)
    return Design(np.column_stack(cols), np.column_stack(dcols) if dcols else
                  np.zeros((len(uniq), 0)), levels,
                  np.array([index[k] for k in keys], dtype=np.int64),
                  np.array([int(r["g"]) for r in rows], dtype=np.int64),
                  np.array([int(r["pos"]) for r in rows], dtype=np.int64),
                  np.array([float(r["n"]) for r in rows]),
                  np.array([float(r["s"]) for r in rows]),
                  np.array([float(r["ss"]) for r in rows]))


def fit_propensity(X: np.ndarray, n1: np.ndarray, n0: np.ndarray,
                   beta: np.ndarray | None = None, iters: int = 25) -> np.ndarray:
    """Coefficients of the grouped-binomial logistic regression (``n1`` successes of
    ``n1 + n0`` per cell) by Newton–Raphson with a ridge on all but the intercept."""
    tot = n1 + n0
    b = np.zeros(X.shape[1]) if beta is None else beta.copy()
    pen = np.full(X.shape[1], RIDGE)
    pen[0] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ b, -30, 30)))
        grad = X.T @ (n1 - tot * p) - pen * b
        hess = (X * (tot * p * (1 - p))[:, None]).T @ X + np.diag(pen) + 1e-9 * np.eye(len(b))
        step = np.linalg.solve(hess, grad)
        b = b + step
        if np.max(np.abs(step)) < 1e-8:
            break
    return b


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares with a tiny ridge (cells without weight drop out)."""
    xtw = X.T * w
    return np.linalg.solve(xtw @ X + 1e-6 * np.eye(X.shape[1]), xtw @ y)


@dataclass(frozen=True)
class Fit:
    """One estimate: the naive difference, IPW and doubly robust ATTs, the treated and
    comparison counts, the treated left out for lack of overlap, and the balance (per
    covariate level: SMD before and after weighting)."""

    naive: float
    ipw: float
    dr: float
    treated: int
    comparison: int
    trimmed: int
    balance_before: np.ndarray
    balance_after: np.ndarray
    beta: np.ndarray


def _smd(d: np.ndarray, w1: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """Standardised mean differences of 0/1 columns ``d`` between weights ``w1`` and ``w0``
    (pooled variance of the two groups' shares)."""
    p1 = np.clip((w1 @ d) / max(w1.sum(), 1e-12), 0.0, 1.0)
    p0 = np.clip((w0 @ d) / max(w0.sum(), 1e-12), 0.0, 1.0)
    sd = np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    return np.where(sd > 1e-12, (p1 - p0) / np.where(sd > 1e-12, sd, 1.0), 0.0)


def estimate(des: Design) -> Fit:
    """The estimates from the observed cells (the bootstrap's replicates go through
    :func:`_batch_dr`, the same arithmetic for many replicates at once)."""
    c, n, s = des.cells, des.n, des.s
    treated = des.g == 1
    n1 = np.bincount(des.cell[treated], n[treated], c)
    n0 = np.bincount(des.cell[~treated], n[~treated], c)
    s1 = np.bincount(des.cell[treated], s[treated], c)
    s0 = np.bincount(des.cell[~treated], s[~treated], c)
    naive = s1.sum() / max(n1.sum(), 1e-12) - s0.sum() / max(n0.sum(), 1e-12)
    b = fit_propensity(des.X, n1, n0)
    e = 1.0 / (1.0 + np.exp(-np.clip(des.X @ b, -30, 30)))
    keep = e <= MAX_PROPENSITY
    w = np.where(keep, e / (1 - e), 0.0) * n0  # the comparison's odds weights
    k1 = np.where(keep, n1, 0.0)  # the treated on the overlap
    n1k, w_sum = k1.sum(), w.sum()
    ybar0 = np.where(n0 > 0, s0 / np.maximum(n0, 1e-12), 0.0)
    m0 = des.X @ _wls(des.X, ybar0, n0)
    treated_mean = np.where(keep, s1, 0.0).sum() / n1k if n1k > 0 else np.nan
    if n1k > 0 and w_sum > 0:
        ipw = treated_mean - (w * ybar0).sum() / w_sum
        dr = (treated_mean - (k1 * m0).sum() / n1k) - (w * (ybar0 - m0)).sum() / w_sum
    else:
        ipw = dr = np.nan
    before = _smd(des.D, n1, n0) if des.D.shape[1] else np.zeros(0)
    after = _smd(des.D, k1, w) if des.D.shape[1] else np.zeros(0)
    return Fit(float(naive), float(ipw), float(dr), int(n1.sum()), int(n0.sum()),
               int(n1.sum() - n1k), before, after, b)


_CHUNK = 100  # replicates per batch: bounds memory at about 100 × cells × 8 bytes an array


def _outer(X: np.ndarray) -> Any:
    """Each cell's ``x xᵀ`` as a sparse row of ``p²`` entries (cells × p²): with
    :math:`W` (replicates × cells), ``W @ outer`` is every replicate's ``Xᵀ diag(w) X`` at
    once. ``X`` is one-hot (an intercept and one level per covariate), so a row has at most
    (covariates + 1)² non-zero entries of ``p²``: on the L demo 64 of 900, and the dense
    product was most of the bootstrap's time."""
    from scipy import sparse

    c, p = X.shape
    nz = [np.flatnonzero(row) for row in X]
    cols = np.concatenate([(i[:, None] * p + i[None, :]).ravel() for i in nz])
    vals = np.concatenate([np.outer(row[i], row[i]).ravel() for row, i in zip(X, nz,
                                                                              strict=True)])
    rows = np.repeat(np.arange(c), [len(i) ** 2 for i in nz])
    return sparse.csc_matrix((vals, (rows, cols)), (c, p * p))


def _batch_dr(des: Design, n: np.ndarray, s: np.ndarray, beta: np.ndarray,
              xx: Any, iters: int) -> np.ndarray:
    """The doubly robust estimate of each row of ``n`` and ``s`` (replicates × classes),
    as :func:`estimate` computes it, for all replicates at once: the cells' sums by one
    sparse product, Newton steps and least squares as batched solves (``xx`` is
    :func:`_outer` of the design)."""
    from scipy import sparse

    c, p = des.X.shape
    rows = np.arange(len(des.cell))
    one = np.ones(len(rows))
    a1 = sparse.csr_matrix((np.where(des.g == 1, one, 0.0), (rows, des.cell)), (len(rows), c))
    a0 = sparse.csr_matrix((np.where(des.g == 0, one, 0.0), (rows, des.cell)), (len(rows), c))
    n1, n0 = (a1.T @ n.T).T, (a0.T @ n.T).T
    s1, s0 = (a1.T @ s.T).T, (a0.T @ s.T).T
    tot = n1 + n0
    pen = np.full(p, RIDGE)
    pen[0] = 0.0
    ridge = np.diag(pen) + 1e-9 * np.eye(p)
    b = np.tile(beta, (n.shape[0], 1))
    for _ in range(iters):
        e = 1.0 / (1.0 + np.exp(-np.clip(b @ des.X.T, -30, 30)))
        grad = (n1 - tot * e) @ des.X - pen * b
        hess = (xx.T @ (tot * e * (1 - e)).T).T.reshape(-1, p, p) + ridge
        b = b + np.linalg.solve(hess, grad[..., None])[..., 0]
    e = 1.0 / (1.0 + np.exp(-np.clip(b @ des.X.T, -30, 30)))
    keep = e <= MAX_PROPENSITY
    w = np.where(keep, e / (1 - e), 0.0) * n0
    k1 = np.where(keep, n1, 0.0)
    ybar0 = np.where(n0 > 0, s0 / np.maximum(n0, 1e-12), 0.0)
    gram = (xx.T @ n0.T).T.reshape(-1, p, p) + 1e-6 * np.eye(p)
    bm = np.linalg.solve(gram, (s0 @ des.X)[..., None])[..., 0]
    m0 = bm @ des.X.T
    n1k, w_sum = k1.sum(axis=1), w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dr = ((np.where(keep, s1, 0.0).sum(axis=1) - (k1 * m0).sum(axis=1)) / n1k
              - (w * (ybar0 - m0)).sum(axis=1) / w_sum)
    return np.where((n1k > 0) & (w_sum > 0), dr, np.nan)


def bootstrap(des: Design, fit: Fit, rng: np.random.Generator, binary: bool,
              n_boot: int = N_BOOT) -> np.ndarray:
    """``n_boot`` replicates of the doubly robust estimate (the customers redrawn with
    Poisson weights: see the module's docstring), in batches of :data:`_CHUNK`."""
    mean = np.where(des.n > 0, des.s / np.maximum(des.n, 1), 0.0)
    var = np.where(des.n > 1, (des.ss - des.n * mean ** 2) / np.maximum(des.n - 1, 1), 0.0)
    xx = _outer(des.X)
    out = []
    for lo in range(0, n_boot, _CHUNK):
        k = min(_CHUNK, n_boot - lo)
        n = rng.poisson(des.n, size=(k, len(des.n))).astype(float)
        if binary:
            s = n * des.pos
        else:
            z = rng.standard_normal(n.shape)
            s = np.where(des.pos == 1, n * mean + np.sqrt(n * np.maximum(var, 0)) * z, 0.0)
        out.append(_batch_dr(des, n, s, fit.beta, xx, iters=3))
    return np.concatenate(out)
