"""The open comments of a *selection*: themes, impact and comments narrowed by language,
store, team and touchpoint as well as by metric and period — what the Comments page and the
top-themes panels of the Experience and People pages ask.

:mod:`cxlens.text.themes` and :mod:`cxlens.text.impact` answer for a metric and a period;
a page's reader also narrows to one language, store or touchpoint. The SQL here is theirs
with the selection's conditions added (same definitions: a mention is a theme in an analysed
comment; the impact's groups A/B/C and value per answer are :mod:`cxlens.text.impact`'s, and
its estimate and interval are :func:`cxlens.text.impact.from_cells`). With an empty selection
the numbers equal :func:`cxlens.text.report.theme_report`'s (a test holds them together).

A language filter narrows to answers whose analysed comment is in that language: the
impact's N is then the metric's answers with a comment in it (an answer without a comment
has no language to filter on). The other filters narrow the answers themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from cxlens.text.catalogue import load
from cxlens.text.impact import METRICS, from_cells, theme_cells
from cxlens.text.themes import ANSWER_KEY, _where
from cxlens.warehouse.engine import Engine

FILTERS: dict[str, str] = {"language": "a.language", "store": "f.store_id",
                           "team": "f.team_id", "touchpoint": "f.touchpoint"}
"""Filter name → the column it narrows (``a`` the analysis, ``f`` the answer)."""


@dataclass(frozen=True)
class Selection:
    """Which answers: a metric (None: all), a half-open period and equality filters."""

    metric: str | None = "nps"
    start: date | None = None
    end: date | None = None
    language: str | None = None
    store: str | None = None
    team: str | None = None
    touchpoint: str | None = None

    def filters(self) -> dict[str, str]:
        """The equality filters that are set, by name."""
        return {k: v for k in FILTERS if (v := getattr(self, k)) is not None}

    def where(self) -> tuple[str, dict[str, Any]]:
        """The SQL condition over ``f`` (v_feedback) and ``a`` (comment_analysis)."""
        cond, params = _where(self.metric, self.start, self.end)
        for name, value in self.filters().items():
            cond += f" AND {FILTERS[name]} = ${name}"
            params[name] = value
        return cond, params


@dataclass(frozen=True)
class ThemeRow:
    """One theme of a selection: volume, sentiment split, impact and monthly trend."""

    theme: str
    label: str
    mentions: int
    negative: int
    neutral: int
    positive: int
    sentiment: float | None  # mean p(positive) − p(negative) over the mentions
    impact: float | None
    low: float | None
    high: float | None
    n: int
    negative_mentions: int
    trend: tuple[tuple[date, int, int], ...] = field(default=())  # (month, mentions, negative)
    share: float | None = None  # mentions / the selection's analysed comments


@dataclass(frozen=True)
class ThemeTable:
    metric: str
    comments: int  # analysed comments of the selection
    themes: tuple[ThemeRow, ...]  # most negative impact first, as theme_report


_JOINED = (f"FROM comment_analysis a JOIN v_feedback f ON a.response_id = {ANSWER_KEY}")


def _volumes(engine: Engine, sel: Selection) -> tuple[int, dict[str, dict[str, Any]]]:
    where, params = sel.where()
    sql = f"""
    WITH c AS (SELECT a.themes, a.sentiment, a.p_positive, a.p_negative {_JOINED}
               WHERE {where}),
    m AS (SELECT t.theme AS theme, c.sentiment AS sentiment, c.p_positive AS p_positive,
                 c.p_negative AS p_negative FROM c CROSS JOIN UNNEST(c.themes) AS t(theme))
    SELECT m.theme AS theme, CAST(count(*) AS BIGINT) AS mentions,
           CAST(count(*) FILTER (WHERE m.sentiment = 'negative') AS BIGINT) AS negative,
           CAST(count(*) FILTER (WHERE m.sentiment = 'neutral') AS BIGINT) AS neutral,
           CAST(count(*) FILTER (WHERE m.sentiment = 'positive') AS BIGINT) AS positive,
           CAST(sum(CAST(m.p_positive AS DECIMAL(18, 12))) AS DOUBLE) AS p_positive,
           CAST(sum(CAST(m.p_negative AS DECIMAL(18, 12))) AS DOUBLE) AS p_negative
    FROM m GROUP BY m.theme ORDER BY m.theme"""
    rows = engine.query(sql, params).to_pylist()
    total = engine.query(f"SELECT CAST(count(*) AS BIGINT) AS n {_JOINED} WHERE {where}",
                         params).column("n")[0].as_py()
    return int(total), {r["theme"]: r for r in rows}


def _trend(engine: Engine, sel: Selection) -> dict[str, list[tuple[date, int, int]]]:
    where, params = sel.where()
    sql = f"""
    WITH c AS (SELECT a.themes, a.sentiment, f.ts {_JOINED} WHERE {where})
    SELECT t.theme AS theme, CAST(date_trunc('month', c.ts) AS DATE) AS month,
           CAST(count(*) AS BIGINT) AS mentions,
           CAST(count(*) FILTER (WHERE c.sentiment = 'negative') AS BIGINT) AS negative
    FROM c CROSS JOIN UNNEST(c.themes) AS t(theme) GROUP BY 1, 2 ORDER BY 1, 2"""
    out: dict[str, list[tuple[date, int, int]]] = {}
    for r in engine.query(sql, params).to_pylist():
        out.setdefault(r["theme"], []).append((r["month"], r["mentions"], r["negative"]))
    return out


def _cells(engine: Engine, sel: Selection, themes: list[str]) -> dict[str, np.ndarray]:
    """theme → the nine (group, v) cell counts of :mod:`cxlens.text.impact`, selected."""
    assert sel.metric is not None
    where, params = sel.where()
    return theme_cells(engine, sel.metric, where, params, themes)


def theme_table(engine: Engine, sel: Selection) -> ThemeTable:
    """Every theme of the workspace's catalogue (taxonomy, discovered, the user's) in the
    selection: mentions, sentiment split and net sentiment,
    impact on the selection's metric with its bootstrap interval (None for a metric
    without one, e.g. CES), and the monthly trend."""
    metric = sel.metric or "nps"
    sel = Selection(metric, sel.start, sel.end, sel.language, sel.store, sel.team,
                    sel.touchpoint)
    catalogue = load(engine)
    total, vol = _volumes(engine, sel)
    months = _trend(engine, sel)
    cells = _cells(engine, sel, catalogue.names()) if metric in METRICS else {}
    rows = []
    for t in catalogue.entries:
        v = vol.get(t.theme, {})
        mentions = int(v.get("mentions", 0))
        i = (from_cells(t.theme, metric, cells.get(t.theme, np.zeros(9, np.int64)))
             if metric in METRICS else None)
        rows.append(ThemeRow(
            t.theme, t.label, mentions, int(v.get("negative", 0)), int(v.get("neutral", 0)),
            int(v.get("positive", 0)),
            round((v["p_positive"] - v["p_negative"]) / mentions, 4) if mentions else None,
            i.impact if i else None, i.low if i else None, i.high if i else None,
            i.n if i else 0, i.negative_mentions if i else int(v.get("negative", 0)),
            tuple(months.get(t.theme, [])), round(mentions / total, 4) if total else None))
    rows.sort(key=lambda r: (r.impact if r.impact is not None else 0.0, r.theme))
    return ThemeTable(metric, total, tuple(rows))


def top_themes(table: ThemeTable, k: int = 5) -> list[ThemeRow]:
    """The ``k`` most mentioned themes of a table (ties by name)."""
    return sorted((r for r in table.themes if r.mentions),
                  key=lambda r: (-r.mentions, r.theme))[:k]


@dataclass(frozen=True)
class CommentPage:
    total: int  # comments of the theme in the selection
    offset: int
    rows: tuple[dict[str, Any], ...]  # as :func:`cxlens.text.themes.comments` gives them


def comment_page(engine: Engine, theme: str, sel: Selection, *, offset: int = 0,
                 limit: int = 25) -> CommentPage:
    """One page of a theme's comments in the selection, newest first (ties by id)."""
    load(engine).get(theme)
    where, params = sel.where()
    params.update(theme=theme)
    base = f"{_JOINED} WHERE {where} AND list_contains(a.themes, $theme)"
    total = engine.query(f"SELECT CAST(count(*) AS BIGINT) AS n {base}",
                         params).column("n")[0].as_py()
    sql = f"""
    SELECT a.response_id AS response_id, f.ts AS ts, f.metric AS metric,
           a.language AS language, a.sentiment AS sentiment,
           CAST(greatest(a.p_negative, a.p_neutral, a.p_positive) AS DOUBLE) AS probability,
           a.themes AS themes, f.store_id AS store_id, f.touchpoint AS touchpoint,
           f.comment AS comment
    {base} ORDER BY f.ts DESC, a.response_id LIMIT $limit OFFSET $offset"""
    rows = engine.query(sql, {**params, "limit": int(limit), "offset": int(offset)})
    return CommentPage(int(total), int(offset), tuple(rows.to_pylist()))


def options(engine: Engine, limit: int = 200) -> dict[str, list[str]]:
    """The values each filter can take among the analysed comments (at most ``limit``)."""
    out: dict[str, list[str]] = {}
    for name, col in FILTERS.items():
        sql = (f"SELECT DISTINCT {col} AS v {_JOINED} WHERE {col} IS NOT NULL "
               f"ORDER BY 1 LIMIT {int(limit)}")
        out[name] = [str(v) for v in engine.query(sql).column("v").to_pylist()]
    return out


def analysis_stamp(engine: Engine) -> tuple[int, str]:
    """How many comments are analysed and when last: with the batches' data version, what
    a kept result of this module depends on (``cxlens text analyse`` loads no batch)."""
    row = engine.query("SELECT CAST(count(*) AS BIGINT) AS n, "
                       "CAST(max(analysed_at) AS VARCHAR) AS at FROM comment_analysis"
                       ).to_pylist()[0]
    return int(row["n"]), str(row["at"])
