"""Open comments as JSON: ``GET /api/w/{slug}/text/themes``, ``/text/comments``,
``/text/sentiment`` and ``/text/quotes``.

The same functions as ``cxlens text themes|comments|sentiment|quotes --json``
(:func:`~cxlens.text.report.theme_report`, :func:`~cxlens.text.report.theme_comments`,
:func:`~cxlens.text.report.sentiment_report`, :func:`~cxlens.text.quotes.quotes_json`), so
a script gets the same JSON from either; the models below only describe and check it. A
workspace whose comments have not been analysed yet is an answer (``ok: false`` and what
to run), not an error: it is the normal state of a new workspace.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from cxlens.web.deps import TokenScope
from cxlens.web.params import Day

router = APIRouter(prefix="/api/w/{slug}", tags=["text"])
Reader = TokenScope("read")

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


class CommentsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = Field(min_length=1, max_length=100, description="See /text/themes")
    language: str | None = Field(None, max_length=20, description="Only fi, sv, en …")
    metric: str | None = Field(None, max_length=50, description="Only answers of this metric")
    limit: int = Field(50, ge=1, le=1000, description="At most this many, newest first")


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
        eng, metric=q.metric, start=q.start, end=q.end, by=q.by)))


@router.get("/text/comments")
def get_text_comments(access: Reader, q: Annotated[CommentsQuery, Query()]
                      ) -> list[CommentOut] | NotAnalysedOut:
    """The comments of one theme, newest first (``cxlens text comments --json``)."""
    from cxlens.text.report import theme_comments

    return _analysed(access, lambda eng: [CommentOut.model_validate(r) for r in theme_comments(
        eng, q.theme, language=q.language, metric=q.metric, limit=q.limit)])


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
