"""Rows of a report export that are not data: totals, subtotals, report notes and footers,
and SurveyMonkey's second header line. They are left out — never loaded — and counted as
``skipped`` with their lines (issue 9: Google Ads' ``Total: Account`` rows were loaded as
campaigns and its spend counted three times).

A row is left out when

- its first column is a total word (:data:`TOTAL_WORDS`, alone or followed by ``:``, ``-``
  or ``(``: ``Total: Account``, ``Yhteensä``, ``Summa totalt``), or
- it would fail validation anyway (a required field or the key missing or unreadable) and
  any of its columns is such a total word, or its first value is a report note
  (:data:`NOTE_RX`: ``Report generated…``, ``Raportti luotu…``, ``©…``), or one of its
  values is an answer-type label of a survey export's second header line (``Response``,
  ``Open-Ended Response``), or it has no value at all (a line of delimiters);
- a line after the last data row that could not be split into the header's columns and
  has one field, or any such line that is a total or a note (a footer).

Title lines above the header are found by the reader (``sniff_title_lines``). Everything
here is one SQL expression over the staged row plus a look at the few rejected lines, so
a file without such rows costs one regular-expression match of its first column a row.
"""

from __future__ import annotations

import re
from dataclasses import replace

import duckdb

from cxlens.sources.readers import Rejected, Staged

# ``_superseded_by`` of a row left out: hidden at once and deleted after COMMIT as an
# invalid row is (``load.INVALID``), but counted as skipped, never quarantined.
SKIPPED = -1

TOTAL_WORDS = ("grand total", "sub-total", "subtotal", "totals", "total", "summa totalt",
               "totalt", "summa", "yhteensä", "yhteensa", "kaikki yhteensä", "välisumma",
               "delsumma", "kokonaissumma")
TOTAL_RX = ("(?i)\\s*(?:" + "|".join(re.escape(w) for w in TOTAL_WORDS)
            + ")\\s*(?:[:(\\-–].*)?\\s*")
NOTE_RX = ("(?i)^\\s*(?:report generated|generated (?:on|at|by)|created (?:on|at|by)"
           "|exported (?:on|at|by)|downloaded (?:on|at)|raportti luotu|raportti on luotu"
           "|luotu |rapport (?:skapad|genererad)|skapad |©|\\(c\\) ?[0-9]{4}|copyright"
           "|all rights reserved|kaikki oikeudet)")
SECOND_HEADER = ("Response", "Open-Ended Response", "Other (please specify)")
_TOTAL = re.compile(TOTAL_RX.replace("(?i)", ""), re.IGNORECASE)
_NOTE = re.compile(NOTE_RX.replace("(?i)", ""), re.IGNORECASE)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _values(columns: list[str]) -> str:
    return "[" + ", ".join(f"_c{i}" for i in range(len(columns))) + "]"


def skip_expr(columns: list[str], errors: str) -> str:
    """SQL: why the staged row (its columns named ``_c0``… ``_cN``) is left out, or NULL.
    ``errors`` is the row's list of validation errors. A valid row costs one match of its
    first column; the checks of all columns run on invalid rows only, as list lambdas (one
    compiled expression each, however wide the file)."""
    total = _lit(TOTAL_RX)
    labels = ", ".join(_lit(s) for s in SECOND_HEADER)
    first = first_value_expr(columns)
    return (
        f"CASE WHEN regexp_full_match(_c0, {total}) THEN 'total row' "
        f"WHEN len({errors}) > 0 THEN CASE "
        f"WHEN {first} IS NULL THEN 'empty line' "
        f"WHEN len(list_filter({_values(columns)}, lambda x: regexp_full_match(x, {total})))"
        f" > 0 THEN 'total row' "
        f"WHEN regexp_matches({first}, {_lit(NOTE_RX)}) THEN 'report note' "
        f"WHEN list_has_any({_values(columns)}, [{labels}]) THEN 'second header line' END END"
    )


def first_value_expr(columns: list[str]) -> str:
    """SQL: the row's first non-empty value (shown for a skipped row)."""
    return f"list_filter({_values(columns)}, lambda x: trim(x) <> '')[1]"


def footer_reason(r: Rejected, last_line: int, delimiter: str | None) -> str | None:
    """Why a line that could not be split into columns is a footer or total, or None when
    it is a broken data line (quarantined)."""
    text = r.raw.strip().strip('"').strip()
    if not text:
        return "empty line"
    first = text.split(delimiter or ",")[0].strip().strip('"') if delimiter else text
    if _TOTAL.fullmatch(first):
        return "total row"
    if _NOTE.match(first) or _NOTE.match(text):
        return "report note"
    fewer = r.reason.startswith("too few columns")
    if r.line > last_line and fewer and (delimiter is None or delimiter not in r.raw):
        return "footer"
    return None


def take_footers(con: duckdb.DuckDBPyConnection, table: str, this: str,
                  staged: Staged) -> list[Rejected]:
    """Take the lines that could not be split into columns but are footers or totals of a
    report (:func:`footer_reason`) out of ``staged.rejected``; return them with
    their reason. Runs only when some line was rejected."""
    if not staged.rejected:
        return []
    last = con.execute(f"SELECT coalesce(max(_line), 0) FROM {table} WHERE {this} "
                       f"AND _superseded_by IS DISTINCT FROM {SKIPPED}").fetchall()[0][0]
    footers, kept = [], []
    for r in staged.rejected:
        why = footer_reason(r, int(last), staged.delimiter)
        if why:
            footers.append(replace(r, reason=why))
        else:
            kept.append(r)
    staged.rejected = kept
    return footers


def skipped_rows(con: duckdb.DuckDBPyConnection, table: str, this: str,
                  footers: list[Rejected], limit: int = 20) -> list[dict[str, object]]:
    """The first skipped rows and footer lines: line, why, and the first value."""
    rows = con.execute(
        f"SELECT _line, _errors[1].reason, _errors[1].value FROM {table} "
        f"WHERE {this} AND _superseded_by = {SKIPPED} ORDER BY _line LIMIT {limit}").fetchall()
    out = [{"line": int(a), "reason": b, "value": c} for a, b, c in rows]
    out += [{"line": r.line, "reason": r.reason, "value": r.raw.strip()[:80]} for r in footers]
    return sorted(out, key=lambda d: int(d["line"]))[:limit]  # type: ignore[arg-type]


def skipped_note(sample: list[dict[str, object]], total: int) -> str:
    lines = ", ".join(str(s["line"]) for s in sample[:10])
    more = " …" if total > len(sample[:10]) else ""
    kinds = sorted({str(s["reason"]) for s in sample})
    return (f"left out {total:,} row(s) that are not data ({', '.join(kinds)}): "
            f"line(s) {lines}{more}")
