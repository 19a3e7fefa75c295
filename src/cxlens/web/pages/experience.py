"""The experience dashboards of issue 4: Experience (metric trend with its interval band,
breakdown per group, each group against the rest, optionally weighted; what promoters,
passives and detractors spend afterwards), Drivers (the priority matrix, by Johnson's
relative weights or the Shapley decomposition) and People (eNPS per team beside its
customers' NPS).

Routes are thin: parse the query, call ``cxlens.analytics.experience`` / ``drivers`` /
``people``, lay the results out with the builders of :mod:`cxlens.web.charts`. Every chart's
numbers are a table on the page and a CSV download (``/w/{slug}/{page}/{key}.csv`` with the
page's query), built by the same code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens import __version__
from cxlens.analytics import drivers as drv
from cxlens.analytics import experience as exp
from cxlens.analytics import people as ppl
from cxlens.analytics import weighting as wgt
from cxlens.analytics.group_names import group_names
from cxlens.errors import UserError
from cxlens.warehouse.engine import Engine
from cxlens.warehouse.store import db_path
from cxlens.web import charts
from cxlens.web.deps import Db, WorkspaceAccess, WorkspaceRole, get_clock
from cxlens.web.i18n import translate
from cxlens.web.nav import EXPERIENCE, NavItem, register
from cxlens.web.notes import list_annotations
from cxlens.web.params import parse_day
from cxlens.web.templating import lang_of, render

router = APIRouter(include_in_schema=False)
Viewer = WorkspaceRole("viewer")

register(NavItem("experience", "nav.experience", "/w/{slug}/experience", "viewer", order=12,
                 group=EXPERIENCE))
register(NavItem("drivers", "nav.drivers", "/w/{slug}/drivers", "viewer", order=13,
                 group=EXPERIENCE))
register(NavItem("people", "nav.people", "/w/{slug}/people", "viewer", order=14,
                 group=EXPERIENCE))

METRICS = tuple(exp.METRICS)  # nps, enps, csat, ces
GROUPINGS = ("touchpoint", "channel", "store_id", "language", "segment")
MONTHS = (6, 12, 24)
DEFAULT_MONTHS = 24
WEIGHT_BY = ("segment", "country", "customer.language")  # customer attributes to weight by
METHODS = ("johnson", "shapley")


class Window:
    """The months shown: ``months`` calendar months up to and including ``as_of`` (default:
    the day of ``now``, the server's clock)."""

    def __init__(self, months: int, as_of: str | None, now: datetime) -> None:
        if months not in MONTHS:
            raise HTTPException(422, f"months must be one of {', '.join(map(str, MONTHS))}")
        self.as_of = parse_day(as_of, default=now.date())
        self.explicit = bool(as_of)  # the reader chose the day (else: today)
        self.now = now
        m = self.as_of.year * 12 + self.as_of.month - 1 - (months - 1)
        self.months = months
        self.start = date(m // 12, m % 12 + 1, 1)
        self.end = self.as_of + timedelta(days=1)  # half-open [start, end)

    def query(self) -> str:
        return f"months={self.months}&as_of={self.as_of.isoformat()}"


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise HTTPException(422, f"{name} must be one of {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class Choices:
    """What the reader chose on a page besides the window, checked: metric and grouping,
    response weights (a key the answers carry, or a customer attribute to weight to the
    customer base) on Experience, the method on Drivers."""

    metric: str = "nps"
    by: str | None = None  # None: the most informative grouping (experience.most_informative)
    weights: str | None = None
    weight_by: str | None = None
    method: str = "johnson"

    @classmethod
    def checked(cls, metric: str = "nps", by: str | None = None, weights: str | None = None,
                weight_by: str | None = None, method: str = "johnson") -> Choices:
        weights, weight_by = weights or None, weight_by or None  # "" is the form's "none"
        if weights is not None and len(weights) > 120:
            raise HTTPException(422, "weights must be a key of at most 120 characters")
        return cls(_choice("metric", metric, METRICS),
                   None if not by else _choice("by", by, GROUPINGS), weights,
                   None if weight_by is None else _choice("weight_by", weight_by, WEIGHT_BY),
                   _choice("method", method, METHODS))

    def query(self, page: str) -> str:
        if page == "drivers":
            return urlencode({"method": self.method})
        if page != "experience":
            return ""
        q = {"metric": self.metric, "by": self.by, "weights": self.weights,
             "weight_by": self.weight_by}
        return urlencode({k: v for k, v in q.items() if v})


def _has_warehouse(access: WorkspaceAccess) -> bool:
    return db_path(access.workspace.path).exists()


def _translator(request: Request) -> Callable[..., str]:
    lang = lang_of(request)

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)
    return t


# --- what each page shows (from the analytics functions) ---------------------------------------

def _weights(eng: Engine, t: Callable[..., str], c: Choices, w: Window,
             keys: list[str]) -> tuple[Any, wgt.Weighting | None]:
    """The analytics' ``weights`` for the choices, and the post-stratification to show.

    Weighting to the customer base is made per month of the window: each month's answers
    match the customers' mix, so the trend, the window and its groups all do."""
    if c.weights is not None and c.weight_by is not None:  # both picked on the form
        raise ValueError(t("exp.weights_both"))
    if c.weights is not None:
        if c.weights not in keys:
            raise ValueError(t("exp.weights_unknown", name=c.weights,
                               metric=t(f"exp.metric.{c.metric}")))
        return c.weights, None
    if c.weight_by is not None:
        weighting = wgt.poststratify(eng, c.metric, c.weight_by, w.start, w.end,
                                     grain="month")
        return weighting, weighting
    return None, None


def build_value(eng: Engine, t: Callable[..., str], w: Window, lang: str = "en"
                ) -> dict[str, Any]:
    """Experience → value: revenue and repurchase by NPS group, the detractor→promoter worth.
    Observed until the window's day when the reader chose one, else the data's last order."""
    v = exp.value_by_group(eng, as_of=w.as_of if w.explicit else None,
                           now=w.now)
    worth = v.worth()
    return {"value": v, "worth": worth, "linked": any(g.n for g in v.groups),
            "value_charts": [
        charts.value_chart("value", t("val.revenue_title"), t, v.groups, v.n_boot, lang),
        charts.worth_chart("worth", t("val.worth_title"), t, worth)]}


def build_experience(eng: Engine, con: sqlite3.Connection, access: WorkspaceAccess,
                     t: Callable[..., str], c: Choices, w: Window, lang: str = "en"
                     ) -> dict[str, Any]:
    notes = list_annotations(con, access.workspace)
    metric, by = c.metric, c.by
    auto = by is None
    if by is None:
        by = exp.most_informative(eng, metric, GROUPINGS, w.start, w.end) or GROUPINGS[0]
    name = t(f"exp.metric.{metric}")
    group = t(f"exp.by.{by}")
    keys = wgt.weight_keys(eng, metric)
    weights, weighting = _weights(eng, t, c, w, keys)
    window = {"start": w.start, "end": w.end, "weights": weights}
    trend = exp.score(eng, metric, period="month", **window)
    groups = exp.score(eng, metric, by=by, **window)
    tests = exp.compare_segments(eng, metric, by=by, **window)
    overall = exp.score(eng, metric, **window)[0]
    names = group_names(eng, by)
    chart_list = [
        charts.score_trend_chart("trend", t("exp.trend_title", metric=name), t, metric, trend,
                                 notes, w.start, w.end),
        charts.breakdown_chart("breakdown", t("exp.breakdown_title", metric=name, by=group),
                               t, metric, group, groups, names),
        charts.segment_tests_chart("tests", t("exp.tests_title", by=group), t, metric, group,
                                   tests, names),
    ]
    return {"charts": chart_list, "overall": overall, "min_sample": exp.MIN_SAMPLE,
            "by": by, "auto_by": auto, "choices": replace(c, by=by),
            "n_significant": sum(1 for s in tests if s.significant), "weight_keys": keys,
            "weighting": weighting, **build_value(eng, t, w, lang)}


def build_drivers(eng: Engine, t: Callable[..., str], w: Window, c: Choices,
                  ) -> dict[str, Any]:
    kd = drv.key_drivers(eng, start=w.start, end=w.end, method=c.method)
    return {"charts": [charts.drivers_chart("matrix", t("drv.matrix_title"), t, kd)],
            "kd": kd, "min_sample": exp.MIN_SAMPLE}


def build_people(eng: Engine, t: Callable[..., str], w: Window) -> dict[str, Any]:
    link = ppl.team_link(eng, w.start, w.end)
    return {"charts": [charts.people_chart("teams", t("ppl.teams_title"), t, link.teams)],
            "link": link, "low_teams": [tm for tm in link.teams if tm.low_enps]}


def _built(request: Request, access: WorkspaceAccess, con: sqlite3.Connection, page: str,
           w: Window, c: Choices) -> dict[str, Any]:
    t = _translator(request)
    with access.engine() as eng:
        if page == "experience":
            return build_experience(eng, con, access, t, c, w, lang_of(request))
        if page == "drivers":
            return build_drivers(eng, t, w, c)
        return build_people(eng, t, w)


def _page(request: Request, access: WorkspaceAccess, con: sqlite3.Connection, page: str,
          w: Window, c: Choices | None = None) -> Response:
    c = c or Choices()
    ctx: dict[str, Any] = {"access": access, "window": w, "months_options": MONTHS,
                           "metric": c.metric, "by": c.by, "metrics": METRICS,
                           "groupings": GROUPINGS, "version": __version__, "choices": c,
                           "weight_by_options": WEIGHT_BY, "methods": METHODS,
                           "csv_base": f"/w/{access.workspace.slug}/{page}/"}
    if _has_warehouse(access):
        try:
            ctx.update(_built(request, access, con, page, w, c))
        except (UserError, ValueError) as exc:
            ctx["error"] = getattr(exc, "message", None) or str(exc)
        if page in ("experience", "people"):
            ctx["themes_panel"] = _top_themes(request, access, page, w, c)
    extra = ctx["choices"].query(page)  # with the grouping the page chose, if it chose
    ctx["csv_query"] = w.query() + (f"&{extra}" if extra else "")
    return render(request, f"{page}.html", ctx)


def _top_themes(request: Request, access: WorkspaceAccess, page: str, w: Window,
                c: Choices) -> dict[str, Any] | None:
    """The panel of the comments' top themes: the answers of the page's metric (People:
    the staff's eNPS) in the window and of the team, store and touchpoint the query names
    (the panel's own filter form sets them), from the Comments page's kept theme tables."""
    from cxlens.text.selection import Selection
    from cxlens.web.pages.comments import panel_filters, top_panel

    metric = "enps" if page == "people" else c.metric
    try:
        f = panel_filters(request.query_params)
        sel = Selection(metric, w.start, w.end, store=f.get("store"), team=f.get("team"),
                        touchpoint=f.get("touchpoint"))
        keep = {"months": str(w.months), "as_of": w.as_of.isoformat(),
                **dict(parse_qsl(c.query(page)))}
        return top_panel(access, lang_of(request), sel, w, keep=keep)
    except (UserError, ValueError, HTTPException):
        return None  # the page's own numbers stand without the panel


Months = Annotated[int, Query()]
AsOf = Annotated[str | None, Query()]
Text = Annotated[str | None, Query()]
Method = Annotated[str, Query()]


@router.get("/w/{slug}/experience")
def experience(request: Request, access: Viewer, con: Db,
               metric: Annotated[str, Query()] = "nps",
               by: Annotated[str | None, Query()] = None,
               months: Months = DEFAULT_MONTHS, as_of: AsOf = None,
               weights: Text = None, weight_by: Text = None) -> Response:
    w = Window(months, as_of, get_clock(request)())
    return _page(request, access, con, "experience", w,
                 Choices.checked(metric, by, weights, weight_by))


@router.get("/w/{slug}/drivers")
def drivers(request: Request, access: Viewer, con: Db, months: Months = DEFAULT_MONTHS,
            as_of: AsOf = None, method: Method = "johnson") -> Response:
    return _page(request, access, con, "drivers", Window(months, as_of, get_clock(request)()),
                 Choices.checked(method=method))


@router.get("/w/{slug}/people")
def people(request: Request, access: Viewer, con: Db, months: Months = DEFAULT_MONTHS,
           as_of: AsOf = None) -> Response:
    return _page(request, access, con, "people", Window(months, as_of, get_clock(request)()))


def _csv(request: Request, access: WorkspaceAccess, con: sqlite3.Connection, page: str,
         key: str, w: Window, c: Choices | None = None) -> Response:
    """The numbers of one chart as CSV (the same rows as its table)."""
    if not _has_warehouse(access):
        raise HTTPException(404, "no data yet")
    try:
        built = _built(request, access, con, page, w, c or Choices())
    except (UserError, ValueError) as exc:
        raise HTTPException(422, getattr(exc, "message", None) or str(exc)) from None
    every = built["charts"] + built.get("value_charts", [])
    chart = next((ch for ch in every if ch.key == key), None)
    if chart is None:
        raise HTTPException(404, "no such chart")
    name = f"{access.workspace.slug}-{page}-{key}-{w.start}-{w.as_of}.csv"
    return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/w/{slug}/experience/{key}.csv")
def experience_csv(request: Request, key: str, access: Viewer, con: Db,
                   metric: Annotated[str, Query()] = "nps",
                   by: Annotated[str | None, Query()] = None,
                   months: Months = DEFAULT_MONTHS, as_of: AsOf = None,
                   weights: Text = None, weight_by: Text = None) -> Response:
    w = Window(months, as_of, get_clock(request)())
    return _csv(request, access, con, "experience", key, w,
                Choices.checked(metric, by, weights, weight_by))


@router.get("/w/{slug}/drivers/{key}.csv")
def drivers_csv(request: Request, key: str, access: Viewer, con: Db,
                months: Months = DEFAULT_MONTHS, as_of: AsOf = None,
                method: Method = "johnson") -> Response:
    return _csv(request, access, con, "drivers", key, Window(months, as_of, get_clock(request)()),
                Choices.checked(method=method))


@router.get("/w/{slug}/people/{key}.csv")
def people_csv(request: Request, key: str, access: Viewer, con: Db,
               months: Months = DEFAULT_MONTHS, as_of: AsOf = None) -> Response:
    return _csv(request, access, con, "people", key, Window(months, as_of, get_clock(request)()))
