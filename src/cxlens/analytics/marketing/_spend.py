"""Spend: which channel a campaign belongs to, and what was spent, as the family shares it.

Private to the marketing family. Ads usually reach cxlens as web visits: GA4 records an ad
click as a ``web`` event whose ``campaign`` names the ad (``FI_Search_Brand``), while the
ad platform's cost report books that campaign's spend under its paid channel
(``search_ads``). :func:`spend_campaigns` reads that pairing from the spend table, so that
attribution and ROI credit the visit to the channel that paid for it without any mapping
typed by hand. The match is exact (a campaign is its name, not a pattern); the user's own
``PATTERN=CHANNEL`` mappings (SQL ``LIKE``) come first and override it. A campaign booked
under two channels goes to the first of them in alphabetical order (rare: one ad account
books one campaign).

:func:`check_currency` refuses spend in a currency that is neither the reporting currency nor
rated: adding SEK to EUR without a rate gives a number that means nothing
(``analytics._money``). Rated spend is converted in the engine's SQL (:func:`spend_sql`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cxlens.analytics._money import CURRENCY, amount_sql, unrated, unrated_message
from cxlens.warehouse.engine import Engine

PLATFORM_KEYS: tuple[str, ...] = ("Results", "Conversions", "conversions", "Purchases",
                                  "purchases")
"""``properties`` keys where the ad platforms' cost reports keep their own conversion count
(Meta Ads Manager "Results", Google Ads "Conversions"); the first present is read."""


class SpendInputError(ValueError):
    """Spend (or the orders it is measured against) cannot be summed as asked — a bad
    option, or money in a currency without a rate; the message says why and what to do."""


def spend_campaigns(engine: Engine) -> tuple[tuple[str, str], ...]:
    """Every campaign named in the spend table with the channel its spend is booked under,
    sorted by campaign (the default campaign → channel mapping)."""
    rows = engine.query(
        "SELECT campaign, min(channel) AS channel FROM v_spend "
        "WHERE campaign IS NOT NULL AND campaign <> '' AND channel IS NOT NULL "
        "GROUP BY campaign ORDER BY campaign").to_pylist()
    return tuple((str(r["campaign"]), str(r["channel"])) for r in rows)


def channel_case(campaign: str, channel: str, patterns: Sequence[tuple[str, str]],
                 exact: Sequence[tuple[str, str]], params: dict[str, Any],
                 prefix: str = "c") -> str:
    """SQL of a touch's channel: the first ``patterns`` (``LIKE``) the ``campaign`` column
    matches, else the campaign's channel in ``exact`` (the spend table's), else the
    ``channel`` column. Adds its parameters to ``params`` (names start with ``prefix``)."""
    whens = []
    for i, (pattern, ch) in enumerate(patterns):
        params[f"{prefix}p{i}"], params[f"{prefix}c{i}"] = pattern, ch
        whens.append(f"WHEN {campaign} LIKE ${prefix}p{i} THEN ${prefix}c{i}")
    for i, (name, ch) in enumerate(exact):
        params[f"{prefix}x{i}"], params[f"{prefix}y{i}"] = name, ch
        whens.append(f"WHEN {campaign} = ${prefix}x{i} THEN ${prefix}y{i}")
    if not whens:
        return channel
    return f"CASE {' '.join(whens)} ELSE {channel} END"


def check_currency(engine: Engine, currency: str = CURRENCY,
                   rates: Mapping[str, float] | None = None) -> None:
    """Refuse spend in a currency other than ``currency`` without a rate in ``rates``
    (:class:`SpendInputError`, naming the currency and how to add its rate)."""
    others = unrated(engine, "v_spend", currency, rates or {})
    if others:
        raise SpendInputError(unrated_message("spend rows", others, currency))


def _platform(alias: str = "") -> str:
    col = f"{alias}.properties" if alias else "properties"
    keys = ", ".join(f"json_extract_string({col}, '$.\"{k}\"')" for k in PLATFORM_KEYS)
    return f"TRY_CAST(coalesce({keys}) AS DOUBLE)"


_SPEND = f"""
SELECT channel, coalesce(campaign, '') AS campaign,
       (year(date) * 12 + month(date) - 1) AS month,
       CAST(sum({{amount}}) AS DECIMAL(38, 4)) AS spend,
       CAST(count(*) AS BIGINT) AS spend_rows,
       CAST(sum({_platform()}) AS DOUBLE) AS platform_conversions,
       CAST(count({_platform()}) AS BIGINT) AS platform_rows
FROM v_spend
WHERE {{in_currency}} AND channel IS NOT NULL {{since}}AND date < $end
GROUP BY channel, coalesce(campaign, ''), (year(date) * 12 + month(date) - 1)
ORDER BY channel, campaign, month
"""


def spend_sql(since: bool, rates: Mapping[str, float] | None = None
              ) -> tuple[str, dict[str, Any]]:
    """Spend per channel, campaign (``''``: none) and month number (``_purchases.MONTH``)
    before ``$end`` (and from ``$start`` when ``since``: no far-past date literal, which
    Spark's dates refuse), in ``$currency`` (other currencies converted at ``rates``), with
    the platforms' own conversions where the report has them; and its rate parameters."""
    amount, a_params, in_currency, c_params = amount_sql(rates or {})
    sql = _SPEND.format(since="AND date >= $start " if since else "", amount=amount,
                        in_currency=in_currency)
    return sql, {**a_params, **c_params}


def touches_sql(patterns: Sequence[tuple[str, str]], exact: Sequence[tuple[str, str]],
                params: dict[str, Any]) -> str:
    """Events per channel after the campaign mapping: does a paid channel have any
    touchpoint at all?"""
    ch = channel_case("campaign", "channel", patterns, exact, params, "t")
    return (f"SELECT ch AS channel, CAST(count(*) AS BIGINT) AS events FROM ("
            f"SELECT {ch} AS ch FROM v_events) AS e WHERE ch IS NOT NULL "
            "GROUP BY ch ORDER BY ch")
