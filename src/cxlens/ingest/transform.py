"""Compile a mapping into one SQL SELECT that types, normalises and validates every row.

The result has, per row: the canonical fields (typed), the lineage columns ``_key`` (the
record's key, NULL when the record is identified by its content), ``_hash`` (the MD5 of the
content as a 128-bit number: 16 bytes instead of 32 hex characters on every stored row),
``_idkey`` and ``_extra`` (the values of the unmapped columns), ``_errors``: a list of
``(column, value, reason)`` structs, empty when the row is valid, and ``_warnings`` in the
same form: optional values that were invalid and set empty (a phone, an e-mail, a country,
a currency, a non-key optional number or date). A row is quarantined only for its errors —
a required field or the key that fails; a warning keeps the record (issue 9). Each check is a small
function returning a SQL expression, so adding a rule means adding a function, not editing
a loop over rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import phonenumbers
from rapidfuzz import process

from cxlens.errors import InputError
from cxlens.ingest import canonical, formats, report_rows
from cxlens.ingest.mapping import Mapping, Rule, wildcard
from cxlens.schema import IDENTITY_TYPES, METRIC_SCALES, Field, kind
from cxlens.sources.readers import Staged

# Tried when the date parser of :mod:`cxlens.ingest.formats` does not read most values.
TS_FORMATS = (
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z",
    "%d.%m.%Y klo %H.%M",
)


@dataclass
class Compiled:
    sql: str
    fields: list[str]
    notes: list[str]
    extra_columns: list[str]  # the names of the values in ``_extra``, in order
    key_fields: list[str] = dataclasses.field(default_factory=list)  # that make ``_key``
    warns: bool = False  # whether any row can have ``_warnings``


def lit(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def resolve_column(rule: Rule, columns: list[str], field: str, origin: str) -> str:
    """The staged column a rule names: exact, then case-insensitive; else a clear error."""
    assert rule.column is not None
    if rule.column in columns:
        return rule.column
    lower = {c.strip().lower(): c for c in columns}
    if rule.column.strip().lower() in lower:
        return lower[rule.column.strip().lower()]
    rx = wildcard(rule.column)
    found = [c for c in columns if rx is not None and rx.fullmatch(c.strip())]
    if found:
        return found[0]
    best = process.extractOne(rule.column, columns) if columns else None
    closest = f"; the closest header is {best[0]!r}" if best and best[1] >= 50 else ""
    raise InputError(
        f"column {rule.column!r} (for field {field}) is not in the file{closest}",
        file=origin, line=1, column=rule.column,
        hint="check the export, the delimiter, or fix the mapping "
             f"(header: {', '.join(columns[:12])}{' …' if len(columns) > 12 else ''})",
    )


def raw_expr(rule: Rule, column: str | None, trim: bool = True) -> str:
    """The source value as text; trimmed only where a conversion or a key needs it."""
    rx = wildcard(rule.column or "")
    if rule.value is not None:
        base = lit(rule.value)
    elif rule.format == "header" and rx is not None and column is not None:
        # The value is in the header itself: the currency of "Amount spent (SEK)".
        found = rx.fullmatch(column.strip())
        base = lit(found.group(1).strip() if found else None)
    elif trim:
        base = f"nullif(trim({ident(column)}), '')"
    else:
        base = f"nullif({ident(column)}, '')"
    if rule.map:
        cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in rule.map.items())
        base = f"(CASE {base} {cases} ELSE {base} END)"
    return base


# ------------------------------------------------------------------------ conversions


def _sniff_ts(con: duckdb.DuckDBPyConnection, sample: str, raw: str,
              country: str | None = None) -> formats.DateFormat:
    """The column's date reading: the parser of :mod:`cxlens.ingest.formats` when it reads
    most values, else the strptime formats that parse most of the sample."""
    found = formats.decide_date(formats.date_stats(con, sample, raw), country=country)
    if found is not None:
        return found
    tests = {"iso": f"CASE WHEN regexp_matches({raw}, '^[0-9]{{4}}-') THEN "
                    f"try_cast({raw} AS TIMESTAMPTZ) END"}  # as ts_expr reads it
    tests.update({f: f"try_strptime({raw}, {lit(f)})" for f in TS_FORMATS})
    epoch = "'[0-9]{10}|[0-9]{13}|[0-9]{16}'"
    tests["epoch"] = f"CASE WHEN regexp_full_match({raw}, {epoch}) THEN 1 END"
    sel = ", ".join(f"count({e})" for e in tests.values())
    counts = con.execute(
        f"SELECT count({raw}), {sel} FROM {sample}"
    ).fetchall()[0]
    total, hits = counts[0], dict(zip(tests, counts[1:], strict=True))
    if total == 0:
        return formats.DateFormat(("iso",))
    ranked = sorted((h, -i, f) for i, (f, h) in enumerate(hits.items()) if h > 0)
    chosen = [f for _, _, f in reversed(ranked)]
    return formats.DateFormat(tuple(chosen[:3] or ["iso"]))


def ts_expr(raw: str, fmts: list[str]) -> str:
    parts = []
    for f in fmts:
        if f == "iso":  # a four-digit year first: DuckDB reads 24-10-01 as the year 24
            parts.append(f"CASE WHEN regexp_matches({raw}, '^[0-9]{{4}}-') THEN "
                         f"try_cast({raw} AS TIMESTAMPTZ)::TIMESTAMP END")
        elif f in formats.DATE_FIRST:
            parts.append(formats.parsed_expr(raw, formats.DATE_FIRST[f]))
        elif f == "epoch":
            parts.append(
                f"CASE length({raw}) WHEN 10 THEN to_timestamp(try_cast({raw} AS BIGINT))"
                f" WHEN 13 THEN epoch_ms(try_cast({raw} AS BIGINT))::TIMESTAMPTZ"
                f" WHEN 16 THEN make_timestamp(try_cast({raw} AS BIGINT))::TIMESTAMPTZ"
                " END::TIMESTAMP"
            )
        elif f == "epoch_s":
            parts.append(f"to_timestamp(try_cast({raw} AS DOUBLE))::TIMESTAMP")
        elif f == "epoch_ms":
            parts.append(f"epoch_ms(try_cast({raw} AS BIGINT))")
        elif f == "epoch_us":
            parts.append(f"make_timestamp(try_cast({raw} AS BIGINT))")
        elif "%z" in f or "%Z" in f:
            parts.append(f"try_strptime({raw}, {lit(f)})::TIMESTAMPTZ::TIMESTAMP")
        elif "%Y" in f:  # a two-digit year read as %y (00-69: 20xx), never as the year 24
            parts.append(f"CASE WHEN regexp_matches({raw}, '[0-9]{{4}}') THEN "
                         f"try_strptime({raw}, {lit(f)}) ELSE "
                         f"try_strptime({raw}, {lit(f.replace('%Y', '%y'))}) END::TIMESTAMP")
        else:
            parts.append(f"try_strptime({raw}, {lit(f)})::TIMESTAMP")
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def number_format(con: duckdb.DuckDBPyConnection, sample: str, raw: str, rule: Rule, f: Field,
                  notes: list[str] | None = None) -> formats.NumberFormat:
    """The rule's number format when it says both separators, else the one its column's
    values show (with what the rule says taken into account)."""
    if (rule.decimal and rule.thousands) or not rule.column:
        return formats.decide_number(formats.NumberStats(), integer=f.type == "integer",
                                     decimal=rule.decimal or ".", thousands=rule.thousands)
    found = formats.decide_number(formats.number_stats(con, sample, raw),
                                  integer=f.type == "integer", decimal=rule.decimal,
                                  thousands=rule.thousands)
    if notes is not None:
        notes.append(f"{f.name}: {found.describe()}")
    return found


def email_expr(raw: str) -> str:
    low = f"lower({raw})"
    return f"CASE WHEN regexp_full_match({low}, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') THEN {low} END"


def phone_expr(raw: str, country: str, row_country: str | None = None) -> str:
    """E.164 from the forms exports write: ``+358 40 …``, ``00358 …``, a national number
    with its trunk 0 (``040 123 4567``), or a North American one without it
    (``(407) 261-8908``). A national number is read with the row's own country (the mapped
    ``country`` column, ``row_country``) when it has one, else the mapping's ``country``."""
    default = str(phonenumbers.country_code_for_region(country) or 358)
    cc = f"'{default}'"
    if row_country is not None:
        codes = ", ".join(f"'{r}': '{c}'" for r, c in sorted(canonical.calling_codes().items()))
        cc = f"coalesce(map_extract_value(MAP {{{codes}}}, {row_country}), '{default}')"
    p = f"regexp_replace({raw}, '[\\s\\-().\\x{{00a0}}/]', '', 'g')"
    e164 = (
        f"CASE WHEN {p} LIKE '+%' THEN {p} WHEN {p} LIKE '00%' THEN '+' || substr({p}, 3) "
        f"WHEN {cc} = '1' AND length({p}) = 10 AND {p} NOT LIKE '0%' THEN '+1' || {p} "
        f"WHEN {cc} = '1' AND length({p}) = 11 AND {p} LIKE '1%' THEN '+' || {p} "
        f"WHEN {p} LIKE '0%' THEN '+' || {cc} || substr({p}, 2) "
        f"WHEN starts_with({p}, {cc}) AND length({p}) > 9 THEN '+' || {p} END"
    )
    return f"CASE WHEN regexp_full_match({e164}, '\\+[1-9][0-9]{{6,14}}') THEN {e164} END"


def typed_expr(f: Field, raw: str, rule: Rule, m: Mapping, con: duckdb.DuckDBPyConnection,
               sample: str, notes: list[str], row_country: str | None = None,
               vocabulary: dict[str, dict[str, str]] | None = None) -> str:
    if f.type in ("timestamp", "date"):
        fmts = [x.strip() for x in rule.format.split("|")] if rule.format else None
        if fmts is None and rule.column:
            found = _sniff_ts(con, sample, raw, m.country if m.country_set else None)
            fmts = list(found.formats)
            notes.append(f"{f.name}: dates read as {found.describe()}")
        e = ts_expr(raw, fmts or ["iso"])
        return f"({e})::DATE" if f.type == "date" else e
    if f.type in ("decimal", "integer"):
        fmt = number_format(con, sample, raw, rule, f, notes)
        return formats.number_expr(raw, fmt, "DECIMAL(18,4)" if f.type == "decimal"
                                   else "BIGINT")
    if f.name == "email":
        return email_expr(raw)
    if f.name == "phone":
        return phone_expr(raw, m.country, row_country)
    if f.name in ("metric", "language"):
        return f"lower({raw})"
    if f.name == "country":
        return canonical.country_expr(raw)
    if f.name == "currency":
        return canonical.currency_expr(raw)
    if f.name in canonical.VOCABULARY_FIELDS and vocabulary is not None:
        return canonical.vocabulary_expr(raw, vocabulary.get(f.name, {}))
    return raw


@dataclass
class Formats:
    """The number and date reading of every mapped number and date column, decided once per
    file before loading: shown in the plan, stored with the batch (the mapping it stores
    says them), and asked about when a column is ambiguous."""

    mapping: Mapping  # the mapping with decimal:/thousands:/format: filled in
    chosen: list[str]  # "impressions ('Impr.'): thousands ',' decimal '.'"
    unsure: list[str]  # the ambiguous columns, as questions


def detect_formats(con: duckdb.DuckDBPyConnection, m: Mapping, staged: Staged,
                   origin: str) -> Formats:
    """Decide each number and date column's format from the staged sample (one aggregate
    query a column); the rules are in :mod:`cxlens.ingest.formats`."""
    k = kind(m.kind)
    rules = dict(m.columns)
    chosen: list[str] = []
    unsure: list[str] = []
    cols = {fname: resolve_column(rule, staged.columns, fname, origin)  # the first missing
            for fname, rule in m.columns.items() if rule.column}  # one is named, in order
    for fname, rule in m.columns.items():
        f = k.get(fname)
        if not rule.column or f.type not in ("timestamp", "date", "decimal", "integer"):
            continue
        col = cols[fname]
        raw = formats.no_placeholder(raw_expr(rule, col))
        where = f"{fname} ({col!r})"
        if f.type in ("decimal", "integer"):
            fmt = number_format(con, staged.sample, raw, rule, f)
            rules[fname] = dataclasses.replace(rule, decimal=fmt.decimal,
                                               thousands=fmt.thousands)
            given = " (as the mapping says)" if rule.decimal and rule.thousands else ""
            chosen.append(f"{where}: {fmt.describe()}{given}")
            if fmt.ambiguous:
                unsure.append(f"{where}: values like {fmt.sample!r} could have a thousands "
                              "separator or a decimal one; say which with thousands: and "
                              f"decimal: (e.g. thousands: {fmt.thousands!r} and decimal: "
                              f"{fmt.decimal!r})")
        elif rule.format:
            chosen.append(f"{where}: dates read as {rule.format} (as the mapping says)")
        else:
            found = _sniff_ts(con, staged.sample, raw, m.country if m.country_set else None)
            rules[fname] = dataclasses.replace(rule, format=" | ".join(found.formats))
            chosen.append(f"{where}: dates read as {found.describe()}")
            if found.ambiguous:
                unsure.append(f"{where}: {found.sample!r} could be day-first or month-first "
                              "(every day and month is 12 or less); say format: day-first or "
                              "format: month-first, or the mapping's country:")
    return Formats(dataclasses.replace(m, columns=rules), chosen, unsure)


# ------------------------------------------------------------------------ checks


def check_conversion(f: Field, raw: str, typed: str) -> str:
    what = {"timestamp": "not a date/time", "date": "not a date", "decimal": "not a number",
            "integer": "not a whole number", "text": "not valid"}[f.type]
    if f.name == "email":
        what = "not an e-mail address"
    elif f.name == "phone":
        what = "not a phone number"
    elif f.name == "country":
        what = "not a country code (ISO 3166, e.g. FI; add a map: for names)"
    elif f.name == "currency":
        what = "not a currency code (ISO 4217, e.g. EUR)"
    return f"CASE WHEN {raw} IS NOT NULL AND {typed} IS NULL THEN {lit(what)} END"


def check_nul(column: str) -> str:
    """A value holding U+0000 (a NUL byte: a damaged export, or binary data in a text
    column) is refused, in any column, mapped or not: the row goes to the quarantine,
    with the NUL shown as ␀ so that the value can be displayed."""
    col = ident(column)
    return (f"CASE WHEN contains({col}, chr(0)) THEN {{'column': {lit(column)}, "
            f"'value': replace({col}, chr(0), '\u2400'), 'reason': 'contains a NUL byte "
            f"(U+0000): a damaged export or binary data; export the file again'}} END")


def check_required(f: Field, raw: str) -> str:
    return f"CASE WHEN {raw} IS NULL THEN 'missing (required)' END"


def check_score(typed: dict[str, str]) -> str:
    metric, score = typed.get("metric", "NULL"), typed.get("score", "NULL")
    lo = "CASE " + " ".join(f"WHEN {metric} = {lit(k)} THEN {v[0]}" for k, v in
                            METRIC_SCALES.items()) + " END"
    hi_default = "CASE " + " ".join(f"WHEN {metric} = {lit(k)} THEN {v[1]}" for k, v in
                                    METRIC_SCALES.items()) + " END"
    hi = f"coalesce({typed['scale_max']}, {hi_default})" if "scale_max" in typed else hi_default
    return (
        f"CASE WHEN {metric} IS NOT NULL AND {hi} IS NULL THEN "
        f"'unknown metric (use ' || {lit(', '.join(METRIC_SCALES))} || ')' "
        f"WHEN {score} IS NOT NULL AND ({score} < {lo} OR {score} > {hi}) THEN "
        f"'score ' || {score}::DOUBLE || ' is outside the ' || {lo} || '–' || {hi} || "
        f"' scale of ' || {metric} END"
    )


@contextmanager
def _reading_sample(origin: str) -> Iterator[None]:
    """Around a step that reads the file's sample (format sniffing). A file DuckDB's reader
    gives up on (a CSV whose quoting breaks its parser even with ``ignore_errors``, found
    by fuzzing) is an input error here, before the batch starts."""
    try:
        yield
    except duckdb.InvalidInputException as exc:
        raise InputError(
            f"cannot read the file: {str(exc).strip().splitlines()[0]}", file=origin,
            hint="check the quoting of the values (a quote inside a value must be doubled) "
                 "and that the file is text; export it again") from None


def compile_mapping(con: duckdb.DuckDBPyConnection, m: Mapping, staged: Staged,
                    origin: str) -> Compiled:
    """One SELECT over ``staged.source``; source columns are renamed ``_cN`` inside it so
    that they never clash with canonical names, and kept only as ``_raw`` JSON for the
    rows that fail validation."""
    columns = staged.columns
    k = kind(m.kind)
    notes: list[str] = []
    raws: dict[str, str] = {}
    hashed: dict[str, str] = {}  # the values the content hash covers, as before issue 9
    sources: dict[str, str | None] = {}
    for fname, rule in m.columns.items():
        col = resolve_column(rule, columns, fname, origin) if rule.column else None
        f = k.get(fname)
        plain = f.type == "text" and not f.is_identity and fname not in (m.key or k.key)
        raws[fname] = raw_expr(rule, col, trim=not plain)
        if col and (f.is_identity or fname in ("country", "currency")):
            raws[fname] = canonical.not_null_word(raws[fname])
        elif col and f.type in ("timestamp", "date", "decimal", "integer"):
            hashed[fname] = raws[fname]
            raws[fname] = formats.no_placeholder(raws[fname])  # "--", "n/a": no value
        sources[fname] = col
    missing = [r for r in k.required if r not in raws]
    if missing:
        best = process.extractOne(missing[0], columns) if columns else None
        closest = f"; the closest header is {best[0]!r}" if best and best[1] >= 50 else ""
        raise InputError(
            f"required field(s) {', '.join(missing)} of kind {k.name} are not mapped{closest}",
            file=origin, line=1,
            hint="add them to the mapping, or check that this file really is "
                 f"{k.name} (header: {', '.join(columns[:12])})",
        )
    if "source" not in raws and m.source:
        raws["source"] = lit(m.source)
    for fname, default in k.defaults.items():
        raws[fname] = f"coalesce({raws[fname]}, {lit(default)})" if fname in raws else lit(default)
    # Each value read from a column is computed once a row, in a projection below the one
    # that types and checks it: the checks name it several times, and a repeated CASE
    # (placeholders, "null" words) is not shared by DuckDB.
    layer = {}
    for i, fname in enumerate(list(raws)):
        if sources.get(fname):
            layer[f"__raw{i}"] = raws[fname]
            raws[fname] = ident(f"__raw{i}")
    below = ", ".join(f"{e} AS {ident(a)}" for a, e in layer.items())
    source = f"(SELECT *, {below} FROM {staged.source})" if layer else staged.source
    sample = f"(SELECT *, {below} FROM {staged.sample})" if layer else staged.sample
    used = {c for c in sources.values() if c}
    rest = [c for c in columns if c not in used]
    # Unmapped columns are kept as a list of values; their names go to the batch once.
    extra = rest if "properties" not in raws and m.properties == "rest" else []

    typed: dict[str, str] = {}
    checks: list[tuple[str, str, str]] = []  # (field, raw, reason expr): quarantine the row
    warns: list[tuple[str, str, str]] = []  # the same for optional values set empty
    vocabulary = canonical.vocabulary(con)
    for f in sorted(k.fields, key=lambda f: f.name != "country"):  # country first: phone
        if f.name not in raws:
            continue
        raw = raws[f.name]
        rule = m.columns.get(f.name, Rule(value="x"))
        with _reading_sample(origin):
            typed[f.name] = typed_expr(f, raw, rule, m, con, sample, notes,
                                       typed.get("country") if sources.get("country")
                                       else None, vocabulary)
        if f.required:
            checks.append((f.name, raw, check_required(f, raw)))
        if typed[f.name] != raw and f.name not in canonical.VOCABULARY_FIELDS:
            # A required field or the key decides whether the record can be stored; any
            # other value that fails is set empty and the record kept, with a warning.
            keyed = f.name in (m.key or k.key) and k.name != "customers"
            (checks if f.required or keyed else warns).append(
                (f.name, raw, check_conversion(f, raw, typed[f.name])))
    typed = {f.name: typed[f.name] for f in k.fields if f.name in typed}  # schema order
    if k.name == "feedback":
        checks.append(("score", raws.get("score", "NULL"), check_score(typed)))
    ids = [t for t in IDENTITY_TYPES if t in typed]
    idkey = ("coalesce(" + ", ".join(f"{lit(t + ':')} || {typed[t]}" for t in ids) + ")"
             if ids else "NULL")
    if k.name == "customers":
        checks.append(("crm_id", "NULL", f"CASE WHEN {idkey} IS NULL THEN "
                       "'no identifier (crm_id, email, loyalty_id or phone)' END"))
    # chr(30) marks a missing value, so that values shifting between columns still differ.
    content = "concat_ws(chr(31), " + ", ".join(
        [f"coalesce({hashed.get(n, raws[n])}, chr(30))" for n in sorted(raws)]
        + [f"coalesce({ident(c)}, chr(30))" for c in extra]) + ")"
    key_fields = list(m.key) if m.key else [n for n in k.key if n in typed]
    if k.name == "customers":
        key = idkey
    elif key_fields:
        key = "concat_ws('|', " + ", ".join(f"{typed[n]}::VARCHAR" for n in key_fields) + ")"
        key = f"nullif({key}, '')"
    else:
        key = "NULL::VARCHAR"
    def problems(found: list[tuple[str, str, str]], first: list[str]) -> str:
        return "list_filter([" + ", ".join(
            first + [f"CASE WHEN ({reason}) IS NOT NULL THEN {{'column': "
                     f"{lit(sources.get(fn) or fn)}, 'value': {raw}, 'reason': {reason}}} END"
                     for fn, raw, reason in found]) + "], lambda x: x IS NOT NULL)"

    errors = problems(checks, [check_nul(c) for c in columns])
    warnings = f"nullif({problems(warns, [])}, [])" if warns else "NULL"
    select = ", ".join(f"{e} AS {ident(n)}" for n, e in typed.items())
    extra_list = "[" + ", ".join(ident(c) for c in extra) + "]" if extra else "NULL::VARCHAR[]"
    inner = (
        f"SELECT _line, {select}, {key} AS _key, md5_number({content}) AS _hash, "
        f"{idkey} AS _idkey, {extra_list} AS _extra, "
        f"{errors} AS _errors, {warnings} AS _warnings, "
        f"{', '.join(f'{ident(c)} AS _c{i}' for i, c in enumerate(columns))}"
        f" FROM {source}"
    )
    raw_json = "to_json({" + ", ".join(f"{lit(c)}: _c{i}" for i, c in enumerate(columns)) + "})"
    # Totals, notes and footers of a report export: left out, with why (``_skipped``).
    marked = f"SELECT *, {report_rows.skip_expr(columns, '_errors')} AS _skip FROM ({inner})"
    sql = (
        f"SELECT * EXCLUDE ({', '.join(f'_c{i}' for i in range(len(columns)))}, _skip), "
        f"CASE WHEN len(_errors) > 0 OR _skip IS NOT NULL THEN {raw_json}::VARCHAR END AS _raw, "
        f"CASE WHEN _skip IS NOT NULL THEN [{{'column': NULL::VARCHAR, 'value': "
        f"{report_rows.first_value_expr(columns)}, 'reason': _skip}}] END AS _skipped "
        f"FROM ({marked})"
    )
    return Compiled(sql=sql, fields=list(typed), notes=notes, extra_columns=extra,
                    key_fields=key_fields if k.name != "customers" else list(IDENTITY_TYPES),
                    warns=bool(warns))
