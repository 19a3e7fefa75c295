"""Open comments as JSON: ``GET /api/w/{slug}/text/themes``, ``/text/comments``,
``/text/sentiment`` and ``/text/quotes``; the user's theme edits (``write`` scope: analysts,
owners and write tokens):

    POST   /text/themes/{theme}/rename   {"label"}                        cxlens text theme rename
    POST   /text/themes/{theme}/merge    {"into"}                         … merge
    POST   /text/themes/{theme}/split    {"new", "keywords", "language", "label"}   … split
    POST   /text/themes/{theme}/pin      {"pinned": true|false}           … pin [--unpin]
    POST   /text/themes/{theme}/rules    {"keywords", "language", "label"}          … rule
    GET    /text/edits                   the edits and the discovered themes  … list --json
    DELETE /text/edits/{edit_id}         undo one edit                     … undo

Each POST records one edit (a row of ``text_theme_edits``, 201 with its ``edit_id``) and
DELETE undoes one: an edit is the resource, a theme's action the way to make it. The write
runs in the workspace's single writer (``Warehouse.write``) as the CLI runs it
(:func:`cxlens.text.edits.run`): the edit, the comments re-assigned, the lake's copy.
An unknown theme in the path is a 404 (``rules`` creates a theme, so there it is the new
name, checked); an edit that cannot be made (merge into itself, a name taken, no keyword) a
422 with the reason.

The same functions as ``cxlens text themes|comments|sentiment|quotes --json``
(:func:`~cxlens.text.report.theme_report`, :func:`~cxlens.text.report.theme_comments`,
:func:`~cxlens.text.report.sentiment_report`, :func:`~cxlens.text.quotes.quotes_json`), so
a script gets the same JSON from either; the models below only describe and check it. A
workspace whose comments have not been analysed yet is an answer (``ok: false`` and what
to run), not an error: it is the normal state of a new workspace.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from cxlens.errors import UserError
from cxlens.web.deps import ServerClock, TokenScope, WorkspaceAccess
from cxlens.web.params import Day

router = APIRouter(prefix="/api/w/{slug}", tags=["text"])
Reader = TokenScope("read")
Writer = TokenScope("write")

Metric = Literal["nps", "enps", "csat"]  # cxlens.text.impact.METRICS
Dimension = Literal["store", "team", "touchpoint", "language", "metric"]  # themes.DIMENSIONS


class NotAnalysedOut(BaseModel):
    ok: Literal[False] = False
    reason: str
    hint: str = Field(description="What to run: `cxlens text analyse`")


class TrendOut(BaseModel):
    month: str = Field(description="First day of the month, YYYY-MM-DD")
    mentions: int
    negative: int


class GroupOut(BaseModel):
    """One group of ``by``; the group's value is under the key named by ``by`` (``store``
    …), as in the CLI's JSON."""

    model_config = ConfigDict(extra="allow")

    comments: int = Field(description="Analysed comments of the group")
    mentions: int
    negative: int
    sentiment: float = Field(description="Mean p(positive) − p(negative), −1 … +1")


class ThemeOut(BaseModel):
    theme: str
    label: str
    terms: dict[str, list[str]] = Field(description="The theme's words per language")
    source: Literal["taxonomy", "discovered", "user"] = Field(
        "taxonomy", description="Where the theme comes from: the shipped taxonomy, "
                                "`cxlens text discover`, or the user's keyword rule or split")
    pinned: bool = Field(False, description="A discovered theme kept across re-discovery")
    mentions: int
    negative: int
    neutral: int
    positive: int
    sentiment: float | None = Field(description="Mean p(positive) − p(negative) over the "
                                                "mentions (−1 … +1); None without mentions")
    impact: float | None = Field(description="Points the score would move if the theme's "
                                             "negative mentions scored as comments without it")
    low: float | None = Field(description="95 % bootstrap interval, lower end")
    high: float | None
    n: int
    negative_mentions: int
    trend: list[TrendOut] = Field(description="Per month")
    groups: list[GroupOut] | None = Field(None, description="Only with ``by``")


class ThemesOut(BaseModel):
    metric: Metric
    comments: int = Field(description="Analysed comments of the metric's answers")
    notes: list[str]
    themes: list[ThemeOut] = Field(description="Most negative impact first")


class CommentOut(BaseModel):
    response_id: str | None
    ts: str | None = Field(description="ISO date-time of the answer")
    metric: str | None
    language: str | None
    sentiment: str | None
    probability: float | None = Field(description="The probability of ``sentiment``")
    themes: list[str]
    store_id: str | None
    touchpoint: str | None
    comment: str = Field(description="As written: plain text, to be shown escaped")


class AccuracyOut(BaseModel):
    accuracy: float = Field(description="Share right on held-out labelled comments")
    n: int


class LanguageOut(BaseModel):
    language: str | None
    comments: int
    negative: int
    neutral: int
    positive: int
    accuracy: AccuracyOut | None


class SentimentOut(BaseModel):
    source: Literal["model", "lexicon"]
    note: str
    accuracy: dict[str, AccuracyOut] = Field(description="Per language and ``all``")
    n_labelled: int
    languages: list[LanguageOut]


class ThemesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: Metric = Field("nps", description="The score themes are weighed against")
    start: Day | None = Field(None, description="First day (default: all)")
    end: Day | None = Field(None, description="Day after the last (default: all)")
    by: Dimension | None = Field(None, description="Also each theme's volume per group")
    team: str | None = Field(None, max_length=200, description="Only this team's answers")


class CommentsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = Field(min_length=1, max_length=100, description="See /text/themes")
    language: str | None = Field(None, max_length=20, description="Only fi, sv, en …")
    metric: str | None = Field(None, max_length=50, description="Only answers of this metric")
    limit: int = Field(50, ge=1, le=1000, description="At most this many, newest first")
    team: str | None = Field(None, max_length=200, description="Only this team's answers")


class QuoteOut(BaseModel):
    theme: str
    language: str
    response_id: str
    ts: str | None = Field(description="ISO date-time of the answer")
    sentiment: str | None
    typical: str = Field(description="The sentiment most of the theme's comments in this "
                                     "language have")
    probability: float = Field(description="The comment's probability of ``typical``")
    score: float = Field(description="About the theme × typical × readable (docs/text.md)")
    comment: str = Field(description="As written: plain text, to be shown escaped")


class QuotesOut(BaseModel):
    theme: str
    k: int
    languages: dict[str, list[QuoteOut]] = Field(description="Per language, best first")


class QuotesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = Field(min_length=1, max_length=100, description="See /text/themes")
    k: int = Field(3, ge=1, le=20, description="Quotes per language")
    metric: str | None = Field(None, max_length=50, description="Only answers of this metric")
    language: str | None = Field(None, max_length=20, description="Only fi, sv, en …")
    store: str | None = Field(None, max_length=200, description="Only this store")
    team: str | None = Field(None, max_length=200, description="Only this team")
    touchpoint: str | None = Field(None, max_length=200, description="Only this touchpoint")
    start: Day | None = Field(None, description="First day (default: all)")
    end: Day | None = Field(None, description="Day after the last (default: all)")


def _analysed(access: Any, call: Any) -> Any:
    """``call(engine)``, or the not-analysed answer when there is nothing to read yet.
    Other user errors (an unknown theme) go to the app's handler: a 400 with the message.

    Read through the workspace's engine, as the other analytics: on Spark the lake mirrors
    the analysis tables (docs/engine.md, "The lake"), brought up to date before the read."""
    from cxlens.text.report import _NOT_ANALYSED
    from cxlens.text.themes import has_analysis

    with access.engine() as eng:
        if not has_analysis(eng):
            return NotAnalysedOut(ok=False, reason=_NOT_ANALYSED[0], hint=_NOT_ANALYSED[1])
        return call(eng)


@router.get("/text/themes", response_model_exclude_unset=True)
def get_text_themes(access: Reader, q: Annotated[ThemesQuery, Query()]
                    ) -> ThemesOut | NotAnalysedOut:
    """Each theme with its terms per language, mentions, sentiment and impact on the score
    with its interval (``cxlens text themes --json``)."""
    from cxlens.text.report import theme_report

    return _analysed(access, lambda eng: ThemesOut.model_validate(theme_report(
        eng, metric=q.metric, start=q.start, end=q.end, by=q.by, team=q.team)))


@router.get("/text/comments")
def get_text_comments(access: Reader, q: Annotated[CommentsQuery, Query()]
                      ) -> list[CommentOut] | NotAnalysedOut:
    """The comments of one theme, newest first (``cxlens text comments --json``)."""
    from cxlens.text.report import theme_comments

    return _analysed(access, lambda eng: [CommentOut.model_validate(r) for r in theme_comments(
        eng, q.theme, language=q.language, metric=q.metric, limit=q.limit, team=q.team)])


@router.get("/text/sentiment")
def get_text_sentiment(access: Reader) -> SentimentOut | NotAnalysedOut:
    """Sentiment per language, model or lexicon, and its held-out accuracy
    (``cxlens text sentiment --json``)."""
    from cxlens.text.report import sentiment_report

    return _analysed(access, lambda eng: SentimentOut.model_validate(sentiment_report(eng)))


@router.get("/text/quotes")
def get_text_quotes(access: Reader, q: Annotated[QuotesQuery, Query()]
                    ) -> QuotesOut | NotAnalysedOut:
    """The most representative comments of one theme per language
    (``cxlens text quotes --json``)."""
    from cxlens.text.quotes import quotes_json
    from cxlens.text.selection import Selection

    sel = Selection(q.metric, q.start, q.end, q.language, q.store, q.team, q.touchpoint)
    return _analysed(access, lambda eng: QuotesOut.model_validate(
        quotes_json(eng, q.theme, sel, k=q.k)))


# --- the user's theme edits ------------------------------------------------------------

Lang = Literal["fi", "sv", "en"]
Keyword = Annotated[str, Field(min_length=1, max_length=100)]
ThemePath = Annotated[str, Path(min_length=1, max_length=100, description="A theme's name "
                                                                          "(/text/themes)")]


class RenameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=80, description="The label shown; the name "
                                                               "scripts use stays")


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: str = Field(min_length=1, max_length=100, description="The theme that takes the "
                                                               "comments; the first leaves")


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keywords: list[Keyword] = Field(min_length=1, max_length=50, description="Words or "
                                    "phrases, matched as lemmas")
    language: Lang | None = Field(None, description="Only comments in this language "
                                                    "(default: all three)")
    label: str | None = Field(None, max_length=80, description="A new theme's label")


class SplitIn(RuleIn):
    new: str = Field(min_length=1, max_length=63, description="The new theme's name "
                                                             "(a-z, 0-9, _)")


class PinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pinned: bool = Field(True, description="False lets discovery replace it again (unpin)")


class EditOut(BaseModel):
    ok: Literal[True] = True
    edit_id: int = Field(description="The edit's number (DELETE /text/edits/{edit_id} "
                                     "undoes it)")
    op: str = Field(description="rename, merge, split, pin, unpin or rule")
    theme: str
    reassigned: int | None = Field(description="Comments re-assigned; None when the "
                                               "comments were never analysed")


class UndoOut(BaseModel):
    ok: Literal[True] = True
    undone: int
    reassigned: int | None


class EditRowOut(BaseModel):
    edit_id: int
    op: str
    theme: str
    args: dict[str, Any]
    made_at: str
    active: bool


class DiscoveredOut(BaseModel):
    theme: str
    label: str
    terms: dict[str, list[str]]
    keys: dict[str, list[str]]
    comments: int
    purity: float
    pinned: bool


class EditsOut(BaseModel):
    edits: list[EditRowOut] = Field(description="Oldest first, undone ones too")
    discovered: list[DiscoveredOut]


def _edit(access: WorkspaceAccess, now: Any, op: str, theme: str, call: Any,
          creates: bool = False) -> Any:
    """Run one edit in the workspace's writer: ``call(cursor, now)`` records it. 404 for a
    theme the catalogue lacks (unless the edit ``creates`` it), 422 for an edit the text
    package refuses; also what the Comments page's forms call."""
    from cxlens.text.catalogue import load
    from cxlens.text.edits import run
    from cxlens.warehouse.engine import DuckDBEngine

    def write(cur: Any) -> Any:
        if not creates and theme not in load(DuckDBEngine(cur)).names():
            raise HTTPException(404, f"no theme {theme!r}")
        return run(cur, lambda c: call(c, now), now=now)

    try:
        return access.warehouse.write(write)
    except UserError as exc:
        raise HTTPException(422, exc.message + (f"; {exc.hint}" if exc.hint else "")
                            ) from None


def theme_edit(access: WorkspaceAccess, now: Any, theme: str, op: str,
               body: BaseModel) -> EditOut:
    """One of the edits by name (``op``: rename, merge, split, pin, rules)."""
    from cxlens.text import edits

    b: Any = body
    calls = {
        "rename": lambda c, t: edits.rename(c, theme, b.label, now=t),
        "merge": lambda c, t: edits.merge(c, theme, b.into, now=t),
        "split": lambda c, t: edits.split(c, theme, b.new, b.keywords, language=b.language,
                                          label=b.label, now=t),
        "pin": lambda c, t: edits.pin(c, theme, now=t, pinned=b.pinned),
        "rules": lambda c, t: edits.rule(c, theme, b.keywords, language=b.language,
                                         label=b.label, now=t),
    }
    done = _edit(access, now, op, theme, calls[op], creates=op == "rules")
    kind = {"rules": "rule", "pin": "pin" if getattr(b, "pinned", True) else "unpin"}
    return EditOut(edit_id=done.edit_id, op=kind.get(op, op), theme=theme,
                   reassigned=done.reassigned)


def undo_edit(access: WorkspaceAccess, now: Any, edit_id: int) -> UndoOut:
    """Undo one active edit; 404 when there is none of that number."""
    from cxlens.text import edits
    from cxlens.text.edits import run

    def write(cur: Any) -> Any:
        active = cur.execute("SELECT count(*) FROM text_theme_edits WHERE edit_id = ? "
                             "AND active", [edit_id]).fetchall()[0][0]
        if not active:
            raise HTTPException(404, f"no active edit {edit_id}")

        def do(c: Any) -> int:
            edits.undo(c, edit_id)
            return edit_id

        return run(cur, do, now=now)

    done = access.warehouse.write(write)
    return UndoOut(undone=edit_id, reassigned=done.reassigned)


_CREATED = {201: {"description": "The edit, with its number"}}


def _now(clock: Any) -> Any:
    return clock()


@router.post("/text/themes/{theme}/rename", status_code=201, responses=_CREATED)
def post_rename(access: Writer, clock: ServerClock, theme: ThemePath, body: RenameIn
                ) -> EditOut:
    """Show a theme under a new label (``cxlens text theme rename``)."""
    return theme_edit(access, _now(clock), theme, "rename", body)


@router.post("/text/themes/{theme}/merge", status_code=201, responses=_CREATED)
def post_merge(access: Writer, clock: ServerClock, theme: ThemePath, body: MergeIn) -> EditOut:
    """Count a theme's comments as another's; the first leaves the list."""
    return theme_edit(access, _now(clock), theme, "merge", body)


@router.post("/text/themes/{theme}/split", status_code=201, responses=_CREATED)
def post_split(access: Writer, clock: ServerClock, theme: ThemePath, body: SplitIn) -> EditOut:
    """Move the comments of a theme that contain a keyword to a new theme."""
    return theme_edit(access, _now(clock), theme, "split", body)


@router.post("/text/themes/{theme}/pin", status_code=201, responses=_CREATED)
def post_pin(access: Writer, clock: ServerClock, theme: ThemePath, body: PinIn) -> EditOut:
    """Keep a discovered theme across re-discovery (``pinned: false`` lets it go)."""
    return theme_edit(access, _now(clock), theme, "pin", body)


@router.post("/text/themes/{theme}/rules", status_code=201, responses=_CREATED)
def post_rule(access: Writer, clock: ServerClock, theme: ThemePath, body: RuleIn) -> EditOut:
    """Give a theme (existing, or new as the user's own) to every comment with a keyword."""
    return theme_edit(access, _now(clock), theme, "rules", body)


@router.get("/text/edits")
def get_edits(access: Reader) -> EditsOut:
    """The edits, oldest first, and the discovered themes (``cxlens text theme list
    --json``)."""
    from cxlens.text.catalogue import read_discovered
    from cxlens.text.edits import listing
    from cxlens.warehouse.engine import DuckDBEngine

    if "text_theme_edits" not in _tables(access):
        return EditsOut(edits=[], discovered=[])
    with access.warehouse.read() as cur:
        rows = listing(cur)
        found = read_discovered(DuckDBEngine(cur))
    return EditsOut(edits=[EditRowOut.model_validate(r) for r in rows], discovered=[
        DiscoveredOut(theme=d.theme, label=d.label,
                      terms={k: list(v) for k, v in d.terms.items()},
                      keys={k: list(v) for k, v in d.keys.items()}, comments=d.comments,
                      purity=d.purity, pinned=d.pinned) for d in found])


def _tables(access: WorkspaceAccess) -> set[str]:
    with access.warehouse.read() as cur:
        return {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


@router.delete("/text/edits/{edit_id}")
def delete_edit(access: Writer, clock: ServerClock,
                edit_id: Annotated[int, Path(ge=1, le=2**53)]) -> UndoOut:
    """Undo one edit: it stays listed, inactive, and the comments are re-assigned."""
    return undo_edit(access, _now(clock), edit_id)
