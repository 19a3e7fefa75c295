"""Shapley-value attribution (Shapley 1953; Zhao et al. 2018).

Shapley, L. S. (1953). A value for n-person games. In *Contributions to the Theory of
Games II*, 307–317. Zhao, K., Mahboobi, S. H. & Bagheri, S. R. (2018). Shapley value
methods for attribution modeling in online advertising. arXiv:1804.05327.

The game: the players are the channels, and the worth v(S) of a coalition S of channels
is the conversions (or revenue) of the paths whose set of channels is a subset of S — what
those channels brought about without any other. A channel's Shapley value is its average
marginal worth over every order in which the coalition can form.

Computed exactly, for any number of channels, without enumerating the 2ⁿ coalitions:
with R(T) the conversions of the paths whose channel set is exactly T, v(S) = Σ_{T⊆S} R(T)
is a sum of unanimity games, and the Shapley value of each is R(T)/|T| to every member of
T (Shapley 1953, the additivity and symmetry axioms; Zhao et al. 2018, their
"simplified Shapley value"). So φ_c = Σ_{T∋c} R(T)/|T|, one pass over the distinct paths:
the cost grows with the paths, not with 2ⁿ, and there is no limit on the number of
channels. The tests check it against the textbook formula over all coalitions (eight
channels).

Order and repeats on a path do not matter to this game (a path is its channel set); the
values sum to the conversions of the paths with a touch (efficiency).
"""

from __future__ import annotations

import numpy as np

from cxlens.analytics.marketing._paths import PathTable


def membership(table: PathTable) -> tuple[list[str], np.ndarray]:
    """(channels, matrix): row i gives each channel of path i's set 1/|set| (0 elsewhere),
    so ``weights @ matrix`` is the Shapley value for any per-path worth ``weights``."""
    channels = table.channels
    index = {c: i for i, c in enumerate(channels)}
    m = np.zeros((len(table.paths), len(channels)))
    for i, path in enumerate(table.paths):
        chans = {index[c] for c in path}
        for c in chans:
            m[i, c] = 1.0 / len(chans)
    return channels, m


def shapley_credit(table: PathTable) -> dict[str, tuple[float, float]]:
    """``{channel: (conversions, revenue)}``: each channel's Shapley value of the
    conversions game and of the revenue game."""
    channels, m = membership(table)
    conv, rev = table.conversions @ m, table.revenue @ m
    return {c: (float(conv[i]), float(rev[i])) for i, c in enumerate(channels)}


def coalition_shapley(worth: dict[frozenset[str], float], players: list[str]
                      ) -> dict[str, float]:
    """The textbook Shapley value over all 2ⁿ coalitions,
    φ_i = Σ_{S ⊆ N∖{i}} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)), for a game given by its
    worth per coalition (missing coalitions are worth 0). Exponential: a cross-check for
    the tests, not for use on data."""
    from itertools import combinations
    from math import factorial

    n = len(players)
    phi = dict.fromkeys(players, 0.0)
    for i in players:
        others = [p for p in players if p != i]
        for size in range(n):
            coef = factorial(size) * factorial(n - size - 1) / factorial(n)
            for s in combinations(others, size):
                fs = frozenset(s)
                phi[i] += coef * (worth.get(fs | {i}, 0.0) - worth.get(fs, 0.0))
    return phi


__all__ = ["coalition_shapley", "membership", "shapley_credit"]
