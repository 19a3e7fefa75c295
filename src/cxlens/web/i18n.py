"""UI text in English, Finnish and Swedish: one catalogue per language, ``t(key)`` in templates.

The texts live in ``web/locales/<code>.json`` (package data), one flat object per language
mapping a key such as ``"nav.account"`` to its text, read once when this module is imported.
This module keeps only the logic. The language comes from ``?lang=xx`` (remembered in the
``cxlens_lang`` cookie), else the cookie, else the browser's Accept-Language, else English.

Add a key to all three files at once: ``tests/web/test_i18n.py`` fails when one language
lacks a key, when the ``{names}`` to fill in a key differ between languages, when a text is
empty, or when a file is not in its canonical form (keys sorted, two-space indent, UTF-8
characters as they are) — rewrite it with
``json.dumps(texts, ensure_ascii=False, indent=2, sort_keys=True)`` plus a newline.
Placeholders use ``str.format`` names: ``t("signin.throttled", minutes=3)``.

Why JSON and not YAML: the parser is in the standard library; a JSON string is always a
string (YAML would read an unquoted ``No``, ``On`` or ``1.0`` as a boolean or a number, and
a translator should not have to know that); and sorted keys with one key a line keep diffs
to one line per changed text, while the dotted prefixes (``nav.``, ``exp.``, ``val.``) keep
each page's texts together.
"""

from __future__ import annotations

import json
from importlib import resources

from cxlens.web import formats

LANGUAGES: dict[str, str] = {"en": "English", "fi": "Suomi", "sv": "Svenska"}
DEFAULT = "en"
COOKIE = "cxlens_lang"
LOCALES = "locales"


def load(code: str) -> dict[str, str]:
    """The texts of language ``code`` from its file of package data."""
    source = resources.files("cxlens.web").joinpath(LOCALES, f"{code}.json")
    texts = json.loads(source.read_text(encoding="utf-8"))
    if not isinstance(texts, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in texts.items()):
        raise ValueError(f"{LOCALES}/{code}.json must be one object of strings")
    return texts


CATALOGUE: dict[str, dict[str, str]] = {code: load(code) for code in LANGUAGES}
# The three catalogues by name, as before the texts moved to package data.
EN, FI, SV = CATALOGUE["en"], CATALOGUE["fi"], CATALOGUE["sv"]


def translate(lang: str, key: str, **values: object) -> str:
    """The text of ``key`` in ``lang`` (English, then the key itself, when missing)."""
    text = CATALOGUE.get(lang, EN).get(key) or EN.get(key) or key
    return text.format(**values) if values else text


def event_label(lang: str, event_type: str) -> str:
    """An event type as people say it ("added to cart" for GA4's ``add_to_cart``); a type
    without a label reads with spaces for its underscores."""
    key = f"event.{event_type}"
    if key in EN:
        return translate(lang, key)
    return event_type.replace("_", " ")


# A survey answer's metric in a customer's timeline, as every language writes it.
_METRICS = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "enps": "eNPS"}


def timeline_label(lang: str, what: str) -> str:
    """What a row of a customer's timeline (``analytics.profile``) says happened: an event
    type by its label, the profile's own two words for an order ("order #1005") and a
    CRM record ("customer record") in the reader's language, and an answer's metric and
    score as the reader writes numbers ("nps 2.0" becomes "NPS 2", "ces 5.5" "CES 5,5" in
    Finnish)."""
    if what == "customer record":
        return translate(lang, "event.customer_record")
    first, _, rest = what.partition(" ")
    if first == "order" and rest:
        return translate(lang, "event.order", id=rest)
    if (first in _METRICS or first == "rating") and rest:
        try:
            score = float(rest)
        except ValueError:
            return what
        name = _METRICS.get(first) or translate(lang, "fu.score")  # a star rating: "score 4"
        return f"{name} {formats.num(score, lang, 0 if score.is_integer() else 1)}"
    return event_label(lang, what)


def identity_label(lang: str, identity_type: str) -> str:
    """A type of identifier (``phone``, ``crm_id``) by the label of its field; a type
    without one as it is."""
    key = f"field.{identity_type}"
    return translate(lang, key) if key in EN else identity_type


def kind_label(lang: str, kind: str) -> str:
    """A kind of data (``orders``, ``spend``) by its name in the reader's language; a kind
    without a label as it is."""
    key = f"kind.{kind}"
    return translate(lang, key) if key in EN else kind


def value_label(lang: str, value: object) -> str:
    """A common touchpoint or channel value in the reader's language ("purchase" → "oston
    jälkeen"); any other value as the data has it."""
    text = str(value)
    key = f"value.{text.lower()}"
    return translate(lang, key) if key in EN else text


def pick(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT
