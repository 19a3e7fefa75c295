"""The few findings a management team should read first, ranked by size and certainty.

Each finding comes from an analytics function the other pages show in full — group tests
(:func:`experience.compare_segments`), the change against the previous period
(:func:`experience.compare_periods`), key drivers (:func:`drivers.key_drivers`), the worth of
a detractor turned promoter (:func:`_value_link.value_by_group`) — so a number here is the
number on its evidence page, computed by the same code. Nothing here writes a sentence: an
:class:`Insight` carries its kind, subject and numbers, and the outputs phrase it in the
reader's language.

Only findings that would change a decision are kept: group differences significant after
Benjamini–Hochberg (q < 0.05), changes with p < 0.05, the most important driver when it
performs below the drivers' average, a worth whose interval excludes zero. They are ordered
by ``strength``: the end of the 95 % interval nearest to zero — the smallest effect the data
are consistent with, so size and certainty in one number — divided by a reference effect a
team would call large: 20 NPS points, 10 percentage points of CSAT top-two-box, 0.5 on the
1–7 CES scale, the detractors' own revenue for the worth; a driver's is how far its
importance's lower end exceeds an equal share of R², relative to that share
(docs/methods.md, "Insights"). It sets the order only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cxlens.analytics import drivers as drv
from cxlens.analytics import experience as exp
from cxlens.analytics._intervals import Estimate
from cxlens.analytics._value_link import N_BOOT, value_by_group
from cxlens.analytics.group_names import group_names
from cxlens.analytics.overview import Period
from cxlens.warehouse.engine import Engine

__all__ = ["DIMENSIONS", "METRICS", "REFERENCE", "Insight", "insights"]

METRICS = ("nps", "csat", "ces")
# The groupings worth scanning: where a manager can act (a store, a channel, a touchpoint, a
# team) or whom a marketer can target (a segment).
DIMENSIONS = ("store_id", "channel", "touchpoint", "team_id", "segment")
REFERENCE = {"nps": 20.0, "enps": 20.0, "csat": 10.0, "ces": 0.5}
VALUE_DAYS = 90
MAX_INSIGHTS = 8


@dataclass(frozen=True)
class Insight:
    """One finding: ``kind`` is ``group`` (a group against the rest), ``change`` (this period
    against the previous one), ``driver`` or ``worth``; ``effect`` is the difference with its
    95 % interval in the metric's unit (money in ``currency`` for ``worth``); ``n`` the
    answers (or customers) behind it, ``n_other`` those on the other side."""

    kind: str
    metric: str
    effect: Estimate
    n: int
    n_other: int
    p_value: float | None
    strength: float
    dimension: str | None = None
    subject: Any = None  # the group, or the driver's attribute
    subject_name: str | None = None  # the group's name where it has one (group_names)
    value: float | None = None  # the group's / period's own score, the driver's mean rating
    other: float | None = None  # the rest's / previous period's score, the drivers' average
    currency: str | None = None
    days: int | None = None
    period: tuple[date, date] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def direction(self) -> str:
        """``up`` when the effect is positive: good news for every metric here (cxlens' CES
        runs 1–7 with 7 the easiest, docs/methods.md)."""
        v = self.effect.value or 0.0
        return "up" if v > 0 else "down"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "metric": self.metric, "direction": self.direction,
                "dimension": self.dimension, "subject": self.subject,
                "subject_name": self.subject_name,
                "effect": self.effect.as_dict(), "value": self.value, "other": self.other,
                "n": self.n, "n_other": self.n_other, "p_value": self.p_value,
                "strength": self.strength, "currency": self.currency, "days": self.days,
                "period": list(self.period) if self.period else None, **self.details}


def _strength(e: Estimate, reference: float) -> float:
    """The interval's end nearest to zero over ``reference``; 0 when it includes zero."""
    if e.low is None or e.high is None or reference <= 0 or e.low <= 0 <= e.high:
        return 0.0
    return round(min(abs(e.low), abs(e.high)) / reference, 12)


def _metrics_with_answers(engine: Engine, period: Period) -> list[str]:
    rows = engine.query(
        "SELECT metric, count(*) AS n FROM v_feedback WHERE ts >= $s AND ts < $e "
        "AND score IS NOT NULL GROUP BY metric ORDER BY metric",
        {"s": period.start, "e": period.end}).to_pylist()
    have = {r["metric"] for r in rows if r["n"] >= exp.MIN_SAMPLE}
    return [m for m in METRICS if m in have]


def _group_findings(engine: Engine, metric: str, period: Period,
                    dimensions: Sequence[str]) -> list[Insight]:
    out = []
    for dim in dimensions:
        try:
            tests = exp.compare_segments(engine, metric, by=dim, start=period.start,
                                         end=period.end)
        except ValueError:  # a customer attribute this workspace does not have
            continue
        found = [t for t in tests if t.significant and not t.segment.too_small]
        names = group_names(engine, dim) if found else {}
        for t in found:
            out.append(Insight(
                "group", metric, t.difference, t.segment.n, t.rest.n, t.q_value,
                _strength(t.difference, REFERENCE[metric]), dim, t.group,
                names.get(str(t.group)), t.segment.value.value, t.rest.value.value,
                period=(period.start, period.end)))
    return out


def _change_finding(engine: Engine, metric: str, period: Period) -> list[Insight]:
    before = period.previous()
    c = exp.compare_periods(engine, metric, current=(period.start, period.end),
                            previous=(before.start, before.end))
    if c.p_value is None or c.p_value >= exp.ALPHA:
        return []
    return [Insight("change", metric, c.difference, c.current.n, c.previous.n, c.p_value,
                    _strength(c.difference, REFERENCE[metric]),
                    value=c.current.value.value, other=c.previous.value.value,
                    period=(period.start, period.end),
                    details={"previous_period": [before.start, before.end]})]


def _driver_finding(engine: Engine, period: Period) -> list[Insight]:
    """The most important attribute, when its importance is above an equal share of R² for
    certain (its interval's lower end) and it performs below the attributes' average."""
    try:
        kd = drv.key_drivers(engine, start=period.start, end=period.end)
    except ValueError:  # no rating grid in this workspace's answers
        return []
    if kd.too_small or not kd.drivers or not kd.r2.value:
        return []
    top = kd.drivers[0]
    perf, low = top.performance.value, top.importance.low
    if perf is None or perf >= kd.performance_line or low is None \
            or low <= kd.importance_line or kd.importance_line <= 0:
        return []
    r2 = kd.r2.value
    share = {"share": top.share, "share_low": 100.0 * low / r2,
             "share_high": 100.0 * (top.importance.high or low) / r2}
    return [Insight("driver", kd.metric, top.importance, kd.n, 0, None,
                    round((low - kd.importance_line) / kd.importance_line, 12), None,
                    top.attribute, None, perf, kd.performance_line,
                    period=(period.start, period.end),
                    details={**share, "r2": r2, "quadrant": top.quadrant,
                             "performance": top.performance.as_dict()})]


def _worth_finding(engine: Engine, period: Period, n_boot: int, seed: int) -> list[Insight]:
    v = value_by_group(engine, days=(VALUE_DAYS,), as_of=period.end, n_boot=n_boot,
                       seed=seed)
    worth = next((w for w in v.worth() if w.days == VALUE_DAYS), None)
    if worth is None or worth.difference.value is None or worth.too_small:
        return []
    d = worth.difference
    if d.low is None or d.high is None or d.low <= 0 <= d.high:
        return []
    detractors = v.get(VALUE_DAYS, "detractor").revenue.value or 0.0
    return [Insight("worth", "nps", d, worth.n_promoters, worth.n_detractors, worth.p_value,
                    _strength(d, max(detractors, 1.0)),
                    currency=v.currency, days=VALUE_DAYS,
                    details={"repurchase": worth.repurchase_difference.as_dict()})]


def insights(engine: Engine, period: Period, *, metrics: Sequence[str] | None = None,
             dimensions: Sequence[str] = DIMENSIONS, n_boot: int = N_BOOT, seed: int = 0,
             limit: int = MAX_INSIGHTS) -> list[Insight]:
    """The findings of ``period`` (and the period before it), strongest first.

    ``metrics`` default to those of NPS, CSAT and CES with at least ``MIN_SAMPLE`` answers in
    the period. ``n_boot`` and ``seed`` are the worth's bootstrap (the drivers' is their
    page's default), so the numbers are their pages' numbers. At most ``limit`` findings;
    ties keep the order kind, metric, subject.
    """
    chosen = list(metrics) if metrics is not None else _metrics_with_answers(engine, period)
    found: list[Insight] = []
    for metric in chosen:
        found += _group_findings(engine, metric, period, dimensions)
        found += _change_finding(engine, metric, period)
    found += _driver_finding(engine, period)
    found += _worth_finding(engine, period, n_boot, seed)
    kinds = ("change", "group", "driver", "worth")
    found.sort(key=lambda i: (-i.strength, kinds.index(i.kind), i.metric, str(i.dimension),
                              str(i.subject)))
    return found[:limit]
