"""The open-comment results as plain data: what the CLI prints and a future API returns.

Every function reads through an :class:`Engine`; the per-comment results must have been
stored first (``cxlens text analyse``). A warehouse without them gets a clear message.
"""

from __future__ import annotations

import json
from datetime import date

from cxlens.errors import UserError
from cxlens.text.catalogue import load
from cxlens.text.impact import impacts
from cxlens.text.themes import comments, has_analysis, trend, volumes
from cxlens.warehouse.engine import Engine

_NOT_ANALYSED = ("the comments of this workspace have not been analysed",
                 "run `cxlens text analyse` first")


def _require(engine: Engine) -> None:
    if not has_analysis(engine):
        raise UserError(_NOT_ANALYSED[0], hint=_NOT_ANALYSED[1])


def _count(engine: Engine) -> int:
    return int(engine.query("SELECT CAST(count(*) AS BIGINT) AS n FROM comment_analysis"
                            ).column("n")[0].as_py())


def theme_report(engine: Engine, *, metric: str = "nps", start: date | None = None,
                 end: date | None = None, by: str | None = None,
                 team: str | None = None) -> dict:
    """Each theme (taxonomy, discovered, the user's: ``source``) with its terms, mentions,
    sentiment, impact and monthly trend, and with ``by`` (store, team, touchpoint, language)
    its volume per group.

    ``sentiment`` is the mean of p(positive) − p(negative) over the mentions (−1 … +1).
    Volumes and trend count the comments of ``metric``'s answers, as the impact does;
    ``team`` narrows every figure to one team's answers.
    """
    _require(engine)
    notes = []
    if _count(engine) == 0:
        notes.append("no analysed comments (a workspace without open comments, or "
                     "`cxlens text analyse` has not run since they were loaded)")
    vol = {r["theme"]: r for r in volumes(engine, metric=metric, start=start,
                                          end=end, team=team).to_pylist()}
    months: dict[str, list[dict]] = {}
    for r in trend(engine, metric=metric, start=start, end=end, team=team).to_pylist():
        months.setdefault(r["theme"], []).append(
            {"month": r["month"].isoformat(), "mentions": r["mentions"],
             "negative": r["negative"]})
    groups: dict[str, list[dict]] = {}
    if by is not None:
        for r in volumes(engine, metric=metric, start=start, end=end, by=by,
                             team=team).to_pylist():
            groups.setdefault(r["theme"], []).append(
                {by: r["grp"], "comments": r["comments"], "mentions": r["mentions"],
                 "negative": r["negative"], "sentiment": _net(r)})
    imp = {i.theme: i for i in impacts(engine, metric=metric, start=start, end=end,
                                          team=team)}
    analysed = max((r["comments"] for r in vol.values()), default=0)
    themes = []
    for t in load(engine).entries:
        v = vol.get(t.theme, {})
        i = imp[t.theme]
        mentions = int(v.get("mentions", 0))
        themes.append({
            "theme": t.theme, "label": t.label, "terms": {k: list(w) for k, w in t.terms.items()},
            "source": t.source, "pinned": t.pinned,
            "mentions": mentions, "negative": int(v.get("negative", 0)),
            "neutral": int(v.get("neutral", 0)), "positive": int(v.get("positive", 0)),
            "sentiment": _net(v) if mentions else None,
            "impact": i.impact, "low": i.low, "high": i.high, "n": i.n,
            "negative_mentions": i.negative_mentions, "trend": months.get(t.theme, []),
            **({"groups": groups.get(t.theme, [])} if by is not None else {}),
        })
    themes.sort(key=lambda x: (x["impact"] if x["impact"] is not None else 0.0, x["theme"]))
    return {"metric": metric, "comments": analysed, "notes": notes, "themes": themes}


def _net(row: dict) -> float:
    """Mean p(positive) − p(negative) over a volume row's mentions."""
    return round((row["p_positive"] - row["p_negative"]) / row["mentions"], 4)


def theme_comments(engine: Engine, theme: str, *, language: str | None = None,
                   metric: str | None = None, limit: int = 50,
                   team: str | None = None) -> list[dict]:
    """The comments of ``theme`` (of one ``team``'s answers), newest first, as plain rows
    (ts as ISO text)."""
    _require(engine)
    rows = comments(engine, theme, metric=metric, language=language, limit=limit,
                    team=team).to_pylist()
    for r in rows:
        r["ts"] = r["ts"].isoformat() if r["ts"] is not None else None
    return rows


def sentiment_report(engine: Engine) -> dict:
    """Sentiment counts per language, the model in use and its held-out accuracy."""
    _require(engine)
    rows = engine.query("""
        SELECT language AS language, CAST(count(*) AS BIGINT) AS comments,
               CAST(count(*) FILTER (WHERE sentiment = 'negative') AS BIGINT) AS negative,
               CAST(count(*) FILTER (WHERE sentiment = 'neutral') AS BIGINT) AS neutral,
               CAST(count(*) FILTER (WHERE sentiment = 'positive') AS BIGINT) AS positive
        FROM comment_analysis GROUP BY language ORDER BY comments DESC, language""").to_pylist()
    model = engine.query("SELECT params FROM text_models ORDER BY fitted_at DESC, model_id "
                         "LIMIT 1").column("params").to_pylist()
    params = json.loads(model[0]) if model else {}
    accuracy = params.get("accuracy", {})
    for r in rows:
        r["accuracy"] = accuracy.get(r["language"])
    return {"source": "model" if params.get("vocabulary") else "lexicon",
            "note": params.get("note", "no model fitted yet: run `cxlens text analyse`"),
            "accuracy": accuracy, "n_labelled": params.get("n_labelled", 0),
            "languages": rows}
