"""Sentiment per comment: negative, neutral or positive, with a probability.

Two stages (docs/methods.md, "Open comments"):

1. **Lexicon** — cxlens's own word lists per language (``text/data/lexicon.yaml``), matched
   on lemmas and on the words as written. A negator (*ei*, *inte*, *not*, *-n't*) flips the
   next sentiment word of its clause within ``NEGATION_WINDOW`` words: "ei ollut hyvä",
   "inte bra" and "not good" are negative. The sum of the polarities decides the class; its
   probabilities are a fixed softmax of that sum, a confidence and not a calibrated one.
2. **Model** — learned from the workspace's own comments with the scores that come with them
   as labels (NPS/eNPS 0–6 negative, 7–8 neutral, 9–10 positive; CSAT and ratings 1–2, 3,
   4–5; CES 1–3, 4, 5–7): multinomial logistic regression on language-tagged lemmas (a
   negated lemma is its own feature, ``not_hyvä``) plus the lexicon's counts. Its accuracy
   per language is measured on a held-out quarter (with n) before it is refitted on all
   labelled comments; a temperature fitted on the held-out quarter calibrates its
   probabilities. With fewer than ``MIN_LABELLED`` labelled comments, or a class with fewer
   than ``MIN_PER_CLASS``, the lexicon is used and the result says why.

The model is plain numbers (vocabulary, weights, temperature) so the store keeps it as JSON
and a later run applies the same model to new comments.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from cxlens.safe_yaml import load as yaml_load
from cxlens.text.language import LANGUAGES
from cxlens.text.lemmas import MAX_CHARS, lemma, stopwords, tokens

CLASSES: tuple[str, ...] = ("negative", "neutral", "positive")
NEGATION_WINDOW = 3
MIN_LABELLED = 200
MIN_PER_CLASS = 10
HOLDOUT = 0.25
SEED = 13
LEAN = 0.5  # weight of a word that leans negative ("liian", "too")

_CLAUSES = re.compile(r"[.,;:!?\n]+|\s(?:mutta|men|but|vaan|utan)\s", re.IGNORECASE)


@dataclass(frozen=True)
class Lexicon:
    polarity: dict[str, dict[str, float]]  # lang -> word -> weight
    negators: dict[str, frozenset[str]]
    digest: str


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shipped lexicon, read once."""
    raw = resources.files("cxlens.text").joinpath("data/lexicon.yaml").read_text("utf-8")
    data = yaml_load(raw)
    pol: dict[str, dict[str, float]] = {}
    for lang in LANGUAGES:
        words: dict[str, float] = {}
        for w in data[lang].get("lean_negative", []):
            words[str(w)] = -LEAN
        for w in data[lang]["negative"]:
            words[str(w)] = -1.0
        for w in data[lang]["positive"]:
            words[str(w)] = 1.0
        pol[lang] = words
    neg = {lang: frozenset(map(str, data["negators"][lang])) for lang in LANGUAGES}
    return Lexicon(pol, neg, hashlib.sha256(raw.encode()).hexdigest()[:12])


def _is_negator(word: str, negators: frozenset[str]) -> bool:
    return word in negators or word.endswith("n't")


@dataclass
class Reading:
    """What the sentiment stage reads from one comment."""

    features: list[str]  # lemmas without stop-words, negated ones as "not_<lemma>"
    positive: float  # lexicon sums
    negative: float

    @property
    def score(self) -> float:
        return self.positive - self.negative


def read(text: str | None, lang: str) -> Reading:
    """Lemmas, negation and the lexicon's sums of one comment in ``lang``."""
    if not text or lang not in LANGUAGES:
        return Reading([], 0.0, 0.0)
    lex = lexicon()
    pol, negs, stop = lex.polarity[lang], lex.negators[lang], stopwords(lang)
    feats: list[str] = []
    pos = neg = 0.0
    for clause in _CLAUSES.split(text[:MAX_CHARS]):
        since_neg = NEGATION_WINDOW + 1
        for word in tokens(clause):
            if _is_negator(word, negs):
                since_neg = 0
                continue
            since_neg += 1
            lem = lemma(word, lang)
            negated = since_neg <= NEGATION_WINDOW
            w = pol.get(lem, pol.get(word, 0.0))
            if w:
                if negated:
                    w = -w
                    since_neg = NEGATION_WINDOW + 1  # one negator flips one word
                if w > 0:
                    pos += w
                else:
                    neg -= w
            if lem not in stop:
                feats.append(("not_" if negated else "") + lem)
    return Reading(feats, pos, neg)


def lexicon_probabilities(score: float | np.ndarray) -> np.ndarray:
    """Fixed softmax of the lexicon sum over (negative, neutral, positive): 0 → neutral."""
    s = np.atleast_1d(np.asarray(score, dtype=float))
    logits = np.stack([-s, np.full_like(s, 0.4), s], axis=1)
    return _softmax(logits)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def label_of(metric: str, score: float, scale_max: int | None = None) -> int | None:
    """The class index a score labels its comment with, or None for metrics without one."""
    metric = metric.lower()
    if metric in ("nps", "enps"):
        return 0 if score <= 6 else 1 if score <= 8 else 2
    if metric in ("csat", "rating"):
        top = scale_max or 5
        low, high = top * 2 / 5, top * 3 / 5  # 1–2 | 3 | 4–5 on a 1–5 scale
        return 0 if score <= low else 1 if score <= high else 2
    if metric == "ces":
        top = scale_max or 7
        return 0 if score <= top * 3 / 7 else 1 if score <= top * 4 / 7 else 2
    return None


@dataclass
class Model:
    """A fitted sentiment model (or the lexicon alone when ``vocabulary`` is empty)."""

    vocabulary: dict[str, int] = field(default_factory=dict)
    coef: np.ndarray = field(default_factory=lambda: np.zeros((3, 0)))
    intercept: np.ndarray = field(default_factory=lambda: np.zeros(3))
    temperature: float = 1.0
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)
    n_labelled: int = 0
    note: str = ""
    lexicon_digest: str = ""

    @property
    def learned(self) -> bool:
        return bool(self.vocabulary)

    @property
    def model_id(self) -> str:
        """A short fingerprint: ``lexicon-<digest>`` or ``lr-<digest of the weights>``."""
        if not self.learned:
            return f"lexicon-{lexicon().digest[:8]}"
        data = self.to_json()  # rounded: the same id before storing and after loading
        key = [data[k] for k in ("vocabulary", "coef", "intercept", "temperature")]
        return f"lr-{hashlib.sha256(json.dumps(key).encode()).hexdigest()[:10]}"

    def to_json(self) -> dict:
        words = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {"vocabulary": words, "coef": self.coef.round(6).tolist(),
                "intercept": self.intercept.round(6).tolist(),
                "temperature": self.temperature, "accuracy": self.accuracy,
                "n_labelled": self.n_labelled, "note": self.note,
                "lexicon_digest": self.lexicon_digest}

    @classmethod
    def from_json(cls, data: dict) -> Model:
        vocab = {w: i for i, w in enumerate(data["vocabulary"])}
        coef = np.asarray(data["coef"], dtype=float).reshape(3, -1)
        return cls(vocab, coef, np.asarray(data["intercept"], dtype=float),
                   float(data["temperature"]), data.get("accuracy", {}),
                   int(data.get("n_labelled", 0)), data.get("note", ""),
                   data.get("lexicon_digest", ""))

    def probabilities(self, readings: Sequence[Reading], langs: Sequence[str]) -> np.ndarray:
        """(n, 3) class probabilities; the lexicon's for languages outside fi/sv/en or for
        comments with no word the model knows."""
        scores = np.array([r.score for r in readings], dtype=float)
        probs = lexicon_probabilities(scores) if len(readings) else np.zeros((0, 3))
        if not self.learned or not len(readings):
            return probs
        x = _matrix(readings, langs, self.vocabulary)
        logits = (x @ self.coef.T + self.intercept) / self.temperature
        use = np.array([lg in LANGUAGES for lg in langs]) & (np.asarray(x[:, :-2].sum(axis=1))
                                                             .ravel() > 0)
        probs[use] = _softmax(np.asarray(logits))[use]
        return probs


def _keys(reading: Reading, lang: str) -> list[str]:
    return [f"{lang}:{f}" for f in reading.features]


def _matrix(readings: Sequence[Reading], langs: Sequence[str], vocab: dict[str, int]):
    """Sparse binary lemma features (known words only) + the two lexicon sums."""
    from scipy import sparse

    rows, cols = [], []
    for i, (r, lg) in enumerate(zip(readings, langs, strict=True)):
        for j in {vocab[k] for k in _keys(r, lg) if k in vocab}:
            rows.append(i)
            cols.append(j)
    v = len(vocab)
    x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(readings), v))
    lex = sparse.csr_matrix(np.array([[r.positive, r.negative] for r in readings],
                                     dtype=float).reshape(-1, 2))
    return sparse.hstack([x, lex], format="csr")


def fit(readings: Sequence[Reading], langs: Sequence[str], labels: Sequence[int],
        *, min_count: int = 2) -> Model:
    """Learn the model from labelled comments, or return the lexicon with the reason."""
    y = np.asarray(labels, dtype=int)
    n = len(y)
    counts = np.bincount(y, minlength=3) if n else np.zeros(3, int)
    if n < MIN_LABELLED or counts.min() < MIN_PER_CLASS:
        per = ", ".join(f"{c} {k}" for c, k in zip(counts, CLASSES, strict=True))
        return Model(n_labelled=n, lexicon_digest=lexicon().digest, note=(
            f"{n} labelled comments ({per}): the model needs {MIN_LABELLED} with "
            f"{MIN_PER_CLASS} of each class; sentiment comes from the lexicon"))
    rng = np.random.default_rng(SEED)
    test = np.zeros(n, bool)
    for c in range(3):  # a stratified held-out quarter
        idx = np.flatnonzero(y == c)
        test[rng.choice(idx, max(1, round(len(idx) * HOLDOUT)), replace=False)] = True
    langs = list(langs)
    part = _fit_lr([r for r, t in zip(readings, test, strict=True) if not t],
                   [lg for lg, t in zip(langs, test, strict=True) if not t], y[~test], min_count)
    test_r = [r for r, t in zip(readings, test, strict=True) if t]
    test_l = [lg for lg, t in zip(langs, test, strict=True) if t]
    logits = _logits(part, test_r, test_l)
    temp = _temperature(logits, y[test])
    pred = logits.argmax(axis=1)
    accuracy = {}
    for lg in sorted(set(test_l)):
        m = np.array([x == lg for x in test_l])
        accuracy[lg] = {"accuracy": round(float((pred[m] == y[test][m]).mean()), 4),
                        "n": int(m.sum())}
    accuracy["all"] = {"accuracy": round(float((pred == y[test]).mean()), 4),
                       "n": int(test.sum())}
    model = _fit_lr(list(readings), langs, y, min_count)
    model.temperature, model.accuracy, model.n_labelled = temp, accuracy, n
    model.lexicon_digest = lexicon().digest
    model.note = (f"learned from {n} labelled comments; accuracy on a held-out "
                  f"{int(test.sum())}: {accuracy['all']['accuracy']:.0%}")
    return model


def _fit_lr(readings, langs, y, min_count: int) -> Model:
    from sklearn.linear_model import LogisticRegression

    df: dict[str, int] = {}
    for r, lg in zip(readings, langs, strict=True):
        for k in set(_keys(r, lg)):
            df[k] = df.get(k, 0) + 1
    vocab = {k: i for i, k in enumerate(sorted(k for k, c in df.items() if c >= min_count))}
    x = _matrix(readings, langs, vocab)
    lr = LogisticRegression(C=1.0, max_iter=2000)
    lr.fit(x, y)
    coef = np.zeros((3, x.shape[1]))
    intercept = np.zeros(3)
    coef[lr.classes_] = lr.coef_
    intercept[lr.classes_] = lr.intercept_
    return Model(vocab, coef, intercept)


def _logits(model: Model, readings, langs) -> np.ndarray:
    x = _matrix(readings, langs, model.vocabulary)
    return np.asarray(x @ model.coef.T + model.intercept)


def _temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature T minimising the held-out log-loss of softmax(logits / T)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        p = _softmax(logits / np.exp(log_t))
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())

    res = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return round(float(np.exp(res.x)), 4)
