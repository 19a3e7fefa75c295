"""Sentiment: the lexicon with negation, labels from scores, the learned model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cxlens.demo import company as co
from cxlens.text import sentiment as snt


def _cls(text: str, lang: str) -> str:
    probs = snt.lexicon_probabilities(snt.read(text, lang).score)
    return snt.CLASSES[int(probs.argmax())]


@pytest.mark.parametrize(("text", "lang"), [
    ("ei ollut hyvä", "fi"), ("Palvelu ei ollut hyvää.", "fi"), ("en ollut tyytyväinen", "fi"),
    ("inte bra", "sv"), ("Servicen var inte bra.", "sv"),
    ("not good", "en"), ("The service wasn't good.", "en"), ("It didn't work", "en"),
])
def test_negation_turns_positive_words_negative(text: str, lang: str) -> None:
    assert _cls(text, lang) == "negative"


@pytest.mark.parametrize(("text", "lang", "cls"), [
    ("hyvä", "fi", "positive"), ("bra", "sv", "positive"), ("good", "en", "positive"),
    ("ei huono", "fi", "positive"), ("inte dålig", "sv", "positive"),
    ("not bad", "en", "positive"),
    ("Toimitus myöhästyi viikolla.", "fi", "negative"),
    ("Trevlig och kunnig personal!", "sv", "positive"),
    ("Kallis, mutta laadukas.", "fi", "neutral"),
    ("Tilasin teltan.", "fi", "neutral"),
])
def test_lexicon_classes(text: str, lang: str, cls: str) -> None:
    assert _cls(text, lang) == cls


def test_negation_reaches_only_its_clause() -> None:
    r = snt.read("Ei mitään valittamista, hyvä palvelu", "fi")
    assert r.positive == 1.0 and r.negative == 0.0
    assert "not_hyvä" in snt.read("ei ollut hyvä", "fi").features


def test_labels_from_scores() -> None:
    assert [snt.label_of("nps", s) for s in (0, 6, 7, 8, 9, 10)] == [0, 0, 1, 1, 2, 2]
    assert [snt.label_of("csat", s) for s in (1, 2, 3, 4, 5)] == [0, 0, 1, 2, 2]
    assert [snt.label_of("ces", s) for s in (1, 3, 4, 5, 7)] == [0, 0, 1, 2, 2]
    assert snt.label_of("enps", 6) == 0 and snt.label_of("visits", 3) is None


def test_too_few_labels_fall_back_to_the_lexicon_and_say_so() -> None:
    reads = [snt.read("hyvä", "fi")] * 50
    m = snt.fit(reads, ["fi"] * 50, [2] * 50)
    assert not m.learned and "lexicon" in m.note and "50 labelled" in m.note
    assert m.model_id.startswith("lexicon-")


def _labelled_demo(n: int, seed: int = 5) -> tuple[list, list, list]:
    """Demo comment texts with NPS labels drawn as the demo draws scores."""
    rng = np.random.default_rng(seed)
    names = list(co.THEMES)
    reads, langs, labels = [], [], []
    for _ in range(n):
        t = names[rng.integers(len(names))]
        lang = ("fi", "sv", "en")[rng.integers(3)]
        texts = co.THEMES[t][lang]
        score = int(np.clip(round(rng.normal(8.4, 1.7) + co.THEMES[t]["shift"]), 0, 10))
        reads.append(snt.read(texts[rng.integers(len(texts))], lang))
        langs.append(lang)
        labels.append(snt.label_of("nps", score))
    return reads, langs, labels


def test_the_model_learns_reports_accuracy_per_language_and_round_trips() -> None:
    reads, langs, labels = _labelled_demo(1200)
    m = snt.fit(reads, langs, labels)
    assert m.learned and m.n_labelled == 1200
    assert set(m.accuracy) == {"fi", "sv", "en", "all"}
    assert sum(m.accuracy[lg]["n"] for lg in ("fi", "sv", "en")) == m.accuracy["all"]["n"]
    # Better than always answering the largest class.
    base = max(np.bincount(labels)) / len(labels)
    assert m.accuracy["all"]["accuracy"] > base
    p = m.probabilities(reads[:50], langs[:50])
    assert np.allclose(p.sum(axis=1), 1.0)
    again = snt.Model.from_json(json.loads(json.dumps(m.to_json())))
    assert again.model_id == m.model_id
    assert np.allclose(again.probabilities(reads[:50], langs[:50]), p, atol=1e-5)
    # Languages outside the three, and texts of unknown words, get the lexicon's view.
    other = m.probabilities([snt.read("gut", "other")], ["other"])
    assert np.allclose(other, snt.lexicon_probabilities(0.0))
