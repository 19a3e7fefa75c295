"""Which words of a comment made it a comment of a theme: character spans to highlight.

The workspace's own matching rule (:meth:`cxlens.text.catalogue.Catalogue.match`: the
taxonomy, the discovered themes' keys, the user's keyword rules and merges), word by word on
the text as written: a word is marked when its lemma (or the word itself) alone gives the
theme — in Finnish and Swedish also a compound ending in a keyword — and the words of one of
the taxonomy theme's multi-word keywords are marked where they stand together. So
*toimituksen* and *pakettitoimitus* are marked for delivery in a Finnish comment, although
neither is written as the keyword *toimitus*. A split theme's comments are marked by the
words of the theme they were split from plus the split's own keywords only where a word
alone decides; a discovered key of several words is not marked.

Spans, not markup: the page escapes the text first and marks the spans after
(:func:`cxlens.web.pages.comments.marked`), so a comment's own HTML never becomes markup.
"""

from __future__ import annotations

from cxlens.text.catalogue import Catalogue, build
from cxlens.text.language import LANGUAGES
from cxlens.text.lemmas import _WORD, MAX_CHARS, lemma
from cxlens.text.themes import taxonomy


def theme_spans(text: str | None, lang: str | None, theme: str,
                catalogue: Catalogue | None = None) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (start, end) character spans of ``text`` that match
    ``theme`` in language ``lang`` (none for a language outside fi/sv/en); ``catalogue``
    is the workspace's (default: the taxonomy alone)."""
    if not text or lang not in LANGUAGES:
        return []
    cat = catalogue or build()
    words = [(m.start(), m.end(), m.group(0).lower().replace("’", "'"))
             for m in _WORD.finditer(text[:MAX_CHARS])]
    lems = [lemma(w, lang) for _, _, w in words]
    hit = [theme in cat.match([lem], lang) or (word != lem and theme in cat.match([word], lang))
           for (_, _, word), lem in zip(words, lems, strict=True)]
    if theme in taxonomy().names():
        for phrase in taxonomy().get(theme).phrases[lang]:
            parts = phrase.split(" ")
            for i in range(len(lems) - len(parts) + 1):
                if lems[i:i + len(parts)] == parts:
                    hit[i:i + len(parts)] = [True] * len(parts)
    spans: list[tuple[int, int]] = []
    for (start, end, _), on in zip(words, hit, strict=True):
        if not on:
            continue
        if spans and text[spans[-1][1]:start].strip() == "":  # a phrase: one mark
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans
