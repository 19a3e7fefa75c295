"""Key drivers: which attribute ratings drive the overall score, and how well each performs.

``key_drivers`` reads the attribute ratings that surveys carry in ``v_feedback.properties``
(for example Google Forms' rating grid ``How would you rate us? [Delivery]``) through an
``Engine`` (DuckDB or Spark), which returns aggregates only: the sums, squares and
cross-products of the ratings and the score (for the correlations), and one row per
distinct combination of ratings with a count (for the bootstrap). It decomposes the R² of
the overall score on the attributes into one share per attribute:

* ``method="johnson"`` (default): Johnson's (2000) relative weights — regress the score on the
  orthogonal counterparts Z of the attributes (Z = X·R^{-1/2}), then share each Z's part of
  R² back to the attributes by the squared loadings of X on Z;
* ``method="shapley"``: the exact Shapley value of R² (Lindeman, Merenda & Gold 1980; LMG),
  the mean gain in R² from adding the attribute over all orders, from all 2^k subsets
  (k ≤ 10).

Both sum to R². Uncertainty comes from the nonparametric bootstrap (Efron & Tibshirani
1993): resampling the answers with replacement is drawing the counts of the compressed rows
from a multinomial, so B = 500 replicates are a few matrix products. Intervals are bootstrap
percentiles. Formulas and assumptions: docs/methods.md ("Key drivers").
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from cxlens.analytics._intervals import Estimate, mean_interval
from cxlens.analytics.experience import MIN_SAMPLE
from cxlens.warehouse.engine import Engine

__all__ = [
    "MAX_SHAPLEY_ATTRIBUTES",
    "QUADRANTS",
    "Driver",
    "KeyDrivers",
    "find_rating_attributes",
    "key_drivers",
    "relative_weights",
    "shapley_r2",
]

MAX_SHAPLEY_ATTRIBUTES = 10
"""Exact Shapley needs R² of all 2^k subsets; beyond 10 attributes use Johnson's weights."""

QUADRANTS = {
    (True, False): "improve",  # important, performing below average: act here first
    (True, True): "maintain",  # important and performing well: the strengths to keep
    (False, False): "monitor",  # less important, below average: lower priority
    (False, True): "overinvest?",  # less important, above average: possibly over-served
}
"""Quadrant of the priority matrix by (importance above average, performance above average)."""

_GRID = re.compile(r"\[(.+)\]\s*$")


@dataclass(frozen=True)
class Driver:
    """One attribute: its share of R² (importance) and its mean rating (performance).

    ``importance`` is the raw relative weight (the attributes' values sum to R²) with its
    bootstrap SE and 95 % percentile interval; ``share`` is importance / R² in %.
    ``performance`` is the mean rating with a t interval. ``quadrant`` is one of
    QUADRANTS' labels.
    """

    attribute: str
    key: str
    importance: Estimate
    share: float
    performance: Estimate
    quadrant: str
    rank: int


@dataclass(frozen=True)
class KeyDrivers:
    """The decomposition, sorted by importance, with the priority matrix's axes.

    Draw performance on x and importance on y; the lines ``performance_line`` (mean of the
    attributes' performance) and ``importance_line`` (R²/k, an equal share) split it into
    the quadrants named in each driver.
    """

    metric: str
    method: str
    n: int
    r2: Estimate
    drivers: list[Driver]
    importance_line: float
    performance_line: float
    n_boot: int
    seed: int

    @property
    def too_small(self) -> bool:
        """Fewer than MIN_SAMPLE answers carry every rating: too uncertain to act on."""
        return self.n < MIN_SAMPLE

    @property
    def scale_max(self) -> int | None:
        """The top of the rating scale the attributes are asked on: the overall metric's
        (CSAT 1–5, CES 1–7), as the rating grids of those surveys are."""
        from cxlens.analytics.experience import METRICS

        return METRICS.get(self.metric) if self.metric in ("csat", "ces") else None

    def order(self) -> list[str]:
        return [d.attribute for d in self.drivers]

    def matrix(self) -> list[dict[str, Any]]:
        """Rows for the priority matrix: attribute, x (performance), y (importance), quadrant."""
        return [{"attribute": d.attribute, "x": d.performance.value, "y": d.importance.value,
                 "quadrant": d.quadrant} for d in self.drivers]


# --- the decompositions (pure, batched over leading axes) ---------------------------------


def relative_weights(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights from predictor correlations R (…, k, k) and the
    predictors' correlations with the outcome r (…, k). Returns (…, k), summing to R².

    Λ = R^{1/2} (symmetric square root, Λ = QΛ^{1/2}Qᵀ) holds the correlations of X with
    its closest orthonormal counterparts Z; β = Λ^{-1} r are the outcome's weights on Z;
    ε_j = Σ_k Λ_jk² β_k².
    """
    lam, Q = np.linalg.eigh(R)
    root = (Q * np.sqrt(np.clip(lam, 0.0, None))[..., None, :]) @ np.swapaxes(Q, -1, -2)
    beta = np.linalg.solve(root, r[..., None])[..., 0]
    return np.einsum("...jk,...k->...j", root ** 2, beta ** 2)


def _r2(R: np.ndarray, r: np.ndarray, subset: tuple[int, ...]) -> np.ndarray:
    if not subset:
        return np.zeros(R.shape[:-2])
    idx = list(subset)
    Rs = R[..., idx, :][..., :, idx]
    rs = r[..., idx]
    return np.einsum("...i,...i->...", rs, np.linalg.solve(Rs, rs[..., None])[..., 0])


def shapley_r2(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Exact Shapley values (LMG) of R² for each of k ≤ 10 predictors; (…, k), sum R².

    φ_j = Σ_{S ⊆ others} |S|!(k − |S| − 1)!/k! · [R²(S ∪ {j}) − R²(S)], with
    R²(S) = r_Sᵀ R_SS⁻¹ r_S.
    """
    k = r.shape[-1]
    if k > MAX_SHAPLEY_ATTRIBUTES:
        raise ValueError(f"exact Shapley is limited to {MAX_SHAPLEY_ATTRIBUTES} attributes")
    r2 = {s: _r2(R, r, s) for size in range(k + 1)
          for s in itertools.combinations(range(k), size)}
    out = np.zeros(r.shape)
    for j in range(k):
        others = [i for i in range(k) if i != j]
        for size in range(k):
            w = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for s in itertools.combinations(others, size):
                out[..., j] += w * (r2[tuple(sorted((*s, j)))] - r2[s])
    return out


def _correlations(data: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correlations from rows ``data`` (m, 1 + k; outcome first) weighted by ``counts``
    (…, m). Returns R (…, k, k) among predictors and r (…, k) with the outcome."""
    n = counts.sum(axis=-1)[..., None]
    mean = counts @ data / n
    second = np.einsum("...m,mi,mj->...ij", counts, data, data) / n[..., None]
    cov = second - mean[..., :, None] * mean[..., None, :]
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / (sd[..., :, None] * sd[..., None, :])
    return corr[..., 1:, 1:], corr[..., 1:, 0]


# --- reading the ratings -------------------------------------------------------------------


def _json_path(engine: Engine, key: str) -> str:
    """The JSON path of a top-level ``key``, in the engine's own path syntax.

    The path is a query parameter (a property key is data, never SQL text), and a
    parameter is not transpiled: DuckDB reads ``$."key"`` (with ``\"`` escapes), Spark's
    ``get_json_object`` only ``$['key']`` and cannot reach a key holding ``'``.
    """
    if engine.name == "spark":
        if "'" in key:
            raise ValueError(f"the rating key {key!r} holds an apostrophe, which Spark's JSON "
                             "paths cannot address; rename the survey item or use DuckDB")
        return f"$['{key}']"
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


_KEYS_SQL = r"""
SELECT key FROM (
  SELECT unnest(try(json_keys(properties))) AS key
  FROM v_feedback WHERE metric = $m AND properties IS NOT NULL
) WHERE regexp_matches(key, '\[.+\]\s*$') GROUP BY key ORDER BY key
"""


def _value(i: int) -> str:
    """SQL for the text of property ``$p{i}`` (NULL when missing or malformed JSON)."""
    return f"try(json_extract_string(properties, $p{i}))"


def find_rating_attributes(engine: Engine, metric: str = "csat") -> dict[str, str]:
    """Rating-grid keys in the metric's ``properties``: label → key.

    A grid key looks like ``Question [Item]`` (Google Forms, Typeform matrices); it is kept
    when at least half of the answers holding a value there hold a number. The label is
    the item. Two aggregate queries: the candidate keys, then each key's numeric share.
    Malformed ``properties`` count as no keys (``try``: DuckDB raises on them, Spark not).
    """
    keys = engine.query(_KEYS_SQL, {"m": metric}).column("key").to_pylist()
    if not keys:
        return {}
    shares = ", ".join(
        f"avg(CASE WHEN {_value(i)} IS NULL THEN NULL WHEN TRY_CAST({_value(i)} AS DOUBLE) "
        f"IS NULL THEN 0.0 ELSE 1.0 END) AS s{i}" for i in range(len(keys)))
    params: dict[str, Any] = {"m": metric}
    params.update({f"p{i}": _json_path(engine, k) for i, k in enumerate(keys)})
    row = engine.query(f"SELECT {shares} FROM v_feedback WHERE metric = $m "
                       "AND properties IS NOT NULL", params).to_pylist()[0]
    return _labels([k for i, k in enumerate(keys)
                    if row[f"s{i}"] is not None and row[f"s{i}"] >= 0.5])


def _labels(keys: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in keys:
        m = _GRID.search(key)
        out[m.group(1).strip() if m else key] = key
    return out


def _answers_sql(k: int, start: date | None, end: date | None) -> str:
    """SQL of the answers that carry the score and all ``k`` ratings: y, x0 … x{k-1}."""
    where = ["metric = $m", "score IS NOT NULL"]
    if start is not None:
        where.append("ts >= $s")
    if end is not None:
        where.append("ts < $e")
    cols = ", ".join(f"TRY_CAST({_value(i)} AS DOUBLE) AS x{i}" for i in range(k))
    return (f"SELECT * FROM (SELECT CAST(score AS DOUBLE) AS y, {cols} FROM v_feedback "
            f"WHERE {' AND '.join(where)}) WHERE "
            + " AND ".join(f"x{i} IS NOT NULL" for i in range(k)))


class _Reader:
    """The aggregates key drivers need, computed by the engine (no answer rows leave it).

    ``moments``: n, the sums S (1 + k; outcome first) and the sums of squares and
    cross-products P (1 + k, 1 + k) of the answers carrying every rating, for the estimate.
    ``combinations``: the distinct (outcome, ratings) combinations (m, 1 + k) with their
    counts (m), in a total order, for the bootstrap. There are at most (number of scale
    points)^(1 + k) of them however many answers there are, and both engines return them in
    the same order, so the same seed draws the same replicates on either.
    """

    def __init__(self, engine: Engine, metric: str, keys: Sequence[str], start: date | None,
                 end: date | None) -> None:
        k = len(keys)
        self.engine, self.k = engine, k
        self.params: dict[str, Any] = {"m": metric}
        self.params.update({f"p{i}": _json_path(engine, key) for i, key in enumerate(keys)})
        if start is not None:
            self.params["s"] = start
        if end is not None:
            self.params["e"] = end
        self.answers = _answers_sql(k, start, end)
        self.names = ["y"] + [f"x{i}" for i in range(k)]

    def moments(self) -> tuple[float, np.ndarray, np.ndarray]:
        names, k = self.names, self.k
        sums = [f"sum({c}) AS s_{c}" for c in names]
        cross = [f"sum({a} * {b}) AS p_{a}_{b}" for i, a in enumerate(names)
                 for b in names[i:]]
        mom = self.engine.query(f"SELECT CAST(count(*) AS BIGINT) AS n, "
                                f"{', '.join(sums + cross)} FROM ({self.answers})",
                                self.params).to_pylist()[0]
        S = np.array([mom[f"s_{c}"] or 0.0 for c in names], dtype=float)
        P = np.zeros((k + 1, k + 1))
        for i, a in enumerate(names):
            for j in range(i, k + 1):
                P[i, j] = P[j, i] = mom[f"p_{a}_{names[j]}"] or 0.0
        return float(mom["n"]), S, P

    def combinations(self) -> tuple[np.ndarray, np.ndarray]:
        cols = ", ".join(self.names)
        t = self.engine.query(f"SELECT {cols}, CAST(count(*) AS BIGINT) AS c "
                              f"FROM ({self.answers}) GROUP BY {cols} ORDER BY {cols}",
                              self.params)
        data = np.array([t.column(c).to_numpy() for c in self.names], dtype=float).T
        return data.reshape(-1, self.k + 1), t.column("c").to_numpy().astype(float)


def _moment_correlations(n: float, S: np.ndarray, P: np.ndarray,
                         ) -> tuple[np.ndarray, np.ndarray]:
    """R (k, k) among predictors and r (k) with the outcome from n, sums and cross-sums."""
    mean = S / n
    cov = P / n - np.outer(mean, mean)
    sd = np.sqrt(np.clip(np.diagonal(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    return corr[1:, 1:], corr[1:, 0]


# --- the analysis ----------------------------------------------------------------------------


def key_drivers(engine: Engine, overall_metric: str = "csat",
                attributes: Sequence[str] | Mapping[str, str] | None = None, *,
                start: date | None = None, end: date | None = None,
                method: str = "johnson", n_boot: int = 500, seed: int = 0) -> KeyDrivers:
    """Relative importance of attribute ratings for the overall score, with bootstrap
    intervals and each attribute's mean rating.

    ``attributes``: property keys, or a mapping label → key; by default every rating-grid key
    found by :func:`find_rating_attributes`. Answers missing any attribute are left out
    (listwise). ``method``: ``johnson`` or ``shapley``. ``n_boot`` replicates with ``seed``.
    """
    if method not in ("johnson", "shapley"):
        raise ValueError(f"method must be 'johnson' or 'shapley', not {method!r}")
    if attributes is None:
        found = find_rating_attributes(engine, overall_metric)
    elif isinstance(attributes, Mapping):
        found = dict(attributes)
    else:
        found = {(m.group(1).strip() if (m := _GRID.search(k)) else k): k for k in attributes}
    if len(found) < 2:
        raise ValueError(f"key drivers need at least two attribute ratings on "
                         f"{overall_metric!r} answers; found {list(found.values())}")
    labels, keys = list(found), list(found.values())
    reader = _Reader(engine, overall_metric, keys, start, end)
    n_answers, S, P = reader.moments()
    n = int(n_answers)
    k = len(keys)
    if n < k + 3:
        raise ValueError(f"only {n} {overall_metric!r} answers carry all of {labels}: "
                         "too few for key drivers")
    data, counts = reader.combinations()
    decompose = relative_weights if method == "johnson" else shapley_r2
    R, r = _moment_correlations(n_answers, S, P)
    est = decompose(R, r)
    rng = np.random.default_rng(seed)
    boot_counts = rng.multinomial(n, counts / n, size=n_boot).astype(float)
    bR, br = _correlations(data, boot_counts)
    ok = np.isfinite(bR).all(axis=(-2, -1)) & np.isfinite(br).all(axis=-1)
    boot = decompose(bR[ok], br[ok])
    r2 = float(est.sum())
    boot_r2 = boot.sum(axis=-1)

    def estimate(value: float, sample: np.ndarray) -> Estimate:
        lo, hi = np.percentile(sample, [2.5, 97.5])
        return Estimate(value, float(sample.std(ddof=1)), float(lo), float(hi),
                        "bootstrap-percentile")

    means, perf = [], []
    for i in range(k):
        m = float(S[1 + i] / n)
        v = max(float(P[1 + i, 1 + i] - n * m * m), 0.0) / (n - 1)
        means.append(m)
        perf.append(mean_interval(m, v, n))
    imp_line, perf_line = r2 / k, float(np.mean(means))
    order = np.argsort(-est, kind="stable")
    drivers = []
    for rank, i in enumerate(order, start=1):
        quadrant = QUADRANTS[(bool(est[i] > imp_line), bool(means[i] >= perf_line))]
        drivers.append(Driver(labels[i], keys[i], estimate(float(est[i]), boot[:, i]),
                              100.0 * float(est[i]) / r2 if r2 > 0 else math.nan,
                              perf[i], quadrant, rank))
    return KeyDrivers(overall_metric, method, n, estimate(r2, boot_r2), drivers, imp_line,
                      perf_line, int(ok.sum()), seed)
