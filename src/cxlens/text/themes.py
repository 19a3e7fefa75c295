"""Themes from the shipped taxonomy, the same across languages, and their aggregates.

A comment gets a theme when one of its lemmas is one of the theme's keywords in the
comment's language (``text/taxonomy.yaml``); *toimitus*, *leverans* and *delivery* are one
theme. Keywords are lemmatised when the taxonomy is read, so the file may hold any inflected
form. In Finnish and Swedish, which write compounds as one word whose head comes last, a
lemma that is no keyword itself matches a keyword of five letters or more that ends it
(*pakettitoimitus* → delivery).

The aggregates (volume, sentiment and monthly trend per theme, by store, team, touchpoint or
language) are SQL over ``comment_analysis`` joined to ``v_feedback``, run through
``Engine.query``. ``comment_analysis`` is a derived table of the warehouse file, mirrored
to the Parquet lake after each analysis (docs/engine.md), so the same SQL runs on Spark
(tests/text/test_text_parity.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

import pyarrow as pa

from cxlens.errors import UserError
from cxlens.safe_yaml import load as yaml_load
from cxlens.text.language import LANGUAGES
from cxlens.text.lemmas import lemma, tokens
from cxlens.warehouse.engine import Engine

COMPOUND_MIN = 5
COMPOUND_LANGUAGES = ("fi", "sv")
DIMENSIONS: dict[str, str] = {"store": "f.store_id", "team": "f.team_id",
                              "touchpoint": "f.touchpoint", "language": "a.language",
                              "metric": "f.metric"}

ANSWER_KEY = ("coalesce(f.response_id, "
              "'line:' || CAST(f._batch AS VARCHAR) || ':' || CAST(f._line AS VARCHAR))")
"""The key of an answer in ``comment_analysis``: its response id (the feedback kind's key,
so unique among current answers), or for answers exported without one (Google Forms) the
batch and line that loaded it — the same on both engines, unlike the 128-bit content hash
(docs/engine.md, rule 2). A new version of such an answer is another record anyway."""


@dataclass(frozen=True)
class Theme:
    theme: str
    label: str
    terms: dict[str, tuple[str, ...]]  # lang -> keywords as written in the taxonomy
    keys: dict[str, frozenset[str]]  # lang -> lemmatised one-word keywords
    phrases: dict[str, tuple[str, ...]]  # lang -> lemmatised multi-word keywords


@dataclass(frozen=True)
class Taxonomy:
    themes: tuple[Theme, ...]
    digest: str

    def names(self) -> list[str]:
        return [t.theme for t in self.themes]

    def get(self, name: str) -> Theme:
        for t in self.themes:
            if t.theme == name:
                return t
        raise UserError(f"no theme {name!r} in the taxonomy",
                        hint=f"use one of: {', '.join(self.names())}")


def _lemmatised(word: str, lang: str) -> str:
    return " ".join(lemma(w, lang) for w in tokens(word))


@lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    """The shipped taxonomy, read and lemmatised once."""
    raw = resources.files("cxlens.text").joinpath("taxonomy.yaml").read_text("utf-8")
    data = yaml_load(raw)
    themes = []
    for name, spec in data["themes"].items():
        if not re.fullmatch(r"[a-z_]+", name):  # names go into SQL as constants (impact.py)
            raise ValueError(f"taxonomy theme {name!r}: use lower-case letters and _")
        terms = {lg: tuple(str(w) for w in spec.get(lg, [])) for lg in LANGUAGES}
        keys, phrases = {}, {}
        for lg, words in terms.items():
            lem = {_lemmatised(w, lg) for w in words} | {w.lower() for w in words}
            keys[lg] = frozenset(k for k in lem if " " not in k)
            phrases[lg] = tuple(sorted(k for k in lem if " " in k))
        themes.append(Theme(name, str(spec.get("label", name)), terms, keys, phrases))
    return Taxonomy(tuple(themes), hashlib.sha256(raw.encode()).hexdigest()[:12])


@lru_cache(maxsize=8)
def _index(lang: str) -> tuple[dict[str, tuple[str, ...]], tuple[tuple[str, str], ...]]:
    """keyword → themes, and the compound heads (keyword, theme) of ``lang``."""
    index: dict[str, list[str]] = {}
    for t in taxonomy().themes:
        for k in t.keys[lang]:
            index.setdefault(k, []).append(t.theme)
    heads = tuple((k, th) for k, ths in index.items() for th in ths
                  if len(k) >= COMPOUND_MIN) if lang in COMPOUND_LANGUAGES else ()
    return {k: tuple(v) for k, v in index.items()}, heads


def match(lemmas: Sequence[str], lang: str) -> list[str]:
    """The themes of a comment from its lemmas (stop-words kept), in taxonomy order."""
    if lang not in LANGUAGES or not lemmas:
        return []
    index, heads = _index(lang)
    found: set[str] = set()
    for lem in lemmas:
        hit = index.get(lem)
        if hit:
            found.update(hit)
        elif heads and len(lem) > COMPOUND_MIN:
            found.update(th for k, th in heads if lem.endswith(k))
    joined = f" {' '.join(lemmas)} "
    for t in taxonomy().themes:
        if t.theme not in found and any(f" {p} " in joined for p in t.phrases[lang]):
            found.add(t.theme)
    return [t for t in taxonomy().names() if t in found]


# ---------------------------------------------------------------------------------------
# Aggregates (SQL through the Engine)
# ---------------------------------------------------------------------------------------

def _where(metric: str | None, start: date | None, end: date | None,
           team: str | None = None) -> tuple[str, dict]:
    """The answers of a metric, a half-open period and (``team``) one team's answers — the
    staff's eNPS answers carry their team, as customers' answers about a team do."""
    cond, params = ["TRUE"], {}
    if team is not None:
        cond.append("f.team_id = $team")
        params["team"] = team
    if metric:
        cond.append("f.metric = $metric")
        params["metric"] = metric
    if start:
        cond.append("f.ts >= CAST($start AS TIMESTAMP)")
        params["start"] = start.isoformat()
    if end:
        cond.append("f.ts < CAST($end AS TIMESTAMP)")
        params["end"] = end.isoformat()
    return " AND ".join(cond), params


def _dimension(by: str | None) -> str:
    if by is None:
        return "CAST(NULL AS VARCHAR)"
    try:
        return DIMENSIONS[by]
    except KeyError:
        raise UserError(f"cannot group themes by {by!r}",
                        hint=f"use one of: {', '.join(DIMENSIONS)}") from None


def _commented(where: str) -> str:
    return (f"SELECT a.*, f.ts, f.metric, f.store_id, f.team_id, f.touchpoint, f.comment "
            f"FROM comment_analysis a JOIN v_feedback f ON a.response_id = {ANSWER_KEY} "
            f"WHERE {where}")


def has_analysis(engine: Engine) -> bool:
    return "comment_analysis" in engine.tables()


def volumes(engine: Engine, *, metric: str | None = None, start: date | None = None,
            end: date | None = None, by: str | None = None, team: str | None = None
            ) -> pa.Table:
    """Per theme (and group): analysed comments, mentions and the sentiment counts.

    Columns: ``theme``, ``grp``, ``comments`` (analysed comments of the group), ``mentions``,
    ``negative``, ``neutral``, ``positive`` and ``p_positive``/``p_negative`` sums (summed as
    decimals: a float sum's last bits depend on the order, which differs between engines).
    """
    where, params = _where(metric, start, end, team)
    dim = _dimension(by).replace("f.", "c.").replace("a.", "c.")
    sql = f"""
    WITH c AS ({_commented(where)}),
    g AS (SELECT {dim} AS grp, CAST(count(*) AS BIGINT) AS comments FROM c GROUP BY 1),
    m AS (SELECT {dim} AS grp, t.theme AS theme, c.sentiment AS sentiment,
                 c.p_positive AS p_positive, c.p_negative AS p_negative
          FROM c CROSS JOIN UNNEST(c.themes) AS t(theme))
    SELECT m.theme AS theme, m.grp AS grp, g.comments AS comments,
           CAST(count(*) AS BIGINT) AS mentions,
           CAST(count(*) FILTER (WHERE m.sentiment = 'negative') AS BIGINT) AS negative,
           CAST(count(*) FILTER (WHERE m.sentiment = 'neutral') AS BIGINT) AS neutral,
           CAST(count(*) FILTER (WHERE m.sentiment = 'positive') AS BIGINT) AS positive,
           CAST(sum(CAST(m.p_positive AS DECIMAL(18, 12))) AS DOUBLE) AS p_positive,
           CAST(sum(CAST(m.p_negative AS DECIMAL(18, 12))) AS DOUBLE) AS p_negative
    FROM m JOIN g ON g.grp IS NOT DISTINCT FROM m.grp
    GROUP BY m.theme, m.grp, g.comments
    ORDER BY m.theme, m.grp NULLS FIRST"""
    return engine.query(sql, params)


def trend(engine: Engine, *, metric: str | None = None, start: date | None = None,
          end: date | None = None, theme: str | None = None, team: str | None = None
          ) -> pa.Table:
    """Per theme and calendar month (UTC): mentions and negative mentions. Months without a
    mention are absent (the caller owns the calendar, docs/engine.md rule 6)."""
    where, params = _where(metric, start, end, team)
    extra = ""
    if theme:
        extra = "WHERE t.theme = $theme"
        params["theme"] = theme
    sql = f"""
    WITH c AS ({_commented(where)})
    SELECT t.theme AS theme, CAST(date_trunc('month', c.ts) AS DATE) AS month,
           CAST(count(*) AS BIGINT) AS mentions,
           CAST(count(*) FILTER (WHERE c.sentiment = 'negative') AS BIGINT) AS negative
    FROM c CROSS JOIN UNNEST(c.themes) AS t(theme) {extra}
    GROUP BY 1, 2 ORDER BY 1, 2"""
    return engine.query(sql, params)


def comments(engine: Engine, theme: str, *, metric: str | None = None,
             start: date | None = None, end: date | None = None,
             language: str | None = None, limit: int = 50, team: str | None = None
             ) -> pa.Table:
    """The comments of a theme (taxonomy, discovered or the user's), newest first (ties by
    response id)."""
    from cxlens.text.catalogue import load  # the catalogue builds on this module

    load(engine).get(theme)
    where, params = _where(metric, start, end, team)
    params.update(theme=theme, limit=int(limit))
    lang = ""
    if language:
        lang = "AND c.language = $language"
        params["language"] = language
    sql = f"""
    WITH c AS ({_commented(where)})
    SELECT c.response_id AS response_id, c.ts AS ts, c.metric AS metric,
           c.language AS language, c.sentiment AS sentiment,
           CAST(greatest(c.p_negative, c.p_neutral, c.p_positive) AS DOUBLE) AS probability,
           c.themes AS themes, c.store_id AS store_id, c.touchpoint AS touchpoint,
           c.comment AS comment
    FROM c WHERE list_contains(c.themes, $theme) {lang}
    ORDER BY c.ts DESC, c.response_id LIMIT $limit"""
    return engine.query(sql, params)
