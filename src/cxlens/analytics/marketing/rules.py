"""Rule-based attribution: first touch, last touch, linear, position based and time decay.

Each rule splits every conversion of a path (and its revenue) over the path's touches by
fixed weights that sum to one:

* **first touch** — all to the first touch; **last touch** — all to the last;
* **linear** — 1/n to each of the n touches;
* **position based** (the "U-shaped" 40/20/40 rule) — 40 % to the first touch, 40 % to the
  last, the remaining 20 % evenly over the touches between; a path of two touches gives
  50 % to each, a path of one 100 %;
* **time decay** — a touch ``a`` days before the conversion weighs ``2^(−a / half-life)``,
  the weights normalised within the path (the 7-day half-life is Google Analytics' old
  default). It needs each touch's age, so it is computed in SQL
  (:func:`cxlens.analytics.marketing._paths.decay_sql`); the others work on the distinct
  paths.

A channel met twice on one path (``email, web, email``) is credited for both touches. The
rules are conventions, not estimates: they say nothing about what a channel caused
(docs/methods.md, "Attribution").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cxlens.analytics.marketing._paths import PathTable

RULES: tuple[str, ...] = ("first", "last", "linear", "position", "time_decay")
DEFAULT_HALF_LIFE = 7.0
POSITION_ENDS = 0.4  # the share of the first touch and of the last in the 40/20/40 rule


def _first(n: int) -> np.ndarray:
    w = np.zeros(n)
    w[0] = 1.0
    return w


def _last(n: int) -> np.ndarray:
    w = np.zeros(n)
    w[-1] = 1.0
    return w


def _linear(n: int) -> np.ndarray:
    return np.full(n, 1.0 / n)


def _position(n: int) -> np.ndarray:
    if n <= 2:
        return np.full(n, 1.0 / n)
    w = np.full(n, (1.0 - 2 * POSITION_ENDS) / (n - 2))
    w[0] = w[-1] = POSITION_ENDS
    return w


WEIGHTS: dict[str, Callable[[int], np.ndarray]] = {
    "first": _first, "last": _last, "linear": _linear, "position": _position}
"""The weights of a path of n touches, per rule (time decay is in SQL)."""


def rule_credit(table: PathTable, rule: str) -> dict[str, tuple[float, float]]:
    """``{channel: (conversions, revenue)}`` credited by ``rule`` (not ``time_decay``).

    Paths without a touch are not credited to any channel (they are reported apart as
    conversions without a touchpoint)."""
    if rule not in WEIGHTS:
        raise ValueError(f"rule must be one of {', '.join(WEIGHTS)}, not {rule!r}")
    weights = WEIGHTS[rule]
    credit: dict[str, list[float]] = {c: [0.0, 0.0] for c in table.channels}
    for path, conv, rev in zip(table.paths, table.conversions, table.revenue, strict=True):
        if not path or conv <= 0:
            continue
        for channel, w in zip(path, weights(len(path)), strict=True):
            credit[channel][0] += w * conv
            credit[channel][1] += w * rev
    return {c: (v[0], v[1]) for c, v in credit.items()}


__all__ = ["DEFAULT_HALF_LIFE", "RULES", "WEIGHTS", "rule_credit"]
