"""The workspace overview: totals against the previous period, trends with the workspace's
annotations, and the latest NPS with its interval, n and the small-sample flag.

Every chart's numbers are also a table on the page and a CSV download
(``/w/{slug}/charts/{key}.csv`` with the page's query), built by the same code.
When no day is chosen the period ends yesterday, or on the last day with data if the data stop
earlier (``overview.default_end``), and the page says so: empty days nobody has loaded yet
must not read as a collapse. Partial weeks and months are drawn pale and named in the table.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens import __version__
from cxlens.analytics import overview as ov
from cxlens.errors import UserError
from cxlens.warehouse.engine import Engine
from cxlens.warehouse.store import db_path
from cxlens.web import charts
from cxlens.web.api.insights import served_insights
from cxlens.web.api.money import served_money
from cxlens.web.deps import Db, WorkspaceAccess, WorkspaceRole, get_clock
from cxlens.web.i18n import translate
from cxlens.web.notes import list_annotations
from cxlens.web.params import parse_day
from cxlens.web.templating import lang_of, render

router = APIRouter(include_in_schema=False)
PERIODS = (30, 90, 365)
Viewer = WorkspaceRole("viewer")


def _check(days: int, grain: str) -> None:
    if days not in PERIODS:
        raise HTTPException(422, f"days must be one of {', '.join(map(str, PERIODS))}")
    if grain not in ov.GRAINS:
        raise HTTPException(422, f"grain must be one of {', '.join(ov.GRAINS)}")


def _day(as_of: str | None, today: date) -> date | None:
    """The day the reader chose, checked (a 422 names the format or the range)."""
    return parse_day(as_of, default=today) if as_of else None


def build(eng: Engine, con: sqlite3.Connection, access: WorkspaceAccess, lang: str,
          period: ov.Period, grain: str) -> dict[str, Any]:
    """Everything the overview shows, from the analytics functions."""
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    nps_period = period if period.days >= 365 else ov.period_ending(
        period.end - timedelta(days=1), 365)
    notes = list_annotations(con, access.workspace)
    m = served_money(access)  # revenue in the workspace's reporting currency and rates
    rows = ov.trends(eng, period, grain, m.currency, m.rates)
    chart_list = [
        charts.trend_chart("orders", t("chart.orders"), t, rows, ["orders"], notes,
                           period.start, period.end, bars=True),
        charts.trend_chart("revenue", t("chart.revenue"), t, rows, ["revenue"], notes,
                           period.start, period.end),
        charts.trend_chart("customers", t("chart.customers"), t, rows,
                           ["new_customers", "active_customers"], notes, period.start,
                           period.end),
        charts.nps_chart("nps", t("chart.nps"), t, ov.nps_trend(eng, nps_period, "month"),
                         notes, nps_period.start, nps_period.end),
    ]
    return {"totals": ov.totals(eng, period, m.currency, m.rates), "nps": ov.nps(eng, period),
            "charts": chart_list, "min_nps": ov.MIN_NPS_SAMPLE, "currency": m.currency}


@router.get("/w/{slug}/insights")
def insights_fragment(request: Request, access: Viewer,
                      days: Annotated[int, Query()] = 90,
                      as_of: Annotated[str | None, Query()] = None) -> Response:
    """The Overview's first section, fetched by the page after it has drawn (the findings
    take a second or two on a large workspace; the numbers below them should not wait).
    The same answer as ``GET /api/w/{slug}/insights``."""
    _check(days, "week")
    today = get_clock(request)().date()
    day = _day(as_of, today)
    if not _has_warehouse(access):
        return render(request, "_insights.html", {"found": None})
    found = served_insights(access, days, day, today, lang_of(request))
    return render(request, "_insights.html", {"found": found,
                                              "slug": access.workspace.slug})


def _has_warehouse(access: WorkspaceAccess) -> bool:
    return db_path(access.workspace.path).exists()


@router.get("/w/{slug}/")
def overview(request: Request, access: Viewer, con: Db,
             days: Annotated[int, Query()] = 90, grain: Annotated[str, Query()] = "week",
             as_of: Annotated[str | None, Query()] = None) -> Response:
    _check(days, grain)
    today = get_clock(request)().date()
    day = _day(as_of, today)
    ctx: dict[str, Any] = {"access": access, "days": days, "grain": grain,
                           "periods": PERIODS, "grains": ov.GRAINS,
                           "version": __version__, "query": request.url.query}
    chosen = ov.DefaultEnd(day or today - timedelta(days=1), None, False)
    if _has_warehouse(access):
        try:
            with access.engine() as eng:
                chosen = ov.chosen_end(eng, day, today)
                period = ov.period_ending(chosen.end, days)
                ctx.update(build(eng, con, access, lang_of(request), period, grain))
        except UserError as exc:
            ctx["error"] = exc.message
    ctx.update(period=ov.period_ending(chosen.end, days), as_of=chosen.end,
               data_until=chosen.data_until if chosen.stale else None)
    return render(request, "overview.html", ctx)


@router.get("/w/{slug}/charts/{key}.csv")
def chart_csv(request: Request, key: str, access: Viewer, con: Db,
              days: Annotated[int, Query()] = 90, grain: Annotated[str, Query()] = "week",
              as_of: Annotated[str | None, Query()] = None) -> Response:
    """The numbers of one overview chart as CSV (the same rows as its table)."""
    _check(days, grain)
    today = get_clock(request)().date()
    day = _day(as_of, today)
    if not _has_warehouse(access):
        raise HTTPException(404, "no data yet")
    with access.engine() as eng:
        period = ov.period_ending(ov.chosen_end(eng, day, today).end, days)
        built = build(eng, con, access, lang_of(request), period, grain)
    chart = next((c for c in built["charts"] if c.key == key), None)
    if chart is None:
        raise HTTPException(404, "no such chart")
    name = f"{access.workspace.slug}-{key}-{period.start}-{period.end}.csv"
    return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
