"""The workspace's themes: the shipped taxonomy, the discovered themes and the user's edits.

Every report (volumes, trend, impact, comments) and the per-comment pass read the themes
from here, so a discovered theme or a user's merge counts everywhere a taxonomy theme does.
The catalogue is built from three sources, in this order:

1. the taxonomy (``text/taxonomy.yaml``, :mod:`cxlens.text.themes`);
2. the discovered themes stored in ``text_themes`` (:mod:`cxlens.text.discover`), each
   assigned by its keys — the lemmas, per language, that mostly occur in its comments;
3. the user's edits in ``text_theme_edits`` (:mod:`cxlens.text.edits`), applied one after
   the other in the order they were made: rename, merge, split, keyword rule.

A comment's themes are computed the same way: taxonomy match, discovered keys, then each
edit in order (a rule adds its theme when its keyword occurs; a merge replaces the merged
theme by the one it went into; a split moves the comments of a theme that contain the split
keywords to the new theme). The catalogue's ``digest`` changes with any of the three, and
the analysis version joins it, so the next ``cxlens text analyse`` re-assigns every comment.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from cxlens.errors import UserError
from cxlens.text.language import LANGUAGES
from cxlens.text.lemmas import lemma, stopwords, tokens
from cxlens.text.themes import match as taxonomy_match
from cxlens.text.themes import taxonomy
from cxlens.warehouse.engine import Engine

NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
"""Theme names go into SQL as constants (impact.py): lower-case letters, digits and _."""


@dataclass(frozen=True)
class Entry:
    """One theme as the reports show it."""

    theme: str
    label: str
    terms: dict[str, tuple[str, ...]]  # lang -> words, most telling first
    source: str  # taxonomy, discovered or user
    pinned: bool = False


@dataclass(frozen=True)
class Discovered:
    """A row of ``text_themes``."""

    theme: str
    label: str
    terms: dict[str, tuple[str, ...]]
    keys: dict[str, tuple[str, ...]]
    comments: int
    purity: float
    alignment: dict
    pinned: bool


@dataclass(frozen=True)
class Edit:
    """A row of ``text_theme_edits`` (active ones only)."""

    edit_id: int
    op: str
    theme: str
    args: dict


@dataclass(frozen=True)
class Catalogue:
    entries: tuple[Entry, ...]
    discovered: tuple[Discovered, ...] = ()
    edits: tuple[Edit, ...] = ()
    digest: str = ""
    _keys: dict = field(default_factory=dict, compare=False, repr=False)

    def names(self) -> list[str]:
        return [e.theme for e in self.entries]

    def get(self, name: str) -> Entry:
        for e in self.entries:
            if e.theme == name:
                return e
        raise UserError(f"no theme {name!r}",
                        hint=f"use one of: {', '.join(self.names())} "
                             "(`cxlens text themes` lists them)")

    def match(self, lemmas: Sequence[str], lang: str) -> list[str]:
        """The themes of a comment from its lemmas (stop-words kept), in catalogue order."""
        found = list(taxonomy_match(lemmas, lang))
        if lang not in LANGUAGES or not lemmas:
            return found
        stop = stopwords(lang)
        content = [x for x in lemmas if x not in stop]
        have = set(lemmas) | set(content)
        joined = f" {' '.join(lemmas)} "
        cjoined = f" {' '.join(content)} "

        def has(word: str) -> bool:
            if " " in word:
                return f" {word} " in joined or f" {word} " in cjoined
            return word in have

        for d in self.discovered:
            if any(has(k) for k in d.keys.get(lang, ())):
                found.append(d.theme)
        for e in self.edits:
            kws = self._keys.get((e.edit_id, lang), ())
            if e.op == "rule":
                if any(has(k) for k in kws):
                    found.append(e.theme)
            elif e.op == "merge":
                found = [e.args["into"] if t == e.theme else t for t in found]
            elif e.op == "split" and e.theme in found and any(has(k) for k in kws):
                found = [e.args["new"] if t == e.theme else t for t in found]
        order = {n: i for i, n in enumerate(self.names())}
        return sorted({t for t in found if t in order}, key=order.__getitem__)


    def phrases(self, lang: str) -> dict[str, bool]:
        """Every key of several words in ``lang`` (lemmas joined by spaces) → whether
        :meth:`match` also finds it with stop-words between its words: the taxonomy's
        phrases (word after word only), the discovered themes' word pairs, the keyword
        rules' and splits' phrases (what :mod:`cxlens.text.highlight` marks as one span)."""
        out = {p: False for t in taxonomy().themes for p in t.phrases.get(lang, ())}
        out |= {k: True for d in self.discovered for k in d.keys.get(lang, ()) if " " in k}
        out |= {k: True for e in self.edits for k in self._keys.get((e.edit_id, lang), ())
                if " " in k}
        return out

    def split_keys(self, theme: str, lang: str) -> tuple[str, ...]:
        """The keywords of the splits that made ``theme`` (they give it only to comments of
        the theme split from, so a keyword alone does not match it)."""
        return tuple(k for e in self.edits if e.op == "split" and e.args.get("new") == theme
                     for k in self._keys.get((e.edit_id, lang), ()))


def lemmatise(word: str, lang: str) -> str:
    """A keyword as the lemmas of its words, as comments are read."""
    return " ".join(lemma(w, lang) for w in tokens(word))


def _edit_keys(e: Edit, lang: str) -> tuple[str, ...]:
    """An edit's keywords in ``lang`` as lemmas and as written, lower-cased, as the taxonomy
    reads its own (simplemma may lemmatise a lone keyword differently from the same word in
    a sentence); an edit without a language: all three."""
    if e.args.get("language") not in (None, lang):
        return ()
    kws = e.args.get("keywords", ())
    both = [lemmatise(k, lang) for k in kws] + [" ".join(tokens(k)) for k in kws]
    return tuple(dict.fromkeys(k for k in both if k))


def _taxonomy_entries() -> list[Entry]:
    return [Entry(t.theme, t.label, dict(t.terms), "taxonomy") for t in taxonomy().themes]


def build(discovered: Sequence[Discovered] = (), edits: Sequence[Edit] = ()) -> Catalogue:
    """The catalogue from its parts (what :func:`load` reads; tests build one by hand)."""
    entries = _taxonomy_entries() + [
        Entry(d.theme, d.label, dict(d.terms), "discovered", d.pinned) for d in discovered]
    for e in edits:
        entries = _apply(entries, e)
    blob = json.dumps([taxonomy().digest,
                       [[d.theme, d.keys] for d in discovered],
                       [[e.edit_id, e.op, e.theme, e.args] for e in edits]],
                      sort_keys=True, ensure_ascii=False)
    keys = {(e.edit_id, lg): _edit_keys(e, lg) for e in edits for lg in LANGUAGES}
    return Catalogue(tuple(entries), tuple(discovered), tuple(edits),
                     hashlib.sha256(blob.encode()).hexdigest()[:12], keys)


def _apply(entries: list[Entry], e: Edit) -> list[Entry]:
    """One edit on the catalogue's entries; an edit whose theme is gone does nothing."""
    by = {x.theme: x for x in entries}
    if e.op == "rename" and e.theme in by:
        return [replace(x, label=e.args["label"]) if x.theme == e.theme else x
                for x in entries]
    if e.op == "merge" and e.theme in by and e.args["into"] in by:
        gone = by[e.theme]
        into = e.args["into"]
        out = []
        for x in entries:
            if x.theme == e.theme:
                continue
            if x.theme == into:
                terms = {lg: x.terms.get(lg, ()) + tuple(
                    w for w in gone.terms.get(lg, ()) if w not in x.terms.get(lg, ()))
                    for lg in LANGUAGES}
                x = replace(x, terms=terms)
            out.append(x)
        return out
    if e.op == "split" and e.theme in by and e.args["new"] not in by:
        terms = _keyword_terms(e)
        return [*entries, Entry(e.args["new"], e.args.get("label") or e.args["new"], terms, "user")]
    if e.op == "rule":
        terms = _keyword_terms(e)
        if e.theme in by:
            return [replace(x, terms={lg: x.terms.get(lg, ()) + tuple(
                w for w in terms[lg] if w not in x.terms.get(lg, ())) for lg in LANGUAGES})
                if x.theme == e.theme else x for x in entries]
        return [*entries, Entry(e.theme, e.args.get("label") or e.theme, terms, "user")]
    return entries


def _keyword_terms(e: Edit) -> dict[str, tuple[str, ...]]:
    lang = e.args.get("language")
    kws = tuple(e.args.get("keywords", ()))
    return {lg: kws if lang in (None, lg) else () for lg in LANGUAGES}


def read_discovered(engine: Engine) -> list[Discovered]:
    if "text_themes" not in engine.tables():
        return []
    rows = engine.query("SELECT * FROM text_themes ORDER BY theme").to_pylist()
    return [Discovered(r["theme"], r["label"],
                       {k: tuple(v) for k, v in json.loads(r["terms"]).items()},
                       {k: tuple(v) for k, v in json.loads(r["keys"]).items()},
                       int(r["comments"] or 0), float(r["purity"] or 0.0),
                       json.loads(r["alignment"] or "{}"), bool(r["pinned"]))
            for r in rows]


def read_edits(engine: Engine) -> list[Edit]:
    if "text_theme_edits" not in engine.tables():
        return []
    rows = engine.query("SELECT edit_id, op, theme, args FROM text_theme_edits "
                        "WHERE active ORDER BY edit_id").to_pylist()
    return [Edit(int(r["edit_id"]), r["op"], r["theme"], json.loads(r["args"])) for r in rows]


def load(engine: Engine) -> Catalogue:
    """The workspace's catalogue, read through ``engine``."""
    return build(read_discovered(engine), read_edits(engine))
