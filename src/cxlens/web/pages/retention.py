"""The Retention page (issue 12): how customers come back after their first purchase.

Cohorts by first-purchase month, acquisition channel or campaign
(:func:`cxlens.analytics.value.cohorts.cohorts`) and RFM segments with their month-to-month
moves (:func:`cxlens.analytics.value.rfm.rfm`): the same functions as ``cxlens value
cohorts`` / ``rfm`` and ``GET /api/w/{slug}/value/cohorts`` / ``/rfm``, laid out through the
API's own models (:class:`~cxlens.web.api.value.CohortsOut`, ``RfmOut``) so every output
shows the same numbers. Both are kept per data version (:class:`~cxlens.web.kept.Kept`).

The moves table shows the last pair of month ends the analytics counted; the API gives every
pair.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens.analytics.value._summary import NoPurchases, ValueInputError
from cxlens.analytics.value.cohorts import cohorts
from cxlens.analytics.value.rfm import rfm
from cxlens.errors import UserError
from cxlens.money import Money
from cxlens.warehouse.store import db_path
from cxlens.web import charts_value as cv
from cxlens.web.api.money import served_money
from cxlens.web.api.value import CohortsOut, RfmOut, result_out
from cxlens.web.deps import WorkspaceAccess, WorkspaceRole, get_clock
from cxlens.web.i18n import translate, value_label
from cxlens.web.kept import Kept
from cxlens.web.nav import VALUE, NavItem, register
from cxlens.web.templating import lang_of, render

router = APIRouter(include_in_schema=False)
Viewer = WorkspaceRole("viewer")

register(NavItem("retention", "nav.retention", "/w/{slug}/retention", "viewer", order=17,
                 group=VALUE))

BYS = ("month", "channel", "campaign")
_KEPT = Kept(32)


def clear() -> None:
    """Forget every kept result (tests)."""
    _KEPT.clear()


def _translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)
    return t


def results(request: Request, access: WorkspaceAccess, by: str,
            money: Money) -> tuple[CohortsOut, RfmOut]:
    """The cohorts and RFM of the workspace as the API gives them, kept until the next
    batch. Raises what the analytics raise."""
    today = get_clock(request)().date()
    cur, rates = money.currency, money.rates

    def cohorts_of(eng: Any) -> CohortsOut:
        return result_out(CohortsOut, cohorts(eng, today, by=by,  # type: ignore[arg-type]
                                              currency=cur, rates=rates))

    coh = _KEPT.get(access.warehouse, access.workspace.engine,
                    ("cohorts", today, by, money.key()), cohorts_of)
    seg = _KEPT.get(access.warehouse, access.workspace.engine, ("rfm", today, money.key()),
                    lambda eng: result_out(RfmOut, rfm(eng, today, currency=cur,
                                                       rates=rates)))
    return coh, seg


def build(coh: CohortsOut, seg: RfmOut, lang: str) -> dict[str, Any]:
    t = _translator(lang)

    def label(key: str) -> str:
        return value_label(lang, key) if coh.by == "channel" else key

    charts = [cv.retention_heatmap(coh, t, label),
              cv.cohort_lines("retention", t("rp.retention_title"), t, coh, "retention", label),
              cv.cohort_lines("repeat", t("rp.repeat_title"), t, coh, "repeat", label),
              cv.cohort_lines("revenue", t("rp.revenue_title", currency=coh.currency), t, coh,
                              "revenue_per_customer", label),
              cv.rfm_grid(seg, t)]
    last = [m for m in seg.moves if seg.moves and m.stop == seg.moves[-1].stop]
    return {"cohorts": coh, "rfm": seg, "charts": charts, "moves": last}


def _checked(access: WorkspaceAccess, by: str | None,
             currency: str | None) -> tuple[str, Money]:
    """The grouping and the money: the workspace's reporting currency and rates, unless the
    page's currency field chose another."""
    if by and by not in BYS:
        raise HTTPException(422, f"by must be one of {', '.join(BYS)}")
    code = (currency or "").strip().upper() or None
    if code is not None and not re.fullmatch(r"[A-Z]{3}", code):
        raise HTTPException(422, "currency must be a three-letter code such as EUR or SEK")
    return by or "month", served_money(access, code)


Text = Annotated[str | None, Query()]


@router.get("/w/{slug}/retention")
def retention(request: Request, access: Viewer, by: Text = None,
              currency: Text = None) -> Response:
    grouping, money = _checked(access, by, currency)
    code = money.currency
    ctx: dict[str, Any] = {"access": access, "by": grouping, "bys": BYS, "currency": code,
                           "csv_base": f"/w/{access.workspace.slug}/retention/",
                           "csv_query": f"by={grouping}&currency={code}"}
    if not db_path(access.workspace.path).exists():
        ctx["empty"] = True
        return render(request, "retention.html", ctx)
    try:
        ctx.update(build(*results(request, access, grouping, money), lang_of(request)))
    except NoPurchases as exc:
        ctx.update(empty=True, reason=str(exc))
    except (UserError, ValueInputError) as exc:
        ctx["error"] = getattr(exc, "message", None) or str(exc)
    return render(request, "retention.html", ctx)


@router.get("/w/{slug}/retention/{key}.csv")
def retention_csv(request: Request, key: str, access: Viewer, by: Text = None,
                  currency: Text = None) -> Response:
    """The numbers of one chart as CSV (the same rows as its table)."""
    grouping, money = _checked(access, by, currency)
    if not db_path(access.workspace.path).exists():
        raise HTTPException(404, "no data yet")
    try:
        built = build(*results(request, access, grouping, money), lang_of(request))
    except NoPurchases:
        raise HTTPException(404, "no purchases yet") from None
    except (UserError, ValueInputError) as exc:
        raise HTTPException(422, getattr(exc, "message", None) or str(exc)) from None
    chart = next((ch for ch in built["charts"] if ch.key == key), None)
    if chart is None:
        raise HTTPException(404, "no such chart")
    name = f"{access.workspace.slug}-retention-{key}-{built['cohorts'].end}.csv"
    return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
