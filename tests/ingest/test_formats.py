"""Number and date formats decided from the whole column (issue 9, items 1 and 2).

The decisions (:func:`decide_number`, :func:`decide_date`) are checked on the stats DuckDB
computes for small columns, the parsers on the values they read; the property tests write a
random number or date in a random locale's style and read it back.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlens.ingest import formats
from cxlens.ingest.formats import (
    DATE_FIRST,
    NumberFormat,
    date_stats,
    decide_date,
    decide_number,
    number_expr,
    number_stats,
    parsed_expr,
)
from helpers import FUZZ_EXAMPLES


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def column(con: duckdb.DuckDBPyConnection, values: list[str | None]) -> None:
    con.execute("CREATE OR REPLACE TABLE s AS SELECT unnest(?::VARCHAR[]) AS v", [values])


def read_numbers(con: duckdb.DuckDBPyConnection, values: list[str | None], *,
                 integer: bool = False, **rule: str) -> tuple[NumberFormat, list[object]]:
    column(con, values)
    raw = formats.no_placeholder("v")
    fmt = decide_number(number_stats(con, "s", raw), integer=integer, **rule)
    got = con.execute(f"SELECT {number_expr(raw, fmt, 'DECIMAL(18,4)')} FROM s").fetchall()
    return fmt, [None if g[0] is None else Decimal(g[0]).normalize() for g in got]


def D(text: str) -> Decimal:
    return Decimal(text).normalize()


# --------------------------------------------------------------------------- numbers


def test_google_ads_counts_are_thousands_not_a_decimal_comma(con) -> None:
    fmt, got = read_numbers(con, ["795,836", "9,265", "12"], integer=True)
    assert (fmt.thousands, fmt.decimal, fmt.ambiguous) == (",", ".", False)
    assert got == [D("795836"), D("9265"), D("12")]


@pytest.mark.parametrize(("values", "thousands", "decimal", "want"), [
    (["1.234,56", "12,5"], ".", ",", ["1234.56", "12.5"]),
    (["1,234.56", "0.25"], ",", ".", ["1234.56", "0.25"]),
    (["1,234,567", "12"], ",", ".", ["1234567", "12"]),
    (["1.234.567", "3,5"], ".", ",", ["1234567", "3.5"]),
    (["12 258,90", "8 812,66"], " ", ",", ["12258.9", "8812.66"]),
    (["12\u00a0258,90", "1\u202f000,00"], " ", ",", ["12258.9", "1000"]),
    (["1'234.50", "-12.5"], "'", ".", ["1234.5", "-12.5"]),
    (["€ 1.234,00", "SEK 12,50", "25 kr", "3%"], ".", ",", ["1234", "12.5", "25", "3"]),
])
def test_separators_are_decided_from_the_column(con, values, thousands, decimal, want) -> None:
    fmt, got = read_numbers(con, values)
    assert (fmt.thousands, fmt.decimal) == (thousands, decimal)
    assert got == [D(w) for w in want]


@pytest.mark.parametrize("placeholder", ["--", "-", "null", "N/A", "n/a", "—", "", None])
def test_placeholders_are_no_value(con, placeholder) -> None:
    _, got = read_numbers(con, ["1,50", placeholder])
    assert got == [D("1.5"), None]


def test_an_amount_column_of_only_1_234_values_is_ambiguous(con) -> None:
    fmt, _ = read_numbers(con, ["1,234", "5,678"])
    assert fmt.ambiguous and fmt.sample in ("1,234", "5,678")


def test_the_mapping_answers_the_ambiguity(con) -> None:
    fmt, got = read_numbers(con, ["1,234", "5,678"], decimal=",")
    assert not fmt.ambiguous and got == [D("1.234"), D("5.678")]
    fmt, got = read_numbers(con, ["1,234", "5,678"], thousands=",")
    assert not fmt.ambiguous and got == [D("1234"), D("5678")]
    fmt, got = read_numbers(con, ["1234", "5,6"], thousands="none", decimal=",")
    assert got == [D("1234"), D("5.6")]


def test_a_value_that_does_not_fit_the_column_format_is_not_a_number(con) -> None:
    # 1,5 in a column of 1,234.50 values is not silently read as 15.
    _, got = read_numbers(con, ["1,234.50", "2,345.00", "1,5"])
    assert got == [D("1234.5"), D("2345"), None]


# ----------------------------------------------------------------------------- dates


def read_dates(con: duckdb.DuckDBPyConnection, values: list[str], country: str | None = None,
               ) -> tuple[formats.DateFormat, list[dt.datetime | None]]:
    column(con, values)
    found = decide_date(date_stats(con, "s", "v"), country=country)
    assert found is not None
    order = DATE_FIRST.get(found.formats[-1])
    if order is None:
        return found, []
    got = con.execute(f"SELECT {parsed_expr('v', order)} FROM s").fetchall()
    return found, [g[0] for g in got]


def test_two_digit_years_are_this_century_never_the_year_24(con) -> None:
    found, got = read_dates(con, ["9/11/24 10:32", "9/13/24 1:02 PM"])
    assert found.formats == ("month-first",)
    assert got == [dt.datetime(2024, 9, 11, 10, 32), dt.datetime(2024, 9, 13, 13, 2)]


@pytest.mark.parametrize(("yy", "year"), [("00", 2000), ("24", 2024), ("69", 2069),
                                          ("70", 1970), ("99", 1999)])
def test_the_two_digit_year_pivot_is_posix(con, yy, year) -> None:
    _, got = read_dates(con, [f"13.10.{yy}"])
    assert got == [dt.datetime(year, 10, 13)]


def test_day_first_when_a_first_part_is_above_12(con) -> None:
    found, got = read_dates(con, ["13/01/2024", "02/03/2024"])
    assert found.formats == ("day-first",)
    assert got[1] == dt.datetime(2024, 3, 2)


def test_dotted_dates_are_day_first(con) -> None:
    found, got = read_dates(con, ["1.10.24", "2.10.24"])
    assert found.formats == ("day-first",) and not found.ambiguous
    assert got == [dt.datetime(2024, 10, 1), dt.datetime(2024, 10, 2)]


def test_year_first_with_two_digit_years(con) -> None:
    found, got = read_dates(con, ["24-10-01", "24-10-13"])
    assert found.formats == ("year-first",)
    assert got == [dt.datetime(2024, 10, 1), dt.datetime(2024, 10, 13)]


def test_slashed_dates_with_every_part_below_13_are_asked_about(con) -> None:
    found, _ = read_dates(con, ["03/04/2024", "05/06/2024"])
    assert found.ambiguous and found.sample in ("03/04/2024", "05/06/2024")


@pytest.mark.parametrize(("country", "want"), [("FI", dt.datetime(2024, 4, 3)),
                                                ("SE", dt.datetime(2024, 4, 3)),
                                                ("US", dt.datetime(2024, 3, 4))])
def test_a_stated_country_settles_the_order(con, country, want) -> None:
    found, got = read_dates(con, ["03/04/2024"], country=country)
    assert not found.ambiguous and got == [want]


@pytest.mark.parametrize(("text", "want"), [
    ("1. tammikuuta 2024", dt.datetime(2024, 1, 1)),
    ("12 marraskuuta 2023", dt.datetime(2023, 11, 12)),
    ("5 Jan 2024", dt.datetime(2024, 1, 5)),
    ("Oct 3, 2024", dt.datetime(2024, 10, 3)),
    ("October 3rd, 2024 4:05 PM", dt.datetime(2024, 10, 3, 16, 5)),
    ("5. maj 2024", dt.datetime(2024, 5, 5)),
    ("3 okt. 2024", dt.datetime(2024, 10, 3)),
    ("14 mars 2024", dt.datetime(2024, 3, 14)),
    ("2 helmi 2024", dt.datetime(2024, 2, 2)),
    ("1.3.2024 klo 10.15", dt.datetime(2024, 3, 1, 10, 15)),
])
def test_month_names_in_english_finnish_and_swedish(con, text, want) -> None:
    _, got = read_dates(con, [text])
    assert got == [want]


def test_an_impossible_date_is_no_date(con) -> None:
    _, got = read_dates(con, ["31.2.2024", "13.1.2024"])
    assert got == [None, dt.datetime(2024, 1, 13)]


def test_iso_columns_stay_iso(con) -> None:
    column(con, ["2024-10-01", "2024-10-02 10:00:00"])
    assert decide_date(date_stats(con, "s", "v")).formats == ("iso",)


# ------------------------------------------------------------------ property tests

FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
STYLES = {  # thousands, decimal: how locales write 1234567.89
    "en": (",", "."), "fi": ("\u00a0", ","), "fi-narrow": ("\u202f", ","), "de": (".", ","),
    "ch": ("'", "."), "sv": (" ", ","), "plain": ("", "."),
}


def write_number(value: Decimal, thousands: str, decimal: str) -> str:
    sign = "-" if value < 0 else ""
    whole, _, frac = f"{abs(value):.2f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + thousands.join(groups) + decimal + frac


@pytest.mark.fuzz
@FUZZ
@given(values=st.lists(st.decimals(min_value=-10**9, max_value=10**9, places=2,
                                   allow_nan=False, allow_infinity=False),
                       min_size=1, max_size=8),
       style=st.sampled_from(sorted(STYLES)))
def test_numbers_written_in_a_locale_style_read_back(con, values, style) -> None:
    thousands, decimal = STYLES[style]
    texts = [write_number(v, thousands, decimal) for v in values]
    # Every value has two decimals, so the column shows its decimal separator.
    _, got = read_numbers(con, texts)
    assert got == [v.normalize() for v in values], texts


DATE_STYLES = {  # how a locale writes a date; the order the parser needs
    "fi": ("{d}.{m}.{Y}", None), "fi-short": ("{d}.{m}.{y}", None),
    "us": ("{m}/{d}/{Y}", "US"), "us-short": ("{m}/{d}/{y}", "US"),
    "uk": ("{dd}/{mm}/{Y}", "GB"), "iso": ("{Y}-{mm}-{dd}", None),
    "sv-text": ("{d} {mon_sv} {Y}", None), "fi-text": ("{d}. {mon_fi} {Y}", None),
    "en-text": ("{mon_en} {d}, {Y}", None),
}
MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "sv": ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december"],
    "fi": ["tammikuuta", "helmikuuta", "maaliskuuta", "huhtikuuta", "toukokuuta", "kesäkuuta",
           "heinäkuuta", "elokuuta", "syyskuuta", "lokakuuta", "marraskuuta", "joulukuuta"],
}


def write_date(d: dt.date, style: str) -> str:
    return DATE_STYLES[style][0].format(
        d=d.day, m=d.month, dd=f"{d.day:02}", mm=f"{d.month:02}", Y=d.year,
        y=f"{d.year % 100:02}", mon_en=MONTHS["en"][d.month - 1],
        mon_sv=MONTHS["sv"][d.month - 1], mon_fi=MONTHS["fi"][d.month - 1])


@pytest.mark.fuzz
@FUZZ
@given(dates=st.lists(st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2069, 12, 31)),
                      min_size=1, max_size=8),
       style=st.sampled_from(sorted(DATE_STYLES)))
def test_dates_written_in_a_locale_style_read_back(con, dates, style) -> None:
    texts = [write_date(d, style) for d in dates]
    column(con, texts)
    found = decide_date(date_stats(con, "s", "v"), country=DATE_STYLES[style][1])
    assert found is not None and not found.ambiguous, (texts, found)
    from cxlens.ingest.transform import ts_expr
    got = con.execute(f"SELECT {ts_expr('v', list(found.formats))} FROM s").fetchall()
    assert [g[0].date() for g in got] == dates, (texts, found)


@pytest.mark.fuzz
@FUZZ
@given(values=st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=8),
       style=st.sampled_from(sorted(STYLES)))
def test_counts_written_in_a_locale_style_read_back(con, values, style) -> None:
    thousands, _ = STYLES[style]
    texts = [write_number(Decimal(v), thousands, "").removesuffix("00") for v in values]
    # A count has no decimals: 1.234 and 1,234 are thousands in an integer field.
    _, got = read_numbers(con, texts, integer=True)
    assert got == [Decimal(v).normalize() for v in values], texts
