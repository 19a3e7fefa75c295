"""The language of each comment: Finnish, Swedish or English, others flagged.

Detection is lingua's (offline: its n-gram models ship in the wheel). The detector is built
once per process for fi, sv, en and the neighbours a Nordic company's customers also write
in (de, nb, nn, da, et, ru), so a Norwegian or Estonian comment is flagged ``other`` instead
of being forced into the nearest of the three. Building it costs about 0.1 s with lazily
loaded models; the models of a language load on its first use (docs/text.md, measured).

Which wins, the text or the answer's own ``language`` column? The text, when there is
enough of it: a survey's language is the language of its questions, and customers answer in
another one often enough. Below ``MIN_LETTERS`` letters (``"ok"``, ``"Hyvä!"``, an emoji)
lingua guesses, so the answer's column is used when it names fi, sv or en, and the comment
is ``unknown`` otherwise. When lingua cannot tell two languages apart (a mixed comment, or a
short Swedish one that reads as Danish or Norwegian too), the column decides; without one,
a second detector that knows only fi, sv and en does (a Nordic company's prior).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")
"""The languages analysed in full (lemmas, stop-words, sentiment lexicon, taxonomy)."""

OTHER = "other"
UNKNOWN = "unknown"

MIN_LETTERS = 8
"""Fewer letters than this: too short to detect; the answer's column decides."""

MIN_RELATIVE_DISTANCE = 0.01
"""lingua returns no language when the best two are closer than this (a mixed comment)."""

_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)

_CODES = {"FINNISH": "fi", "SWEDISH": "sv", "ENGLISH": "en"}
_NEIGHBOURS = ("GERMAN", "BOKMAL", "NYNORSK", "DANISH", "ESTONIAN", "RUSSIAN")


@lru_cache(maxsize=1)
def detector() -> LanguageDetector:
    """lingua's detector for the three languages and their neighbours, built once."""
    from lingua import Language, LanguageDetectorBuilder

    langs = [getattr(Language, name) for name in (*_CODES, *_NEIGHBOURS)]
    return (LanguageDetectorBuilder.from_languages(*langs)
            .with_minimum_relative_distance(MIN_RELATIVE_DISTANCE).build())


@lru_cache(maxsize=1)
def _three() -> LanguageDetector:
    """lingua's detector for fi, sv and en alone: the tie-breaker of close calls."""
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        *(getattr(Language, name) for name in _CODES)).build()


def letters(text: str) -> int:
    """Letters in ``text`` (digits, emoji, punctuation and spaces not counted)."""
    return len(_LETTERS.findall(text))


def _declared(code: str | None) -> str | None:
    if not code:
        return None
    code = code.strip().lower()[:2]
    return code if code in LANGUAGES else None


def detect(texts: Sequence[str | None],
           declared: Sequence[str | None] | None = None) -> list[str]:
    """The language of each text: ``fi``, ``sv``, ``en``, ``other`` or ``unknown``.

    ``declared`` is each answer's own language column (or None); it decides for texts too
    short or too mixed to detect. One batch call to lingua for the texts long enough.
    """
    declared = declared if declared is not None else [None] * len(texts)
    if len(declared) != len(texts):
        raise ValueError("texts and declared differ in length")
    out = [_declared(d) or UNKNOWN for d in declared]
    long_idx = [i for i, t in enumerate(texts) if t and letters(t) >= MIN_LETTERS]
    if not long_idx:
        return out
    # Each distinct text once: short answers ("Kiitos hyvästä palvelusta!") repeat.
    distinct = list(dict.fromkeys(texts[i] for i in long_idx))
    by_text = dict(zip(distinct, detector().detect_languages_in_parallel_of(distinct),
                       strict=True))
    found = [by_text[texts[i]] for i in long_idx]
    close = []
    for i, lang in zip(long_idx, found, strict=True):
        if lang is None:  # too close to call: the declared language, else fi/sv/en alone
            if out[i] == UNKNOWN:
                close.append(i)
            continue
        out[i] = _CODES.get(lang.name, OTHER)
    if close:
        again = _three().detect_languages_in_parallel_of([texts[i] for i in close])
        for i, lang in zip(close, again, strict=True):
            out[i] = _CODES[lang.name] if lang is not None else UNKNOWN
    return out
