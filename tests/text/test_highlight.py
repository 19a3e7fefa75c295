"""Highlighting a theme's words (text/highlight.py): the workspace's matching rule, word by
word, and keys of several words as one span — taxonomy phrases, discovered word pairs,
keyword rules and splits — Finnish inflections through lemmas; escaped first, marked after."""

from __future__ import annotations

import re
from itertools import pairwise

from cxlens.text.catalogue import Discovered, Edit, build
from cxlens.text.highlight import theme_spans
from cxlens.text.lemmas import lemmas
from cxlens.web.pages.comments import marked

RULE = Edit(1, "rule", "long_queue", {"keywords": ["pitkä jono", "lång kö"], "language": None,
                                      "label": "Long queue"})
PAIR = Discovered("d_wait", "wait", {"en": ("long wait",)}, {"en": ("long wait",)}, 5, 1.0,
                  {}, False)
SPLIT = Edit(2, "split", "delivery", {"new": "late_parcel", "keywords": ["myöhässä paketti",
                                                                         "kesti"],
                                      "language": "fi", "label": None})


def _marks(text: str, lang: str, theme: str, cat) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", str(marked(text, lang, theme, cat)))


def test_a_rule_of_several_words_is_one_span_in_a_nasty_comment() -> None:
    cat = build(edits=[RULE])
    text = ('<script>alert("x")</script> Pitkät jonot taas & pitkä oli jono, '
            '</td><mark>jono</mark> "pitkä" <b>jono</b>')
    assert "long_queue" in cat.match(lemmas(text, "fi"), "fi")
    out = str(marked(text, "fi", "long_queue", cat))
    assert out.startswith("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; ")
    # Inflected (pitkät jonot → pitkä jono) and across a stop-word (oli → olla), as match
    # reads them; "jono" alone is no key of the rule, and a tag between breaks the phrase.
    assert _marks(text, "fi", "long_queue", cat) == ["Pitkät jonot", "pitkä oli jono"]
    assert "&lt;/td&gt;&lt;mark&gt;jono&lt;/mark&gt;" in out and "<b>" not in out
    assert _marks("Lång kö vid kassan, igen en lång kö.", "sv", "long_queue", cat) == [
        "Lång kö", "lång kö"]


def test_a_word_of_the_phrase_that_alone_gives_the_theme_is_marked_alone() -> None:
    """The taxonomy's queue has the keyword jono: for queue, only jono is marked; for the
    rule's theme the whole phrase."""
    cat = build(edits=[RULE])
    assert _marks("Pitkä jono kassalla.", "fi", "queue", cat) == ["jono"]
    assert _marks("Pitkä jono kassalla.", "fi", "long_queue", cat) == ["Pitkä jono"]


def test_taxonomy_phrases_and_discovered_pairs_are_one_span() -> None:
    cat = build(discovered=[PAIR])
    text = "Good value for money, but the long wait at the till and a long, long wait"
    assert _marks(text, "en", "price", cat) == ["value for money"]
    assert _marks(text, "en", "d_wait", cat) == ["long wait", "long wait"]
    # Sold out: the phrase of availability, word after word only (the taxonomy's rule).
    assert _marks("It was sold out again", "en", "availability", cat) == ["sold out"]
    assert _marks("It was sold and then out", "en", "availability", cat) == []


def test_a_splits_keywords_mark_the_new_theme() -> None:
    cat = build(edits=[SPLIT])
    text = "Toimitus kesti viikon ja paketti oli myöhässä, myöhässä paketti."
    assert "late_parcel" in cat.match(lemmas(text, "fi"), "fi")
    assert _marks(text, "fi", "late_parcel", cat) == ["kesti", "myöhässä paketti"]


def test_spans_are_sorted_and_do_not_overlap() -> None:
    cat = build(edits=[RULE], discovered=[PAIR])
    text = "Pitkä jono, pitkä jono ja jono. " * 3
    spans = theme_spans(text, "fi", "long_queue", cat)
    assert spans == sorted(spans)
    assert all(a[1] < b[0] for a, b in pairwise(spans))
    assert [text[a:b] for a, b in spans] == ["Pitkä jono", "pitkä jono"] * 3
