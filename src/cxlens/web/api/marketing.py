"""Marketing as JSON: ``GET /api/w/{slug}/marketing/attribution`` and ``…/marketing/roi``.

The same function as ``cxlens marketing attribution`` (:func:`cxlens.analytics.marketing.
attribute`), which prints this model with ``--json``. The route checks its query, calls
the analytics and copies the result into the response model; nothing is computed here. A
selection without journeys or without conversions is a 200 with ``reason`` saying why, so a
dashboard can tell "nothing there" from a broken request (a 422).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from cxlens.analytics import marketing as mk
from cxlens.analytics.marketing._paths import DEFAULT_LOOKBACK, MAX_LOOKBACK
from cxlens.analytics.marketing.attribution import N_BOOT
from cxlens.analytics.marketing.mmm import MMMError, MMMFit
from cxlens.analytics.marketing.mmm import fit as mmm_fit
from cxlens.analytics.marketing.planner import PlanError, plan, plan_for_target, scenario
from cxlens.analytics.marketing.rules import DEFAULT_HALF_LIFE
from cxlens.web.api.journeys import Chosen
from cxlens.web.api.money import served_money
from cxlens.web.deps import ServerClock, TokenScope
from cxlens.web.kept import Kept
from cxlens.web.params import Day

router = APIRouter(prefix="/api/w/{slug}/marketing", tags=["marketing"])
Reader = TokenScope("read")

Text = Annotated[str, Field(min_length=1, max_length=200)]
ModelName = Literal["first", "last", "linear", "time_decay", "position", "markov", "shapley",
                    "all"]
MAX_CAMPAIGNS = 50


def models_for(model: str) -> list[str]:
    """The models one ``model`` choice stands for (``all``: every one, in table order)."""
    return list(mk.MODELS) if model == "all" else [model]


def parse_campaigns(items: list[str]) -> dict[str, str]:
    """``PATTERN=CHANNEL`` items as a mapping; ``ValueError`` names a bad one."""
    out: dict[str, str] = {}
    for item in items:
        pattern, eq, channel = item.partition("=")
        if not eq or not pattern.strip() or not channel.strip():
            raise ValueError(f"a campaign mapping is PATTERN=CHANNEL (such as "
                             f"'%Search%=search_ads'), not {item!r}")
        out[pattern.strip()] = channel.strip()
    return out


class AttributionQuery(BaseModel):
    """Which journeys (period, segment, channel, store: as on the Journeys page), what a
    path is and which models."""

    model_config = ConfigDict(extra="forbid")

    model: ModelName = Field("all", description="One model, or all side by side.")
    order: int = Field(1, ge=1, le=3, description="The Markov chain's order.")
    lookback: int = Field(DEFAULT_LOOKBACK, ge=1, le=MAX_LOOKBACK,
                          description="Days before a conversion whose touchpoints count.")
    conversion: Literal["every", "first"] = Field(
        "every", description="Every order is a conversion, or only a customer's first.")
    half_life: float = Field(DEFAULT_HALF_LIFE, gt=0, le=3650,
                             description="Time decay's half-life in days.")
    sale_touch: bool = Field(True, description="The converting order's own channel (store, "
                                               "sales, web) ends its path.")
    campaign: list[Annotated[str, Field(min_length=3, max_length=200)]] = Field(
        [], max_length=MAX_CAMPAIGNS,
        description="PATTERN=CHANNEL: events whose campaign is LIKE the pattern count as "
                    "that channel (first match wins).")
    spend_campaigns: bool = Field(True, description="An event whose campaign the spend "
                                                    "table books under a paid channel "
                                                    "counts as that channel.")
    n_boot: int = Field(N_BOOT, ge=0, le=2000,
                        description="Bootstrap replicates of the data-driven models (0: none).")
    start: Day | None = Field(None, description="First day (YYYY-MM-DD), inclusive.")
    end: Day | None = Field(None, description="The day after the last (YYYY-MM-DD).")
    segment: Text | None = Field(None, description="Customers of this segment.")
    channel: Text | None = Field(None, description="Customers with a touchpoint in this "
                                                   "channel.")
    store: Text | None = Field(None, description="Customers with a touchpoint in this store.")
    currency: str | None = Field(None, min_length=3, max_length=3, pattern="^[A-Z]{3}$",
                                 description="Revenue in this currency (default: the "
                                             "workspace's reporting currency).")


class ChannelOut(BaseModel):
    channel: str
    conversions: float = Field(description="Conversions credited to the channel.")
    revenue: float = Field(description="Revenue credited, in the currency.")
    conversion_share: float = Field(description="Of the attributed conversions, 0–1.")
    revenue_share: float = Field(description="Of the attributed revenue, 0–1.")
    removal_effect: float | None = Field(
        None, description="Markov only: the share of conversion probability lost without it.")
    revenue_removal_effect: float | None = Field(
        None, description="Markov only: the share of expected revenue lost without it.")
    low: float | None = Field(None, description="95 % bootstrap interval of conversions "
                                                "(data-driven models).")
    high: float | None = None
    revenue_low: float | None = Field(None, description="… and of revenue.")
    revenue_high: float | None = None


class ModelOut(BaseModel):
    model: str
    channels: list[ChannelOut]


class AttributionOut(BaseModel):
    ok: bool = True
    order: int
    lookback_days: int
    conversion: str
    half_life_days: float
    sale_touch: bool
    campaigns: dict[str, str]
    spend_campaigns: dict[str, str] = Field(
        description="Campaigns named in the spend table and the paid channel they count as.")
    currency: str
    rates: dict[str, float] = Field({}, description="Other currencies' value in it, as converted.")
    selection: Chosen
    paths: int = Field(description="Distinct paths.")
    journeys: int = Field(description="Paths taken: converting and not.")
    conversions: float
    revenue: float
    non_conversions: float
    untouched_conversions: float = Field(
        description="Conversions without a touchpoint in the lookback (credited to none).")
    untouched_revenue: float
    n_boot: int
    seed: int
    channels_seen: list[str] = Field(description="Every channel met on a path.")
    reason: str | None = Field(description="Why there is nothing to attribute, if so.")
    models: list[ModelOut]


def attribution_out(a: mk.Attribution) -> AttributionOut:
    o = a.options
    return AttributionOut(
        order=a.order, lookback_days=o["lookback_days"], conversion=o["conversion"],
        half_life_days=a.half_life_days, sale_touch=o["sale_touch"],
        campaigns=o["campaigns"], spend_campaigns=o.get("spend_campaigns", {}),
        currency=a.currency, rates=a.rates, selection=Chosen(**a.selection),
        paths=a.paths, journeys=a.journeys, conversions=a.conversions, revenue=a.revenue,
        non_conversions=a.non_conversions, untouched_conversions=a.untouched_conversions,
        untouched_revenue=a.untouched_revenue, n_boot=a.n_boot, seed=a.seed,
        channels_seen=a.channels, reason=a.reason,
        models=[ModelOut(model=m.model, channels=[ChannelOut(**r.__dict__) for r in m.rows])
                for m in a.models])


@router.get("/attribution")
def attribution(access: Reader, q: Annotated[AttributionQuery, Query()]) -> AttributionOut:
    """Conversions and revenue per channel by each attribution model, side by side."""
    from cxlens.analytics.journeys import Selection

    if q.start is not None and q.end is not None and q.start >= q.end:
        raise HTTPException(422, "start must be before end (end is the day after the last)")
    try:
        campaigns = parse_campaigns(q.campaign)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    from cxlens.analytics.marketing._spend import SpendInputError

    sel = Selection(q.start, q.end, q.segment, q.channel, q.store)
    m = served_money(access, q.currency)
    try:
        with access.engine() as eng:
            a = mk.attribute(eng, models_for(q.model), sel, order=q.order,
                             lookback_days=q.lookback, conversion=q.conversion,
                             campaigns=campaigns, half_life_days=q.half_life,
                             sale_touch=q.sale_touch, n_boot=q.n_boot, currency=m.currency,
                             rates=m.rates, spend_channels=q.spend_campaigns)
    except SpendInputError as exc:
        raise HTTPException(422, str(exc)) from None
    return attribution_out(a)


# --- spend and return: GET /api/w/{slug}/marketing/roi (cxlens marketing roi) ------------

RoiBy = Literal["channel", "campaign", "month"]
RoiModel = Literal["last_paid", "first_paid", "linear_paid", "last", "first", "linear",
                   "position"]


class RoiQuery(BaseModel):
    """Which spend and acquisitions (period, paid channel), how an acquisition is credited
    and how far its revenue is followed."""

    model_config = ConfigDict(extra="forbid")

    by: RoiBy = Field("channel", description="Rows per paid channel, campaign or month.")
    model: RoiModel = Field("last_paid", description="Which touch of the path before the "
                                                     "first purchase gets the customer.")
    horizon: int = Field(365, ge=1, le=3650, description="Days of revenue after the first "
                                                         "purchase.")
    lookback: int = Field(DEFAULT_LOOKBACK, ge=1, le=MAX_LOOKBACK,
                          description="Days before the first purchase whose touches count.")
    margin: float = Field(1.0, gt=0, le=1, description="Gross margin share for ROI and "
                                                       "payback (1: on revenue).")
    campaign: list[Annotated[str, Field(min_length=3, max_length=200)]] = Field(
        [], max_length=MAX_CAMPAIGNS,
        description="PATTERN=CHANNEL: events whose campaign is LIKE the pattern count as "
                    "that channel, before the spend table's own campaigns.")
    spend_campaigns: bool = Field(True, description="An event whose campaign the spend "
                                                    "table books under a paid channel "
                                                    "counts as that channel.")
    clv: bool = Field(True, description="The return on customer lifetime value (fits the "
                                        "value model, kept per workspace).")
    n_boot: int = Field(200, ge=0, le=2000, description="Bootstrap replicates (0: none).")
    start: Day | None = Field(None, description="First day (YYYY-MM-DD), inclusive.")
    end: Day | None = Field(None, description="The day after the last (YYYY-MM-DD).")
    channel: Text | None = Field(None, description="Only this paid channel.")
    currency: str | None = Field(None, min_length=3, max_length=3, pattern="^[A-Z]{3}$",
                                 description="Spend and revenue in this currency (default: "
                                             "the workspace's reporting currency).")


class RatioOut(BaseModel):
    value: float | None
    low: float | None = Field(None, description="95 % bootstrap interval.")
    high: float | None = None


class RoiRowOut(BaseModel):
    key: str
    channel: str | None
    campaign: str | None
    month: str | None = Field(description="YYYY-MM of acquisition (and of spend).")
    spend: float
    customers: float = Field(description="Customers acquired, credited by the rule.")
    customers_low: float | None
    customers_high: float | None
    first_order_revenue: float
    horizon_revenue: float = Field(description="Their revenue in the horizon, first order "
                                               "included.")
    cac: RatioOut = Field(description="Spend per customer acquired.")
    roas_first_order: RatioOut
    roas: RatioOut = Field(description="Horizon revenue / spend.")
    roi: RatioOut = Field(description="(margin · horizon revenue − spend) / spend.")
    clv_return: RatioOut = Field(description="(revenue to date + predicted CLV) / spend.")
    payback_months: int | None = Field(description="Months until margin ≥ spend.")
    platform_conversions: float | None = Field(description="The ad platforms' own count.")
    n: int = Field(description="Distinct customers with credit.")
    all_customers: int | None = Field(description="Month rows: every customer acquired.")
    flags: list[str]


class RoiOut(BaseModel):
    ok: bool = True
    by: str
    model: str
    horizon_days: int
    lookback_days: int
    margin: float
    currency: str
    rates: dict[str, float] = Field({}, description="Other currencies' value in it, as converted.")
    start: date | None
    end: date | None
    as_of: date
    rows: list[RoiRowOut]
    total: RoiRowOut | None
    spend: float
    acquired: int = Field(description="Every customer acquired in the period.")
    organic: float = Field(description="Acquired without a paid touch in the lookback.")
    horizon_incomplete: int
    paid_channels: list[str]
    campaigns: dict[str, str]
    spend_campaigns: dict[str, str]
    clv_model: str | None
    clv_months: int | None
    n_boot: int
    seed: int
    notes: list[str]
    reason: str | None


def roi_out(r: mk.Roi) -> RoiOut:
    """An ROI result as its API model (NaN-free: every ratio is a number or null)."""
    return RoiOut.model_validate(r.as_dict())


def roi_value_model(fit: Callable[[], Any]) -> tuple[Any, str | None]:
    """The value model for the CLV return, or ``None`` and why (no purchases, a model the
    data cannot identify): ROI is still answered without it."""
    from cxlens.analytics.value._summary import ValueInputError
    from cxlens.analytics.value.bgnbd import NotIdentifiable

    try:
        return fit(), None
    except (ValueInputError, NotIdentifiable) as exc:
        return None, f"no value model ({exc}): the CLV return is left out"


@router.get("/roi")
def get_roi(access: Reader, q: Annotated[RoiQuery, Query()], clock: ServerClock) -> RoiOut:
    """Spend and return per paid channel, campaign or month: customers acquired, CAC, ROAS,
    ROI, payback, the return on CLV, and the platforms' own conversions."""
    from cxlens.analytics.marketing._spend import SpendInputError
    from cxlens.web.api.value import served_fit

    if q.start is not None and q.end is not None and q.start >= q.end:
        raise HTTPException(422, "start must be before end (end is the day after the last)")
    try:
        campaigns = parse_campaigns(q.campaign)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    today = clock().date()
    m = served_money(access, q.currency)
    value, why = (roi_value_model(lambda: served_fit(access, today, q.currency))
                  if q.clv else (None, None))
    try:
        with access.engine() as eng:
            r = mk.roi(eng, today=today, by=q.by, model=q.model, horizon_days=q.horizon,
                       lookback_days=q.lookback, margin=q.margin, start=q.start, end=q.end,
                       channel=q.channel, campaigns=campaigns,
                       spend_channels=q.spend_campaigns, value=value, n_boot=q.n_boot,
                       currency=m.currency, rates=m.rates)
    except SpendInputError as exc:
        raise HTTPException(422, str(exc)) from None
    if why:
        r = dataclasses.replace(r, notes=[n for n in r.notes if not n.startswith(
            "no value model")] + [why])
    return roi_out(r)


# --- the budget planner: response curves and plans (issue 14, point 3) -------------------
# ``GET /api/w/{slug}/marketing/curves`` and ``/marketing/plan``; ``cxlens marketing curves
# --json`` and ``cxlens marketing plan --json`` print the same models. The fit is kept while
# the workspace's data version stays the same (web/kept.py): a plan or a changed scenario
# reuses it.

_FITS = Kept(16)


def kept_fit(access: Any, outcome: str, n_boot: int) -> MMMFit:
    """The workspace's fitted marketing-mix model, kept under its data version; a fit the
    data cannot give is a 422 that says why (too few weeks, a currency without a rate, no
    spend). In the workspace's reporting currency, other currencies at its rates."""
    m = served_money(access)
    try:
        return _FITS.get(access.warehouse, access.workspace.engine,
                         ("mmm", outcome, n_boot, m.key()),
                         lambda eng: mmm_fit(eng, outcome, n_boot=n_boot,
                                             currency=m.currency, rates=m.rates))
    except MMMError as exc:
        raise HTTPException(422, str(exc)) from None


def parse_amounts(items: list[str], what: str) -> dict[str, float]:
    """``CHANNEL=AMOUNT`` items (each may hold several, comma-separated) as a mapping;
    ``ValueError`` names a bad one."""
    out: dict[str, float] = {}
    for item in (p for it in items for p in it.split(",") if p.strip()):
        ch, eq, amount = item.partition("=")
        try:
            value = float(amount)
        except ValueError:
            value = float("nan")
        if not eq or not ch.strip() or not value >= 0 or value == float("inf"):
            raise ValueError(f"{what}: an item is CHANNEL=AMOUNT with an amount of 0 or "
                             f"more (such as 'search_ads=1200'), not {item!r}")
        out[ch.strip()] = value
    return out


class CurveOut(BaseModel):
    channel: str
    spend_total: float = Field(description="Spend in the period, in the currency.")
    spend_days: int = Field(description="Days with spend.")
    current_spend_per_day: float = Field(description="Mean daily spend of the last 13 weeks.")
    max_spend_per_day: float
    decay: float | None = Field(None, description="Share of a day's effect carried to the "
                                                  "next (geometric adstock).")
    k: float | None = Field(None, description="Daily spend that brings half of vmax.")
    h: float | None = Field(None, description="The curve's slope (above 1: S-shaped).")
    vmax: float | None = Field(None, description="Most outcome per day the channel can bring.")
    current_response_per_day: float | None = None
    per_eur: float | None = Field(None, description="Outcome per unit spent at current spend.")
    marginal_per_eur: float | None = Field(None, description="… of the next unit spent.")
    intervals: dict[str, list[float]] = Field(description="95 % bootstrap intervals.")
    reason: str | None = Field(None, description="Why the channel has no curve.")


class CurvesOut(BaseModel):
    ok: bool = True
    outcome: str
    currency: str
    start: str = Field(description="First day of the data fitted.")
    days: int
    r2: float
    n_boot: int
    seed: int
    baseline: dict[str, float]
    channels: list[CurveOut]


class AllocationOut(BaseModel):
    channel: str
    amount: float
    per_day: float
    share: float
    expected: float | None
    low: float | None
    high: float | None
    extrapolated: bool = Field(description="Spends more a day than the channel ever did.")
    fitted: bool


class SplitOut(BaseModel):
    budget: float
    days: int
    expected: float
    low: float | None
    high: float | None
    channels: list[AllocationOut]


class PlanOut(BaseModel):
    ok: bool = True
    outcome: str
    currency: str
    target: float | None
    recommended: SplitOut | None
    current: SplitOut | None = Field(description="The last 13 weeks' split of the budget.")
    gain: float | None = Field(description="Expected outcome of the recommended split over "
                                           "the current one.")
    gain_low: float | None
    gain_high: float | None
    scenario: SplitOut | None = Field(description="The split asked for (split=…).")
    notes: list[str]


def curves_out(f: MMMFit) -> CurvesOut:
    s = f.series
    return CurvesOut(
        outcome=s.outcome_name, currency=s.currency, start=s.start.isoformat(), days=s.days,
        r2=f.r2, n_boot=f.n_boot, seed=f.seed, baseline=dict(f.baseline),
        channels=[CurveOut(**{**c.__dict__, "intervals": {k: list(v) for k, v in
                                                          c.intervals.items()}})
                  for c in f.curves])


def split_out(s: Any) -> SplitOut:
    return SplitOut(budget=s.budget, days=s.days, expected=s.expected, low=s.low, high=s.high,
                    channels=[AllocationOut(**r.__dict__) for r in s.rows])


def plan_out(f: MMMFit, p: Any | None, scenario: Any | None) -> PlanOut:
    return PlanOut(
        outcome=f.series.outcome_name, currency=f.series.currency,
        target=p.target if p else None, recommended=split_out(p.recommended) if p else None,
        current=split_out(p.current) if p and p.current else None,
        gain=p.gain if p else None, gain_low=p.gain_low if p else None,
        gain_high=p.gain_high if p else None,
        scenario=split_out(scenario) if scenario else None,
        notes=list(p.notes) if p else [])


def make_plan(f: MMMFit, budget: float | None, target: float | None, days: int,
              split: dict[str, float], committed: dict[str, float]) -> PlanOut:
    """The plan the CLI and the API answer with: the best split of ``budget`` (or the least
    budget for ``target``) and, with ``split``, that scenario too."""
    p = None
    if target is not None:
        p = plan_for_target(f, target, days=days, committed=committed)
    elif budget is not None:
        p = plan(f, budget, days=days, committed=committed)
    sc = scenario(f, split, days=days) if split else None
    return plan_out(f, p, sc)


class PlanQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget: float | None = Field(None, gt=0, le=1e12, description="Budget over the period.")
    target: float | None = Field(None, gt=0, le=1e12, description="Outcome to reach at least "
                                                                  "cost (instead of budget).")
    days: int = Field(30, ge=1, le=366, description="The period the budget is for.")
    split: list[Annotated[str, Field(min_length=3, max_length=2000)]] = Field(
        [], max_length=50, description="CHANNEL=AMOUNT: a scenario to evaluate.")
    committed: list[Annotated[str, Field(min_length=3, max_length=2000)]] = Field(
        [], max_length=50, description="CHANNEL=AMOUNT already committed.")
    outcome: Literal["new_customers", "revenue"] = "new_customers"
    n_boot: int = Field(100, ge=0, le=1000, description="Bootstrap replicates of the fit.")


class CurvesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["new_customers", "revenue"] = "new_customers"
    n_boot: int = Field(100, ge=0, le=1000, description="Bootstrap replicates of the fit.")


@router.get("/curves")
def curves(access: Reader, q: Annotated[CurvesQuery, Query()]) -> CurvesOut:
    """The response curve of every ad channel (carry-over and saturation), with intervals."""
    return curves_out(kept_fit(access, q.outcome, q.n_boot))


@router.get("/plan")
def plan_route(access: Reader, q: Annotated[PlanQuery, Query()]) -> PlanOut:
    """The split of a budget (or the least budget for a target) that brings the most, and
    a scenario's expected outcome."""
    if q.budget is None and q.target is None and not q.split:
        raise HTTPException(422, "give budget, target or split")
    try:
        split = parse_amounts(q.split, "split")
        committed = parse_amounts(q.committed, "committed")
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    f = kept_fit(access, q.outcome, q.n_boot)
    try:
        return make_plan(f, q.budget, q.target, q.days, split, committed)
    except PlanError as exc:
        raise HTTPException(422, str(exc)) from None
