"""Journeys as JSON: ``GET /api/w/{slug}/journeys/paths``, ``/map``, ``/moments``,
``/survival`` and ``/customers``.

The same functions as ``cxlens journeys paths|map|moments|survival|customers``
(:mod:`cxlens.analytics.journeys`), which print these models with ``--json``. A route checks
its query, calls the analytics (every result through :mod:`cxlens.web.journeys_cache`,
kept while the batches stay the same, shared with the Journeys page) and copies the result
into a response model; nothing is computed here. A selection without journeys, or a
touchpoint nobody met, is a 200 with empty rows and ``reason`` saying why, so a dashboard
can tell "nothing there" from a broken request (a 422).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from cxlens.analytics import journeys as jr
from cxlens.analytics.journeys.actions import DEFAULT_LIMIT, MAX_LIMIT
from cxlens.analytics.journeys.moments import DEFAULT_PAIRS, DEFAULT_WITHIN, MIN_CUSTOMERS
from cxlens.analytics.journeys.paths import DEFAULT_STEPS, DEFAULT_TOP, MAX_STEPS
from cxlens.web import journeys_cache as cache
from cxlens.web.deps import TokenScope
from cxlens.web.params import Day

router = APIRouter(prefix="/api/w/{slug}/journeys", tags=["journeys"])
Reader = TokenScope("read")

Text = Annotated[str, Field(min_length=1, max_length=200)]


# --- queries -------------------------------------------------------------------------------

class SelectionQuery(BaseModel):
    """Which journeys: touchpoints in ``[start, end)``, of customers by segment, channel or
    store (customers who met the channel or store in the period; their whole journey)."""

    model_config = ConfigDict(extra="forbid")

    start: Day | None = Field(None, description="First day (YYYY-MM-DD), inclusive.")
    end: Day | None = Field(None, description="The day after the last (YYYY-MM-DD).")
    segment: Text | None = Field(None, description="Customers of this segment.")
    channel: Text | None = Field(None, description="Customers with a touchpoint in this "
                                                   "channel (web, store, email, support …).")
    store: Text | None = Field(None, description="Customers with a touchpoint in this store.")

    def selection(self) -> jr.Selection:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise HTTPException(422, "start must be before end (end is the day after the last)")
        return jr.Selection(self.start, self.end, self.segment, self.channel, self.store)


class PathsQuery(SelectionQuery):
    anchor: Text | None = Field(
        None, description="The touchpoint or outcome (first_purchase, repeat_purchase, "
                          "answer:detractor …); none: the journeys' first or last steps.")
    direction: Literal["from", "to"] = Field(
        "from", description="Paths following from the anchor, or leading to it.")
    steps: int = Field(DEFAULT_STEPS, ge=1, le=MAX_STEPS,
                       description="Touchpoints per path, the anchor included.")
    top: int = Field(DEFAULT_TOP, ge=1, le=1000,
                     description="Paths to list; the rest are summed in one 'other' row.")


# --- answers -------------------------------------------------------------------------------

class Chosen(BaseModel):
    start: date | None = None
    end: date | None = None
    segment: str | None = None
    channel: str | None = None
    store: str | None = None


class PathOut(BaseModel):
    steps: list[str] = Field(description="The touchpoints in order (loops collapsed).")
    loops: list[bool] = Field(description="Per step: it repeated in a row (a loop).")
    customers: int
    share: float = Field(description="Of the customers who met the anchor, 0–1.")
    ended: bool = Field(description="The journey ends (from) or starts (to) within the path.")
    dropped_off: bool = Field(description="Ended without an outcome touchpoint (from only).")
    other: bool = Field(description="The sum of every path below the top ones.")


class PathsOut(BaseModel):
    ok: bool = True
    anchor: str | None
    direction: str
    steps: int
    outcome: list[str] = Field(description="The touchpoints that count as an outcome.")
    customers: int = Field(description="Customers in the selection.")
    reached: int = Field(description="Of them, those who met the anchor.")
    selection: Chosen
    reason: str | None = Field(description="Why there are no paths, if there are none.")
    paths: list[PathOut]


class NodeOut(BaseModel):
    touchpoint: str
    count: int
    starts: int = Field(description="Journeys that start with it.")
    ends: int = Field(description="Journeys that end with it.")


class EdgeOut(BaseModel):
    source: str
    target: str
    transitions: int = Field(description="Times target came right after source.")
    customers: int
    median_s: float = Field(description="Median seconds between the two (exact).")
    p90_s: float = Field(description="90th percentile of the seconds between (exact).")


class MapOut(BaseModel):
    ok: bool = True
    customers: int
    touchpoints: int
    selection: Chosen
    reason: str | None
    nodes: list[NodeOut]
    edges: list[EdgeOut]


def paths_out(p: jr.Paths) -> PathsOut:
    return PathsOut(anchor=p.anchor, direction=p.direction, steps=p.steps,
                    outcome=p.outcome, customers=p.customers, reached=p.reached,
                    selection=Chosen(**p.selection), reason=p.reason,
                    paths=[PathOut(steps=r.steps, loops=r.loops, customers=r.customers,
                                   share=r.share, ended=r.ended, dropped_off=r.dropped_off,
                                   other=r.other) for r in p.rows])


def map_out(m: jr.ProcessMap) -> MapOut:
    return MapOut(customers=m.customers, touchpoints=m.touchpoints,
                  selection=Chosen(**m.selection), reason=m.reason,
                  nodes=[NodeOut(touchpoint=n.touchpoint, count=n.count, starts=n.starts,
                                 ends=n.ends) for n in m.nodes],
                  edges=[EdgeOut(source=e.source, target=e.target, transitions=e.transitions,
                                 customers=e.customers, median_s=e.median_s, p90_s=e.p90_s)
                         for e in m.edges])


# --- routes --------------------------------------------------------------------------------

@router.get("/paths")
def paths(access: Reader, q: Annotated[PathsQuery, Query()]) -> PathsOut:
    """The most common paths from or to a touchpoint, loops collapsed and marked, drop-offs
    marked, the top ones and an 'other' row (docs/journeys.md)."""
    p = cache.paths(access.warehouse, access.workspace.engine, q.anchor, q.direction,
                    q.selection(), q.steps, q.top)
    return paths_out(p)


@router.get("/map")
def process_map(access: Reader, q: Annotated[SelectionQuery, Query()]) -> MapOut:
    """The directly-follows graph of touchpoint types: per edge the transitions, customers
    and exact median and 90th-percentile seconds between; per touchpoint its starts and
    ends (docs/journeys.md)."""
    return map_out(cache.process_map(access.warehouse, access.workspace.engine,
                                     q.selection()))


# --- business moments, time to outcome, actions ---------------------------------------------

Within = Annotated[int, Field(DEFAULT_WITHIN, ge=1, le=3650,
                              description="The horizon: days after the moment.")]


class MomentsQuery(SelectionQuery):
    outcome: Literal["purchase", "repurchase", "revenue", "promoter", "churn"] = Field(
        "purchase", description="What happens within the horizon after the moment.")
    within: Within = DEFAULT_WITHIN
    as_of: Day | None = Field(None, description="The data end (YYYY-MM-DD); default: the "
                                                "period's end or the day after the last "
                                                "touchpoint.")
    pairs: int = Field(DEFAULT_PAIRS, ge=0, le=50,
                       description="Two-step sequences (A → B) to rank beside the touchpoints.")
    min_customers: int = Field(MIN_CUSTOMERS, ge=1, le=100_000,
                               description="Touchpoints met by fewer customers are left out.")


NO_MOMENT = "choose a moment: a touchpoint, or a sequence 'A → B'"


class SurvivalQuery(SelectionQuery):
    moment: Text | None = Field(None, description="A touchpoint, or a sequence 'A → B' "
                                                  "(none: an empty answer saying so).")
    outcome: Literal["purchase", "repurchase", "promoter"] = Field(
        "purchase", description="The event whose time is measured.")
    within: Within = DEFAULT_WITHIN
    as_of: Day | None = Field(None, description="The data end (YYYY-MM-DD).")
    weighted: bool = Field(True, description="Weight the comparison by the propensity odds.")


class CustomersQuery(SelectionQuery):
    moment: Text | None = Field(None, description="A touchpoint, or a sequence 'A → B' "
                                                  "(none: an empty answer saying so).")
    outcome: Literal["purchase", "repurchase", "revenue", "promoter", "churn"] = Field(
        "purchase", description="Listed: who met the moment and has not had this (churn and "
                                "revenue: no purchase).")
    within: Within = DEFAULT_WITHIN
    as_of: Day | None = Field(None, description="The data end (YYYY-MM-DD).")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Customers to list.")


class BalanceOut(BaseModel):
    covariate: str
    level: str
    before: float = Field(description="Standardised mean difference before weighting.")
    after: float = Field(description="… and after (|SMD| ≤ 0.1 counts as balanced).")


class MomentOut(BaseModel):
    touchpoint: str = Field(description="A touchpoint, or a sequence 'A → B'.")
    sequence: bool
    customers: int = Field(description="Customers who met it (the treated).")
    comparison: int = Field(description="Customers compared with them.")
    treated_rate: float | None = Field(description="Their mean outcome, on the scale.")
    comparison_rate: float | None
    naive: float | None = Field(description="Treated minus comparison, unadjusted.")
    effect: float | None = Field(description="Adjusted effect (doubly robust), on the scale.")
    low: float | None = Field(description="95 % bootstrap interval of the effect.")
    high: float | None
    ipw: float | None = Field(description="The inverse-propensity-weighted estimate.")
    trimmed: int = Field(description="Treated left out for lack of comparable customers.")
    max_smd_after: float | None = Field(description="The worst |SMD| after weighting.")
    balanced: bool
    reason: str | None = Field(description="Why there is no effect, if there is none.")
    reason_code: str | None = Field(
        description="A stable code for the reason (no_touchpoints, horizon_not_observed, "
                    "no_common_touchpoint, no_outcome, nobody_met, too_few_customers, "
                    "no_overlap, all_had_outcome, no_moment); the text may change.")
    balance: list[BalanceOut]


class MomentsOut(BaseModel):
    ok: bool = True
    outcome: str
    within: int
    scale: str = Field(description="'percentage points', or the currency of revenue.")
    estimator: str
    end: date | None = Field(description="The data end: outcomes after it are not seen.")
    last_index: date | None = Field(description="The last index day with a whole horizon.")
    n_boot: int
    seed: int
    selection: Chosen
    reason: str | None
    reason_code: str | None = Field(
        description="A stable code for the reason (no_touchpoints, horizon_not_observed, "
                    "no_common_touchpoint, no_outcome, nobody_met, too_few_customers, "
                    "no_overlap, all_had_outcome, no_moment); the text may change.")
    moments: list[MomentOut]


class StepOut(BaseModel):
    day: int
    at_risk: int
    events: int
    survival: float = Field(description="Share still without the outcome (Kaplan–Meier).")
    low: float = Field(description="Its pointwise 95 % interval: Greenwood's variance on the "
                                   "log(−log) scale.")
    high: float


class CurveOut(BaseModel):
    group: str = Field(description="'met' or 'comparison'.")
    customers: int
    events: int
    median_days: int | None = Field(description="Median days to the outcome, if reached.")
    median_low: int | None = Field(description="The median's 95 % interval (Brookmeyer–"
                                               "Crowley), None when not reached.")
    median_high: int | None
    steps: list[StepOut]


class SurvivalOut(BaseModel):
    ok: bool = True
    moment: str
    outcome: str
    within: int
    end: date | None
    weighted: bool
    selection: Chosen
    reason: str | None
    reason_code: str | None = Field(
        description="A stable code for the reason (no_touchpoints, horizon_not_observed, "
                    "no_common_touchpoint, no_outcome, nobody_met, too_few_customers, "
                    "no_overlap, all_had_outcome, no_moment); the text may change.")
    curves: list[CurveOut]


class ActionCustomerOut(BaseModel):
    customer_id: str
    met_at: datetime = Field(description="Their first meeting of the moment (UTC).")
    days_since: int = Field(description="Days from then to the data end.")
    open: bool = Field(description="The horizon has not passed yet: the outcome may come.")


class CustomersOut(BaseModel):
    ok: bool = True
    moment: str
    outcome: str
    within: int
    end: date | None
    met: int = Field(description="Customers who met the moment.")
    total: int = Field(description="Of them, without the outcome (listed up to the limit).")
    selection: Chosen
    reason: str | None
    reason_code: str | None = Field(
        description="A stable code for the reason (no_touchpoints, horizon_not_observed, "
                    "no_common_touchpoint, no_outcome, nobody_met, too_few_customers, "
                    "no_overlap, all_had_outcome, no_moment); the text may change.")
    customers: list[ActionCustomerOut]


def _chosen(sel: jr.Selection) -> dict:
    return {k: v for k, v in sel.as_dict().items() if v is not None}


def moments_out(m: jr.Moments) -> MomentsOut:
    return MomentsOut(
        outcome=m.outcome, within=m.within, scale=m.scale, estimator=m.estimator, end=m.end,
        last_index=m.last_index, n_boot=m.n_boot, seed=m.seed, selection=Chosen(**m.selection),
        reason=m.reason, reason_code=m.reason_code,
        moments=[MomentOut(
            touchpoint=r.touchpoint, sequence=r.sequence, customers=r.customers,
            comparison=r.comparison, treated_rate=r.treated_rate,
            comparison_rate=r.comparison_rate, naive=r.naive, effect=r.effect, low=r.low,
            high=r.high, ipw=r.ipw, trimmed=r.trimmed, max_smd_after=r.max_smd_after,
            balanced=r.balanced, reason=r.reason, reason_code=r.reason_code,
            balance=[BalanceOut(covariate=b.covariate, level=b.level, before=b.before,
                                after=b.after) for b in r.balance]) for r in m.rows])


def survival_out(s: jr.Survival) -> SurvivalOut:
    return SurvivalOut(
        moment=s.moment, outcome=s.outcome, within=s.within, end=s.end, weighted=s.weighted,
        selection=Chosen(**s.selection), reason=s.reason, reason_code=s.reason_code,
        curves=[CurveOut(group=c.group, customers=c.customers, events=c.events,
                         median_days=c.median_days, median_low=c.median_low,
                         median_high=c.median_high,
                         steps=[StepOut(day=x.day, at_risk=x.at_risk, events=x.events,
                                        survival=x.survival, low=x.low, high=x.high)
                                for x in c.steps])
                for c in s.curves])


def customers_out(a: jr.Actions) -> CustomersOut:
    return CustomersOut(
        moment=a.moment, outcome=a.outcome, within=a.within, end=a.end, met=a.met,
        total=a.total, selection=Chosen(**a.selection), reason=a.reason,
        reason_code=a.reason_code,
        customers=[ActionCustomerOut(customer_id=c.customer_id, met_at=c.met_at,
                                     days_since=c.days_since, open=c.open)
                   for c in a.customers])


@router.get("/moments")
def moments(access: Reader, q: Annotated[MomentsQuery, Query()]) -> MomentsOut:
    """Touchpoints and common two-step sequences ranked by their adjusted effect on an
    outcome within the horizon, beside the naive difference, with 95 % bootstrap intervals
    and the covariate balance (docs/journeys.md, docs/methods.md)."""
    sel = q.selection()
    return moments_out(cache.moments(access.warehouse, access.workspace.engine, q.outcome,
                                     q.within, sel, q.as_of, q.pairs, q.min_customers))


@router.get("/survival")
def survival(access: Reader, q: Annotated[SurvivalQuery, Query()]) -> SurvivalOut:
    """Kaplan–Meier curves of the time to the outcome after a moment, for those who met it
    and the (weighted) comparison, with the numbers at risk."""
    sel = q.selection()
    if q.moment is None:
        return survival_out(jr.Survival("", q.outcome, q.within, None, [], q.weighted,
                                        _chosen(sel), NO_MOMENT, jr.reasons.NO_MOMENT))
    return survival_out(cache.survival(access.warehouse, access.workspace.engine, q.moment,
                                       q.outcome, q.within, sel, q.as_of, q.weighted))


@router.get("/customers")
def moment_customers(access: Reader, q: Annotated[CustomersQuery, Query()]) -> CustomersOut:
    """The customers who met a moment and have not (yet) had the outcome: the most recent
    first, up to ``limit``, with the total (actions)."""
    sel = q.selection()
    if q.moment is None:
        return customers_out(jr.Actions("", q.outcome, q.within, None, 0, 0, [], _chosen(sel),
                                        NO_MOMENT, jr.reasons.NO_MOMENT))
    return customers_out(cache.customers(access.warehouse, access.workspace.engine,
                                         q.moment, q.outcome, q.within, sel, q.as_of,
                                         q.limit))
