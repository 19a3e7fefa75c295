"""The per-comment pass: language, sentiment and themes of every open comment, stored.

Reads the commented answers through the warehouse's :class:`Engine`, works in Python in
batches, and hands each batch to the store (``replace_comment_analysis``), which writes the
derived table ``comment_analysis`` in one transaction per batch: an interrupted run keeps the
batches it finished and the next run carries on.

What is recomputed: answers that are new, whose content changed (their content hash), or
whose stored analysis version differs from the current one. The version joins the code's
``ANALYSIS_VERSION``, the theme catalogue's digest (taxonomy, discovered themes and the
user's edits, text/catalogue.py) and the sentiment model's id, so
a new model re-analyses every comment (every comment's sentiment then comes from one model)
and a re-run with nothing new does nothing. The model is refitted when there is none yet,
when ``retrain`` is asked, or when the labelled comments have grown by ``REFIT_GROWTH`` since
the stored model was fitted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from cxlens.clock import utc_naive
from cxlens.text import catalogue as cat
from cxlens.text import sentiment as snt
from cxlens.text.language import LANGUAGES, detect
from cxlens.text.lemmas import lemmas
from cxlens.text.themes import ANSWER_KEY, match
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.lake import after_derived
from cxlens.warehouse.store import replace_comment_analysis, save_text_model

ANALYSIS_VERSION = "1"
BATCH = 5_000
REFIT_GROWTH = 1.2


@dataclass
class Analysis:
    """What a run did, for the person who ran it."""

    comments: int = 0  # answers with a non-blank comment
    analysed: int = 0  # (re)computed in this run
    unchanged: int = 0
    removed: int = 0  # stored results of answers gone or without a comment now
    languages: dict[str, int] = field(default_factory=dict)  # over all comments
    sentiment_source: str = "lexicon"
    model_note: str = ""
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)
    version: str = ""
    refitted: bool = False
    lake_notes: list[str] = field(default_factory=list)  # the lake not updated, and why

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


_COMMENTS = f"""
SELECT {ANSWER_KEY} AS response_id, CAST(f._hash AS VARCHAR) AS _hash, f.comment AS comment,
       f.language AS declared, f.metric AS metric, CAST(f.score AS DOUBLE) AS score,
       f.scale_max AS scale_max, a.language AS stored_language, a.version AS stored_version,
       (a._hash IS NOT DISTINCT FROM f._hash) AS same_content
FROM v_feedback f LEFT JOIN comment_analysis a ON a.response_id = {ANSWER_KEY}
WHERE f.comment IS NOT NULL AND trim(f.comment) <> ''
ORDER BY f._batch, f._line"""

_STALE = f"""
SELECT a.response_id AS response_id FROM comment_analysis a
WHERE a.response_id NOT IN (
    SELECT {ANSWER_KEY} FROM v_feedback f
    WHERE f.comment IS NOT NULL AND trim(f.comment) <> '')
ORDER BY 1"""


def stored_model(con: duckdb.DuckDBPyConnection) -> snt.Model | None:
    """The workspace's newest sentiment model, if one was stored."""
    rows = con.execute("SELECT params FROM text_models ORDER BY fitted_at DESC, model_id "
                       "LIMIT 1").fetchall()
    return snt.Model.from_json(json.loads(rows[0][0])) if rows else None


def analyse(con: duckdb.DuckDBPyConnection, *, now: datetime, retrain: bool = False,
            progress: Callable[[int, int], None] | None = None) -> Analysis:
    """Analyse the workspace's new and changed comments and store the results."""
    eng = DuckDBEngine(con)
    rows = eng.query(_COMMENTS).to_pydict()
    n = len(rows["response_id"])
    texts: list[str] = rows["comment"]
    fresh = [rows["stored_language"][i] is None or not rows["same_content"][i]
             for i in range(n)]
    need = [i for i in range(n) if fresh[i]]
    detected = detect([texts[i] for i in need], [rows["declared"][i] for i in need])
    langs = list(rows["stored_language"])
    for i, lg in zip(need, detected, strict=True):
        langs[i] = lg
    result = Analysis(comments=n, languages=dict(Counter(langs)))

    labels = [snt.label_of(m, s, sm) for m, s, sm in
              zip(rows["metric"], rows["score"], rows["scale_max"], strict=True)]
    labelled = [i for i in range(n) if labels[i] is not None and langs[i] in LANGUAGES]
    readings: dict[int, snt.Reading] = {}
    model = stored_model(con)
    if (retrain or model is None or model.lexicon_digest != snt.lexicon().digest
            or (len(labelled) >= REFIT_GROWTH * max(model.n_labelled, 1)
                and len(labelled) > model.n_labelled)):
        cache: dict[tuple[str, str], snt.Reading] = {}
        for i in labelled:
            key = (texts[i], langs[i])
            readings[i] = cache.get(key) or cache.setdefault(key, snt.read(*key))
        model = snt.fit([readings[i] for i in labelled], [langs[i] for i in labelled],
                        [labels[i] for i in labelled])
        save_text_model(con, model.model_id, json.dumps(model.to_json()), utc_naive(now))
        result.refitted = True
    result.sentiment_source = "model" if model.learned else "lexicon"
    result.model_note, result.accuracy = model.note, model.accuracy
    themes = cat.load(eng)
    version = f"{ANALYSIS_VERSION}-{themes.digest[:8]}-{model.model_id}"
    result.version = version

    todo = [i for i in range(n) if fresh[i] or rows["stored_version"][i] != version]
    result.unchanged = n - len(todo)
    stale = eng.query(_STALE).column("response_id").to_pylist()
    result.removed = len(stale)
    at = utc_naive(now)
    for lo in range(0, max(len(todo), 1), BATCH):
        part = todo[lo:lo + BATCH]
        table = _results(part, rows, texts, langs, readings, model, version, at, themes)
        replace_comment_analysis(con, table, stale if lo == 0 else [])
        result.analysed += len(part)
        if progress:
            progress(result.analysed, len(todo))
    result.lake_notes = after_derived(con)  # Spark's copy, once the whole run has committed
    return result


def assign(texts: list[str], langs: list[str], model: snt.Model,
           known: list[snt.Reading | None] | None = None,
           themes: cat.Catalogue | None = None) -> tuple[np.ndarray, list[list[str]]]:
    """Sentiment probabilities (n, 3) and themes of comments whose language is known: the
    hot path of a run (and what bench/text.py times). Each distinct (text, language) is read
    once; ``known`` holds readings already made for training (None where not). ``themes``
    is the workspace's catalogue (default: the taxonomy alone)."""
    match_ = themes.match if themes is not None else match
    seen: dict[tuple[str, str], tuple[snt.Reading, list[str]]] = {}
    reads, themes = [], []
    for j, key in enumerate(zip(texts, langs, strict=True)):
        hit = seen.get(key)
        if hit is None:
            r = (known[j] if known else None) or snt.read(*key)
            hit = seen[key] = (r, match_(lemmas(*key), key[1]))
        reads.append(hit[0])
        themes.append(hit[1])
    probs = model.probabilities(reads, langs) if texts else np.zeros((0, 3))
    return probs, themes


def _results(part: list[int], rows: dict, texts: list[str], langs: list[str],
             readings: dict[int, snt.Reading], model: snt.Model, version: str,
             at: datetime, themes: cat.Catalogue | None = None) -> pa.Table:
    """One batch of ``comment_analysis`` rows (each distinct text and language read once)."""
    plangs = [langs[i] for i in part]
    probs, themes = assign([texts[i] for i in part], plangs, model,
                           [readings.get(i) for i in part], themes)
    known = np.array([lg in LANGUAGES for lg in plangs], dtype=bool)
    source = "model" if model.learned else "lexicon"
    cls = probs.argmax(axis=1) if part else np.zeros(0, int)

    def prob(k: int) -> list[float | None]:
        return [float(p) if ok else None for p, ok in zip(probs[:, k], known, strict=True)]

    return pa.table({
        "response_id": pa.array([rows["response_id"][i] for i in part], pa.string()),
        "_hash": pa.array([rows["_hash"][i] for i in part], pa.string()),
        "version": pa.array([version] * len(part), pa.string()),
        "language": pa.array(plangs, pa.string()),
        "sentiment": pa.array([snt.CLASSES[c] if ok else None
                               for c, ok in zip(cls, known, strict=True)], pa.string()),
        "p_negative": pa.array(prob(0), pa.float64()),
        "p_neutral": pa.array(prob(1), pa.float64()),
        "p_positive": pa.array(prob(2), pa.float64()),
        "sentiment_source": pa.array([source if ok else "none" for ok in known], pa.string()),
        "themes": pa.array(themes, pa.list_(pa.string())),
        "analysed_at": pa.array([at] * len(part), pa.timestamp("us")),
    })
