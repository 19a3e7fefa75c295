"""The Marketing ROI page (issue 14): what each paid channel and campaign cost and returned.

The same function as ``cxlens marketing roi`` and ``GET /api/w/{slug}/marketing/roi``
(:func:`cxlens.analytics.marketing.roi`), laid out through the API's own model
(:class:`~cxlens.web.api.marketing.RoiOut`) so every output shows the same numbers: tables
by paid channel and by campaign (CAC, ROAS, ROI, payback and the CLV return with their
intervals), spend against the revenue it bought per month with the workspace's notes on
the timeline, and the ad platforms' own conversions beside cxlens's. Filters: the period,
a paid channel, the revenue horizon and the acquisition rule.

Results are kept per data version (:class:`~cxlens.web.kept.Kept`); the value model for
the CLV return is the Value page's, kept the same way (:mod:`cxlens.web.value_cache`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens.analytics import marketing as mk
from cxlens.analytics.marketing._spend import SpendInputError
from cxlens.analytics.marketing.roi import RULES
from cxlens.errors import UserError
from cxlens.warehouse.store import db_path
from cxlens.web import charts_marketing as cm
from cxlens.web import value_cache
from cxlens.web.api.marketing import RoiOut, roi_out, roi_value_model
from cxlens.web.api.money import served_money
from cxlens.web.deps import Db, WorkspaceAccess, WorkspaceRole, get_clock
from cxlens.web.i18n import translate, value_label
from cxlens.web.kept import Kept
from cxlens.web.nav import MARKETING, NavItem, register
from cxlens.web.notes import list_annotations
from cxlens.web.params import parse_day
from cxlens.web.templating import lang_of, render

router = APIRouter(include_in_schema=False)
Viewer = WorkspaceRole("viewer")

register(NavItem("marketing_roi", "nav.marketing_roi", "/w/{slug}/marketing", "viewer",
                 order=19, group=MARKETING))

HORIZONS = (30, 90, 180, 365, 730)
_KEPT = Kept(32)


def clear() -> None:
    """Forget every kept result (tests)."""
    _KEPT.clear()


@dataclasses.dataclass(frozen=True)
class Choice:
    """The page's filters, checked."""

    start: date | None
    end: date | None
    channel: str | None
    horizon: int
    model: str

    def query(self) -> str:
        parts = [f"horizon={self.horizon}", f"model={self.model}"]
        if self.start:
            parts.append(f"start={self.start.isoformat()}")
        if self.end:
            parts.append(f"end={self.end.isoformat()}")
        if self.channel:
            parts.append(f"channel={self.channel}")
        return "&".join(parts)


def _choice(today: date, start: str | None, end: str | None, channel: str | None,
            horizon: int, model: str | None) -> Choice:
    first = parse_day(start, default=today, name="start") if start else None
    last = parse_day(end, default=today, name="end") if end else None
    if first and last and first >= last:
        raise HTTPException(422, "start must be before end (end is the day after the last)")
    if horizon not in HORIZONS:
        raise HTTPException(422, f"horizon must be one of {', '.join(map(str, HORIZONS))} "
                                 "days")
    if model and model not in RULES:
        raise HTTPException(422, f"model must be one of {', '.join(RULES)}")
    ch = (channel or "").strip() or None
    if ch is not None and len(ch) > 200:
        raise HTTPException(422, "channel is longer than 200 characters")
    return Choice(first, last, ch, horizon, model or "last_paid")


def results(request: Request, access: WorkspaceAccess, c: Choice) -> dict[str, RoiOut]:
    """By channel and by campaign (with the CLV return) and by month, as the API gives
    them, kept until the next batch. Raises what the analytics raise."""
    today = get_clock(request)().date()
    m = served_money(access)  # the workspace's reporting currency and rates
    value, why = roi_value_model(lambda: value_cache.fitted(
        access.warehouse, access.workspace.engine, today, value_cache.fit_params(m)))

    def run(by: str, with_value: bool) -> Callable[[Any], RoiOut]:
        def compute(eng: Any) -> RoiOut:
            r = mk.roi(eng, today=today, by=by, model=c.model, horizon_days=c.horizon,
                       start=c.start, end=c.end, channel=c.channel,
                       value=value if with_value else None, currency=m.currency,
                       rates=m.rates)
            if why and with_value:
                r = dataclasses.replace(r, notes=[n for n in r.notes if not n.startswith(
                    "no value model")] + [why])
            return roi_out(r)
        return compute

    out = {}
    for by, with_value in (("channel", True), ("campaign", True), ("month", False)):
        out[by] = _KEPT.get(access.warehouse, access.workspace.engine,
                            ("roi", today, by, c, value is not None, m.key()),
                            run(by, with_value))
    return out


def build(res: dict[str, RoiOut], lang: str, notes: list[Any]) -> dict[str, Any]:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    ch, camp, mo = res["channel"], res["campaign"], res["month"]
    cur = ch.currency

    def channel_label(r: Any) -> str:
        return value_label(lang, r.channel)

    def campaign_label(r: Any) -> str:
        return f"{r.campaign} ({value_label(lang, r.channel)})"

    def campaign_name(r: Any) -> str:
        return str(r.campaign)

    charts = [
        cm.return_chart("roi-channels", t("mr.by_channel_title"), t, ch.rows, ch.total, cur,
                        t("mr.channel"), channel_label, t("mr.return_note", b=ch.n_boot)),
        cm.return_chart("roi-campaigns", t("mr.by_campaign_title"), t, camp.rows, camp.total,
                        cur, t("mr.campaign"), campaign_label,
                        t("mr.return_note", b=camp.n_boot), campaign_name),
        cm.months_chart("roi-months", t("mr.months_title"), t, mo.rows, cur, mo.horizon_days,
                        notes, t("mr.months_note")),
        cm.platform_chart("roi-platform", t("mr.platform_title"), t, camp.rows,
                          campaign_label, t("mr.platform_note"), campaign_name),
    ]
    return {"roi": ch, "charts": charts}


Text = Annotated[str | None, Query()]


def _has_warehouse(access: WorkspaceAccess) -> bool:
    return db_path(access.workspace.path).exists()


@router.get("/w/{slug}/marketing")
def marketing_roi(request: Request, access: Viewer, con: Db, start: Text = None,
                  end: Text = None, channel: Text = None,
                  horizon: Annotated[int, Query()] = 365, model: Text = None) -> Response:
    today = get_clock(request)().date()
    c = _choice(today, start, end, channel, horizon, model)
    ctx: dict[str, Any] = {"access": access, "choice": c, "horizons": HORIZONS,
                           "models": list(RULES),
                           "csv_base": f"/w/{access.workspace.slug}/marketing/",
                           "csv_query": c.query()}
    if not _has_warehouse(access):
        ctx["empty"] = True
        return render(request, "marketing.html", ctx)
    try:
        res = results(request, access, c)
        ctx.update(build(res, lang_of(request), list_annotations(con, access.workspace)))
        ctx["channels"] = res["channel"].paid_channels
        if res["channel"].reason:
            ctx.update(empty=True, reason=res["channel"].reason)
    except (UserError, SpendInputError) as exc:
        ctx["error"] = getattr(exc, "message", None) or str(exc)
    return render(request, "marketing.html", ctx)


@router.get("/w/{slug}/marketing/{key}.csv")
def marketing_csv(request: Request, key: str, access: Viewer, con: Db, start: Text = None,
                  end: Text = None, channel: Text = None,
                  horizon: Annotated[int, Query()] = 365, model: Text = None) -> Response:
    """The numbers of one chart as CSV (the same rows as its table)."""
    today = get_clock(request)().date()
    c = _choice(today, start, end, channel, horizon, model)
    if not _has_warehouse(access):
        raise HTTPException(404, "no data yet")
    try:
        built = build(results(request, access, c), lang_of(request),
                      list_annotations(con, access.workspace))
    except (UserError, SpendInputError) as exc:
        raise HTTPException(422, getattr(exc, "message", None) or str(exc)) from None
    chart = next((ch for ch in built["charts"] if ch.key == key), None)
    if chart is None:
        raise HTTPException(404, "no such chart")
    name = f"{access.workspace.slug}-marketing-{key}-{built['roi'].as_of}.csv"
    return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
