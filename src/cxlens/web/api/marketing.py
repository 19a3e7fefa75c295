"""Marketing as JSON: ``GET /api/w/{slug}/marketing/attribution``.

The same function as ``cxlens marketing attribution`` (:func:`cxlens.analytics.marketing.
attribute`), which prints this model with ``--json``. The route checks its query, calls
the analytics and copies the result into the response model; nothing is computed here. A
selection without journeys or without conversions is a 200 with ``reason`` saying why, so a
dashboard can tell "nothing there" from a broken request (a 422).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from cxlens.analytics import marketing as mk
from cxlens.analytics.marketing._paths import DEFAULT_LOOKBACK, MAX_LOOKBACK
from cxlens.analytics.marketing.attribution import N_BOOT
from cxlens.analytics.marketing.rules import DEFAULT_HALF_LIFE
from cxlens.web.api.journeys import Chosen
from cxlens.web.deps import TokenScope
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
    n_boot: int = Field(N_BOOT, ge=0, le=2000,
                        description="Bootstrap replicates of the data-driven models (0: none).")
    start: Day | None = Field(None, description="First day (YYYY-MM-DD), inclusive.")
    end: Day | None = Field(None, description="The day after the last (YYYY-MM-DD).")
    segment: Text | None = Field(None, description="Customers of this segment.")
    channel: Text | None = Field(None, description="Customers with a touchpoint in this "
                                                   "channel.")
    store: Text | None = Field(None, description="Customers with a touchpoint in this store.")
    currency: str = Field("EUR", min_length=3, max_length=3, pattern="^[A-Z]{3}$",
                          description="Revenue: orders in this currency.")


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
    currency: str
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
        campaigns=o["campaigns"], currency=a.currency, selection=Chosen(**a.selection),
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
    sel = Selection(q.start, q.end, q.segment, q.channel, q.store)
    with access.engine() as eng:
        a = mk.attribute(eng, models_for(q.model), sel, order=q.order,
                         lookback_days=q.lookback, conversion=q.conversion,
                         campaigns=campaigns, half_life_days=q.half_life,
                         sale_touch=q.sale_touch, n_boot=q.n_boot, currency=q.currency)
    return attribution_out(a)
