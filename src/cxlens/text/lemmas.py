"""Tokens, lemmas and stop-words per language (simplemma; offline).

Finnish inflects: *toimitus*, *toimituksen*, *toimitukseen* are one word, and so are
*leverans*/*leveransen* in Swedish. Themes and sentiment therefore work on lemmas, not on
surface forms. simplemma's dictionaries ship in its wheel; a word it does not know is kept
as it is (lower-cased). Lemmas of a language are cached per process: comments repeat their
words, so most look-ups after the first thousand comments are dictionary hits.

Stop-words are cxlens's own short lists (``text/data/stopwords_<lang>.txt``), written as the
lemmas simplemma gives, so they are removed after lemmatising. Negation words are in those
lists but the sentiment pass sees the tokens before stop-words are removed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from cxlens.text.language import LANGUAGES

# Words: letters (any script), with inner apostrophes and hyphens ("don't", "e-mail").
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*", re.UNICODE)

MAX_CHARS = 5_000
"""A comment is read up to this many characters: a 100 000-character paste says no more
about its themes than its first pages, and one must not stall a batch."""


def tokens(text: str | None) -> list[str]:
    """The lower-cased words of ``text`` (numbers, emoji and punctuation dropped)."""
    if not text:
        return []
    return [m.group(0).replace("’", "'") for m in _WORD.finditer(text[:MAX_CHARS].lower())]


@lru_cache(maxsize=200_000)
def lemma(word: str, lang: str) -> str:
    """simplemma's lemma of a lower-case ``word`` in ``lang``; the word itself for
    languages outside fi/sv/en."""
    if lang not in LANGUAGES:
        return word
    import simplemma

    return simplemma.lemmatize(word, lang=lang).lower()


def lemmas(text: str | None, lang: str) -> list[str]:
    """The lemmas of the words of ``text``, stop-words kept (negation needs them)."""
    return [lemma(w, lang) for w in tokens(text)]


@lru_cache(maxsize=8)
def stopwords(lang: str) -> frozenset[str]:
    """The shipped stop-word lemmas of ``lang`` (empty for other languages)."""
    if lang not in LANGUAGES:
        return frozenset()
    raw = resources.files("cxlens.text").joinpath(f"data/stopwords_{lang}.txt")
    return frozenset(line.strip() for line in raw.read_text("utf-8").splitlines()
                     if line.strip() and not line.startswith("#"))


def content_lemmas(text: str | None, lang: str) -> list[str]:
    """Lemmas without stop-words: what themes and the learned sentiment model read."""
    stop = stopwords(lang)
    return [x for x in lemmas(text, lang) if x not in stop]
