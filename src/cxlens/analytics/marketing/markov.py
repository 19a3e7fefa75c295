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
conversions (and revenue) are the observed ones shared in proportion to the removal
effects, ``RE_c / Σ RE``.

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
    reweight them: ``src``/``dst`` transient state ids (0 = start), ``path`` the path's
    row; ``last``/``last_path`` the state each path ends in."""

    n_states: int
    src: np.ndarray
    dst: np.ndarray
    path: np.ndarray
    last: np.ndarray
    last_path: np.ndarray
    members: np.ndarray  # (n_states, channels) bool: the state contains the channel
    states: list[tuple[str, ...]]


def _encode(table: PathTable, channels: list[str], order: int) -> _Walks:
    """The chain's transitions in arrays (no loop over path steps)."""
    index = {c: i for i, c in enumerate(channels)}
    keep = [i for i, p in enumerate(table.paths) if p]
    lengths = np.array([len(table.paths[i]) for i in keep], dtype=np.int64)
    tokens = np.fromiter((index[c] for i in keep for c in table.paths[i]), dtype=np.int64,
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
    return _Walks(n_states, src, dst, path, last, rows[~nxt], members, names)


def _solve(q: sparse.csr_matrix, r: np.ndarray, keep: np.ndarray | None = None) -> float:
    """P(conversion) from the start: x₀ of (I − Q) x = r, on the states ``keep``."""
    if keep is not None:
        q, r = q[keep][:, keep], r[keep]
    n = q.shape[0]
    a = sparse.identity(n, format="csc") - q.tocsc()
    x = np.linalg.solve(a.toarray(), r) if n < SPARSE_FROM else splu(a).solve(r)
    return float(x[0])


def _effects(walks: _Walks, conv: np.ndarray, nulls: np.ndarray
             ) -> tuple[float, np.ndarray]:
    """(P(conversion), removal effect per channel) for paths weighted ``conv``/``nulls``."""
    n = walks.n_states
    total = conv + nulls
    w = total[walks.path]
    counts = sparse.coo_matrix((w, (walks.src, walks.dst)), shape=(n, n)).tocsr()
    to_conv = np.bincount(walks.last, weights=conv[walks.last_path], minlength=n)
    to_null = np.bincount(walks.last, weights=nulls[walks.last_path], minlength=n)
    out = np.asarray(counts.sum(axis=1)).ravel() + to_conv + to_null
    inv = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    q = sparse.diags(inv) @ counts
    r = to_conv * inv
    p = _solve(q, r)
    m = walks.members.shape[1]
    re = np.zeros(m)
    if p <= 0:
        return p, re
    for c in range(m):
        keep = ~walks.members[:, c]
        re[c] = 1.0 - _solve(q, r, keep) / p
    return p, re


class MarkovAttribution:
    """Markov-chain attribution of ``order`` 1 to 3 (see the module's docstring).

    ``fit(table)`` sets ``channels_``, ``states_`` (the chain's channel states),
    ``conversion_probability_`` and ``removal_effects_`` (per channel, 0–1) and returns
    the model; :meth:`credit` shares conversions and revenue; :meth:`replicate` refits on
    reweighted path counts (the bootstrap).
    """

    def __init__(self, order: int = 1) -> None:
        if not 1 <= int(order) <= MAX_ORDER:
            raise ValueError(f"order must be 1 to {MAX_ORDER}, not {order}")
        self.order = int(order)

    def fit(self, table: PathTable) -> MarkovAttribution:
        self.channels_ = table.channels
        self._walks = _encode(table, self.channels_, self.order)
        self.states_ = self._walks.states[1:]
        self.conversion_probability_, self.removal_effects_ = _effects(
            self._walks, table.conversions, table.nulls)
        return self

    def replicate(self, conv: np.ndarray, nulls: np.ndarray) -> np.ndarray:
        """The removal effects refitted with the paths' counts replaced by ``conv`` and
        ``nulls`` (same paths, same order as the fitted table)."""
        return _effects(self._walks, conv, nulls)[1]

    def credit(self, table: PathTable, effects: np.ndarray | None = None
               ) -> dict[str, tuple[float, float]]:
        """``{channel: (conversions, revenue)}``: the conversions and revenue of the paths
        with a touch, shared by the normalised removal effects."""
        re = self.removal_effects_ if effects is None else effects
        touched = np.array([bool(p) for p in table.paths], dtype=bool)
        conv = float(table.conversions[touched].sum()) if len(touched) else 0.0
        rev = float(table.revenue[touched].sum()) if len(touched) else 0.0
        total = float(re.sum())
        share = re / total if total > 0 else np.zeros_like(re)
        return {c: (conv * s, rev * s) for c, s in zip(self.channels_, share, strict=True)}


__all__ = ["MAX_ORDER", "SPARSE_FROM", "MarkovAttribution"]
