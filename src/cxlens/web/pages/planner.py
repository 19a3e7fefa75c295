"""The Planner page (issue 14): each ad channel's response curve with its interval, the
recommended split of a budget beside the current one, and a scenario the reader edits.

Everything comes from :mod:`cxlens.analytics.marketing.mmm` and
:mod:`~cxlens.analytics.marketing.planner` through the API's own models
(:func:`cxlens.web.api.marketing.make_plan`, ``curves_out``), so the page, ``GET
/api/w/{slug}/marketing/plan`` and ``cxlens marketing plan`` show the same numbers. The fit
is kept while the workspace's data version stays (the API's cache): changing the budget or
the scenario does not refit.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens.analytics.marketing.planner import DAYS, PlanError
from cxlens.warehouse.store import db_path
from cxlens.web.api.marketing import curves_out, kept_fit, make_plan
from cxlens.web.charts_planner import curves_chart
from cxlens.web.deps import WorkspaceAccess, WorkspaceRole
from cxlens.web.i18n import translate
from cxlens.web.nav import MARKETING, NavItem, register
from cxlens.web.templating import lang_of, render

router = APIRouter(include_in_schema=False)
Viewer = WorkspaceRole("viewer")

register(NavItem("planner", "nav.planner", "/w/{slug}/planner", "viewer", order=24,
                 group=MARKETING))

N_BOOT = 100
OUTCOMES = ("new_customers", "revenue")


def _t(request: Request) -> Any:
    lang = lang_of(request)

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    return t


def _fit(access: WorkspaceAccess, outcome: str) -> Any:
    """The kept fit; a fit the data cannot give raises a 422 with the reason."""
    return kept_fit(access, outcome, N_BOOT)


@router.get("/w/{slug}/planner")
def planner_page(request: Request, access: Viewer,
                 budget: Annotated[float | None, Query()] = None,
                 days: Annotated[int, Query()] = DAYS,
                 outcome: Annotated[str, Query()] = "new_customers",
                 channel: Annotated[list[str] | None, Query()] = None,
                 amount: Annotated[list[float] | None, Query()] = None) -> Response:
    if outcome not in OUTCOMES:
        raise HTTPException(422, f"outcome must be one of {', '.join(OUTCOMES)}")
    if not 1 <= days <= 366:
        raise HTTPException(422, "days must be 1 to 366")
    if budget is not None and not 0 < budget <= 1e12:
        raise HTTPException(422, "budget must be above 0")
    channels, amounts = channel or [], amount or []
    if len(channels) != len(amounts) or any(a < 0 for a in amounts):
        raise HTTPException(422, "each scenario channel needs one amount of 0 or more")
    ctx: dict[str, Any] = {"access": access, "days": days, "outcome": outcome,
                           "outcomes": OUTCOMES, "budget": budget}
    if not db_path(access.workspace.path).exists():
        ctx["error"] = "no spend rows in the workspace"
        return render(request, "planner.html", ctx)
    try:
        f = _fit(access, outcome)
    except HTTPException as exc:
        ctx["error"] = exc.detail
        return render(request, "planner.html", ctx)
    if budget is None:  # a period at the recent pace
        budget = round(sum(c.current_spend_per_day for c in f.curves) * days, -2) or 1000.0
        ctx["budget"] = budget
    split = dict(zip(channels, amounts, strict=True))
    try:
        out = make_plan(f, budget, None, days, split, {})
    except PlanError as exc:
        ctx["plan_error"] = str(exc)
        out = None
    t = _t(request)
    ctx.update(curves=curves_out(f), plan=out, chart=curves_chart(
        "curves", t("pl.curves_title"), t, f), fit=f,
        csv_url=f"/w/{access.workspace.slug}/planner.csv?outcome={outcome}")
    ctx["scenario_amounts"] = (
        {c.channel: c.amount for c in out.scenario.channels} if out and out.scenario
        else {c.channel: c.amount for c in out.recommended.channels} if out and
        out.recommended else {})
    return render(request, "planner.html", ctx)


@router.get("/w/{slug}/planner.csv")
def planner_csv(request: Request, access: Viewer,
                outcome: Annotated[str, Query()] = "new_customers") -> Response:
    """The curves' numbers (the chart's table) as CSV."""
    if outcome not in OUTCOMES:
        raise HTTPException(422, f"outcome must be one of {', '.join(OUTCOMES)}")
    if not db_path(access.workspace.path).exists():
        raise HTTPException(404, "no data yet")
    f = _fit(access, outcome)
    t = _t(request)
    chart = curves_chart("curves", t("pl.curves_title"), t, f)
    return Response(chart.csv(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{access.workspace.slug}-curves.csv"'})
