"""Money is summed in one currency: the reporting currency, other currencies converted at
the rates given.

Orders and spend keep the currency their export names (ISO 4217, upper-cased at ingest;
EUR when the export names none). An analytic that sums amounts sums them in its
``currency``; a row in another currency counts only when ``rates`` give that currency's
value in ``currency`` (one SEK = 0.087 EUR: ``{"SEK": 0.087}``). The conversion is SQL the
engine runs (:func:`amount_sql`), each row converted and rounded to 1/10 000 as a DECIMAL,
so sums are exact and equal on DuckDB and Spark. Rows in a currency without a rate are
refused by the analytics that must not drop them (:func:`unrated`): adding SEK to EUR
without a rate would give a number that means nothing.

A workspace's reporting currency and rates are its money settings (:mod:`cxlens.money`);
the analytics only take them as parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# The default reporting currency: the currency orders and spend are stored in when their
# export names none (schema defaults), so a workspace in one currency sums everything.
CURRENCY = "EUR"
# SQL: the row is in the currency of the ``$currency`` parameter.
IN_CURRENCY = "currency = $currency"

HOW_TO_RATE = ("add its rate to the workspace's money settings (cxlens workspace currency "
               "{cur} --rate {other}=RATE, or the dashboard's Settings page) or give "
               "--rate {other}=RATE")
"""How to add a missing rate, for the messages that refuse unrated money."""


def clean_rates(currency: str, rates: Mapping[str, float] | None) -> dict[str, float]:
    """``rates`` upper-cased, without ``currency`` itself; a ``ValueError`` names a rate
    that is not a positive finite number."""
    out = {}
    for cur, rate in (rates or {}).items():
        code = str(cur).upper()
        if code == currency:
            continue
        if not (isinstance(rate, (int, float)) and rate > 0 and math.isfinite(rate)):
            raise ValueError(f"the rate of {code} must be a positive number, not {rate}")
        out[code] = float(rate)
    return out


def amount_sql(rates: Mapping[str, float], amount: str = "amount", currency: str = "currency",
               prefix: str = "") -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    """SQL of ``amount`` in ``$currency`` (with its parameters), and the condition for the
    rows that have one (with its). Without rates: the amount as it is, rows in
    ``$currency`` only. Parameter names start with ``prefix`` (several in one query)."""
    if not rates:
        return amount, {}, f"{currency} = $currency", {}
    whens, params = [], {}
    for i, (cur, rate) in enumerate(sorted(rates.items())):
        whens.append(f"WHEN ${prefix}cur{i} THEN ${prefix}rate{i}")
        params |= {f"{prefix}cur{i}": cur, f"{prefix}rate{i}": float(rate)}
    sql = (f"CASE WHEN {currency} = $currency THEN CAST({amount} AS DECIMAL(18, 4)) "
           f"ELSE CAST(CAST({amount} AS DOUBLE) * CASE {currency} {' '.join(whens)} END "
           f"AS DECIMAL(18, 4)) END")
    return (sql, params, f"({currency} = $currency OR list_contains(${prefix}rated, {currency}))",
            {f"{prefix}rated": sorted(rates)})


def unrated_message(what: str, counts: Mapping[str, int], currency: str) -> str:
    """The refusal of ``what`` (``"spend rows"``, ``"orders"``) in currencies without a
    rate: which, how many, and how to add a rate."""
    names = ", ".join(sorted(counts))
    first = sorted(counts)[0]
    return (f"{sum(counts.values())} {what} are in {names}, not {currency}, and {names} "
            f"{'has' if len(counts) == 1 else 'have'} no exchange rate: adding them would "
            f"mix currencies. To convert, " + HOW_TO_RATE.format(cur=currency, other=first)
            + f"; or choose {first} as the currency")


def unrated(engine: Any, table: str, currency: str, rates: Mapping[str, float],
            where: str = "TRUE", params: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Rows of ``table`` (a view) matching ``where`` in a currency that is neither
    ``currency`` nor rated, counted per currency (empty: everything can be summed)."""
    rated = sorted(rates) or ["\x1f"]
    rows = engine.query(
        f"SELECT currency, CAST(count(*) AS BIGINT) AS n FROM {table} WHERE {where} "
        "AND currency IS NOT NULL AND currency <> $u_currency "
        "AND NOT list_contains($u_rated, currency) GROUP BY currency ORDER BY currency",
        {**(params or {}), "u_currency": currency, "u_rated": rated}).to_pylist()
    return {str(r["currency"]): int(r["n"]) for r in rows}
