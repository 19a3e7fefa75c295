"""Markov-chain attribution with removal effects solved exactly (Anderl et al. 2016).

Anderl, E., Becker, I., von Wangenheim, F. & Schumann, J. H. (2016). Mapping the customer
journey: Lessons learned from graph-based online attribution modeling. *International
Journal of Research in Marketing* 33(3), 457–474.

The model, in the paper's terms: every path is a walk from ``(start)`` through the channels
to one of two absorbing states, ``(conversion)`` or ``(null)``. The transition
probabilities are the maximum-likelihood ones, the observed transition counts over the
paths divided by the counts out of each state. In a chain of **order k** a state is the
last k channels met (fewer at the start of a path), so the next step may depend on the
k before it.

The **removal effect** of a channel is the share of the conversion probability lost when
the channel is taken out: every transition into a state that contains it goes to
``(null)`` instead, and ``RE_c = 1 − P_{−c}(conversion) / P(conversion)``. The attributed
conversions are the observed ones shared in proportion to the removal effects,
``RE_c / Σ RE``. Revenue is shared the same way by the removal effects on the expected
revenue of a walk — each conversion worth the mean revenue of the paths that convert from
its last state — so a channel of few but large sales (B2B deals) keeps its revenue (the
"conversion value" removal effects of ChannelAttribution).

Where others estimate P(conversion) by simulating walks (the ChannelAttribution package),
this module solves the absorbing chain: with Q the transitions among the transient states
(start and channel states) and r the one-step probabilities of converting, the absorption
probabilities are x = (I − Q)⁻¹ r (the fundamental matrix N = (I − Q)⁻¹; Kemeny & Snell
1960, *Finite Markov Chains*, ch. III), solved as one linear system per removal — dense
below :data:`SPARSE_FROM` states, a sparse LU above. The answer has no simulation noise.

Paths without any touch (conversions with no touchpoint in the lookback) are no walk
through a channel and are left out of the chain; they are reported apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

from cxlens.analytics.marketing._paths import PathTable

MAX_ORDER = 3
SPARSE_FROM = 300
"""Transient states from which the linear systems are solved sparse (a dense solve of n
states costs n³/3; the chains of order 2 and 3 are sparse: few of the k-tuples occur)."""


@dataclass(frozen=True)
class _Walks:
    """The transitions of the distinct paths, each tied to its path so a bootstrap can
    reweight them: ``src``/``dst`` transient state ids (0 = start), ``path`` the distinct
    path's number; ``last``/``last_path`` the state each path ends in. ``row_path``: the
    distinct path of each row of the table (equal rows are walked once)."""

    channels: list[str]
    row_path: np.ndarray
    n_paths: int
    n_states: int
    src: np.ndarray
    dst: np.ndarray
    path: np.ndarray
    last: np.ndarray
    last_path: np.ndarray
    members: np.ndarray  # (n_states, channels) bool: the state contains the channel
    states: list[tuple[str, ...]]


def _encode(table: PathTable, order: int) -> _Walks:
    """The chain's transitions in arrays (no loop over path steps). Rows of equal paths
    (a table of one row per journey) are walked once, their counts summed."""
    number: dict[tuple[str, ...], int] = {}
    row_path = np.fromiter((number.setdefault(p, len(number)) for p in table.paths),
                           dtype=np.int64, count=len(table.paths))
    distinct = list(number)
    channels = sorted(set(chain.from_iterable(distinct)))
    index = {c: i for i, c in enumerate(channels)}
    keep = [i for i, p in enumerate(distinct) if p]
    lengths = np.array([len(distinct[i]) for i in keep], dtype=np.int64)
    tokens = np.fromiter((index[c] for i in keep for c in distinct[i]), dtype=np.int64,
                         count=int(lengths.sum()))
    rows = np.repeat(np.asarray(keep, dtype=np.int64), lengths)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if len(keep) else lengths
    pos = np.arange(len(tokens)) - np.repeat(starts, lengths)
    base = len(channels) + 1
    code = np.zeros(len(tokens), dtype=np.int64)
    for j in range(order):  # the state: the last `order` channels, 0 before the path
        shifted = np.zeros(len(tokens), dtype=np.int64)
        if j:
            shifted[j:] = tokens[:-j] + 1
        else:
            shifted[:] = tokens + 1
        shifted[pos < j] = 0
        code += shifted * base ** j
    uniq, state = np.unique(code, return_inverse=True)
    state = state.astype(np.int64) + 1  # 0 is the start
    n_states = len(uniq) + 1
    members = np.zeros((n_states, len(channels)), dtype=bool)
    names: list[tuple[str, ...]] = [()]
    for s, c in enumerate(uniq, start=1):
        digits = [(int(c) // base ** j) % base for j in range(order)]
        chans = [d - 1 for d in reversed(digits) if d]
        members[s, chans] = True
        names.append(tuple(channels[d] for d in chans))
    first = pos == 0
    nxt = np.ones(len(tokens), dtype=bool)  # a step with a successor inside its path
    if len(tokens):
        nxt[np.cumsum(lengths) - 1] = False
    src = np.concatenate((np.zeros(int(first.sum()), dtype=np.int64), state[:-1][nxt[:-1]]))
    dst = np.concatenate((state[first], state[1:][nxt[:-1]]))
    path = np.concatenate((rows[first], rows[:-1][nxt[:-1]]))
    last = state[~nxt]
    return _Walks(channels, row_path, len(distinct), n_states, src, dst, path, last,
                  rows[~nxt], members, names)


def _solve(q: sparse.csr_matrix, r: np.ndarray, keep: np.ndarray | None = None
           ) -> np.ndarray:
    """Row 0 of the solution X of (I − Q) X = R on the states ``keep``: per column of R,
    the absorbed reward from the start (P(conversion), expected revenue)."""
    if keep is not None:
        q, r = q[keep][:, keep], r[keep]
    n = q.shape[0]
    a = sparse.identity(n, format="csc") - q.tocsc()
    x = np.linalg.solve(a.toarray(), r) if n < SPARSE_FROM else splu(a).solve(r)
    return np.asarray(x[0], dtype=float)


def _effects(walks: _Walks, conv: np.ndarray, nulls: np.ndarray, revenue: np.ndarray
             ) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(P(conversion), expected revenue, removal effect per channel on conversions and on
    revenue) for paths weighted ``conv``/``nulls`` with ``revenue``."""
    n, k = walks.n_states, walks.n_paths
    conv = np.bincount(walks.row_path, weights=conv, minlength=k)
    nulls = np.bincount(walks.row_path, weights=nulls, minlength=k)
    revenue = np.bincount(walks.row_path, weights=revenue, minlength=k)
    total = conv + nulls
    w = total[walks.path]
    counts = sparse.coo_matrix((w, (walks.src, walks.dst)), shape=(n, n)).tocsr()
    to_conv = np.bincount(walks.last, weights=conv[walks.last_path], minlength=n)
    to_null = np.bincount(walks.last, weights=nulls[walks.last_path], minlength=n)
    value = np.bincount(walks.last, weights=revenue[walks.last_path], minlength=n)
    out = np.asarray(counts.sum(axis=1)).ravel() + to_conv + to_null
    inv = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    q = sparse.diags(inv) @ counts
    r = np.column_stack((to_conv * inv, value * inv))
    p, v = _solve(q, r)
    m = walks.members.shape[1]
    re, re_value = np.zeros(m), np.zeros(m)
    for c in range(m):
        if p <= 0 and v <= 0:
            break
        pc, vc = _solve(q, r, ~walks.members[:, c])
        re[c] = 1.0 - pc / p if p > 0 else 0.0
        re_value[c] = 1.0 - vc / v if v > 0 else 0.0
    return float(p), float(v), re, re_value


class MarkovAttribution:
    """Markov-chain attribution of ``order`` 1 to 3 (see the module's docstring).

    ``fit(table)`` sets ``channels_``, ``states_`` (the chain's channel states),
    ``conversion_probability_``, ``expected_revenue_`` (per path started),
    ``removal_effects_`` and ``revenue_removal_effects_`` (per channel, 0–1) and returns
    the model; :meth:`credit` shares conversions and revenue; :meth:`replicate` refits on
    reweighted path counts (the bootstrap).
    """

    def __init__(self, order: int = 1) -> None:
        if not 1 <= int(order) <= MAX_ORDER:
            raise ValueError(f"order must be 1 to {MAX_ORDER}, not {order}")
        self.order = int(order)

    def fit(self, table: PathTable) -> MarkovAttribution:
        self._walks = _encode(table, self.order)
        self.channels_ = self._walks.channels
        self.states_ = self._walks.states[1:]
        (self.conversion_probability_, self.expected_revenue_, self.removal_effects_,
         self.revenue_removal_effects_) = _effects(self._walks, table.conversions,
                                                   table.nulls, table.revenue)
        return self

    def replicate(self, conv: np.ndarray, nulls: np.ndarray, revenue: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """The removal effects (on conversions, on revenue) refitted with the paths'
        counts replaced by ``conv``, ``nulls`` and ``revenue`` (same paths, same order as
        the fitted table)."""
        return _effects(self._walks, conv, nulls, revenue)[2:]

    def credit(self, table: PathTable, effects: np.ndarray | None = None,
               revenue_effects: np.ndarray | None = None) -> dict[str, tuple[float, float]]:
        """``{channel: (conversions, revenue)}``: the conversions of the paths with a touch
        shared by the normalised removal effects, their revenue by the revenue ones."""
        re = self.removal_effects_ if effects is None else effects
        rv = self.revenue_removal_effects_ if revenue_effects is None else revenue_effects
        touched = np.array([bool(p) for p in table.paths], dtype=bool)
        conv = float(table.conversions[touched].sum()) if len(touched) else 0.0
        rev = float(table.revenue[touched].sum()) if len(touched) else 0.0
        return {c: (conv * s, rev * t) for c, s, t in
                zip(self.channels_, normalised(re), normalised(rv), strict=True)}


def normalised(effects: np.ndarray) -> np.ndarray:
    """Removal effects as shares summing to one (all zero when they are)."""
    total = float(effects.sum())
    return effects / total if total > 0 else np.zeros_like(effects)


__all__ = ["MAX_ORDER", "SPARSE_FROM", "MarkovAttribution", "normalised"]
