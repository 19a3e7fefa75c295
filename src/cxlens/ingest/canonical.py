"""Canonical values: currencies (ISO 4217), countries (ISO 3166 alpha-2), and the status
and channel vocabularies, so that Stripe's ``gbp`` / ``Paid`` and Shopify's ``GBP`` /
``paid`` are stored as one value each.

The currency list and the default vocabularies are shipped with the package (nothing is
fetched at run time). A workspace may extend or change the vocabularies with its own
``vocabulary.yml`` next to its warehouse file (docs/mapping.md, "Canonical values").
Everything here becomes SQL expressions: no Python runs per row.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import phonenumbers
import yaml

from cxlens import safe_yaml
from cxlens.errors import InputError

VOCABULARY_FILE = "vocabulary.yml"
VOCABULARY_FIELDS = ("status", "channel")
# Placeholders exports write for "no value" (HubSpot's ``null``, ``N/A``): an empty value,
# not a bad one, in the fields that are checked (phone, e-mail, country, currency, ids).
NULL_WORDS = ("null", "n/a", "na", "none", "nan", "-", "--", "#n/a")


@cache
def currencies() -> frozenset[str]:
    text = (resources.files("cxlens.ingest") / "values" / "iso4217.txt").read_text("utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#")
                     for w in line.split())


@cache
def countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes: the regions phonenumbers knows, plus a few without phones."""
    return frozenset(phonenumbers.SUPPORTED_REGIONS) | {"AQ", "BV", "GS", "HM", "PN", "TF",
                                                        "UM"}


def calling_codes() -> dict[str, str]:
    return {r: str(phonenumbers.country_code_for_region(r))
            for r in phonenumbers.SUPPORTED_REGIONS}


# Per-row tests against a set of constants are written as one regular expression or
# ``list_contains``, never ``x IN (a, b, c, …)``: DuckDB rewrites an IN list of more than a
# few constants into a join, which costs more and loses the file's row order that the
# loader's line numbers rely on (``load._number_lines``).
_NULL_RX = "(?i)" + "|".join(re.escape(w) for w in NULL_WORDS)


def not_null_word(raw: str) -> str:
    """``raw``, or NULL when it is a placeholder for no value."""
    return f"CASE WHEN regexp_full_match({raw}, '{_NULL_RX}') THEN NULL ELSE {raw} END"


def _code_expr(raw: str, codes: frozenset[str]) -> str:
    """``raw`` upper-cased when it is one of ``codes``, else NULL. The codes are one RE2
    alternation (a DFA: 0.1 µs a value where a 180-item list costs 1 µs), and a value
    already in upper case skips the upper/trim."""
    rx = "|".join(sorted(codes))
    up = f"upper(trim({raw}))"
    return (f"CASE WHEN regexp_full_match({raw}, '{rx}') THEN {raw} "
            f"WHEN regexp_full_match({up}, '{rx}') THEN {up} END")


def currency_expr(raw: str) -> str:
    """Upper-cased and checked against ISO 4217; NULL (a warning) when not a code."""
    return _code_expr(raw, currencies())


def country_expr(raw: str) -> str:
    """Upper-cased and checked against ISO 3166 alpha-2; NULL (a warning) otherwise."""
    return _code_expr(raw, countries())


def vocabulary_expr(raw: str, vocab: dict[str, str]) -> str:
    """The vocabulary's word for the value (matched case-insensitively), else the value
    lower-cased."""
    low = f"lower(trim({raw}))"
    if not vocab:
        return low
    keys = list(vocab)
    looked_up = (f"coalesce(map_extract_value(MAP {{{', '.join(_pair(k, vocab[k]) for k in keys)}}}"
                 f", {low}), {low})")
    # Values already canonical (most rows of most exports, and every preset's constant)
    # pass with one comparison: the lookup costs 0.5 µs a value, this 0.01 µs.
    same = sorted({v for v in vocab.values()} - {k for k, v in vocab.items() if k != v})
    if not same:
        return looked_up
    return (f"CASE WHEN list_contains([{', '.join(_quote(v) for v in same)}], {raw}) "
            f"THEN {raw} ELSE {looked_up} END")


def _quote(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def _pair(k: str, v: str) -> str:
    return f"{_quote(k)}: {_quote(v)}"


def _shipped() -> dict[str, dict[str, str]]:
    text = (resources.files("cxlens.ingest") / "values" / VOCABULARY_FILE).read_text("utf-8")
    return _parse(yaml.safe_load(text), "the shipped vocabulary")


def _parse(data: object, origin: str) -> dict[str, dict[str, str]]:
    if data is None:
        return {}
    if not isinstance(data, dict) or any(
            k not in VOCABULARY_FIELDS or not isinstance(v, dict | None) for k, v in data.items()):
        raise InputError("a vocabulary must map status: and channel: to dictionaries of "
                         "value: canonical value", file=origin,
                         hint=f"see docs/mapping.md; fields: {', '.join(VOCABULARY_FIELDS)}")
    return {f: {str(a).strip().casefold(): str(b) for a, b in (words or {}).items()}
            for f, words in data.items()}


def workspace_of(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The folder of the warehouse file ``con`` has open (None for an in-memory one)."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = "
                       "current_database()").fetchall()
    return Path(rows[0][0]).parent if rows and rows[0][0] else None


def vocabulary(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """The shipped vocabularies, extended by the workspace's ``vocabulary.yml`` if any."""
    out = _shipped()
    ws = workspace_of(con)
    path = ws / VOCABULARY_FILE if ws else None
    if path is not None and path.is_file():
        try:
            data = safe_yaml.load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(f"the vocabulary is not valid YAML: {exc}", file=str(path),
                             hint="fix the YAML syntax") from None
        for f, words in _parse(data, str(path)).items():
            out[f] = {**out.get(f, {}), **words}
    return out
