"""Look-alikes of the best customers: who, among those not (yet) best, resembles them.

**Best** is defined on an outcome window, so that the model learns from what was known when a
customer arrived, not from the value that defines them: a customer is *mature* when their
first purchase is at least ``window_days`` before the end of the data, and a mature customer
is *best* when their revenue in the first ``window_days`` after the first purchase (that
purchase included) is in the top ``top_share`` of the mature customers' (ties in). Customers
who are not mature have no label yet; they are the main audience of the list.

**Features**, all known at or soon after acquisition (``FEATURES_SQL``): the acquisition
channel (the channel of the first counted order, as in the value module), the first
purchase day's amount (log, standardised: the "monetary" of RFM at entry), the customer's
segment, language and country from the CRM, and the group of their first NPS answer within
the window (promoter, passive, detractor, or none). Recency and frequency are left out on
purpose: they *are* the outcome for a mature customer, so a model on them would only
restate the definition of best. A level held by fewer than :data:`MIN_LEVEL` customers gets no
indicator of its own (it counts as the baseline).

**Model**: L2-regularised logistic regression of best against the rest on the mature
customers (Hosmer, Lemeshow & Sturdivant 2013, *Applied Logistic Regression*), one-hot
categories. A random quarter of the mature customers (seeded) is held out; the model fitted
on the other three quarters scores them, and the **held-out AUC** — the probability that a
best customer scores above a random other one — is reported with its Hanley & McNeil (1982)
standard error and a 95 % interval, so a reader knows how far to trust the ranking (0.5: no
better than chance). The scores of the list come from the model refitted on all mature
customers. A customer's reason names the features of theirs that push the score up most.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cxlens.analytics._intervals import Estimate

CATEGORICAL: tuple[str, ...] = ("channel", "segment", "language", "country", "nps_group")
NUMERIC: tuple[str, ...] = ("first_amount",)
MIN_LEVEL = 10
"""Customers a category level needs to be its own feature (fewer: the baseline)."""
HOLDOUT = 0.25
MIN_MATURE = 40
"""Mature customers needed to fit the model (and at least :data:`MIN_CLASS` in each class)."""
MIN_CLASS = 10
C = 1.0
"""Inverse strength of the L2 penalty (scikit-learn's ``C``)."""

FEATURES_SQL = """
WITH p AS ({purchases}),
{acquisition},
firstans AS (
  SELECT customer_id, score FROM (
    SELECT fb.customer_id AS customer_id, fb.score AS score, row_number() OVER (
             PARTITION BY fb.customer_id ORDER BY fb.ts, fb._batch, fb._line) AS rn
    FROM v_feedback AS fb JOIN firsts AS f ON f.customer_id = fb.customer_id
    WHERE fb.metric = 'nps' AND fb.score IS NOT NULL
      AND CAST(fb.ts AS DATE) <= $end
      AND date_diff('day', CAST(f.first_d AS DATE), CAST(fb.ts AS DATE)) < $window) AS a
  WHERE rn = 1
),
per AS (
  SELECT f.customer_id AS customer_id, f.first_d AS first_d, f.channel AS channel,
         CAST(sum(p.amount) FILTER (WHERE p.d = f.first_d) AS DOUBLE) AS first_amount,
         CAST(sum(p.amount) FILTER (
           WHERE date_diff('day', CAST(f.first_d AS DATE), CAST(p.d AS DATE)) < $window)
           AS DOUBLE) AS early,
         CAST(sum(p.amount) AS DOUBLE) AS revenue,
         date_diff('day', CAST(f.first_d AS DATE), CAST($end AS DATE)) AS age_days
  FROM firsts AS f JOIN p ON p.customer_id = f.customer_id
  GROUP BY f.customer_id, f.first_d, f.channel
)
SELECT per.customer_id AS customer_id, per.first_d AS first_d, per.channel AS channel,
       per.first_amount AS first_amount, per.early AS early, per.revenue AS revenue,
       per.age_days AS age_days,
       coalesce(c.segment, '(none)') AS segment, coalesce(c.language, '(none)') AS language,
       coalesce(c.country, '(none)') AS country,
       CASE WHEN a.score IS NULL THEN '(none)' WHEN a.score >= 9 THEN 'promoter'
            WHEN a.score >= 7 THEN 'passive' ELSE 'detractor' END AS nps_group
FROM per
LEFT JOIN customers AS c ON c.customer_id = per.customer_id
LEFT JOIN firstans AS a ON a.customer_id = per.customer_id
ORDER BY per.customer_id
"""


@dataclass(frozen=True)
class Weight:
    """One feature of the fitted model: ``feature`` (``channel=email``, ``first_amount``)
    and its coefficient on the log-odds of being best (standardised for amounts)."""

    feature: str
    coefficient: float


@dataclass(frozen=True)
class LookalikeFit:
    """How the look-alike model was fitted and how far to trust it.

    ``mature``: customers with a label, of whom ``best`` are best (revenue of at least
    ``threshold`` in the window); ``auc``: the held-out AUC with its interval, on
    ``holdout`` customers (``holdout_best`` of them best); ``reason``: why there is no
    model, when there is none."""

    window_days: int
    top_share: float
    customers: int
    mature: int
    best: int
    threshold: float | None
    auc: Estimate | None
    holdout: int
    holdout_best: int
    weights: list[Weight]
    reason: str | None = None


def hanley_mcneil(auc: float, n_pos: int, n_neg: int) -> Estimate:
    """The AUC with the standard error of Hanley & McNeil (1982, Radiology 143:29) and a
    95 % Wald interval cut to [0, 1]."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc)
           + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    se = math.sqrt(max(var, 0.0))
    return Estimate(auc, se, max(0.0, auc - 1.96 * se), min(1.0, auc + 1.96 * se),
                    "hanley-mcneil")


def auc_of(scores: np.ndarray, labels: np.ndarray) -> float:
    """The Mann–Whitney AUC: P(score of a positive > score of a negative), ties half."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass(frozen=True)
class Design:
    """The one-hot design: the levels kept per category and the amount's scaling."""

    levels: dict[str, list[str]]
    mean: float
    sd: float

    @classmethod
    def of(cls, cols: dict[str, list[Any]]) -> Design:
        levels = {}
        for name in CATEGORICAL:
            values, counts = np.unique(np.asarray(cols[name], dtype=object).astype(str),
                                       return_counts=True)
            levels[name] = sorted(str(v) for v, n in zip(values, counts, strict=True)
                                  if n >= MIN_LEVEL)
        amount = _log_amount(cols)
        sd = float(amount.std()) if amount.size else 1.0
        return cls(levels, float(amount.mean()) if amount.size else 0.0, sd if sd > 0 else 1.0)

    @property
    def names(self) -> list[str]:
        return [f"{k}={v}" for k in CATEGORICAL for v in self.levels[k]] + list(NUMERIC)

    def matrix(self, cols: dict[str, list[Any]]) -> np.ndarray:
        n = len(cols["customer_id"])
        blocks = []
        for name in CATEGORICAL:
            values = np.asarray(cols[name], dtype=object).astype(str)
            block = np.zeros((n, len(self.levels[name])))
            for j, level in enumerate(self.levels[name]):
                block[:, j] = values == level
            blocks.append(block)
        blocks.append(((_log_amount(cols) - self.mean) / self.sd)[:, None])
        return np.hstack(blocks) if n else np.zeros((0, len(self.names)))


def _log_amount(cols: dict[str, list[Any]]) -> np.ndarray:
    return np.log1p(np.array([max(float(v or 0.0), 0.0) for v in cols["first_amount"]]))


def _fit(x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=1000).fit(x, y)


def labels(cols: dict[str, list[Any]], window_days: int, top_share: float
           ) -> tuple[np.ndarray, np.ndarray, float | None]:
    """(mature, best, threshold) per customer of ``cols`` (see the module's docstring)."""
    age = np.asarray(cols["age_days"], dtype=float)
    early = np.array([float(v or 0.0) for v in cols["early"]])
    mature = age >= window_days
    if not mature.any():
        return mature, np.zeros(age.size, bool), None
    threshold = float(np.quantile(early[mature], 1 - top_share, method="higher"))
    return mature, mature & (early >= threshold), threshold


def fit_lookalike(cols: dict[str, list[Any]], window_days: int, top_share: float,
                  seed: int) -> tuple[LookalikeFit, np.ndarray | None, Design | None, Any]:
    """The fit on the customers of ``cols`` (rows of :data:`FEATURES_SQL`): its summary,
    every customer's score (``None`` without a model), the design and the fitted model."""
    mature, best, threshold = labels(cols, window_days, top_share)
    n_mature, n_best = int(mature.sum()), int(best.sum())

    def none(reason: str) -> tuple[LookalikeFit, None, None, None]:
        return (LookalikeFit(window_days, top_share, mature.size, n_mature, n_best, threshold,
                             None, 0, 0, [], reason), None, None, None)
    if n_mature < MIN_MATURE:
        return none(f"only {n_mature} customers bought {window_days} days or more before "
                    f"the end; the model needs {MIN_MATURE}: choose a shorter window")
    if min(n_best, n_mature - n_best) < MIN_CLASS:
        return none(f"too few best ({n_best}) or other ({n_mature - n_best}) mature "
                    f"customers to tell them apart; {MIN_CLASS} of each are needed")
    design = Design.of(cols)
    x = design.matrix(cols)
    idx = np.flatnonzero(mature)
    held = np.random.default_rng(seed).random(idx.size) < HOLDOUT
    train, test = idx[~held], idx[held]
    auc = None
    n_pos = int(best[test].sum())
    if len(set(best[train])) == 2 and 0 < n_pos < test.size:
        part = _fit(x[train], best[train])
        value = auc_of(part.predict_proba(x[test])[:, 1], best[test])
        auc = hanley_mcneil(value, n_pos, test.size - n_pos)
    model = _fit(x[idx], best[idx])
    scores = model.predict_proba(x)[:, 1]
    weights = [Weight(n, float(c)) for n, c in zip(design.names, model.coef_[0], strict=True)]
    weights.sort(key=lambda w: (-abs(w.coefficient), w.feature))
    fit = LookalikeFit(window_days, top_share, mature.size, n_mature, n_best, threshold, auc,
                       int(test.size), n_pos, weights)
    return fit, scores, design, model


def reasons(design: Design, model: Any, cols: dict[str, list[Any]], rows: Sequence[int],
            most: int = 2) -> list[list[str]]:
    """For each customer of ``rows``: the features of theirs whose contribution to the
    log-odds of being best is largest and positive (at most ``most``)."""
    x = design.matrix({k: [v[i] for i in rows] for k, v in cols.items()})
    contrib = x * model.coef_[0]
    names = design.names
    out = []
    for r in contrib:
        order = np.argsort(-r, kind="stable")
        out.append([names[j] for j in order[:most] if r[j] > 0])
    return out


__all__ = ["FEATURES_SQL", "LookalikeFit", "Weight", "auc_of", "fit_lookalike",
           "hanley_mcneil", "labels", "reasons"]
