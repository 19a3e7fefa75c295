"""The findings first on the Overview as JSON: ``GET /api/w/{slug}/insights``.

The same :func:`cxlens.analytics.insights.insights` as the Overview page and
``cxlens insights``, over the same period (``days`` up to ``as_of``; by default the page's:
yesterday, or the last day with data when the data stop earlier). Each finding carries its
numbers with their 95 % interval and n, the sentence the page shows in ``lang``, and the
page of its evidence.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cxlens.analytics import overview as ov
from cxlens.analytics.insights import Insight, insights
from cxlens.surveys import followups
from cxlens.warehouse.engine import Engine
from cxlens.web import insight_text
from cxlens.web.api.experience_models import EstimateOut, estimate_out
from cxlens.web.deps import ServerClock, TokenScope, WorkspaceAccess
from cxlens.web.params import Day

router = APIRouter(prefix="/api/w/{slug}", tags=["insights"])
Reader = TokenScope("read")
Lang = Literal["en", "fi", "sv"]  # i18n.LANGUAGES
PERIODS = (30, 90, 365)  # the Overview's periods


class InsightsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(90, description="The period's length in days: 30, 90 or 365.")
    as_of: Day | None = Field(None, description="The period's last day (default: yesterday, "
                                                 "or the last day with data if earlier).")
    lang: Lang = Field("en", description="The language of the sentences.")

    @field_validator("days")
    @classmethod
    def _period(cls, days: int) -> int:
        if days not in PERIODS:
            raise ValueError("days must be 30, 90 or 365")
        return days


class InsightOut(BaseModel):
    kind: Literal["group", "change", "driver", "worth"]
    metric: str
    direction: Literal["up", "down"]
    dimension: str | None
    subject: str | None = Field(description="The group, or the driver's attribute")
    effect: EstimateOut = Field(description="The difference (group − rest, this period − "
                                            "the previous, promoter − detractor revenue) or "
                                            "the driver's importance, with its interval")
    value: float | None
    other: float | None
    n: int
    n_other: int
    p_value: float | None
    strength: float = Field(description="The order: the interval's end nearest to zero over "
                                        "a reference effect (docs/methods.md)")
    currency: str | None
    days: int | None
    text: str = Field(description="The sentence the Overview shows, in lang")
    evidence: str = Field(description="The page with the finding in full")


class InsightsOut(BaseModel):
    start: date
    end: date = Field(description="The day after the period")
    data_until: date | None = Field(description="Set when the data stop before yesterday "
                                                "and the period ends there")
    insights: list[InsightOut]
    open_followups: int


def insight_out(i: Insight, lang: str, slug: str) -> InsightOut:
    return InsightOut(kind=i.kind, metric=i.metric, direction=i.direction,  # type: ignore[arg-type]
                      dimension=i.dimension,
                      subject=None if i.subject is None else str(i.subject),
                      effect=estimate_out(i.effect), value=i.value, other=i.other, n=i.n,
                      n_other=i.n_other, p_value=i.p_value, strength=i.strength,
                      currency=i.currency, days=i.days, text=insight_text.sentence(i, lang),
                      evidence=insight_text.evidence(i, slug))


def insights_out(eng: Engine, slug: str, days: int, as_of: date | None, today: date,
                 lang: str, open_followups: int) -> InsightsOut:
    """The API's answer, also printed by ``cxlens insights --json``."""
    end = ov.chosen_end(eng, as_of, today)
    period = ov.period_ending(end.end, days)
    found = insights(eng, period)
    return InsightsOut(start=period.start, end=period.end,
                       data_until=end.data_until if end.stale else None,
                       insights=[insight_out(i, lang, slug) for i in found],
                       open_followups=open_followups)


_CACHE: OrderedDict[tuple[Any, ...], InsightsOut] = OrderedDict()
_CACHE_SIZE = 64
_cache_lock = threading.Lock()


def served_insights(access: WorkspaceAccess, days: int, as_of: date | None, today: date,
                    lang: str) -> InsightsOut:
    """:func:`insights_out` for the page and the API, kept while the workspace's data stay
    as they are: the findings take a second on the M demo, and a reader who comes back to
    the Overview should not wait for them again. The key holds everything the answer
    depends on: the warehouse, its data version (batches, also those the CLI loads beside
    the server) and this server's count of writes (answers, follow-ups), the engine, the
    period, the day and the language."""
    from cxlens.web.kept import data_version

    wh = access.warehouse
    key = (str(wh.path), data_version(wh), wh.writes, access.workspace.engine, days, as_of,
           today, lang)
    with _cache_lock:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    with wh.read() as cur:
        open_items = followups.counts(cur)["open"]
    with access.engine() as eng:
        found = insights_out(eng, access.workspace.slug, days, as_of, today, lang, open_items)
    with _cache_lock:
        _CACHE[key] = found
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found


@router.get("/insights")
def get_insights(access: Reader, q: Annotated[InsightsQuery, Query()],
                 clock: ServerClock) -> InsightsOut:
    """What stands out in the period, strongest first (the Overview's first section)."""
    return served_insights(access, q.days, q.as_of, clock().date(), q.lang)
