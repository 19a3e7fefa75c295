"""The Moments page (issue 11): the touchpoints that really change what customers do next.

For one outcome within a horizon and one selection (the Journeys page's period, segment,
channel and store, checked by :class:`~cxlens.web.pages.journeys.JourneyChoices`), the page
shows what the journeys API gives — ``/api/w/{slug}/journeys/moments``, ``/survival`` and
``/customers``, through the API's own converters (:func:`~cxlens.web.api.journeys.moments_out`
…) so the numbers are the same: the ranked moments with naive and adjusted effects and their
intervals (a forest plot), the covariate balance of the chosen moment (a Love plot), its
time to outcome against the comparison (Kaplan–Meier) and the customers behind it who have
not had the outcome, each linked to their profile, the whole list as CSV in the columns of
``cxlens journeys customers --csv``.

Every result comes through :mod:`cxlens.web.journeys_cache`. The moments of one outcome take
about 17 CPU-seconds on the M demo the first time (2 to 2.5 minutes of wall time on the
loaded 2-core bench machine; 140 CPU-seconds on L: docs/benchmarks.md, "business moments"),
so the page does not hold a request that long: it starts the computation on a worker thread
and waits :data:`WAIT_S` for it; if it is not done, the page says so and reloads itself
every :data:`REFRESH_S` seconds until the kept result is there. The time to outcome and the
customers of a chosen moment take a fraction of a second
and are shown meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens.analytics import journeys as jr
from cxlens.analytics.journeys.actions import MAX_LIMIT
from cxlens.analytics.journeys.moments import DEFAULT_PAIRS, DEFAULT_WITHIN, MIN_CUSTOMERS, SMD_WARN
from cxlens.analytics.journeys.survival import EVENTS
from cxlens.csv_out import csv_text
from cxlens.errors import UserError
from cxlens.warehouse.store import db_path
from cxlens.web import charts_moments as cm
from cxlens.web import formats
from cxlens.web import journeys_cache as cache
from cxlens.web.api.journeys import (
    CustomersOut,
    MomentOut,
    MomentsOut,
    SurvivalOut,
    customers_out,
    moments_out,
    survival_out,
)
from cxlens.web.deps import WorkspaceAccess, WorkspaceRole, get_clock
from cxlens.web.i18n import event_label, translate, value_label
from cxlens.web.nav import JOURNEYS, NavItem, register
from cxlens.web.pages.experience import MONTHS, Window
from cxlens.web.pages.journeys import MAX_CHOICE, JourneyChoices
from cxlens.web.soon import Soon
from cxlens.web.templating import lang_of, render
from cxlens.web.warehouses import Warehouse

router = APIRouter(include_in_schema=False)
Viewer = WorkspaceRole("viewer")

register(NavItem("moments", "nav.moments", "/w/{slug}/moments", "viewer", order=17,
                 group=JOURNEYS))

OUTCOMES = jr.OUTCOMES
DEFAULT_MONTHS = 12
WITHINS = (7, 14, 30, 60, 90, 180, 365)  # offered; any 1 … MAX_WITHIN is taken
MAX_WITHIN = 3650  # as the API
PAGE_ROWS = 50  # customers listed on the page; the CSV has all (up to the API's maximum)
WAIT_S = 4.0
"""Seconds a page request waits for the moments before it answers "still computing"."""
REFRESH_S = 5
"""Seconds between the reloads of a page whose moments are still computing."""
_SOON: Soon[jr.Moments] = Soon(cache.KEPT, "moments")


@dataclass(frozen=True)
class MomentChoices:
    """The outcome, the horizon and the chosen moment (``None``: the top row), beside the
    filters of the Journeys page."""

    filters: JourneyChoices
    outcome: str = "purchase"
    within: int = DEFAULT_WITHIN
    moment: str | None = None

    @classmethod
    def checked(cls, segment: str | None, channel: str | None, store: str | None,
                outcome: str, within: int, moment: str | None) -> MomentChoices:
        if outcome not in OUTCOMES:
            raise HTTPException(422, f"outcome must be one of {', '.join(OUTCOMES)}")
        if not 1 <= within <= MAX_WITHIN:
            raise HTTPException(422, f"within must be 1 to {MAX_WITHIN} days")
        if moment is not None and len(moment) > MAX_CHOICE:
            raise HTTPException(422, f"moment must be at most {MAX_CHOICE} characters")
        return cls(JourneyChoices.checked(segment, channel, store), outcome, within,
                   moment or None)

    @property
    def timed(self) -> str:
        """The outcome whose time the curves measure: revenue is an amount and churn an
        absence, so both are followed as the time to a purchase (the API's rule)."""
        return self.outcome if self.outcome in EVENTS else "purchase"

    def query(self, moment: str | None = None) -> str:
        f = self.filters
        q = {"segment": f.segment, "channel": f.channel, "store": f.store,
             "outcome": self.outcome, "within": self.within,
             "moment": moment if moment is not None else self.moment}
        return urlencode({k: v for k, v in q.items() if v is not None})


def _translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)
    return t


def _moments_args(c: MomentChoices, w: Window) -> tuple[Any, ...]:
    return (c.outcome, c.within, c.filters.selection(w), None, DEFAULT_PAIRS, MIN_CUSTOMERS)


def moments_soon(wh: Warehouse, engine_choice: str | None, args: tuple[Any, ...],
                 wait: float | None) -> jr.Moments | None:
    """The moments for ``args`` (those of :func:`cxlens.web.journeys_cache.moments` after
    the engine), kept with the API's, if kept or computed within ``wait`` seconds (``None``:
    however long); else ``None`` while they are computed in the background (see
    :mod:`cxlens.web.soon`)."""
    return _SOON.get(wh, engine_choice, cache.moments_call(*args),
                     lambda eng: cache.compute_moments(eng, *args), wait)


# --- the analytics' reasons in the reader's language ----------------------------------------

REASON_KEY = "mo.code.{}"
"""The locale key of a reason code (:mod:`cxlens.analytics.journeys.reasons`): every code
has one in en, fi and sv (tests/web/test_moments_reasons.py)."""


def reason_text(code: str | None, text: str | None, t: Callable[..., str],
                **values: object) -> str | None:
    """A result's reason in the page's language, by its stable code (with every value a
    locale string may name); the analytics' English text for a reason without a code."""
    if code is None:
        return text
    return t(REASON_KEY.format(code), n=MIN_CUSTOMERS, **values)


def _page_reason(m: MomentsOut, t: Callable[..., str]) -> str | None:
    """Why there are no moments, in the page's language."""
    return reason_text(m.reason_code, m.reason, t, outcome=t(f"mo.outcome.{m.outcome}"),
                       within=m.within)


def _row_reason(r: MomentOut, t: Callable[..., str]) -> str:
    """Why a moment has no adjusted effect, in the page's language."""
    return reason_text(r.reason_code, r.reason, t, trimmed=r.trimmed, met=r.customers,
                       compared=r.comparison) or ""


# --- building the page ----------------------------------------------------------------------

def _labels(lang: str) -> tuple[Callable[[str], str], Callable[[str], str],
                                Callable[[str, str], str]]:
    """Touchpoint, covariate and covariate-level names in the page's language; a name
    without a label stays as the analytics give it."""
    def label(name: str) -> str:
        return event_label(lang, name)

    def covariate(name: str) -> str:
        key = f"mo.cov.{name}"
        text = translate(lang, key)
        return name.replace("_", " ") if text == key else text

    def level(cov: str, value: str) -> str:
        if cov == "channel":
            return value_label(lang, value)
        key = f"mo.lvl.{value}"
        text = translate(lang, key)
        return value if text == key else text
    return label, covariate, level


def _options(wh: Warehouse, engine_choice: str | None,
             f: JourneyChoices) -> dict[str, list[str]]:
    options = {dim: list(values)  # a copy: the kept options stay as they are
               for dim, values in cache.options(wh, engine_choice, MAX_CHOICE).items()}
    for dim, value in (("segment", f.segment), ("channel", f.channel), ("store", f.store)):
        if value is not None and value not in options[dim]:
            options[dim].append(value)  # a chosen value stays on the form
    return options


def build(wh: Warehouse, engine_choice: str | None, lang: str, c: MomentChoices, w: Window,
          wait: float | None) -> dict[str, Any]:
    """Everything the page shows (see the module's docstring); ``pending`` when the moments
    are still being computed."""
    t = _translator(lang)
    label, covariate, level = _labels(lang)
    sel = c.filters.selection(w)
    options = _options(wh, engine_choice, c.filters)
    out: dict[str, Any] = {
        "options": options, "store_names": cache.store_names(wh, engine_choice),
        "channel_labels": {ch: value_label(lang, ch) for ch in options["channel"]},
        "charts": [], "pending": False}
    found = moments_soon(wh, engine_choice, _moments_args(c, w), wait)
    chosen: MomentOut | None = None
    moment = c.moment
    if found is None:
        out["pending"] = True
    else:
        m = moments_out(found)
        out["moments"] = m
        out["reason"] = _page_reason(m, t)
        out["unit_words"] = (t("mo.scale_pp", outcome=t(f"mo.outcome.{m.outcome}"),
                                within=m.within) if m.scale == cm.PP else
                             t("mo.scale_money", currency=m.scale, within=m.within))
        if m.moments:
            out["charts"].append(cm.moments_chart(
                "moments", t("mo.ranked_title", outcome=t(f"mo.outcome.{m.outcome}"),
                             within=m.within), t, m, label, lambda r: _row_reason(r, t)))
        if moment is None and m.moments:
            moment = m.moments[0].touchpoint  # the top row: the largest effect
        chosen = next((r for r in m.moments if r.touchpoint == moment), None)
        out["choices_list"] = [(r.touchpoint, cm.moment_text(r.touchpoint, label))
                               for r in m.moments]
    out["moment"] = moment
    out["moment_label"] = cm.moment_text(moment, label) if moment else None
    out["chosen"] = chosen
    if chosen is not None:
        out["balance_sentence"] = _balance_sentence(chosen, t, lang)
        if chosen.balance:
            out["charts"].append(cm.balance_chart(
                "balance", t("mo.balance_title", moment=out["moment_label"]), t, chosen,
                level, covariate))
        if chosen.effect is None:
            out["chosen_reason"] = _row_reason(chosen, t)
    if moment:
        s = survival_out(cache.survival(wh, engine_choice, moment, c.timed, c.within, sel,
                                        None, True))
        out["survival"] = s
        out["survival_reason"] = _survival_reason(s, t)
        if s.curves:
            out["charts"].append(cm.survival_chart(
                "survival", t("mo.survival_title", moment=out["moment_label"],
                              outcome=t(f"mo.outcome.{c.timed}")), t, s))
        a = customers_out(cache.customers(wh, engine_choice, moment, c.outcome, c.within,
                                          sel, None, PAGE_ROWS))
        out["actions"] = a
        out["actions_reason"] = reason_text(a.reason_code, a.reason, t, within=a.within,
                                            outcome=t(f"mo.outcome.{a.outcome}"))
    return out


def _survival_reason(s: SurvivalOut, t: Callable[..., str]) -> str | None:
    """Why there are no curves, in the page's language."""
    return reason_text(s.reason_code, s.reason, t, within=s.within)


def _balance_sentence(r: MomentOut, t: Callable[..., str], lang: str) -> str:
    """Whether to trust the moment's adjusted effect, by the balance rule and its line."""
    line = formats.num(SMD_WARN, lang, 1)
    if r.max_smd_after is None or r.effect is None:
        return t("mo.balance_none")
    worst = formats.num(r.max_smd_after, lang, 2)
    return t("mo.balance_ok" if r.balanced else "mo.balance_bad", worst=worst, line=line)


def _has_warehouse(access: WorkspaceAccess) -> bool:
    return db_path(access.workspace.path).exists()


Months = Annotated[int, Query()]
Text = Annotated[str | None, Query()]
Outcome = Annotated[str, Query()]
Within = Annotated[int, Query()]


def _window(request: Request, months: int, as_of: str | None) -> Window:
    return Window(months, as_of, get_clock(request)())


@router.get("/w/{slug}/moments")
def moments_page(request: Request, access: Viewer, months: Months = DEFAULT_MONTHS,
                 as_of: Text = None, segment: Text = None, channel: Text = None,
                 store: Text = None, outcome: Outcome = "purchase",
                 within: Within = DEFAULT_WITHIN, moment: Text = None) -> Response:
    w = _window(request, months, as_of)
    c = MomentChoices.checked(segment, channel, store, outcome, within, moment)
    slug = access.workspace.slug
    query = f"{w.query()}&{c.query()}"
    ctx: dict[str, Any] = {
        "access": access, "window": w, "months_options": MONTHS, "choices": c,
        "filters": c.filters, "outcomes": OUTCOMES,
        "withins": WITHINS if c.within in WITHINS else tuple(sorted({*WITHINS, c.within})),
        "csv_base": f"/w/{slug}/moments/", "csv_query": query, "refresh_s": REFRESH_S,
        "page_rows": PAGE_ROWS}
    if _has_warehouse(access):
        try:
            ctx.update(build(access.warehouse, access.workspace.engine, lang_of(request), c, w,
                             WAIT_S))
        except (UserError, ValueError) as exc:
            ctx["error"] = getattr(exc, "message", None) or str(exc)
        if ctx.get("moment"):
            ctx["csv_query"] = f"{w.query()}&{c.query(ctx['moment'])}"
    return render(request, "moments.html", ctx)


CUSTOMER_COLUMNS = ("customer_id", "met_at", "days_since", "open")
"""The columns of ``cxlens journeys customers --csv``."""


def customers_csv_rows(a: CustomersOut) -> list[list[str]]:
    """The list as ``cxlens journeys customers --csv`` writes it."""
    return [[c.customer_id, c.met_at.isoformat(sep=" "), str(c.days_since),
             "true" if c.open else "false"] for c in a.customers]


@router.get("/w/{slug}/moments/{key}.csv")
def moments_csv(request: Request, key: str, access: Viewer, months: Months = DEFAULT_MONTHS,
                as_of: Text = None, segment: Text = None, channel: Text = None,
                store: Text = None, outcome: Outcome = "purchase",
                within: Within = DEFAULT_WITHIN, moment: Text = None) -> Response:
    """The numbers of one chart as CSV (the same rows as its table); ``customers.csv`` is
    the whole list of the chosen moment in the columns of the CLI's ``--csv``. A download
    waits for the moments however long they take."""
    w = _window(request, months, as_of)
    c = MomentChoices.checked(segment, channel, store, outcome, within, moment)
    if not _has_warehouse(access):
        raise HTTPException(404, "no data yet")
    wh, engine_choice = access.warehouse, access.workspace.engine
    name = f"{access.workspace.slug}-moments-{key}-{c.outcome}-{w.start}-{w.as_of}.csv"
    try:
        if key == "customers":
            if not c.moment:
                raise HTTPException(404, "choose a moment: a touchpoint, or a sequence 'A → B'")
            a = customers_out(cache.customers(wh, engine_choice, c.moment, c.outcome,
                                              c.within, c.filters.selection(w), None,
                                              MAX_LIMIT))
            text = csv_text(CUSTOMER_COLUMNS, customers_csv_rows(a))
        else:
            # everything the page would show, the moments however long they take
            built = build(wh, engine_choice, lang_of(request), c, w, wait=None)
            chart = next((ch for ch in built["charts"] if ch.key == key), None)
            if chart is None:
                raise HTTPException(404, "no such chart")
            text = chart.csv()
    except (UserError, ValueError) as exc:
        raise HTTPException(422, getattr(exc, "message", None) or str(exc)) from None
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
