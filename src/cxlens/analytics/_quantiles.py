"""Exact quantiles from a compressed sample: the engines give distinct values with counts
(``GROUP BY value``), never the rows, and ``quantile_cont`` is not the same on DuckDB and
Spark (docs/engine.md), so the order statistic is picked here, in NumPy."""

from __future__ import annotations

import numpy as np


def weighted_quantiles(values: np.ndarray, counts: np.ndarray,
                       qs: tuple[float, ...] = (0.5, 0.9)) -> list[float]:
    """Exact quantiles of a sample given as sorted distinct ``values`` with ``counts``:
    the ``q·(n−1)``-th order statistic, interpolated linearly (numpy's default)."""
    cum = np.cumsum(counts)
    n = int(cum[-1])
    out = []
    for q in qs:
        h = q * (n - 1)
        lo = int(np.floor(h))
        hi = min(lo + 1, n - 1)
        x_lo = values[np.searchsorted(cum, lo, side="right")]
        x_hi = values[np.searchsorted(cum, hi, side="right")]
        out.append(float(x_lo + (h - lo) * (x_hi - x_lo)))
    return out
