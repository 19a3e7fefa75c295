"""Business moments: the touchpoints after which customers really do buy, come back, spend
more or recommend — and the ones that lose them.

For an outcome within ``within`` days after a moment, every touchpoint type met by enough
customers, and the most common two-step sequences (``A → B``: A directly followed by B),
are ranked by their **adjusted effect on those who met them**: customers at their first
meeting of the moment against customers who had not met it by a comparable time
(:mod:`._units`), adjusted for what they were like before it — prior touchpoints, recent
activity, purchases, spend, answers, tenure, days since the last order and acquisition
channel — with a doubly robust estimator on aggregated cells (:mod:`._adjust`). The naive
difference stands beside it, with a 95 % bootstrap interval and the covariate balance before
and after weighting, so a reader can see how much the adjustment changed and whether to
trust it.

Binary outcomes (purchase, repurchase, promoter, churn) are shares and their effects are in
percentage points; revenue is in the workspace's currency per customer. Definitions,
assumptions and limits: docs/methods.md ("Business moments").
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from cxlens.analytics._money import CURRENCY
from cxlens.analytics.journeys import reasons as rs
from cxlens.analytics.journeys._adjust import N_BOOT, bootstrap, design, estimate
from cxlens.analytics.journeys._log import Selection, log_sql
from cxlens.analytics.journeys._units import (
    ARROW,
    COVARIATES,
    DAY,
    LEVELS,
    OUTCOMES,
    candidates_sql,
    capped,
    cells_sql,
    day_of,
    frame,
)
from cxlens.warehouse.engine import Engine

DEFAULT_WITHIN = 90
MIN_CUSTOMERS = 30
"""Fewer treated or comparison customers than this: no adjusted estimate (the row says so)."""
DEFAULT_PAIRS = 10
MAX_TRIMMED = 0.5
"""More than this share of the treated without overlap: the estimate is withheld."""
SMD_WARN = 0.1
"""A covariate level with |SMD| above this after weighting is not balanced (Austin 2011)."""
BINARY = ("purchase", "repurchase", "promoter", "churn")
WORKERS = max(1, min(4, os.cpu_count() or 1))
"""Moments estimated at once, each on one BLAS thread. The cells are small matrices (a few
thousand rows, ~30 columns; the bootstrap's batched solves are 100 × 30 × 30): a
multi-threaded BLAS spends more time waking and waiting for its threads than computing —
on the M demo 34 CPU-s for the 30 moments' estimates against 8 CPU-s on one thread — so
the parallelism goes one level up, over the moments (NumPy releases the GIL in them)."""


@dataclass(frozen=True)
class Balance:
    """One covariate level: the standardised mean difference of its share between the
    treated and the comparison, before and after weighting."""

    covariate: str
    level: str
    before: float
    after: float


@dataclass(frozen=True)
class MomentRow:
    """One moment. ``naive``, ``effect`` (doubly robust), ``ipw``, ``low`` and ``high`` are
    on the result's scale (percentage points, or currency per customer); ``None`` with a
    ``reason`` when there are too few customers or no overlap."""

    touchpoint: str
    sequence: bool
    customers: int  # treated
    comparison: int
    treated_rate: float | None  # the treated's mean outcome (% or currency)
    comparison_rate: float | None
    naive: float | None
    effect: float | None
    low: float | None
    high: float | None
    ipw: float | None
    trimmed: int  # treated left out for lack of overlap
    max_smd_after: float | None
    balance: list[Balance] = field(default_factory=list)
    reason: str | None = None
    reason_code: str | None = None  # stable (.reasons), the text may change

    @property
    def balanced(self) -> bool:
        return self.max_smd_after is not None and self.max_smd_after <= SMD_WARN


@dataclass(frozen=True)
class Moments:
    """The ranked moments of one outcome: rows with an estimate first, the largest effect
    first (ties by name), then the rows without one, by name. ``reason`` says why there are
    no rows."""

    outcome: str
    within: int
    scale: str  # "percentage points" or the currency
    estimator: str
    end: date | None  # data end: outcomes after it are not seen
    last_index: date | None  # the last index day whose whole horizon is observed
    rows: list[MomentRow]
    n_boot: int = N_BOOT
    seed: int = 0
    selection: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    reason_code: str | None = None  # stable (.reasons), the text may change

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose(engine: Engine, sel: Selection, min_customers: int, pairs: int) -> list[str]:
    """Every touchpoint met by ``min_customers`` customers, and the ``pairs`` sequences met
    by the most (ties by name)."""
    log, params = log_sql(sel)
    rows = engine.query(candidates_sql(log), {**params, "min_customers": min_customers})
    rows = rows.to_pylist()
    singles = [r["moment"] for r in rows if r["pair"] == 1]
    seqs = [r["moment"] for r in rows if r["pair"] == 2][:pairs]
    return sorted(singles) + seqs


def _label(name: str, code: Any) -> str:
    levels = LEVELS.get(name)
    return levels[int(code)] if levels is not None else (str(code) or "(none)")


def _row(name: str, rows: list[dict], outcome: str, seed: int, n_boot: int,
         factor: float) -> MomentRow:
    """Estimate one moment from its cells."""
    seq = ARROW in name
    n1 = int(sum(r["n"] for r in rows if r["g"] == 1))
    n0 = int(sum(r["n"] for r in rows if r["g"] == 0))
    if outcome == "churn":  # only customers who had bought can stop buying
        rows = [r for r in rows if r["prior_purchases"] > 0]
    t1 = int(sum(r["n"] for r in rows if r["g"] == 1))
    t0 = int(sum(r["n"] for r in rows if r["g"] == 0))
    rate1 = (factor * sum(r["s"] for r in rows if r["g"] == 1) / t1) if t1 else None
    rate0 = (factor * sum(r["s"] for r in rows if r["g"] == 0) / t0) if t0 else None
    naive = rate1 - rate0 if rate1 is not None and rate0 is not None else None
    empty = MomentRow(name, seq, t1 if outcome == "churn" else n1,
                      t0 if outcome == "churn" else n0, rate1, rate0, naive, None, None,
                      None, None, 0, None)
    if min(t1, t0) < MIN_CUSTOMERS:
        who = "who had bought before " if outcome == "churn" else ""
        return replace(empty, reason_code=rs.TOO_FEW_CUSTOMERS, reason=(
            f"too few customers {who}for an adjusted estimate: {t1} met it, {t0} to compare "
            f"(at least {MIN_CUSTOMERS} each)"))
    labelled = [{**r, **{c: _label(c, r[c]) for c in COVARIATES}} for r in rows]
    des = design(labelled, COVARIATES)
    fit = estimate(des)
    balance = [Balance(c, lv, float(b), float(a)) for (c, lv), b, a in
               zip(des.levels, fit.balance_before, fit.balance_after, strict=True)]
    worst = float(np.max(np.abs(fit.balance_after))) if len(balance) else 0.0
    if not np.isfinite(fit.dr) or fit.trimmed > MAX_TRIMMED * fit.treated:
        return replace(empty, trimmed=fit.trimmed, balance=balance, max_smd_after=worst,
                        reason_code=rs.NO_OVERLAP, reason=(
                            f"no overlap: {fit.trimmed} of {fit.treated} who met it have "
                            "no comparable customers"))
    rng = np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])
    reps = bootstrap(des, fit, rng, outcome in BINARY, n_boot) * factor
    reps = reps[np.isfinite(reps)]
    low, high = (float(x) for x in np.quantile(reps, [0.025, 0.975]))
    return replace(empty, effect=factor * fit.dr, low=low, high=high, ipw=factor * fit.ipw,
                    trimmed=fit.trimmed, max_smd_after=worst, balance=balance)


def moments(engine: Engine, outcome: str = "purchase", within: int = DEFAULT_WITHIN,
            sel: Selection | None = None, as_of: date | None = None,
            touchpoints: Sequence[str] | None = None, pairs: int = DEFAULT_PAIRS,
            min_customers: int = MIN_CUSTOMERS, n_boot: int = N_BOOT, seed: int = 0,
            currency: str = CURRENCY) -> Moments:
    """The moments of ``outcome`` within ``within`` days, ranked (see the module's
    docstring). ``touchpoints`` names the moments to estimate (``'A → B'`` for a sequence);
    by default every touchpoint met by ``min_customers`` customers and the ``pairs`` most
    common sequences. ``as_of`` is the data end (default: the period's end, or the day after
    the last touchpoint)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if int(within) < 1:
        raise ValueError(f"the horizon must be at least one day, not {within}")
    if int(n_boot) < 100:
        raise ValueError("n_boot must be at least 100")
    sel, within = sel or Selection(), int(within)
    scale = "percentage points" if outcome in BINARY else currency
    factor = 100.0 if outcome in BINARY else 1.0
    chosen = {k: v for k, v in sel.as_dict().items() if v is not None}
    result = Moments(outcome, within, scale, "doubly robust (ATT), odds weights and a linear "
                     "outcome model on covariate cells", None, None, [], n_boot, seed, chosen)
    fr, why = frame(engine, sel, within, as_of)
    if fr:
        result = replace(result, end=day_of(fr["end_s"]),
                            last_index=day_of(fr["last_index"]) if not why else None)
    if why:
        return replace(result, reason=why, reason_code=rs.frame_code(bool(fr)))
    with capped(engine):
        names = list(touchpoints) if touchpoints is not None else choose(
            engine, sel, max(1, int(min_customers)), max(0, int(pairs)))
        if not names:
            return replace(result, reason_code=rs.NO_COMMON_TOUCHPOINT, reason=(
                f"no touchpoint was met by {min_customers} or more customers"))
        log, params = log_sql(sel, currency)
        table = engine.query(cells_sql(log, outcome), {
            **params, **{k: v for k, v in fr.items() if k != "end_s"}, "moments": names,
            "horizon": within * DAY})
    by: dict[str, list[dict]] = {n: [] for n in names}
    total = 0.0
    for r in table.to_pylist():
        by.setdefault(r["moment"], []).append(r)
        total += r["s"]
    if total == 0 and outcome != "churn":
        return replace(result, reason_code=rs.NO_OUTCOME, reason=(
            f"no {outcome} within {within} days after any index time: the outcome never "
            "happens here"))
    nobody = ("nobody met it after an earlier touchpoint (a known past) with its whole "
              "horizon observed")

    def one(name: str) -> MomentRow:
        if not by[name]:
            return MomentRow(name, ARROW in name, 0, 0, None, None, None, None, None, None,
                             None, 0, None, reason=nobody, reason_code=rs.NOBODY_MET)
        return _row(name, by[name], outcome, seed, n_boot, factor)

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(WORKERS) as pool:
        rows = list(pool.map(one, names))
    rows.sort(key=lambda r: (r.effect is None, -(r.effect or 0.0), r.touchpoint))
    return replace(result, rows=rows)


__all__ = ["DEFAULT_WITHIN", "MIN_CUSTOMERS", "Balance", "MomentRow", "Moments", "moments"]
