"""Time to outcome after a moment: Kaplan–Meier curves, treated against a weighted comparison.

Not only *whether* customers buy after a moment but *how soon*. The units are those of the
business moments (:mod:`._units`): customers at their first meeting of the moment, and
customers who had not met it by a comparable time. Each is followed from the index time
until the outcome first happens, until ``within`` days, or until the data end (censored).
The engine returns the counts per (covariate cell, group, day, event), so Python sees
aggregates only; the comparison is weighted by the propensity odds ``e/(1 − e)`` of its
cell, as the moments' IPW estimate is (:mod:`._adjust`), so both curves describe customers
like those who met the moment. Kaplan (1958) and Meier; weighted form: Xie & Liu (2005).

Each step carries a pointwise 95 % interval: Greenwood's variance on the log(−log) scale
(Kalbfleisch & Prentice 1980; Collett 2015, section 2.2), so the band stays inside 0–1; and
each curve the median's interval, the days where that band contains 50 % (Brookmeyer &
Crowley 1982). The weighted comparison uses Greenwood's formula on Kish's effective numbers
at risk (an approximation; docs/methods.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
from scipy.stats import norm

from cxlens.analytics._money import CURRENCY
from cxlens.analytics.journeys import reasons as rs
from cxlens.analytics.journeys._adjust import MAX_PROPENSITY, design, fit_propensity
from cxlens.analytics.journeys._log import Selection, log_sql
from cxlens.analytics.journeys._units import COVARIATES, DAY, day_of, frame, times_sql
from cxlens.analytics.journeys.moments import DEFAULT_WITHIN, MIN_CUSTOMERS
from cxlens.warehouse.engine import Engine

EVENTS = ("purchase", "repurchase", "promoter")
"""Outcomes with a time: churn is an absence and revenue an amount (use purchase)."""
LEVEL = 0.95
"""Confidence of the pointwise bands and of the median's interval."""


@dataclass(frozen=True)
class Step:
    """One day of a curve: customers at risk and with the outcome that day (counts), and
    the share still without it (Kaplan–Meier; weighted for the comparison)."""

    day: int
    at_risk: int
    events: int
    survival: float
    low: float  # the pointwise 95 % interval (Greenwood, log(−log) transform)
    high: float


@dataclass(frozen=True)
class Curve:
    group: str  # "met" or "comparison"
    customers: int
    events: int
    median_days: int | None  # the first day the share without the outcome is ≤ 50 %
    steps: list[Step]
    median_low: int | None = None  # the median's 95 % interval (Brookmeyer–Crowley);
    median_high: int | None = None  # None: not reached within the horizon


@dataclass(frozen=True)
class Survival:
    """Both curves of one moment and outcome; ``reason`` says why there are none."""

    moment: str
    outcome: str
    within: int
    end: date | None
    curves: list[Curve]
    weighted: bool  # the comparison is propensity-weighted
    selection: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    reason_code: str | None = None  # stable (.reasons), the text may change

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def band(surv: float, greenwood: float, z: float) -> tuple[float, float]:
    """The interval of ``surv`` from its Greenwood sum ``Σ d/(r(r−d))`` on the log(−log)
    scale: ``surv ** exp(±z·se)`` with ``se = √greenwood / |log surv|`` (Kalbfleisch &
    Prentice 1980). No event yet (``surv = 1``) or none left (``0``): the point itself."""
    if surv <= 0.0 or not np.isfinite(greenwood):
        return 0.0, 0.0
    if surv >= 1.0 or greenwood <= 0.0:
        return surv, surv
    se = np.sqrt(greenwood) / abs(np.log(surv))
    return float(surv ** np.exp(z * se)), float(surv ** np.exp(-z * se))


def first_at_or_below(values: list[float], days: list[int], level: float = 0.5) -> int | None:
    """The first day whose value is ≤ ``level`` (a median, or an end of its interval)."""
    return next((d for d, v in zip(days, values, strict=True) if v <= level), None)


def kaplan_meier(day: np.ndarray, event: np.ndarray, weight: np.ndarray, count: np.ndarray,
                 horizon: int, level: float = LEVEL) -> tuple[list[Step], int | None]:
    """Steps for days 0…``horizon`` from rows of (day, event, weight, count): events on a
    day come before that day's censoring; ``at_risk`` and ``events`` are counts, the
    survival and its band use the weights (Greenwood's sum on Kish's effective numbers at
    risk ``(Σw)²/Σw²``: with unit weights, Greenwood's formula itself)."""
    z = float(norm.ppf(0.5 + level / 2))
    steps, surv, gw, median = [], 1.0, 0.0, None
    wc, w2c = weight * count, weight * weight * count
    for d in range(horizon + 1):
        risk = day >= d
        now = (day == d) & (event == 1)
        r_w, e_w = float(wc[risk].sum()), float(wc[now].sum())
        if r_w > 0 and e_w > 0:
            surv *= 1.0 - e_w / r_w
            r_eff = r_w * r_w / float(w2c[risk].sum())
            e_eff = e_w * r_eff / r_w
            gw = gw + e_eff / (r_eff * (r_eff - e_eff)) if r_eff > e_eff else float("inf")
        low, high = band(surv, gw, z)
        steps.append(Step(d, int(count[risk].sum()), int(count[now].sum()), surv, low, high))
        if median is None and surv <= 0.5:
            median = d
    return steps, median


def survival(engine: Engine, moment: str, outcome: str = "purchase",
             within: int = DEFAULT_WITHIN, sel: Selection | None = None,
             as_of: date | None = None, weighted: bool = True,
             currency: str = CURRENCY) -> Survival:
    """Kaplan–Meier curves of the time to ``outcome`` after ``moment`` (a touchpoint, or
    ``'A → B'``) for up to ``within`` days, for those who met it and the comparison."""
    if outcome not in EVENTS:
        raise ValueError(f"time to outcome needs an event: {', '.join(EVENTS)}, not "
                         f"{outcome!r} (churn is an absence, revenue an amount)")
    if int(within) < 1:
        raise ValueError(f"the horizon must be at least one day, not {within}")
    sel, within = sel or Selection(), int(within)
    chosen = {k: v for k, v in sel.as_dict().items() if v is not None}
    empty = Survival(moment, outcome, within, None, [], weighted, chosen)
    fr, why = frame(engine, sel, 1, as_of)  # one day of follow-up is enough to start
    if why:
        return replace(empty, reason=why, reason_code=rs.frame_code(bool(fr)),
                       end=day_of(fr["end_s"]) if fr else None)
    log, params = log_sql(sel, currency)
    rows = engine.query(times_sql(log, outcome), {
        **params, **fr, "moments": [moment], "follow": within * DAY}).to_pylist()
    empty = replace(empty, end=day_of(fr["end_s"]))
    n1 = sum(r["n"] for r in rows if r["g"] == 1)
    n0 = sum(r["n"] for r in rows if r["g"] == 0)
    if n1 == 0:
        return replace(empty, reason_code=rs.NOBODY_MET, reason=(
            f"nobody met {moment!r} after an earlier touchpoint before the data end"))
    if min(n1, n0) < MIN_CUSTOMERS:
        return replace(empty, reason_code=rs.TOO_FEW_CUSTOMERS, reason=(
            f"too few customers: {n1} met it, {n0} to compare (at least {MIN_CUSTOMERS} each)"))
    w = np.ones(len(rows))
    if weighted:
        cells = [{**r, "pos": 0} for r in rows]
        des = design(cells, COVARIATES)
        g = des.g == 1
        c = des.cells
        cn1 = np.bincount(des.cell[g], des.n[g], c)
        cn0 = np.bincount(des.cell[~g], des.n[~g], c)
        e = 1.0 / (1.0 + np.exp(-np.clip(des.X @ fit_propensity(des.X, cn1, cn0), -30, 30)))
        keep = e <= MAX_PROPENSITY
        odds = np.where(keep, e / (1 - e), 0.0)
        w = np.where(g, np.where(keep[des.cell], 1.0, 0.0), odds[des.cell])
    curves = []
    for grp, label in ((1, "met"), (0, "comparison")):
        idx = [i for i, r in enumerate(rows) if r["g"] == grp]
        day = np.array([rows[i]["day"] for i in idx], dtype=np.int64)
        ev = np.array([rows[i]["event"] for i in idx], dtype=np.int64)
        cnt = np.array([rows[i]["n"] for i in idx], dtype=np.int64)
        steps, median = kaplan_meier(day, ev, w[idx], cnt, within)
        days = [x.day for x in steps]
        curves.append(Curve(label, int(cnt.sum()), int(cnt[ev == 1].sum()), median, steps,
                            first_at_or_below([x.low for x in steps], days),
                            first_at_or_below([x.high for x in steps], days)))
    return replace(empty, curves=curves)


__all__ = ["EVENTS", "LEVEL", "Curve", "Step", "Survival", "band", "kaplan_meier",
           "survival"]
