"""The Targets page (issue 14, point 4): lists of customers worth reaching, to export.

One list at a time — high predicted value, at risk, or look-alikes of the best customers —
from :func:`cxlens.analytics.marketing.targeting.targets`, laid out through the API's own
:func:`~cxlens.web.api.targets.targets_out`, so the page, ``GET /api/w/{slug}/marketing/
targets`` and ``cxlens marketing targets`` show the same customers and numbers: how many
customers are in the segment, the first ``top`` with contact details, reason and score, the
look-alike model's held-out AUC (how far to trust its order), and the list as CSV in the
columns of the CLI's ``--csv``.

A page of its own rather than a section of the Attribution page: it is about customers, not
channels, reads the value model rather than the journeys, and has its own controls; a
section would make each page's slow computation wait for the other's.

The value segments need the fitted value model, kept per data version with the Value and
At-risk pages' (:mod:`cxlens.web.value_cache`); each list is kept too
(:class:`~cxlens.web.kept.Kept`). Contact details are shown to every member who may read the
workspace, as on the Customers page: the project has no rule that hides them from viewers.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens.analytics.marketing.targeting import MAX_TOP, SEGMENTS, WINDOW_DAYS, targets
from cxlens.analytics.value._predict import Horizon
from cxlens.analytics.value._summary import NoPurchases, ValueInputError
from cxlens.analytics.value.bgnbd import NotIdentifiable
from cxlens.csv_out import csv_text
from cxlens.errors import UserError
from cxlens.warehouse.store import db_path
from cxlens.web import formats, value_cache
from cxlens.web.api.money import served_money
from cxlens.web.api.targets import (
    TARGET_CSV_COLUMNS,
    TargetOut,
    TargetsOut,
    target_csv_rows,
    targets_out,
)
from cxlens.web.deps import WorkspaceAccess, WorkspaceRole, get_clock
from cxlens.web.i18n import translate, value_label
from cxlens.web.kept import Kept
from cxlens.web.nav import MARKETING, NavItem, register
from cxlens.web.templating import lang_of, render

router = APIRouter(include_in_schema=False)
Viewer = WorkspaceRole("viewer")

register(NavItem("targets", "nav.targets", "/w/{slug}/targets", "viewer", order=23,
                 group=MARKETING))

TOPS = (25, 50, 100, 250, 1000)
SHARES = (0.05, 0.1, 0.2, 0.3)
WINDOWS = (90, 180, 365)
_KEPT = Kept(16)


def clear() -> None:
    """Forget every kept list (tests)."""
    _KEPT.clear()


def _checked(access: WorkspaceAccess, segment: str, top: int, top_share: float,
             lookback_days: int, window: int, currency: str | None) -> str:
    """The controls checked as the API checks them (a 422 names what is wrong); the
    currency code (default: the workspace's reporting currency)."""
    if segment not in SEGMENTS:
        raise HTTPException(422, f"segment must be one of {', '.join(SEGMENTS)}")
    if not 1 <= top <= MAX_TOP:
        raise HTTPException(422, f"top must be 1 to {MAX_TOP} customers")
    if not 0 < top_share < 1:
        raise HTTPException(422, "top_share must be above 0 and below 1")
    if not 7 <= lookback_days <= 365:
        raise HTTPException(422, "lookback_days must be 7 to 365")
    if not 30 <= window <= 730:
        raise HTTPException(422, "window must be 30 to 730 days")
    code = (currency or served_money(access).currency).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise HTTPException(422, "currency must be a three-letter code such as EUR or SEK")
    return code


def target_list(request: Request, access: WorkspaceAccess, segment: str, top: int,
                top_share: float, lookback_days: int, window: int, currency: str,
                h: Horizon) -> TargetsOut:
    """The list as the API gives it, kept until the next batch. Raises what ``fit_value``
    and ``targets`` raise."""
    today = get_clock(request)().date()
    m = served_money(access, currency)  # the workspace's rates, re-based on ``currency``
    v = (None if segment == "lookalike" else value_cache.fitted(
        access.warehouse, access.workspace.engine, today, value_cache.fit_params(m)))
    call = (today, segment, top, top_share, lookback_days, window, m.key(), h,
            None if v is None else v.end)
    return _KEPT.get(access.warehouse, access.workspace.engine, call, lambda eng: targets_out(
        targets(eng, segment, today, value_model=v, top=top, top_share=top_share,
                lookback_days=lookback_days, horizon=h, window_days=window,
                currency=m.currency, rates=m.rates)))


def feature_text(lang: str, feature: str) -> str:
    """A look-alike feature (``channel=email``, ``nps_group=promoter``, ``first_amount``) in
    the reader's language."""
    name, eq, value = feature.partition("=")
    what = translate(lang, f"tg.feature.{name}")
    if not eq:
        return what
    if value == "(none)":
        shown = translate(lang, "tg.feature.none")
    elif name == "nps_group":
        shown = translate(lang, f"tg.nps.{value}")
    else:
        shown = value_label(lang, value)
    return f"{what}: {shown}"


def reason_text(lang: str, out: TargetsOut, r: TargetOut) -> str:
    """Why ``r`` is on the list, in the reader's language (the analytics' ``reason`` is the
    English of the CLI and the CSV)."""
    share = formats.num(out.top_share * 100, lang)
    if out.segment == "lookalike":
        return translate(lang, "tg.why.lookalike", p=formats.num(r.score, lang, 2),
                         features=", ".join(feature_text(lang, f) for f in r.features)
                         or formats.DASH)
    worth = (translate(lang, "tg.why.clv", clv=formats.money(r.clv, lang, out.currency),
                       months=out.horizon_months, share=share) if r.clv is not None
             else translate(lang, "tg.why.purchases", n=formats.num(r.score, lang, 1),
                            months=out.horizon_months, share=share))
    if out.segment != "at_risk":
        return worth
    return worth + "; " + translate(
        lang, "tg.why.at_risk", days=out.lookback_days,
        then=formats.num(r.p_alive_then, lang, 2), now=formats.num(r.p_alive, lang, 2))


Int = Annotated[int, Query()]
Float = Annotated[float, Query()]
Text = Annotated[str | None, Query()]
Word = Annotated[str, Query(max_length=20)]


@router.get("/w/{slug}/targets")
def targets_page(request: Request, access: Viewer, segment: Word = "value", top: Int = 100,
                 top_share: Float = 0.2, lookback_days: Int = 90, window: Int = WINDOW_DAYS,
                 months: Int = 12, discount: Float = 0.10, currency: Text = None) -> Response:
    code = _checked(access, segment, top, top_share, lookback_days, window, currency)
    h = value_cache.horizon(months, discount)
    query = (f"segment={segment}&top={top}&top_share={top_share:g}"
             f"&lookback_days={lookback_days}&window={window}&months={months}"
             f"&discount={discount:g}&currency={code}")
    ctx: dict[str, Any] = {
        "access": access, "segment": segment, "segments": SEGMENTS, "top": top, "tops": TOPS,
        "top_share": top_share, "shares": SHARES, "lookback_days": lookback_days,
        "window": window, "windows": WINDOWS, "currency": code, "horizon": h,
        "horizons": value_cache.HORIZON_MONTHS, "discounts": value_cache.DISCOUNTS,
        "csv_url": f"/w/{access.workspace.slug}/targets.csv?{query}"}
    if not db_path(access.workspace.path).exists():
        ctx["empty"] = "no_purchases"
        return render(request, "targets.html", ctx)
    try:
        out = target_list(request, access, segment, top, top_share, lookback_days, window,
                          code, h)
    except NoPurchases as exc:
        ctx.update(empty="no_purchases", reason=str(exc))
    except NotIdentifiable as exc:
        ctx.update(empty="not_identifiable", reason=str(exc))
    except (UserError, ValueInputError) as exc:
        ctx["error"] = getattr(exc, "message", None) or str(exc)
    else:
        lang = lang_of(request)
        ctx.update(result=out, why=lambda r: reason_text(lang, out, r),
                   feature=lambda f: feature_text(lang, f))
    return render(request, "targets.html", ctx)


@router.get("/w/{slug}/targets.csv")
def targets_csv(request: Request, access: Viewer, segment: Word = "value", top: Int = 100,
                top_share: Float = 0.2, lookback_days: Int = 90, window: Int = WINDOW_DAYS,
                months: Int = 12, discount: Float = 0.10, currency: Text = None) -> Response:
    """The list in the columns of ``cxlens marketing targets --csv`` (formula-safe)."""
    code = _checked(access, segment, top, top_share, lookback_days, window, currency)
    h = value_cache.horizon(months, discount)
    if not db_path(access.workspace.path).exists():
        raise HTTPException(404, "no data yet")
    try:
        out = target_list(request, access, segment, top, top_share, lookback_days, window,
                          code, h)
    except (NoPurchases, NotIdentifiable):
        raise HTTPException(404, "no model yet: see the Value page for why") from None
    except (UserError, ValueInputError) as exc:
        raise HTTPException(422, getattr(exc, "message", None) or str(exc)) from None
    name = f"{access.workspace.slug}-targets-{segment}-{out.end.isoformat()}.csv"
    return Response(csv_text(TARGET_CSV_COLUMNS, target_csv_rows(out)),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
