"""The Journeys page (issue 11): the real paths to and from a touchpoint, and the process map.

Routes are thin, as on the Experience pages: parse the query, call
:mod:`cxlens.analytics.journeys` (``touchpoints``, ``paths``, ``process_map`` over one
``Selection``, and the filter form's values from ``journeys.options``) through
:mod:`cxlens.web.journeys_cache`, which keeps them while the batches stay the same, and lay
the results out with :mod:`cxlens.web.charts_journeys`. Each chart's numbers are a table on
the page and a CSV download (``/w/{slug}/journeys/{key}.csv`` with the page's query), built
by the same code.

The page is the first of the journeys group of the navigation (:data:`JOURNEYS`); the
Moments page joins it with its own module and template, reusing :class:`JourneyChoices`
and ``_journey_filters.html`` for the same filters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens.analytics import journeys as jr
from cxlens.analytics.journeys.paths import DEFAULT_STEPS, MAX_STEPS
from cxlens.errors import UserError
from cxlens.warehouse.store import db_path
from cxlens.web import charts_journeys as cj
from cxlens.web import formats
from cxlens.web import journeys_cache as cache
from cxlens.web.deps import WorkspaceAccess, WorkspaceRole, get_clock
from cxlens.web.i18n import event_label, translate, value_label
from cxlens.web.nav import JOURNEYS, NavItem, register
from cxlens.web.pages.experience import MONTHS, Window
from cxlens.web.params import filter_text
from cxlens.web.templating import lang_of, render
from cxlens.web.warehouses import Warehouse

router = APIRouter(include_in_schema=False)
Viewer = WorkspaceRole("viewer")

register(NavItem("journeys", "nav.journeys", "/w/{slug}/journeys", "viewer", order=17,
                 group=JOURNEYS))

DEFAULT_MONTHS = 12
DIRECTIONS = ("to", "from")
STEPS = tuple(range(2, 7))
TOPS = (10, 20, 50)
DEFAULT_TOP = 10
DEFAULT_ANCHOR = "first_purchase"
MAX_CHOICE = 200  # values offered per filter

@dataclass(frozen=True)
class JourneyChoices:
    """Which journeys (the customers filters of ``Selection``) and which paths: the anchor
    touchpoint (``""``: the journeys' first or last steps), direction, steps and top N."""

    segment: str | None = None
    channel: str | None = None
    store: str | None = None
    anchor: str | None = DEFAULT_ANCHOR
    direction: str = "to"
    steps: int = DEFAULT_STEPS
    top: int = DEFAULT_TOP

    @classmethod
    def checked(cls, segment: str | None = None, channel: str | None = None,
                store: str | None = None, anchor: str | None = DEFAULT_ANCHOR,
                direction: str = "to", steps: int = DEFAULT_STEPS,
                top: int = DEFAULT_TOP) -> JourneyChoices:
        if direction not in DIRECTIONS:
            raise HTTPException(422, "direction must be to or from")
        if not 1 <= steps <= MAX_STEPS:
            raise HTTPException(422, f"steps must be 1 to {MAX_STEPS}")
        if top not in TOPS:
            raise HTTPException(422, f"top must be one of {', '.join(map(str, TOPS))}")
        return cls(filter_text("segment", segment), filter_text("channel", channel),
                   filter_text("store", store), filter_text("anchor", anchor), direction,
                   steps, top)

    def selection(self, w: Window) -> jr.Selection:
        return jr.Selection(w.start, w.end, self.segment, self.channel, self.store)

    def query(self) -> str:
        q = {"segment": self.segment, "channel": self.channel, "store": self.store,
             "anchor": self.anchor or "", "direction": self.direction, "steps": self.steps,
             "top": self.top}
        return urlencode({k: v for k, v in q.items() if v is not None})


def _translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)
    return t


def build(wh: Warehouse, engine_choice: str | None, lang: str, c: JourneyChoices,
          w: Window) -> dict[str, Any]:
    """Everything the page shows for the choices ``c`` in window ``w``: the analytics'
    results through :mod:`cxlens.web.journeys_cache` (kept while the batches stay the same,
    shared with the API), laid out for the language ``lang``."""
    t = _translator(lang)

    def label(name: str) -> str:
        return event_label(lang, name)

    def dur(seconds: float) -> str:
        return cj.duration(seconds, t, lambda v, d: formats.num(v, lang, d))

    sel = c.selection(w)
    tps = cache.touchpoints(wh, engine_choice, sel)
    anchor = c.anchor if c.anchor in {tp.touchpoint for tp in tps} else None
    p = cache.paths(wh, engine_choice, anchor, c.direction, sel, c.steps, c.top)
    m = cache.process_map(wh, engine_choice, sel)
    side = "from" if c.direction == "from" else "to"
    title = (t(f"jv.paths_{side}", anchor=label(anchor)) if anchor
             else t(f"jv.paths_{side}_none"))
    charts = [cj.paths_chart("paths", title, t, p, label),
              cj.process_map_chart("map", t("jv.map_title"), t, m, label, dur)]
    options = {dim: list(values)  # a copy: the kept options stay as they are
               for dim, values in cache.options(wh, engine_choice, MAX_CHOICE).items()}
    for dim, value in (("segment", c.segment), ("channel", c.channel), ("store", c.store)):
        if value is not None and value not in options[dim]:
            options[dim].append(value)  # a chosen value stays on the form
    return {"charts": charts, "paths": p, "map": m, "touchpoints": tps,
            "anchor_missing": c.anchor is not None and anchor is None,
            "options": options, "store_names": cache.store_names(wh, engine_choice),
            "channel_labels": {ch: value_label(lang, ch) for ch in options["channel"]}}


def _has_warehouse(access: WorkspaceAccess) -> bool:
    return db_path(access.workspace.path).exists()


def _built(request: Request, access: WorkspaceAccess, c: JourneyChoices,
           w: Window) -> dict[str, Any]:
    return build(access.warehouse, access.workspace.engine, lang_of(request), c, w)


Months = Annotated[int, Query()]
Text = Annotated[str | None, Query()]


def _window(request: Request, months: int, as_of: str | None) -> Window:
    return Window(months, as_of, get_clock(request)())


@router.get("/w/{slug}/journeys")
def journeys(request: Request, access: Viewer, months: Months = DEFAULT_MONTHS,
             as_of: Text = None, segment: Text = None, channel: Text = None,
             store: Text = None, anchor: Annotated[str | None, Query()] = DEFAULT_ANCHOR,
             direction: Annotated[str, Query()] = "to",
             steps: Annotated[int, Query()] = DEFAULT_STEPS,
             top: Annotated[int, Query()] = DEFAULT_TOP) -> Response:
    w = _window(request, months, as_of)
    c = JourneyChoices.checked(segment, channel, store, anchor, direction, steps, top)
    ctx: dict[str, Any] = {"access": access, "window": w, "months_options": MONTHS,
                           "choices": c, "directions": DIRECTIONS, "steps_options": STEPS,
                           "tops": TOPS, "csv_base": f"/w/{access.workspace.slug}/journeys/",
                           "csv_query": f"{w.query()}&{c.query()}"}
    if _has_warehouse(access):
        try:
            ctx.update(_built(request, access, c, w))
        except (UserError, ValueError) as exc:
            ctx["error"] = getattr(exc, "message", None) or str(exc)
    return render(request, "journeys.html", ctx)


@router.get("/w/{slug}/journeys/{key}.csv")
def journeys_csv(request: Request, key: str, access: Viewer, months: Months = DEFAULT_MONTHS,
                 as_of: Text = None, segment: Text = None, channel: Text = None,
                 store: Text = None, anchor: Annotated[str | None, Query()] = DEFAULT_ANCHOR,
                 direction: Annotated[str, Query()] = "to",
                 steps: Annotated[int, Query()] = DEFAULT_STEPS,
                 top: Annotated[int, Query()] = DEFAULT_TOP) -> Response:
    """The numbers of one chart as CSV (the same rows as its table)."""
    w = _window(request, months, as_of)
    c = JourneyChoices.checked(segment, channel, store, anchor, direction, steps, top)
    if not _has_warehouse(access):
        raise HTTPException(404, "no data yet")
    try:
        built = _built(request, access, c, w)
    except (UserError, ValueError) as exc:
        raise HTTPException(422, getattr(exc, "message", None) or str(exc)) from None
    chart = next((ch for ch in built["charts"] if ch.key == key), None)
    if chart is None:
        raise HTTPException(404, "no such chart")
    name = f"{access.workspace.slug}-journeys-{key}-{w.start}-{w.as_of}.csv"
    return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
