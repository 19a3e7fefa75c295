"""Which words of a comment made it a comment of a theme: character spans to highlight.

The same rule as :func:`cxlens.text.themes.match`, word by word and on the text as written:
a word whose lemma (or the word itself) is one of the theme's keywords in the comment's
language, in Finnish and Swedish also a compound ending in a keyword of
``COMPOUND_MIN`` letters or more, and the words of a multi-word keyword that stand together.
So *toimituksen* and *pakettitoimitus* are marked for delivery in a Finnish comment, although
neither is written as the keyword *toimitus*.

Spans, not markup: the page escapes the text first and marks the spans after
(:func:`cxlens.web.pages.comments.marked`), so a comment's own HTML never becomes markup.
"""

from __future__ import annotations

from cxlens.text.language import LANGUAGES
from cxlens.text.lemmas import _WORD, MAX_CHARS, lemma
from cxlens.text.themes import COMPOUND_LANGUAGES, COMPOUND_MIN, taxonomy


def theme_spans(text: str | None, lang: str | None, theme: str) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (start, end) character spans of ``text`` that match
    ``theme`` in language ``lang`` (none for a language outside fi/sv/en)."""
    if not text or lang not in LANGUAGES:
        return []
    t = taxonomy().get(theme)
    keys = t.keys[lang]
    heads = [k for k in keys if len(k) >= COMPOUND_MIN] if lang in COMPOUND_LANGUAGES else []
    words = [(m.start(), m.end(), m.group(0).lower().replace("’", "'"))
             for m in _WORD.finditer(text[:MAX_CHARS])]
    lems = [lemma(w, lang) for _, _, w in words]
    hit = [False] * len(words)
    for i, ((_, _, word), lem) in enumerate(zip(words, lems, strict=True)):
        if lem in keys or word in keys or (
                len(lem) > COMPOUND_MIN and any(lem.endswith(k) for k in heads)):
            hit[i] = True
    for phrase in t.phrases[lang]:
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

