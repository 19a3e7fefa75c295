"""Tokens, lemmas and stop-words per language."""

from __future__ import annotations

from cxlens.text.lemmas import MAX_CHARS, content_lemmas, lemma, lemmas, stopwords, tokens


def test_finnish_inflection_is_one_lemma() -> None:
    forms = ["toimitus", "toimituksen", "toimitukseen", "toimituksessa", "toimitusta"]
    assert {lemma(w, "fi") for w in forms} == {"toimitus"}


def test_swedish_and_english_inflection() -> None:
    assert {lemma(w, "sv") for w in ("leverans", "leveransen", "leveranser")} == {"leverans"}
    assert {lemma(w, "en") for w in ("delivery", "deliveries")} == {"delivery"}


def test_tokens_drop_numbers_emoji_and_punctuation() -> None:
    assert tokens("Paketti 3 päivää myöhässä!!! 😡 don't") == ["paketti", "päivää",
                                                                  "myöhässä", "don't"]
    assert tokens(None) == [] and tokens("") == []
    assert len(tokens("sana " * 10_000)) == len(tokens("sana " * (MAX_CHARS // 5)))


def test_stop_words_are_shipped_per_language() -> None:
    for lang in ("fi", "sv", "en"):
        assert len(stopwords(lang)) > 40
    assert stopwords("de") == frozenset()
    assert content_lemmas("Toimitus oli todella hidas ja kallis", "fi") == [
        "toimitus", "todella", "hidas", "kallis"]


def test_other_languages_are_not_lemmatised() -> None:
    assert lemmas("Die Lieferung", "other") == ["die", "lieferung"]
