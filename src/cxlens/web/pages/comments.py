"""The Comments page (issue 13): the themes of the open comments — volume, sentiment, what
they do to the score with its interval, trend — filtered by language, touchpoint, store and
period; a theme's drill-down with its representative quotes per language and its comments,
the theme's words marked; and how far to trust the sentiment (held-out accuracy per
language, with n). Also the small top-themes panel of the Experience and People pages.

Routes are thin: parse and check the query (422 on a bad value, as the API), call
:mod:`cxlens.text.selection`, :mod:`cxlens.text.quotes` and
:func:`cxlens.text.report.sentiment_report`, lay out with :mod:`cxlens.web.charts_text`.
The page reads the analysis tables in the DuckDB warehouse, where ``cxlens text analyse``
writes them (the lake mirrors them for Spark). Theme tables are kept
(:class:`~cxlens.web.kept.Kept`) under the data version, the analysis's stamp (``cxlens
text analyse`` loads no batch) and the catalogue's digest (a rename needs no new analysis).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, urlencode

import duckdb
from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from cxlens.errors import UserError
from cxlens.text.catalogue import Catalogue, load
from cxlens.text.highlight import theme_spans
from cxlens.text.quotes import quotes
from cxlens.text.report import _NOT_ANALYSED, sentiment_report
from cxlens.text.selection import Selection, ThemeTable, comment_page, options, theme_table
from cxlens.text.themes import taxonomy
from cxlens.warehouse.engine import Engine
from cxlens.warehouse.store import db_path
from cxlens.web import charts_text
from cxlens.web.deps import WorkspaceAccess, WorkspaceRole, get_clock
from cxlens.web.i18n import EN, translate, value_label
from cxlens.web.kept import Kept
from cxlens.web.nav import EXPERIENCE, NavItem, register
from cxlens.web.pages import see_other
from cxlens.web.pages.experience import MONTHS, Window
from cxlens.web.params import filter_text
from cxlens.web.templating import lang_of, render
from cxlens.web.warehouses import Warehouse

router = APIRouter(include_in_schema=False)
Viewer = WorkspaceRole("viewer")
Analyst = WorkspaceRole("analyst")

register(NavItem("comments", "nav.comments", "/w/{slug}/comments", "viewer", order=15,
                 group=EXPERIENCE))

METRICS = ("nps", "csat", "enps")  # the metrics a theme's impact is measured on
DEFAULT_MONTHS = 12
PAGE_SIZE = 20
MAX_CHOICE = 200  # values offered per filter
TOP = 5  # themes on the Experience and People panels
T = TypeVar("T")
_KEPT = Kept(64)
_WARMING = threading.Lock()
_warm: list[threading.Thread] = []


@dataclass(frozen=True)
class CommentChoices:
    """The reader's choices: the metric, the filters, the theme drilled into and its page."""

    metric: str = "nps"
    language: str | None = None
    touchpoint: str | None = None
    store: str | None = None
    theme: str | None = None
    page: int = 1
    team: str | None = None

    @classmethod
    def checked(cls, metric: str = "nps", language: str | None = None,
                touchpoint: str | None = None, store: str | None = None,
                theme: str | None = None, page: int = 1,
                team: str | None = None) -> CommentChoices:
        if metric not in METRICS:
            raise HTTPException(422, f"metric must be one of {', '.join(METRICS)}")
        if page < 1 or page > 10_000:
            raise HTTPException(422, "page must be 1 to 10000")
        theme = filter_text("theme", theme)  # checked against the workspace's catalogue later
        return cls(metric, filter_text("language", language),
                   filter_text("touchpoint", touchpoint), filter_text("store", store), theme,
                   page, filter_text("team", team))

    def selection(self, w: Window) -> Selection:
        return Selection(self.metric, w.start, w.end, self.language, self.store, self.team,
                         self.touchpoint)

    def query(self, w: Window, **change: Any) -> str:
        """The page's query string, with ``change`` (e.g. ``theme=…``, ``page=…``)."""
        q = {"metric": self.metric, "months": w.months, "as_of": w.as_of.isoformat(),
             "language": self.language, "touchpoint": self.touchpoint, "store": self.store,
             "team": self.team, "theme": self.theme,
             "page": self.page if self.page > 1 else None, **change}
        return urlencode({k: v for k, v in q.items() if v is not None})


# --- kept results ----------------------------------------------------------------------

def _stamp(wh: Warehouse) -> tuple[Hashable, ...] | None:
    """The analysis's stamp (rows, last analysed, last model), None without the tables."""
    with wh.read() as cur:
        try:
            row = cur.execute("SELECT count(*), CAST(max(analysed_at) AS VARCHAR), "
                              "(SELECT CAST(max(fitted_at) AS VARCHAR) FROM text_models) "
                              "FROM comment_analysis").fetchone()
        except duckdb.CatalogException:
            return None
    return tuple(row) if row else None


def _kept(access: WorkspaceAccess, stamp: tuple[Hashable, ...], call: tuple[Hashable, ...],
          compute: Callable[[Engine], T]) -> T:
    """``compute`` on the workspace's engine (Spark reads the analysis from the lake, which
    ``cxlens text analyse`` keeps current), kept under the analysis's stamp."""
    return _KEPT.get(access.warehouse, access.workspace.engine, (stamp, *call), compute)


def clear() -> None:
    """Forget every kept result (tests)."""
    _KEPT.clear()


def theme_label(lang: str, theme: str, catalogue: Catalogue) -> str:
    """A theme by its name in the reader's language (``txt.theme.<name>``) while it is the
    taxonomy's, as the taxonomy names it; else the catalogue's label (a discovered theme's
    top terms, or the name the user gave)."""
    try:
        entry = catalogue.get(theme)
    except UserError:
        return theme
    key = f"txt.theme.{theme}"
    if (entry.source == "taxonomy" and key in EN and theme in taxonomy().names()
            and entry.label == taxonomy().get(theme).label):
        return translate(lang, key)
    return entry.label


def marked(text: str, lang: str | None, theme: str, catalogue: Catalogue | None = None
           ) -> Markup:
    """``text`` escaped, then the theme's words wrapped in ``<mark>`` — in that order, so
    a comment's own markup stays text."""
    out, at = [], 0
    for start, end in theme_spans(text, lang, theme, catalogue):
        out.append(str(escape(text[at:start])))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        at = end
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


# --- what the page shows -----------------------------------------------------------------

def _translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)
    return t


def build(access: WorkspaceAccess, stamp: tuple[Hashable, ...], lang: str, c: CommentChoices,
          w: Window) -> dict[str, Any]:
    """Everything the page shows for the choices ``c`` in window ``w``."""
    t = _translator(lang)
    sel = c.selection(w)
    with access.engine() as eng:  # fresh: a rename or merge changes no analysis stamp
        cat = load(eng)
    if c.theme is not None and c.theme not in cat.names():
        raise HTTPException(422, f"no theme {c.theme!r}: use one of {', '.join(cat.names())}")
    stamp = (*stamp, cat.digest)  # a rename or merge shows before the next analysis
    table: ThemeTable = _kept(access, stamp, ("themes", sel), lambda e: theme_table(e, sel))
    trust = _kept(access, stamp, ("sentiment",), sentiment_report)
    opts = {k: list(v) for k, v in _kept(access, stamp, ("options",),
                                         lambda e: options(e, MAX_CHOICE)).items()}
    for dim, value in (("language", c.language), ("touchpoint", c.touchpoint),
                       ("store", c.store), ("team", c.team)):
        if value is not None and value not in opts[dim]:
            opts[dim].append(value)  # a chosen value stays on the form

    def label(theme: str) -> str:
        return theme_label(lang, theme, cat)

    metric = t(f"exp.metric.{c.metric}")
    charts = [charts_text.impact_chart("impact", t("txt.impact_title", metric=metric), t,
                                       table, label),
              charts_text.trend_chart("trend", t("txt.trend_title"), t, table, label,
                                      w.start, w.end)]
    ctx: dict[str, Any] = {"table": table, "charts": charts, "trust": trust,
                           "options": opts, "label": label,
                           "touchpoint_labels": {v: value_label(lang, v)
                                                 for v in opts["touchpoint"]},
                           "theme_columns": charts_text.theme_columns(t, c.metric),
                           "mentioned": [r for r in table.themes if r.mentions]}
    ctx["every_theme"] = [(e.theme, label(e.theme)) for e in cat.entries]
    if c.theme is not None:
        ctx["entry"] = cat.get(c.theme)
        with access.engine() as eng:
            page = comment_page(eng, c.theme, sel, offset=(c.page - 1) * PAGE_SIZE,
                                limit=PAGE_SIZE)
            said = quotes(eng, c.theme, sel)
        ctx.update(
            drill={"theme": c.theme, "row": next(r for r in table.themes
                                                  if r.theme == c.theme),
                   "page": page, "pages": max(1, -(-page.total // PAGE_SIZE)),
                   "comments": [{**r, "marked": marked(r["comment"], r["language"], c.theme,
                                                       cat)} for r in page.rows],
                   "quotes": {lg: [(q, marked(q.comment, lg, c.theme, cat)) for q in qs]
                              for lg, qs in said.items()}})
    return ctx


def taxonomy_ready() -> bool:
    """Whether the taxonomy is loaded in this process; if not, load it in the background.

    Reading it lemmatises its keywords, which loads simplemma's dictionaries of three
    languages: seconds on the first use in a process (15 s on a busy two-core machine).
    The Experience and People pages must not wait for that on their first visit, so their
    panel says the themes are being prepared until it is loaded."""
    if taxonomy.cache_info().currsize:
        return True
    with _WARMING:
        if not _warm:
            _warm.append(threading.Thread(target=taxonomy, name="cxlens-taxonomy",
                                          daemon=True))
            _warm[0].start()
    return False


PANEL_FILTERS = ("team", "store", "touchpoint")


def panel_filters(query: Any) -> dict[str, str]:
    """The answers' filters a page passes to its panel (``team``, ``store``,
    ``touchpoint`` of its query; 422 for a value too long), set ones only."""
    return {k: v for k in PANEL_FILTERS if (v := filter_text(k, query.get(k))) is not None}


def top_panel(access: WorkspaceAccess, lang: str, sel: Selection, w: Window,
              link: dict[str, str] | None = None,
              keep: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The Experience and People pages' panel: the selection's most mentioned themes with
    their sentiment and impact, each linking to the Comments page filtered the same way
    (the metric, the window and the selection's team, store and touchpoint). ``keep`` is
    the page's own query, kept by the panel's filter form. None when the comments have
    not been analysed (the panel is then left out)."""
    wh = access.warehouse
    if not db_path(access.workspace.path).exists():
        return None
    stamp = _stamp(wh)
    if stamp is None or not stamp[0]:
        return None
    if not taxonomy_ready():
        return {"warming": True}
    with access.engine() as eng:
        cat = load(eng)
    table = _kept(access, (*stamp, cat.digest), ("themes", sel),
                  lambda e: theme_table(e, sel))
    rows = sorted((r for r in table.themes if r.mentions),
                  key=lambda r: (-r.mentions, r.theme))[:TOP]
    opts = _kept(access, (*stamp, cat.digest), ("options",),
                 lambda e: options(e, MAX_CHOICE))
    chosen = {k: getattr(sel, k) for k in PANEL_FILTERS if getattr(sel, k) is not None}
    base = f"/w/{access.workspace.slug}/comments"
    q = {"metric": sel.metric if sel.metric in METRICS else None, "months": w.months,
         "as_of": w.as_of.isoformat(), **chosen, **(link or {})}
    query = urlencode({k: v for k, v in q.items() if v})
    return {"rows": [(r, theme_label(lang, r.theme, cat),
                      f"{base}?{query}&{urlencode({'theme': r.theme})}#theme")
                     for r in rows],
            "comments": table.comments, "metric": table.metric, "url": f"{base}?{query}",
            "impact": sel.metric in METRICS, "chosen": chosen,
            "options": {k: sorted({*opts[k], *([chosen[k]] if k in chosen else [])})
                        for k in PANEL_FILTERS},
            "keep": {k: v for k, v in (keep or {}).items() if k not in PANEL_FILTERS and v}}


Months = Annotated[int, Query()]
Text = Annotated[str | None, Query()]


def _window(request: Request, months: int, as_of: str | None) -> Window:
    return Window(months, as_of, get_clock(request)())


def _context(request: Request, access: WorkspaceAccess, c: CommentChoices,
             w: Window) -> dict[str, Any]:
    lang = lang_of(request)
    slug = access.workspace.slug
    ctx: dict[str, Any] = {"access": access, "window": w, "months_options": MONTHS,
                           "choices": c, "metrics": METRICS, "page_size": PAGE_SIZE,
                           "csv_base": f"/w/{slug}/comments/",
                           "csv_query": c.query(w, theme=None, page=None),
                           "url": lambda **ch: f"/w/{slug}/comments?{c.query(w, **ch)}"}
    if not db_path(access.workspace.path).exists():
        ctx["empty"] = True
        return ctx
    stamp = _stamp(access.warehouse)
    if stamp is None or (not stamp[0] and stamp[2] is None):
        # No analysis tables, or never analysed (a run stores a sentiment model even when
        # there is no comment: then the page says there are none).
        ctx["not_analysed"] = _NOT_ANALYSED
        return ctx
    try:
        ctx.update(build(access, stamp, lang, c, w))
    except (UserError, ValueError) as exc:
        ctx["error"] = getattr(exc, "message", None) or str(exc)
    ctx.update(can_edit=access.can("write"), back=c.query(w), edits=_edits(access))
    return ctx


def _edits(access: WorkspaceAccess) -> list[dict[str, Any]]:
    """The workspace's theme edits, newest first (none in a warehouse without the table)."""
    from cxlens.text.edits import listing

    with access.warehouse.read() as cur:
        try:
            return list(reversed(listing(cur)))
        except duckdb.CatalogException:
            return []


@router.get("/w/{slug}/comments")
def comments(request: Request, access: Viewer, metric: Annotated[str, Query()] = "nps",
             months: Months = DEFAULT_MONTHS, as_of: Text = None, language: Text = None,
             touchpoint: Text = None, store: Text = None, theme: Text = None,
             page: Annotated[int, Query()] = 1, team: Text = None) -> Response:
    w = _window(request, months, as_of)
    c = CommentChoices.checked(metric, language, touchpoint, store, theme, page, team)
    return render(request, "comments.html", _context(request, access, c, w))


@router.get("/w/{slug}/comments/{key}.csv")
def comments_csv(request: Request, key: str, access: Viewer,
                 metric: Annotated[str, Query()] = "nps", months: Months = DEFAULT_MONTHS,
                 as_of: Text = None, language: Text = None, touchpoint: Text = None,
                 store: Text = None, team: Text = None) -> Response:
    """The numbers of one chart as CSV (the same rows as its table)."""
    w = _window(request, months, as_of)
    c = CommentChoices.checked(metric, language, touchpoint, store, team=team)
    ctx = _context(request, access, c, w)
    if ctx.get("empty") or ctx.get("not_analysed") or "charts" not in ctx:
        raise HTTPException(404, "no analysed comments yet: run `cxlens text analyse`")
    chart = next((ch for ch in ctx["charts"] if ch.key == key), None)
    if chart is None:
        raise HTTPException(404, "no such chart")
    name = f"{access.workspace.slug}-comments-{key}-{w.start}-{w.as_of}.csv"
    return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- the user's theme edits (analysts and owners) ---------------------------------------

EDIT_OPS = ("rename", "merge", "split", "pin", "unpin", "rules")
_BACK_KEYS = ("metric", "months", "as_of", "language", "touchpoint", "store", "team",
              "theme", "page")
FormText = Annotated[str | None, Form(max_length=400)]


def _back(request: Request, back: str | None, **change: str | None
          ) -> tuple[CommentChoices, Window]:
    """The page the form was on (its query, ``back``), with ``change``; the defaults when
    the query is not one the page would make."""
    q = {k: v for k, v in parse_qsl(back or "") if k in _BACK_KEYS}
    q.update({k: v for k, v in change.items() if k in _BACK_KEYS})
    try:
        w = _window(request, int(q.get("months") or DEFAULT_MONTHS), q.get("as_of"))
        c = CommentChoices.checked(q.get("metric") or "nps", q.get("language"),
                                   q.get("touchpoint"), q.get("store"), q.get("theme"),
                                   int(q.get("page") or 1), q.get("team"))
    except (HTTPException, ValueError):
        w, c = _window(request, DEFAULT_MONTHS, None), CommentChoices()
    return c, w


def _keywords(text: str | None) -> list[str]:
    """The form's keywords: comma-separated words or phrases."""
    return [k.strip() for k in (text or "").split(",") if k.strip()][:50]


def _edited(request: Request, access: WorkspaceAccess, back: str | None,
            do: Callable[[], Any], **change: str | None) -> Response:
    """Run an edit; back to the page (with ``change``) when it was made, else the page
    again with the reason (422, or 404 for a theme or edit that is not there)."""
    try:
        do()
    except HTTPException as exc:
        c, w = _back(request, back)
        ctx = _context(request, access, c, w)
        ctx["edit_error"] = str(exc.detail)
        return render(request, "comments.html", ctx, status=exc.status_code)
    c, w = _back(request, back, **change)
    return see_other(f"/w/{access.workspace.slug}/comments?{c.query(w)}#theme-edits")


@router.post("/w/{slug}/comments/themes/{theme}/{op}")
def edit_theme(request: Request, theme: str, op: str, access: Analyst,
               back: FormText = None, label: FormText = None, into: FormText = None,
               new: FormText = None, keywords: FormText = None,
               language: FormText = None) -> Response:
    """One theme edit from the page's forms (the API's ``theme_edit``)."""
    from cxlens.web.api import text as api

    if op not in EDIT_OPS:
        raise HTTPException(404, "no such edit")
    now = get_clock(request)()
    lang, words, name = language or None, _keywords(keywords), (label or "").strip() or None
    try:
        if op == "rename":
            model: Any = api.RenameIn(label=name or "")
        elif op == "merge":
            model = api.MergeIn(into=into or "")
        elif op == "split":
            model = api.SplitIn(new=(new or "").strip(), keywords=words, language=lang,
                                label=name)
        elif op in ("pin", "unpin"):
            model = api.PinIn(pinned=op == "pin")
        else:
            model = api.RuleIn(keywords=words, language=lang, label=name)
    except ValueError as exc:  # pydantic's: a field empty, too long or not allowed
        field = exc.errors()[0]["loc"][0] if hasattr(exc, "errors") else ""
        return _edited(request, access, back, _refuse(
            422, f"{field}: {_FIELD_HINTS.get(str(field), 'not allowed')}"))
    change = {"theme": into} if op == "merge" else ({"theme": theme} if op == "rules" else {})
    return _edited(request, access, back,
                   lambda: api.theme_edit(access, now, theme, "pin" if op == "unpin" else op,
                                          model), **change)


_FIELD_HINTS = {"label": "give a label of 1 to 80 characters",
                "into": "choose the theme to merge into",
                "new": "give the new theme a name of a-z, 0-9 and _",
                "keywords": "give one or more keywords, separated by commas",
                "language": "choose fi, sv or en, or all"}


@router.post("/w/{slug}/comments/rules")
def new_rule(request: Request, access: Analyst, theme: Annotated[str, Form(max_length=100)],
             back: FormText = None, label: FormText = None, keywords: FormText = None,
             language: FormText = None) -> Response:
    """A keyword rule from the page's "new theme" form: a theme of the user's own (or more
    words for an existing one)."""
    return edit_theme(request, theme.strip(), "rules", access, back=back, label=label,
                      keywords=keywords, language=language)


def _refuse(status: int, message: str) -> Callable[[], Any]:
    def do() -> Any:
        raise HTTPException(status, message)
    return do


@router.post("/w/{slug}/comments/edits/{edit_id}/undo")
def undo_theme_edit(request: Request, edit_id: Annotated[int, Path(ge=1, le=2**53)],
                    access: Analyst,
                    back: FormText = None) -> Response:
    """Undo one edit from the page's list of edits."""
    from cxlens.web.api import text as api

    now = get_clock(request)()
    return _edited(request, access, back, lambda: api.undo_edit(access, now, edit_id))
