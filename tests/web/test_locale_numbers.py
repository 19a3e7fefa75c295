"""Numbers and money in the reader's language (web/formats.py)."""

from __future__ import annotations

import pytest

from cxlens.web.formats import money, num

NBSP = "\u00a0"


@pytest.mark.parametrize(("lang", "want"), [("fi", f"8{NBSP}943"), ("sv", f"8{NBSP}943"),
                                            ("en", "8,943")])
def test_thousands_are_grouped_as_the_language_writes_them(lang: str, want: str) -> None:
    assert num(8943, lang) == want


def test_decimals_signs_and_missing_values() -> None:
    assert num(0.68, "fi", 2) == "0,68" and num(0.68, "en", 2) == "0.68"
    assert num(-5.64, "sv", 1, sign=True) == "-5,6" and num(5.64, "en", 1, sign=True) == "+5.6"
    assert num(0, "en", sign=True) == "+0"
    assert num(None, "fi") == "–"


def test_money_carries_its_currency_in_the_language_s_order() -> None:
    assert money(2199086.4, "fi") == f"2{NBSP}199{NBSP}086{NBSP}€"
    assert money(2199086.4, "en") == "€2,199,086"
    assert money(2747.35, "sv", "SEK", digits=2) == f"2{NBSP}747,35{NBSP}kr"
    assert money(97, "en", sign=True) == "+€97" and money(-97, "fi") == f"-97{NBSP}€"
    assert money(None, "sv") == "–"


def test_common_touchpoints_read_in_the_readers_language() -> None:
    from cxlens.web.i18n import value_label

    assert value_label("fi", "purchase") == "oston jälkeen"
    assert value_label("sv", "Store") == "butik"
    assert value_label("en", "FI-TRE") == "FI-TRE"  # a store code stays as the data has it
