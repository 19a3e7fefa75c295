"""Journeys as JSON: ``GET /api/w/{slug}/journeys/paths`` and ``/journeys/map``.

The same functions as ``cxlens journeys paths|map`` (:mod:`cxlens.analytics.journeys`),
which print these models with ``--json``. A route checks its query, calls the analytics
through :mod:`cxlens.web.journeys_cache` (kept while the batches stay the same, shared with
the Journeys page) and copies the result into a response model; nothing is computed here.
A selection without journeys, or a touchpoint nobody met, is a 200 with empty rows and
``reason`` saying why, so a dashboard can tell "nothing there" from a broken request (a 422).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from cxlens.analytics import journeys as jr
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
