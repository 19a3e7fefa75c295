"""Which words of a comment made it a comment of a theme: character spans to highlight.

The workspace's own matching rule (:meth:`cxlens.text.catalogue.Catalogue.match`: the
taxonomy, the discovered themes' keys, the user's keyword rules, merges and splits), on the
text as written:

* a word is marked when its lemma (or the word itself) alone gives the theme — in Finnish
  and Swedish also a compound ending in a keyword — so *toimituksen* and *pakettitoimitus*
  are marked for delivery in a Finnish comment, although neither is written *toimitus*;
* a key of several words — a taxonomy phrase, a discovered theme's word pair, a keyword
  rule or split of several words — is marked as **one span** from its first word to its
  last where its words stand together as the matching rule finds them: lemma after lemma,
  or (discovered keys and the user's, as ``match`` reads them) with only stop-words between
  (*pitkä jono*, *pitkä oli jono*). Marked only when the key itself gives the theme and
  none of its words alone does (then that word is marked by itself);
* a split theme's comments are marked by its split keywords, one word or several.

Spans, not markup: the page escapes the text first and marks the spans after
(:func:`cxlens.web.pages.comments.marked`), so a comment's own HTML never becomes markup.
"""

from __future__ import annotations

from cxlens.text.catalogue import Catalogue, build
from cxlens.text.language import LANGUAGES
from cxlens.text.lemmas import _WORD, MAX_CHARS, lemma, stopwords


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
    split = set(cat.split_keys(theme, lang))
    ranges = [(i, i) for i, ((_, _, word), lem) in enumerate(zip(words, lems, strict=True))
              if theme in cat.match([lem], lang) or lem in split or word in split
              or (word != lem and theme in cat.match([word], lang))]
    ranges += _phrase_ranges(cat, theme, lang, [w for _, _, w in words], lems, split)
    spans: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        start, end = words[first][0], words[last][1]
        if spans and (start <= spans[-1][1] or text[spans[-1][1]:start].strip() == ""):
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))  # touching: one mark
        else:
            spans.append((start, end))
    return spans


def _phrase_ranges(cat: Catalogue, theme: str, lang: str, words: list[str],
                   lems: list[str], split: set[str]) -> list[tuple[int, int]]:
    """(first, last) word indexes of each multi-word key of ``theme`` in the comment."""
    keys = {p: gap for p, gap in cat.phrases(lang).items()
            if p in split or _gives(cat, theme, p, lang)}
    if not keys:
        return []
    stop = stopwords(lang)
    content = [i for i, lem in enumerate(lems) if lem not in stop]
    out = []
    for key, gap in keys.items():
        parts = key.split(" ")
        n = len(parts)
        for i in range(len(lems) - n + 1):  # word after word, as lemmas or as written
            if lems[i:i + n] == parts or words[i:i + n] == parts:
                out.append((i, i + n - 1))
        for j in range(len(content) - n + 1 if gap else 0):  # only stop-words between
            at = content[j:j + n]
            if [lems[k] for k in at] == parts or [words[k] for k in at] == parts:
                out.append((at[0], at[-1]))
    return out


def _gives(cat: Catalogue, theme: str, key: str, lang: str) -> bool:
    """Whether the key of several words gives ``theme`` and none of its words alone does."""
    parts = key.split(" ")
    return theme in cat.match(parts, lang) and not any(
        theme in cat.match([p], lang) for p in parts)
