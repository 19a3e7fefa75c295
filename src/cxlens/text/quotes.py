"""Representative quotes: per theme and language, the few comments that say what the theme's
comments say — for a manager who reads three sentences instead of three hundred.

A comment of theme T in language L is scored by three things it is easy to defend:

* **how much it is about T** — 1 / the number of themes it mentions (a comment about
  delivery only beats one about delivery, price and staff);
* **how typical its sentiment is** — its probability of the class most of T's comments in L
  have (the *typical* class): a quote of a mostly negative theme reads negative, and surely;
* **whether it is a readable sentence** — ``min(1, words / 6) · min(1, 60 / words)``: a
  two-word comment or a page-long one is a poor quote.

score = about · typical · readable. The comments are ranked by score in SQL (ties: newest
first, then id); Python then walks each language's ranking and keeps the first ``k`` that
repeat neither a text already kept (case and spacing aside) nor a person already quoted
(customer, else employee, else the answer itself): k different voices saying k things.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from cxlens.text.catalogue import load
from cxlens.text.selection import Selection
from cxlens.text.themes import ANSWER_KEY
from cxlens.warehouse.engine import Engine

K = 3
SHORT_WORDS = 6
LONG_WORDS = 60
CANDIDATES = 200  # ranked comments per language handed to the walk (k is small)


@dataclass(frozen=True)
class Quote:
    theme: str
    language: str
    response_id: str
    ts: datetime | None
    sentiment: str | None
    typical: str  # the typical sentiment class of the theme in this language
    probability: float  # the comment's probability of the typical class
    score: float
    comment: str

    def to_json(self) -> dict:
        d = asdict(self)
        d["ts"] = self.ts.isoformat() if self.ts is not None else None
        return d


_SQL = """
WITH c AS (
    SELECT a.response_id AS response_id, a.language AS language, a.sentiment AS sentiment,
           a.p_negative AS p_negative, a.p_neutral AS p_neutral, a.p_positive AS p_positive,
           CAST(array_length(a.themes) AS DOUBLE) AS n_themes, f.ts AS ts, f.comment AS comment,
           coalesce(f.customer_id, f.employee_id, a.response_id) AS person,
           lower(trim(regexp_replace(f.comment, '\\s+', ' ', 'g'))) AS text_key,
           CAST(array_length(string_split(trim(regexp_replace(f.comment, '\\s+', ' ', 'g')), ' '))
                AS DOUBLE) AS words
    FROM comment_analysis a JOIN v_feedback f ON a.response_id = {key}
    WHERE {where} AND list_contains(a.themes, $theme) AND a.sentiment IS NOT NULL),
counts AS (
    SELECT language, sentiment, count(*) AS n,
           CASE sentiment WHEN 'negative' THEN 0 WHEN 'neutral' THEN 1 ELSE 2 END AS o
    FROM c GROUP BY 1, 2),
typical AS (
    SELECT language, sentiment AS typical FROM (
        SELECT language, sentiment,
               row_number() OVER (PARTITION BY language ORDER BY n DESC, o) AS r
        FROM counts) x WHERE r = 1),
scored AS (
    SELECT c.*, t.typical AS typical,
           CASE t.typical WHEN 'negative' THEN c.p_negative WHEN 'neutral' THEN c.p_neutral
                ELSE c.p_positive END AS probability,
           (1.0 / c.n_themes)
           * CASE t.typical WHEN 'negative' THEN c.p_negative WHEN 'neutral' THEN c.p_neutral
                  ELSE c.p_positive END
           * least(1.0, c.words / {short}) * least(1.0, {long} / c.words) AS score
    FROM c JOIN typical t ON t.language = c.language),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY language
                                 ORDER BY score DESC, ts DESC, response_id) AS r
    FROM scored)
SELECT language, response_id, ts, sentiment, typical, CAST(probability AS DOUBLE) AS probability,
       CAST(score AS DOUBLE) AS score, comment, person, text_key
FROM ranked WHERE r <= {candidates} ORDER BY language, r"""


def quotes(engine: Engine, theme: str, sel: Selection | None = None, *, k: int = K
           ) -> dict[str, list[Quote]]:
    """Language → the ``k`` most representative comments of ``theme`` in the selection
    (languages in alphabetical order; only languages with a comment of the theme)."""
    load(engine).get(theme)
    sel = sel or Selection(metric=None)
    where, params = sel.where()
    params["theme"] = theme
    sql = _SQL.format(key=ANSWER_KEY, where=where, short=float(SHORT_WORDS),
                      long=float(LONG_WORDS), candidates=CANDIDATES)
    out: dict[str, list[Quote]] = {}
    seen: dict[str, tuple[set[str], set[str]]] = {}
    for r in engine.query(sql, params).to_pylist():
        lang = r["language"]
        kept = out.setdefault(lang, [])
        texts, people = seen.setdefault(lang, (set(), set()))
        if len(kept) >= k or r["text_key"] in texts or r["person"] in people:
            continue
        texts.add(r["text_key"])
        people.add(r["person"])
        kept.append(Quote(theme, lang, r["response_id"], r["ts"], r["sentiment"], r["typical"],
                          round(r["probability"], 4), round(r["score"], 4), r["comment"]))
    return out


def quotes_json(engine: Engine, theme: str, sel: Selection | None = None, *, k: int = K
                ) -> dict:
    """What ``cxlens text quotes --json`` prints and the API returns."""
    by_lang = quotes(engine, theme, sel, k=k)
    return {"theme": theme, "k": k,
            "languages": {lang: [q.to_json() for q in qs] for lang, qs in by_lang.items()}}
