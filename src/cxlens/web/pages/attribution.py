"""The Attribution page (issue 14): every attribution model side by side, marketing and
sales/service touchpoints in one path.

It shows what ``GET /api/w/{slug}/marketing/attribution?model=all`` gives, through the API's
own converter (:func:`~cxlens.web.api.marketing.attribution_out`), so the numbers are the
same: each model's share of conversions and of revenue per channel (grouped bars and their
table; Markov and Shapley with their bootstrap intervals as error bars), Markov's removal
effects, and one line per model on what it credits. Controls (a GET form, checked like the
API's query: a bad value is a 422): the Markov order (1–3), the lookback in days, every or
only the first purchase as a conversion, a campaign→channel mapping (``pattern=channel``,
comma-separated) and the period (the months up to a day, as on the other pages).

Attribution of all models with a 200-replicate bootstrap takes about 14 s on the M demo,
so the result is kept per data version (:class:`~cxlens.web.kept.Kept`) and computed on a
worker thread (:class:`~cxlens.web.soon.Soon`): the page waits :data:`WAIT_S` for it and
otherwise says so and reloads itself every :data:`REFRESH_S` seconds, as the Moments page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens.analytics import marketing as mk
from cxlens.analytics.journeys import Selection
from cxlens.analytics.marketing._paths import DEFAULT_LOOKBACK, MAX_LOOKBACK
from cxlens.analytics.marketing.attribution import N_BOOT
from cxlens.errors import UserError
from cxlens.money import Money
from cxlens.warehouse.store import db_path
from cxlens.web import charts_attribution as cmk
from cxlens.web.api.marketing import MAX_CAMPAIGNS, AttributionOut, attribution_out, parse_campaigns
from cxlens.web.api.money import served_money
from cxlens.web.deps import WorkspaceRole, get_clock
from cxlens.web.i18n import translate, value_label
from cxlens.web.kept import Kept
from cxlens.web.nav import MARKETING, NavItem, register
from cxlens.web.pages.experience import MONTHS, Window
from cxlens.web.soon import Soon
from cxlens.web.templating import lang_of, render

router = APIRouter(include_in_schema=False)
Viewer = WorkspaceRole("viewer")

register(NavItem("attribution", "nav.attribution", "/w/{slug}/attribution", "viewer",
                 order=22, group=MARKETING))

LOOKBACKS = (7, 14, 30, 60, 90)  # offered; any 1 … MAX_LOOKBACK is taken
DEFAULT_MONTHS = 12
WAIT_S = 4.0
"""Seconds a page request waits for the attribution before it answers "still computing"."""
REFRESH_S = 5
MAX_CAMPAIGN_TEXT = 2000

_SOON: Soon[AttributionOut] = Soon(Kept(16), "attribution")


def clear() -> None:
    """Forget every kept attribution (tests)."""
    _SOON.clear()


@dataclass(frozen=True)
class AttributionChoices:
    """The page's controls besides the period, checked as the API checks its query."""

    order: int = 1
    lookback: int = DEFAULT_LOOKBACK
    conversion: str = "every"
    campaigns: tuple[tuple[str, str], ...] = ()

    @classmethod
    def checked(cls, order: int, lookback: int, conversion: str,
                campaigns: str | None) -> AttributionChoices:
        if not 1 <= order <= 3:
            raise HTTPException(422, "order must be 1 to 3")
        if not 1 <= lookback <= MAX_LOOKBACK:
            raise HTTPException(422, f"lookback must be 1 to {MAX_LOOKBACK} days")
        if conversion not in ("every", "first"):
            raise HTTPException(422, "conversion must be every or first")
        text = (campaigns or "").strip()
        if len(text) > MAX_CAMPAIGN_TEXT:
            raise HTTPException(422, f"campaigns must be at most {MAX_CAMPAIGN_TEXT} "
                                     "characters")
        items = [i.strip() for i in re.split(r"[,;\n]", text) if i.strip()]
        if len(items) > MAX_CAMPAIGNS:
            raise HTTPException(422, f"at most {MAX_CAMPAIGNS} campaign mappings")
        try:
            mapping = parse_campaigns(items)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return cls(order, lookback, conversion, tuple(mapping.items()))

    @property
    def campaign_text(self) -> str:
        return ", ".join(f"{p}={c}" for p, c in self.campaigns)

    def query(self) -> str:
        q = {"order": self.order, "lookback": self.lookback, "conversion": self.conversion}
        if self.campaigns:
            q["campaigns"] = self.campaign_text
        return urlencode(q)


def _compute(c: AttributionChoices, sel: Selection,
             money: Money) -> Callable[[Any], AttributionOut]:
    def run(eng: Any) -> AttributionOut:
        return attribution_out(mk.attribute(
            eng, mk.MODELS, sel, order=c.order, lookback_days=c.lookback,
            conversion=c.conversion, campaigns=dict(c.campaigns), n_boot=N_BOOT,
            currency=money.currency, rates=money.rates))
    return run


def attribution_soon(access: Any, c: AttributionChoices, w: Window,
                     wait: float | None) -> AttributionOut | None:
    """The attribution of all models for the choices and period, kept per data version;
    ``None`` while it is computed in the background (after ``wait`` seconds)."""
    sel = Selection(w.start, w.end)
    money = served_money(access)  # the workspace's reporting currency and rates
    return _SOON.get(access.warehouse, access.workspace.engine,
                     ("attribution", c, w.start, w.end, money.key()),
                     _compute(c, sel, money), wait)


def _translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)
    return t


def build(a: AttributionOut, lang: str) -> dict[str, Any]:
    """The charts and texts of one attribution."""
    t = _translator(lang)

    def label(channel: str) -> str:
        return value_label(lang, channel)
    charts = [cmk.share_chart("conversions", t("att.conversions_title"), t, a,
                              "conversions", label),
              cmk.share_chart("revenue", t("att.revenue_title", currency=a.currency), t, a,
                              "revenue", label)]
    removal = cmk.removal_chart("removal", t("att.removal_title", order=a.order), t, a, label)
    if removal is not None:
        charts.append(removal)
    return {"attribution": a, "charts": charts if a.reason is None else [],
            "models": [m.model for m in a.models]}


Months = Annotated[int, Query()]
Text = Annotated[str | None, Query()]
Int = Annotated[int, Query()]
Word = Annotated[str, Query(max_length=20)]


def _window(request: Request, months: int, as_of: str | None) -> Window:
    return Window(months, as_of, get_clock(request)())


@router.get("/w/{slug}/attribution")
def attribution_page(request: Request, access: Viewer, months: Months = DEFAULT_MONTHS,
                     as_of: Text = None, order: Int = 1, lookback: Int = DEFAULT_LOOKBACK,
                     conversion: Word = "every", campaigns: Text = None) -> Response:
    w = _window(request, months, as_of)
    c = AttributionChoices.checked(order, lookback, conversion, campaigns)
    slug = access.workspace.slug
    ctx: dict[str, Any] = {
        "access": access, "window": w, "months_options": MONTHS, "choices": c,
        "lookbacks": LOOKBACKS if c.lookback in LOOKBACKS
        else tuple(sorted({*LOOKBACKS, c.lookback})),
        "n_boot": N_BOOT, "refresh_s": REFRESH_S, "pending": False,
        "csv_base": f"/w/{slug}/attribution/", "csv_query": f"{w.query()}&{c.query()}"}
    if db_path(access.workspace.path).exists():
        try:
            a = attribution_soon(access, c, w, WAIT_S)
        except (UserError, ValueError) as exc:
            ctx["error"] = getattr(exc, "message", None) or str(exc)
        else:
            if a is None:
                ctx["pending"] = True
            else:
                ctx.update(build(a, lang_of(request)))
    else:
        ctx["empty"] = True
    return render(request, "attribution.html", ctx)


@router.get("/w/{slug}/attribution/{key}.csv")
def attribution_csv(request: Request, key: str, access: Viewer,
                    months: Months = DEFAULT_MONTHS, as_of: Text = None, order: Int = 1,
                    lookback: Int = DEFAULT_LOOKBACK, conversion: Word = "every",
                    campaigns: Text = None) -> Response:
    """The numbers of one chart as CSV (the rows of its table); waits however long the
    attribution takes."""
    w = _window(request, months, as_of)
    c = AttributionChoices.checked(order, lookback, conversion, campaigns)
    if not db_path(access.workspace.path).exists():
        raise HTTPException(404, "no data yet")
    try:
        a = attribution_soon(access, c, w, None)
    except (UserError, ValueError) as exc:
        raise HTTPException(422, getattr(exc, "message", None) or str(exc)) from None
    assert a is not None
    chart = next((ch for ch in build(a, lang_of(request))["charts"] if ch.key == key), None)
    if chart is None:
        raise HTTPException(404, "no such chart")
    name = f"{access.workspace.slug}-attribution-{key}-{w.start}-{w.as_of}.csv"
    return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
