"""How a column writes its numbers and dates, decided from the column, not its first value.

Issue 9: Google Ads' ``"795,836"`` impressions were read with a decimal comma (796), and
``9/11/24`` became the year 0024. Here each number or date column is looked at as a whole,
in one aggregate query over the staged sample (the file's first rows, see
:data:`cxlens.sources.readers.SAMPLE_ROWS`), and the reading is decided by rules that a
person can check:

Numbers (:func:`decide_number`): spaces (also U+00A0 and U+202F) and ``'`` between digits
are always thousands separators; currency symbols and codes and ``%`` are stripped; the
placeholders in :data:`PLACEHOLDERS` are no value. For ``,`` and ``.``: a value with both
settles the column (``1.234,56``); a separator followed by three digits used more than once
(``1,234,567``) is a thousands separator; any other use of one (``12,5``, ``0.25``) is the
decimal. A column whose every separated value is like ``1,234`` is ambiguous: a count
(an integer field) reads it as thousands, an amount is asked about (exit 4) unless the
mapping says ``decimal:`` or ``thousands:``.

Dates (:func:`decide_date`): ISO dates are read as such; ``D.M.Y``, ``M/D/Y``, ``Y-M-D``
with one- or two-digit parts, two-digit years and month names (en, fi, sv) by the parser of
:func:`date_expr`. The day/month order comes from the whole column: a first part above 12
means day-first, a second part above 12 month-first. When every part is 12 or less, a
dotted date is day-first (nobody writes M.D.Y), else the mapping's stated country settles it
(US month-first, any other day-first), else the column is asked about. Two-digit years
00–69 are 2000–2069 and 70–99 are 1970–1999, as POSIX ``strptime`` ``%y`` reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

# Values that mean "no value" in a number or date column: NULL, never an error.
PLACEHOLDERS = ("--", "-", "—", "–", "null", "n/a", "na", "none", "nan", "#n/a")
_PLACEHOLDER_RX = "(?i)" + "|".join(re.escape(p) for p in PLACEHOLDERS)
# Stripped from numbers: currency symbols and codes, %, and the characters that are only ever
# thousands separators (spaces, U+00A0, U+202F, the apostrophe of 1'234.50).
NUMBER_JUNK = (r"[\s\x{00a0}\x{202f}\x{2009}''€$£¥%]|EUR|SEK|NOK|DKK|USD|GBP|CHF|ISK"
               r"|kr\.?|zł")
_SPACE_GROUPS = r"[0-9][\s\x{00a0}\x{202f}\x{2009}][0-9]{3}"
DATE_FIRST = {"day-first": "dmy", "month-first": "mdy", "year-first": "ymd",
              "dmy": "dmy", "mdy": "mdy", "ymd": "ymd"}
MONTH_FIRST_COUNTRIES = frozenset({"US", "PH", "FM", "MH", "PW"})


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def no_placeholder(raw: str) -> str:
    """``raw``, or NULL when it is a placeholder such as ``--`` or ``n/a``. Placeholders are
    at most 4 bytes, and ``strlen`` is the stored length: most values skip the match."""
    return (f"CASE WHEN strlen({raw}) <= 4 AND regexp_full_match({raw}, "
            f"{lit(_PLACEHOLDER_RX)}) THEN NULL ELSE {raw} END")


# --------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class NumberFormat:
    decimal: str  # "," or "."
    thousands: str  # ",", ".", "'", " " or "none"
    ambiguous: bool = False  # every separated value was like 1,234: a guess, to be asked
    sample: str | None = None  # a value that shows the ambiguity

    def describe(self) -> str:
        th = "none" if self.thousands == "none" else repr(self.thousands)
        return f"thousands {th} decimal {self.decimal!r}"


@dataclass(frozen=True)
class NumberStats:
    """What a column's values show about their separators (counts of values)."""

    both_dot_last: int = 0  # 1,234.56
    both_comma_last: int = 0  # 1.234,56
    multi_comma: int = 0  # 1,234,567
    multi_dot: int = 0  # 1.234.567
    one_comma3: int = 0  # 1,234 (thousands or decimal?)
    one_dot3: int = 0  # 1.234
    comma_dec: int = 0  # 12,5 or 0,25
    dot_dec: int = 0  # 12.5
    space_groups: int = 0  # 12 345 (any space)
    apostrophe: int = 0  # 12'345
    example: str | None = None  # a 1,234-like value


_CLEAN_SIGNS = r"^[+\-−]"


def _clean(raw: str) -> str:
    return f"regexp_replace(regexp_replace({raw}, '{NUMBER_JUNK}', '', 'g'), '{_CLEAN_SIGNS}', '')"


def number_stats(con: duckdb.DuckDBPyConnection, sample: str, raw: str) -> NumberStats:
    """One aggregate query over the sample: how many values show each separator use."""
    v = _clean(raw)
    tests = {
        "both_dot_last": r"[0-9]{1,3}(,[0-9]{3})+\.[0-9]*",
        "both_comma_last": r"[0-9]{1,3}(\.[0-9]{3})+,[0-9]*",
        "multi_comma": r"[0-9]{1,3}(,[0-9]{3}){2,}",
        "multi_dot": r"[0-9]{1,3}(\.[0-9]{3}){2,}",
        "one_comma3": r"[0-9]{1,3},[0-9]{3}",
        "one_dot3": r"[0-9]{1,3}\.[0-9]{3}",
        "comma_dec": r"[0-9]*,[0-9]+",
        "dot_dec": r"[0-9]*\.[0-9]+",
    }
    sel = [f"count(*) FILTER (WHERE regexp_full_match(v, {lit(rx)}))" for rx in tests.values()]
    sel += [f"count(*) FILTER (WHERE regexp_matches(r, {lit(_SPACE_GROUPS)}))",
            "count(*) FILTER (WHERE regexp_matches(r, '[0-9]''[0-9]{3}'))",
            "any_value(r) FILTER (WHERE regexp_full_match(v, '[0-9]{1,3}[,.][0-9]{3}'))"]
    row = con.execute(
        f"SELECT {', '.join(sel)} FROM (SELECT {raw} AS r, {v} AS v FROM {sample}) "
        "WHERE v IS NOT NULL AND v <> ''"
    ).fetchall()[0]
    n = dict(zip(tests, row[:len(tests)], strict=True))
    # A 1,234-like value also matches the decimal tests: count those apart.
    n["comma_dec"] -= n["one_comma3"]
    n["dot_dec"] -= n["one_dot3"]
    return NumberStats(**n, space_groups=row[-3], apostrophe=row[-2], example=row[-1])


def decide_number(s: NumberStats, *, integer: bool, decimal: str | None = None,
                  thousands: str | None = None) -> NumberFormat:
    """The column's number format from its stats and what the mapping says (see module doc)."""
    spaced = " " if s.space_groups else "'" if s.apostrophe else None
    if decimal or thousands:
        dec = decimal or ("," if thousands == "." else ".")
        th = thousands or ("." if dec == "," else ",")
        return NumberFormat(dec, th)
    comma = s.both_comma_last + s.comma_dec + s.multi_dot
    dot = s.both_dot_last + s.dot_dec + s.multi_comma
    if comma or dot:
        dec = "," if comma > dot else "."
        other = "." if dec == "," else ","
        grouped = (s.both_comma_last + s.multi_dot if dec == ","
                   else s.both_dot_last + s.multi_comma)
        if not grouped and (s.one_dot3 if dec == "," else s.one_comma3):
            grouped = 1
        return NumberFormat(dec, other if grouped else (spaced or other))
    if s.one_comma3 or s.one_dot3:
        sep = "," if s.one_comma3 >= s.one_dot3 else "."
        other = "." if sep == "," else ","
        if integer:  # a count has no decimals: 9,265 clicks
            return NumberFormat(other, sep)
        return NumberFormat(other, sep, ambiguous=True, sample=s.example)
    return NumberFormat(".", spaced or ",")


def number_expr(raw: str, fmt: NumberFormat, sql_type: str) -> str:
    """``raw`` as a number read in ``fmt``; NULL when it does not fit the format (an error,
    not a silent misreading: 12,5 in a column of 1,234.50 values)."""
    v = f"replace(regexp_replace({raw}, '{NUMBER_JUNK}', '', 'g'), '−', '-')"
    d = "\\." if fmt.decimal == "." else ","
    th = fmt.thousands if fmt.thousands in (",", ".") else None
    sep = "\\." if th == "." else ","
    grouped = f"[0-9]{{1,3}}(?:{sep}[0-9]{{3}})+|" if th else ""
    pattern = f"[+-]?(?:(?:{grouped}[0-9]+)(?:{d}[0-9]*)?|{d}[0-9]+)"
    if fmt.decimal == ".":
        pattern += r"|[+-]?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]+"
    text = v
    if th:
        text = f"replace({text}, '{th}', '')"
    if fmt.decimal == ",":
        text = f"replace({text}, ',', '.')"
    return (f"CASE WHEN regexp_full_match({v}, {lit(pattern)}) "
            f"THEN try_cast({text} AS {sql_type}) END")


# ----------------------------------------------------------------------------- dates

_TIME = (r"(?:(?:\s+|\s*,\s*|T)(?:klo\s+)?([0-9]{1,2})[:.]([0-9]{2})(?:[:.]([0-9]{2})"
         r"(?:[.,][0-9]+)?)?\s*(?:([AaPp])\.?[Mm]\.?)?)?\s*")
NUMERIC_RX = r"^\s*([0-9]{1,4})([./-])([0-9]{1,2})[./-]([0-9]{1,4})" + _TIME + "$"
DMY_TEXT_RX = (r"^\s*([0-9]{1,2})\.?[\s/-]*(\pL{3,})\.?[\s,/-]+([0-9]{4}|[0-9]{2})"
               + _TIME + "$")
MDY_TEXT_RX = (r"^\s*(\pL{3,})\.?\s+([0-9]{1,2})(?:st|nd|rd|th)?\.?,?\s+([0-9]{4}|[0-9]{2})"
               + _TIME + "$")
_NUM_PARTS = ["a", "sep", "b", "c", "h", "mi", "s", "ap"]
_TXT_PARTS = ["d", "mon", "y", "h", "mi", "s", "ap"]
_TXT_MDY_PARTS = ["mon", "d", "y", "h", "mi", "s", "ap"]
# Month names and abbreviations in English, Finnish and Swedish, by their first letters
# (``tammikuuta``, ``maj``, ``okt.``, ``October``); "marr" (marraskuu) is tried first.
MONTH_PREFIXES = {
    "jan": 1, "tam": 1, "feb": 2, "hel": 2, "mar": 3, "maa": 3, "apr": 4, "huh": 4,
    "may": 5, "maj": 5, "tou": 5, "jun": 6, "kes": 6, "jul": 7, "hei": 7, "aug": 8,
    "elo": 8, "sep": 9, "syy": 9, "oct": 10, "okt": 10, "lok": 10, "nov": 11,
    "dec": 12, "jou": 12,
}
ISO_RX = r"^\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"


def month_expr(name: str) -> str:
    low = f"lower({name})"
    pairs = ", ".join(f"{lit(k)}: {v}" for k, v in MONTH_PREFIXES.items())
    return (f"CASE WHEN starts_with({low}, 'marr') THEN 11 "
            f"ELSE map_extract_value(MAP {{{pairs}}}, left({low}, 3)) END")


def _year(text: str) -> str:
    """A year of 2 or 4 digits; 00–69 → 2000s, 70–99 → 1900s (as POSIX %y)."""
    y = f"try_cast({text} AS INTEGER)"
    return (f"CASE length({text}) WHEN 4 THEN {y} WHEN 2 THEN "
            f"(CASE WHEN {y} < 70 THEN 2000 + {y} ELSE 1900 + {y} END) END")


def _stamp(y: str, m: str, d: str, p: str) -> str:
    """A TIMESTAMP from parts; NULL for an impossible date (31.2.) or time."""
    h = f"coalesce(try_cast(nullif({p}.h, '') AS INTEGER), 0)"
    h = (f"CASE upper({p}.ap) WHEN 'P' THEN {h} % 12 + 12 WHEN 'A' THEN {h} % 12 "
         f"ELSE {h} END")
    mi = f"coalesce(try_cast(nullif({p}.mi, '') AS INTEGER), 0)"
    s = f"coalesce(try_cast(nullif({p}.s, '') AS INTEGER), 0)"
    return f"try(make_timestamp({y}, {m}, {d}, {h}, {mi}, {s}))"


def parsed_expr(raw: str, order: str) -> str:
    """``raw`` read by the date parser in ``order`` (dmy, mdy or ymd): numeric dates with
    one- or two-digit parts and two- or four-digit years, and dates with month names. The
    same ``regexp_extract`` appears several times; DuckDB computes it once a row."""
    n = f"(regexp_extract({raw}, {lit(NUMERIC_RX)}, {_NUM_PARTS}))"
    a, b, c = f"{n}.a", f"{n}.b", f"{n}.c"
    if order == "dmy":
        y, m, d = _year(c), f"try_cast({b} AS INTEGER)", f"try_cast({a} AS INTEGER)"
    elif order == "mdy":
        y, m, d = _year(c), f"try_cast({a} AS INTEGER)", f"try_cast({b} AS INTEGER)"
    else:
        y, m, d = _year(a), f"try_cast({b} AS INTEGER)", f"try_cast({c} AS INTEGER)"
    t = f"(regexp_extract({raw}, {lit(DMY_TEXT_RX)}, {_TXT_PARTS}))"
    u = f"(regexp_extract({raw}, {lit(MDY_TEXT_RX)}, {_TXT_MDY_PARTS}))"

    def text(p: str) -> str:
        return _stamp(_year(f"{p}.y"), month_expr(f"{p}.mon"), f"try_cast({p}.d AS INTEGER)", p)

    return (f"CASE WHEN {a} <> '' THEN {_stamp(y, m, d, n)} "
            f"WHEN {t}.mon <> '' THEN {text(t)} WHEN {u}.mon <> '' THEN {text(u)} END")


@dataclass(frozen=True)
class DateStats:
    values: int = 0
    iso: int = 0  # YYYY-MM-DD… that DuckDB reads as a timestamp
    numeric: int = 0  # matched the numeric parser
    year_first4: int = 0  # numeric with a four-digit first part
    max_first: int = 0  # the largest first part of the rest
    max_second: int = 0
    max_third: int = 0  # of two-digit third parts (a YY-MM-DD column has days here)
    short_year_last: int = 0  # third part of 2 digits
    dotted: int = 0  # separator "."
    dashed: int = 0  # separator "-"
    text: int = 0  # a month name the parser knows
    distinct_first: int = 0  # distinct first and third parts (a year takes few values)
    distinct_third: int = 0
    example: str | None = None  # a value whose order is ambiguous


def date_stats(con: duckdb.DuckDBPyConnection, sample: str, raw: str) -> DateStats:
    num = f"regexp_extract(r, {lit(NUMERIC_RX)}, {_NUM_PARTS})"
    dmy_mon = f"regexp_extract(r, {lit(DMY_TEXT_RX)}, {_TXT_PARTS}).mon"
    mdy_mon = f"regexp_extract(r, {lit(MDY_TEXT_RX)}, {_TXT_MDY_PARTS}).mon"
    txt = f"coalesce({month_expr(dmy_mon)}, {month_expr(mdy_mon)})"
    rest = "n.a <> '' AND length(n.a) <= 2"
    row = con.execute(f"""
        SELECT count(*),
          count(*) FILTER (WHERE regexp_matches(r, {lit(ISO_RX)})
                           AND try_cast(r AS TIMESTAMPTZ) IS NOT NULL),
          count(*) FILTER (WHERE n.a <> ''),
          count(*) FILTER (WHERE length(n.a) = 4),
          coalesce(max(try_cast(n.a AS INTEGER)) FILTER (WHERE {rest}), 0),
          coalesce(max(try_cast(n.b AS INTEGER)) FILTER (WHERE {rest}), 0),
          coalesce(max(try_cast(n.c AS INTEGER)) FILTER (WHERE {rest} AND length(n.c) = 2), 0),
          count(*) FILTER (WHERE {rest} AND length(n.c) = 2),
          count(*) FILTER (WHERE {rest} AND n.sep = '.'),
          count(*) FILTER (WHERE {rest} AND n.sep = '-'),
          count(*) FILTER (WHERE n.a = '' AND {txt} IS NOT NULL),
          count(DISTINCT n.a) FILTER (WHERE {rest}), count(DISTINCT n.c) FILTER (WHERE {rest}),
          any_value(r) FILTER (WHERE {rest})
        FROM (SELECT r, {num} AS n FROM (SELECT {raw} AS r FROM {sample}) WHERE r IS NOT NULL)
    """).fetchall()[0]
    return DateStats(*row)


@dataclass(frozen=True)
class DateFormat:
    formats: tuple[str, ...]  # for ts_expr: "iso", "day-first", … or strptime formats
    ambiguous: bool = False
    sample: str | None = None
    why: str = ""

    def describe(self) -> str:
        return " | ".join(self.formats) + (f" ({self.why})" if self.why else "")


def decide_date(s: DateStats, *, country: str | None = None) -> DateFormat | None:
    """The column's date reading (see module doc); None when the parser does not fit most
    values (then the strptime formats are tried)."""
    if s.values == 0:
        return DateFormat(("iso",))
    if s.iso == s.values:
        return DateFormat(("iso",))
    parsed = s.numeric + s.text
    if parsed + s.iso < 0.5 * s.values or parsed == 0:
        return None
    rest = s.numeric - s.year_first4
    if s.numeric == 0:  # only month names: the parser reads them in any order
        order, why = "day-first", "month names"
    elif rest == 0:
        order, why = "year-first", ""
    elif s.max_first > 31 or (s.dashed == rest and s.short_year_last == rest
                               and s.max_third <= 31 and s.max_second <= 12
                               and s.distinct_first <= s.distinct_third):
        order, why = "year-first", "two-digit year first (YY-MM-DD)"
    elif s.max_first > 12 and s.max_second <= 12:
        order, why = "day-first", "a first part above 12"
    elif s.max_second > 12 and s.max_first <= 12:
        order, why = "month-first", "a second part above 12"
    elif s.max_first > 12:  # both above 12: mixed orders; the parts that fit are read
        order, why = "day-first", "day- and month-first values mixed"
    elif s.dotted == rest:
        order, why = "day-first", "dotted dates are day-first"
    elif country:
        first = "month-first" if country.upper() in MONTH_FIRST_COUNTRIES else "day-first"
        order, why = first, f"country {country.upper()}"
    else:
        return DateFormat(("day-first",), ambiguous=True, sample=s.example,
                          why="every day and month is 12 or less")
    formats = (order,) if not s.iso else ("iso", order)
    return DateFormat(formats, why=why)
