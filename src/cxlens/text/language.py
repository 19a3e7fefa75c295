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

Speed: the full detector (nine languages, high accuracy) costs about 2.8× lingua's fi/sv/en
alone. So each distinct text is first screened by the same nine languages in lingua's low
accuracy mode (trigrams only, about 4× cheaper than the full detector); a text it reads as
fi, sv or en is taken as that, and only the rest (a neighbour, or no answer) goes to the full
detector. On 12 356 distinct demo-like texts and the hand-made neighbours of the tests the
screen never said fi/sv/en where the full detector said otherwise; the low mode's mistakes go
the other way (short English read as German or Danish), and those are re-read in full. The
trade-off: a neighbour the screen takes for fi/sv/en would be analysed as that language
(docs/text.md, "Speed"). Only the first ``DETECT_CHARS`` characters are read: enough for
the language, and a 100 000-character paste costs no more than a page.
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

DETECT_CHARS = 2_000
"""Characters of a comment the detector reads."""

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
def _screen() -> LanguageDetector:
    """The same languages in lingua's low accuracy mode: the cheap first pass."""
    from lingua import Language, LanguageDetectorBuilder

    langs = [getattr(Language, name) for name in (*_CODES, *_NEIGHBOURS)]
    return LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode().build()


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
    short or too mixed to detect. Batch calls to lingua for the distinct texts long enough:
    the screen for all, the full detector for what the screen does not read as fi/sv/en.
    """
    declared = declared if declared is not None else [None] * len(texts)
    if len(declared) != len(texts):
        raise ValueError("texts and declared differ in length")
    out = [_declared(d) or UNKNOWN for d in declared]
    long_idx = [i for i, t in enumerate(texts) if t and letters(t[:DETECT_CHARS]) >= MIN_LETTERS]
    if not long_idx:
        return out
    # Each distinct text once: short answers ("Kiitos hyvästä palvelusta!") repeat.
    distinct = list(dict.fromkeys(texts[i][:DETECT_CHARS] for i in long_idx))
    by_text = dict(zip(distinct, _screen().detect_languages_in_parallel_of(distinct),
                       strict=True))
    again = [t for t, lang in by_text.items() if lang is None or lang.name not in _CODES]
    by_text.update(zip(again, detector().detect_languages_in_parallel_of(again),
                       strict=True))
    found = [by_text[texts[i][:DETECT_CHARS]] for i in long_idx]
    close = []
    for i, lang in zip(long_idx, found, strict=True):
        if lang is None:  # too close to call: the declared language, else fi/sv/en alone
            if out[i] == UNKNOWN:
                close.append(i)
            continue
        out[i] = _CODES.get(lang.name, OTHER)
    if close:
        tie = _three().detect_languages_in_parallel_of([texts[i][:DETECT_CHARS] for i in close])
        for i, lang in zip(close, tie, strict=True):
            out[i] = _CODES[lang.name] if lang is not None else UNKNOWN
    return out
