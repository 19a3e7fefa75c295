"""Themes the taxonomy does not know, found in each language and aligned across languages.

**Pool.** The analysed comments that the workspace's catalogue (taxonomy, pinned discovered
themes, the user's rules and edits; text/catalogue.py) leaves without a theme, per language,
and the comments whose every theme hangs on a **weak** keyword only (``WEAK``: the words
for the shop itself — *myymälä*, *butik*, *store* — which say where a customer was, not
what about: "Kiitos ystävällisestä palvelusta myymälässä" is store environment by its
keyword, yet about the staff). Such a comment keeps its theme and is re-examined too; a
comment with any other keyword of a theme is not.

**Themes per language.** Each comment is its content lemmas (stop-words out) and the bigrams
of adjacent content lemmas, weighted by TF-IDF (scikit-learn, sub-linear tf, terms in at
least two comments). Non-negative matrix factorisation (NMF, Lee & Seung 1999; NNDSVDa
start, fixed seed) with k = 2 … ``K_MAX`` topics; each comment goes to its heaviest topic,
and k is the one whose hard clustering has the highest mean silhouette (cosine distance;
Rousseeuw 1987), ties to the smaller k. Clusters of fewer than ``MIN_SIZE`` comments are
dropped as noise.

**Alignment.** The clusters of all three languages are joined by average-linkage
agglomeration on a similarity of their top terms: each term is mapped to the concepts it
translates to in cxlens's small trilingual lexicon (``text/data/cx_lexicon.yaml``, a
translation aid written for this, not a taxonomy) and in the taxonomy's keyword lists, plus
the term itself (cognates and names: *kassa*, *app*, *klarna*); the similarity is the cosine
of the two clusters' concept vectors. Two clusters join when it is at least ``LINK`` and the
answers behind them look alike (cosine of their mix of metric, touchpoint and score band at
least ``PROFILE_MIN``) — that second check only vetoes; on its own it says little. What works
and what does not: words the lexicon or taxonomy knows, and words spelt alike, align; a theme
whose words are in neither stays one theme per language (``cxlens text theme merge`` joins
them by hand). Nothing is downloaded: there are no embeddings.

**Naming and assignment.** A theme is named by its top terms in each language (the label is
the first of each, ``toimitus / leverans / delivery``). It is assigned to comments like a
taxonomy theme, by keys: per language, the terms of its clusters of which at least
``KEY_PRECISION`` of the comments containing them (among all the language's analysed comments)
are in its clusters, taken greedily by count until they cover its comments. So the
assignment is readable, the same on every run and for new comments, and a user can see and
edit why a comment got a theme.

A run replaces the unpinned discovered themes (``text_themes``); pinned ones stay as they are
and their comments are not in the pool. The next ``cxlens text analyse`` assigns them.
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources

import duckdb
import numpy as np

from cxlens.clock import utc_naive
from cxlens.errors import UserError
from cxlens.safe_yaml import load as yaml_load
from cxlens.text import catalogue as cat
from cxlens.text.language import LANGUAGES
from cxlens.text.lemmas import lemmas, stopwords
from cxlens.text.themes import ANSWER_KEY, has_analysis, taxonomy
from cxlens.warehouse.engine import DuckDBEngine

K_MAX = 8
MIN_SIZE = 5
LINK = 0.25
PROFILE_MIN = 0.2
KEY_PRECISION = 0.6
MAX_KEYS = 8
COVERAGE = 0.95
TOP = 5
SEED = 13
SILHOUETTE_SAMPLE = 2_000
WEAK: dict[str, frozenset[str]] = {"fi": frozenset({"myymälä"}), "sv": frozenset({"butik"}),
                                   "en": frozenset({"store"})}
"""Taxonomy keywords that alone do not keep a comment out of the pool (lemmas)."""

_ROWS = f"""
SELECT a.response_id AS response_id, a.language AS language, f.comment AS comment,
       coalesce(f.metric, '') AS metric, coalesce(f.touchpoint, '') AS touchpoint,
       CASE WHEN f.score IS NULL THEN 'none'
            WHEN f.score >= 0.85 * coalesce(f.scale_max, 10) THEN 'high'
            WHEN f.score <= 0.6 * coalesce(f.scale_max, 10) THEN 'low'
            ELSE 'mid' END AS band
FROM comment_analysis a JOIN v_feedback f ON a.response_id = {ANSWER_KEY}
WHERE a.language IN ('fi', 'sv', 'en')
ORDER BY a.response_id"""


@dataclass
class Cluster:
    language: str
    members: list[int]  # row numbers
    weights: dict[str, float]  # term -> NMF weight (top terms)
    profile: Counter


@dataclass
class Discovery:
    """What a run found, for the person who ran it."""

    pool: dict[str, int] = field(default_factory=dict)  # pooled comments per language
    k: dict[str, int] = field(default_factory=dict)
    silhouette: dict[str, float | None] = field(default_factory=dict)
    themes: list[dict] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # pinned themes left as they were

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, dict[str, frozenset[str]]]:
    """lang -> lemma -> concept ids, from the lexicon and the taxonomy's keyword lists."""
    raw = resources.files("cxlens.text").joinpath("data/cx_lexicon.yaml").read_text("utf-8")
    out: dict[str, dict[str, set[str]]] = {lg: {} for lg in LANGUAGES}
    for i, row in enumerate(yaml_load(raw)["concepts"]):
        for lg in LANGUAGES:
            for w in row.get(lg, []):
                out[lg].setdefault(cat.lemmatise(str(w), lg), set()).add(f"c{i}")
    for t in taxonomy().themes:
        for lg in LANGUAGES:
            for w in t.terms[lg]:
                out[lg].setdefault(cat.lemmatise(w, lg), set()).add(f"t:{t.theme}")
    return {lg: {k: frozenset(v) for k, v in d.items()} for lg, d in out.items()}


def _features(lems: list[str], lang: str) -> list[str]:
    """Content lemmas and bigrams of adjacent ones (what the catalogue's keys match); the
    weak keywords are left out like stop-words, so no theme is named or keyed by them."""
    stop = stopwords(lang) | WEAK.get(lang, frozenset())
    content = [x for x in lems if x not in stop]
    return content + [f"{a} {b}" for a, b in itertools.pairwise(content)]


def _choose_k(x, k_max: int, seed: int) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Hard NMF clustering of the rows of ``x``: labels, topic-term matrix, silhouette."""
    from sklearn.decomposition import NMF
    from sklearn.metrics import silhouette_score

    n = x.shape[0]
    distinct = len({tuple(r.indices) for r in x})
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for k in range(2, min(k_max, distinct, x.shape[1], n - 1) + 1):
        nmf = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400)
        with warnings.catch_warnings():
            # An exact fit (k as many as the distinct comments) leaves a reconstruction
            # error of -0.0 by rounding; scikit-learn's report of it takes its square root.
            # Only that report is NaN: the factors are right.
            warnings.filterwarnings("ignore", "invalid value encountered in sqrt",
                                    RuntimeWarning)
            w = nmf.fit_transform(x)
        labels = w.argmax(axis=1)
        if len(set(labels.tolist())) < 2:
            continue
        s = round(float(silhouette_score(x, labels, metric="cosine",
                                         sample_size=min(n, SILHOUETTE_SAMPLE),
                                         random_state=seed)), 4)
        if best is None or s > best[0]:
            best = (s, labels, nmf.components_)
    if best is None:  # one kind of comment only: one cluster
        return np.zeros(n, int), np.asarray(x.mean(axis=0)), None
    return best[1], best[2], best[0]


def _clusters(feats: list[list[str]], rows: list[dict], pool: list[int], lang: str,
              k_max: int, min_size: int, seed: int) -> tuple[list[Cluster], int, float | None]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=lambda d: d, min_df=2, sublinear_tf=True)
    try:
        x = vec.fit_transform([feats[i] for i in pool])
    except ValueError:  # no term in two comments
        return [], 0, None
    keep = np.flatnonzero(x.getnnz(axis=1) > 0)
    if len(keep) < min_size:
        return [], 0, None
    x = x[keep]
    labels, topics, sil = _choose_k(x, k_max, seed)
    terms = vec.get_feature_names_out()
    out = []
    for c in sorted(set(labels.tolist())):
        members = [pool[int(keep[j])] for j in np.flatnonzero(labels == c)]
        if len(members) < min_size:
            continue
        order = np.argsort(-topics[c], kind="stable")[:3 * TOP]
        weights = {str(terms[j]): float(topics[c][j]) for j in order if topics[c][j] > 0}
        prof = Counter()
        for i in members:
            r = rows[i]
            prof.update((f"m:{r['metric']}", f"t:{r['touchpoint']}", f"b:{r['band']}"))
        out.append(Cluster(lang, members, weights, prof))
    return out, int(labels.max()) + 1, sil


def _concepts(c: Cluster) -> dict[str, float]:
    lex = _lexicon()[c.language]
    vec: dict[str, float] = {}
    for term, w in c.weights.items():
        ids = set(lex.get(term, ()))
        if " " in term:  # a pair counts only as a phrase the lexicon knows
            if not ids:
                continue
        else:
            ids.add(f"={term}")
        for cid in ids:
            vec[cid] = vec.get(cid, 0.0) + w
    return vec


def _cosine(a: dict, b: dict) -> float:
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    na = sum(v * v for v in a.values()) ** 0.5
    nb = sum(v * v for v in b.values()) ** 0.5
    return dot / (na * nb) if na and nb else 0.0


def _align(clusters: list[Cluster]) -> tuple[list[list[int]], dict]:
    """Average-linkage groups of cluster numbers, and the pairwise scores behind them."""
    n = len(clusters)
    cv = [_concepts(c) for c in clusters]
    sim = np.zeros((n, n))
    prof = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            sim[i, j] = sim[j, i] = _cosine(cv[i], cv[j])
            prof[i, j] = prof[j, i] = _cosine(clusters[i].profile, clusters[j].profile)
    score = np.where(prof >= PROFILE_MIN, sim, 0.0)
    groups = [[i] for i in range(n)]
    while len(groups) > 1:
        best, pair = LINK, None
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                s = float(score[np.ix_(groups[a], groups[b])].mean())
                if s >= best and (pair is None or s > best):
                    best, pair = s, (a, b)
        if pair is None:
            break
        a, b = pair
        groups[a] = sorted(groups[a] + groups[b])
        del groups[b]
    links = [{"a": i, "b": j, "concepts": round(float(sim[i, j]), 3),
              "profile": round(float(prof[i, j]), 3)}
             for g in groups for i in g for j in g if i < j]
    return groups, {"links": links}


def _top(ranked: list[str]) -> list[str]:
    """TOP terms to name a theme by: its best single words, then at most two word pairs."""
    words = [t for t in ranked if " " not in t]
    pairs = [t for t in ranked if " " in t][:2]
    return (words[:TOP - min(len(pairs), 2)] + pairs)[:TOP] if words else pairs


def _label_words(terms: dict[str, list[str]]) -> dict[str, str]:
    """One word per language to name a theme by: the words of the lexicon concept that ranks
    highest across the languages (each language scores 1 / rank of its first word carrying
    it), so the label reads jono / kö / queue; a language without it: its top word."""
    lex = _lexicon()
    words = {lg: [t for t in ts if " " not in t] or ts for lg, ts in terms.items()}
    score: Counter = Counter()
    first: dict[tuple[str, str], str] = {}
    for lg, ws in words.items():
        for rank, w in enumerate(ws):
            for concept in lex[lg].get(w, ()):
                if (lg, concept) not in first:
                    first[(lg, concept)] = w
                    score[concept] += 1.0 / (rank + 1)
    best = max(sorted(score), key=score.__getitem__) if score else None
    return {lg: first.get((lg, best), ws[0]) for lg, ws in words.items()}


def _slug(word: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_.lower()).strip("_")[:40] or "theme"


def _precision(terms: list[str], members: set[int], index: dict[str, set[int]]
               ) -> dict[str, tuple[float, set[int]]]:
    """term -> (share of the language's comments with it that are ``members``, those)."""
    out = {}
    for t in terms:
        having = index.get(t, set())
        inside = having & members
        out[t] = (len(inside) / len(having) if having else 0.0, inside)
    return out


def _keys(ranked: list[str], prec: dict[str, tuple[float, set[int]]], members: set[int]
          ) -> list[str]:
    """Terms mostly found in ``members`` (precision >= KEY_PRECISION), taken greedily by how
    many uncovered members they add (ties: the more precise), until COVERAGE or MAX_KEYS."""
    cand = [(t, *prec[t]) for t in ranked
            if len(prec[t][1]) >= 2 and prec[t][0] >= KEY_PRECISION]
    chosen: list[str] = []
    covered: set[int] = set()
    while cand and len(chosen) < MAX_KEYS and len(covered) < COVERAGE * len(members):
        t, _, inside = max(cand, key=lambda c: (len(c[2] - covered), c[1],
                                                 " " not in c[0], -ranked.index(c[0])))
        if not inside - covered:
            break
        chosen.append(t)
        covered |= inside
        cand = [c for c in cand if c[0] != t]
    return chosen


def _open(base: cat.Catalogue, lems: list[str], lang: str) -> bool:
    """Whether a comment is in the pool: no theme, or none without its weak keywords."""
    if not base.match(lems, lang):
        return True
    weak = WEAK.get(lang, frozenset())
    return bool(weak & set(lems)) and not base.match([x for x in lems if x not in weak], lang)


def discover(con: duckdb.DuckDBPyConnection, *, now: datetime, k_max: int = K_MAX,
             min_size: int = MIN_SIZE, seed: int = SEED) -> Discovery:
    """Find, align, name and store the themes of the comments nothing else themes."""
    eng = DuckDBEngine(con)
    if not has_analysis(eng):
        raise UserError("the comments of this workspace have not been analysed",
                        hint="run `cxlens text analyse` first")
    if k_max < 2 or min_size < 2:
        raise UserError("discovery needs --k-max of at least 2 and --min-size of at least 2",
                        hint="the defaults are --k-max 8 --min-size 5")
    old = cat.read_discovered(eng)
    pinned = [d for d in old if d.pinned]
    base = cat.build(pinned, cat.read_edits(eng))
    rows = eng.query(_ROWS).to_pylist()
    feats: list[list[str]] = []
    pools: dict[str, list[int]] = {lg: [] for lg in LANGUAGES}
    seen: dict[tuple[str, str], tuple[list[str], bool]] = {}  # comments repeat: read once
    for i, r in enumerate(rows):
        key = (r["comment"], r["language"])
        hit = seen.get(key)
        if hit is None:
            lems = lemmas(*key)
            hit = seen[key] = (_features(lems, key[1]), _open(base, lems, key[1]))
        feats.append(hit[0])
        if hit[1]:
            pools[r["language"]].append(i)
    result = Discovery(pool={lg: len(p) for lg, p in pools.items()},
                       kept=[d.theme for d in pinned])
    clusters: list[Cluster] = []
    for lg in LANGUAGES:
        found, k, sil = _clusters(feats, rows, pools[lg], lg, k_max, min_size, seed)
        clusters += found
        result.k[lg], result.silhouette[lg] = k, sil
    groups, info = _align(clusters)
    taken = set(base.names())
    index: dict[str, dict[str, set[int]]] = {lg: {} for lg in LANGUAGES}  # term -> comments
    for i, r in enumerate(rows):
        for t in feats[i]:
            index[r["language"]].setdefault(t, set()).add(i)
    new: list[cat.Discovered] = []
    for g in sorted(groups, key=lambda g: -sum(len(clusters[i].members) for i in g)):
        terms, keys, members_all = {}, {}, set()
        for lg in LANGUAGES:
            mine = [clusters[i] for i in g if clusters[i].language == lg]
            if not mine:
                continue
            w: Counter = Counter()
            for c in mine:
                w.update(c.weights)
            members = {i for c in mine for i in c.members}
            prec = _precision(list(w), members, index[lg])
            # Most telling first: topic weight times how much the term belongs to the theme
            # (generic words that also fill other comments sink), single words before pairs,
            # and among equals the longer word (johtaminen says more than huono).
            ranked = [t for t, _ in sorted(w.items(), key=lambda x: (
                " " in x[0], -round(x[1] * prec[x[0]][0], 9), -len(x[0]), x[0]))]
            k = _keys(ranked, prec, members)
            if not k:
                continue
            terms[lg], keys[lg] = _top(ranked), k
            members_all |= members
        if not keys:
            continue
        matched = {i for lg, ks in keys.items() for x in ks for i in index[lg].get(x, ())}
        purity = len(matched & members_all) / len(matched) if matched else 0.0
        words = _label_words(terms)
        first = words.get("en") or next(iter(words.values()))
        name = base_name = f"d_{_slug(first)}"
        n = 2
        while name in taken:
            name, n = f"{base_name}_{n}", n + 1
        taken.add(name)
        label = " / ".join(words[lg] for lg in LANGUAGES if lg in words)
        align = {"clusters": [{"language": clusters[i].language,
                               "comments": len(clusters[i].members),
                               "terms": list(clusters[i].weights)[:TOP]} for i in g],
                 "links": [x for x in info["links"] if x["a"] in g]}
        new.append(cat.Discovered(name, label, terms, keys, len(members_all),
                                  round(purity, 4), align, False))
    _store(con, new, now)
    result.themes = [{"theme": d.theme, "label": d.label, "terms": d.terms, "keys": d.keys,
                      "comments": d.comments, "purity": d.purity,
                      "languages": sorted(d.terms)} for d in new]
    return result


def _store(con: duckdb.DuckDBPyConnection, themes: list[cat.Discovered], now: datetime
           ) -> None:
    """Replace the unpinned discovered themes with ``themes``, in one transaction."""
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM text_themes WHERE NOT coalesce(pinned, FALSE)")
        for d in themes:
            con.execute("INSERT INTO text_themes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [d.theme, d.label, json.dumps(d.terms, ensure_ascii=False),
                         json.dumps(d.keys, ensure_ascii=False), d.comments, d.purity,
                         json.dumps(d.alignment, ensure_ascii=False), False, utc_naive(now)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
