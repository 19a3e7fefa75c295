"""Numbers, money and per cents as the reader's language writes them (Babel's CLDR data).

Finnish and Swedish write a decimal comma and group thousands with a no-break space
("8 943", "0,68", "2 199 086 €"); English writes "8,943" and "€2,199,086". Pages format
every number they show through these functions, bound to the request's language by
``templating.render`` (``num``, ``money``); tables and CSV downloads keep the plain
machine form (``charts.cell``) so that a spreadsheet reads them in any locale.
"""

from __future__ import annotations

from functools import cache

from babel import Locale
from babel.numbers import format_currency, format_decimal

from cxlens.analytics._money import CURRENCY

DASH = "–"


@cache
def _pattern(digits: int, sign: bool) -> str:
    body = "#,##0" + ("." + "0" * digits if digits else "")
    return f"+{body};-{body}" if sign else body


@cache
def _money_pattern(lang: str, digits: int) -> str:
    """The locale's currency pattern (symbol before or after, the space) with ``digits``."""
    pattern = Locale.parse(lang).currency_formats["standard"].pattern.split(";")[0]
    return pattern.replace(".00", "." + "0" * digits if digits else "")


def num(value: float | int | None, lang: str, digits: int = 0, sign: bool = False) -> str:
    """``value`` with ``digits`` decimals, grouped; ``sign`` writes + before a positive."""
    if value is None:
        return DASH
    return str(format_decimal(value, format=_pattern(digits, sign), locale=lang))


def money(value: float | int | None, lang: str, currency: str = CURRENCY,
          digits: int = 0, sign: bool = False) -> str:
    """An amount with its currency: "2 199 086 €", "€2,199,086", "2 747 kr"; ``sign``
    writes + before a positive difference."""
    if value is None:
        return DASH
    text = str(format_currency(value, currency, format=_money_pattern(lang, digits),
                               locale=lang, currency_digits=False))
    return "+" + text if sign and value > 0 else text
