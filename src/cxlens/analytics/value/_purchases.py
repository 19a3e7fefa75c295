"""The purchases that cohorts, RFM and the per-customer values are built from, as SQL.

One definition for the modules of this family that work on single purchases rather than on
the models' compressed summary (``_summary``): a purchase is a counted order
(``analytics._orders``) of a known customer with an amount of zero or more, in the chosen
currency (or another one with a rate), dated on or before the last day used. Orders in
other currencies without a rate are refused with a message, as ``purchase_summary`` does:
summing them would mix currencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from cxlens.analytics._money import CURRENCY
from cxlens.analytics._orders import counted_order
from cxlens.analytics.value._summary import (
    NoPurchases,
    ValueInputError,
    _amount,
    last_purchase_day,
)
from cxlens.warehouse.engine import Engine

# Month number of a DATE column ``d``: months since year 0, so consecutive calendar months
# differ by one on both engines (docs/engine.md, "calendar months between").
MONTH = "(year({d}) * 12 + month({d}) - 1)"


def month_index(day: date) -> int:
    """The month number :data:`MONTH` gives ``day`` in SQL."""
    return day.year * 12 + day.month - 1


def month_name(index: int) -> str:
    """``YYYY-MM`` of a month number."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_last_day(index: int) -> date:
    """The last day of the month numbered ``index``."""
    nxt = index + 1
    return date(nxt // 12, nxt % 12 + 1, 1) - timedelta(days=1)


def data_end(engine: Engine, today: date, end: date | None, currency: str) -> date:
    """The last day of data used: ``end``, else yesterday (the last whole day) or the last
    day with a purchase when the data stop earlier (as ``fit_value`` chooses)."""
    if end is not None:
        if end >= today:
            raise ValueInputError(f"the period ends {end}, not before today ({today}): "
                                  f"choose an end before {today}")
        return end
    last = last_purchase_day(engine, today, currency)
    return min(today - timedelta(days=1), last) if last else today - timedelta(days=1)


def purchases_sql(engine: Engine, end: date, *, currency: str = CURRENCY,
                  rates: Mapping[str, float] | None = None) -> tuple[str, dict[str, Any]]:
    """SQL of the purchases up to ``end`` (inclusive) with its parameters: columns
    ``customer_id``, ``ts``, ``d`` (the day), ``amount`` (DECIMAL in ``currency``),
    ``channel`` (``'unknown'`` when the export has none), ``_batch``, ``_line``.

    Raises :class:`ValueInputError` for orders in another currency without a rate and
    :class:`NoPurchases` when nothing is left.
    """
    rates = {k.upper(): v for k, v in (rates or {}).items() if k.upper() != currency}
    for cur, rate in rates.items():
        if not (rate > 0 and rate < float("inf")):
            raise ValueInputError(f"the rate of {cur} must be a positive number, not {rate}")
    amount, amount_params, in_currency, params = _amount(rates)
    base = {**params, "currency": currency, "end": end}
    counted = counted_order()
    others = engine.query(
        f"SELECT currency, CAST(count(*) AS BIGINT) AS n FROM v_orders WHERE {counted} "
        f"AND customer_id IS NOT NULL AND amount >= 0 AND NOT {in_currency} "
        "AND CAST(ts AS DATE) <= $end GROUP BY currency ORDER BY currency", base).to_pylist()
    if others:
        names = ", ".join(str(r["currency"]) for r in others)
        n = sum(int(r["n"]) for r in others)
        raise ValueInputError(
            f"{n} orders are in {names}, not {currency}: adding them without exchange rates "
            f"would mix currencies. Give a rate per currency (for example --rate "
            f"{names.split(', ')[0]}=0.09, or save it in the workspace's money settings: "
            f"cxlens workspace currency {currency} --rate {names.split(', ')[0]}=0.09) or "
            "choose that currency")
    sql = (f"SELECT customer_id, ts, CAST(ts AS DATE) AS d, {amount} AS amount, "
           "coalesce(channel, 'unknown') AS channel, _batch, _line FROM v_orders "
           f"WHERE customer_id IS NOT NULL AND {counted} AND {in_currency} AND amount >= 0 "
           "AND CAST(ts AS DATE) <= $end")
    any_row = engine.query(f"SELECT CAST(count(*) AS BIGINT) AS n FROM ({sql}) AS p",
                           {**base, **amount_params}).column("n")[0].as_py()
    if not any_row:
        raise NoPurchases(f"no purchases in {currency} up to {end}: load orders first or "
                          "choose the currency the orders are in")
    return sql, {**base, **amount_params}


# The acquisition campaign: the campaign of the customer's earliest event that names one,
# on or before the day of the first purchase (GA4 sends the user's first-touch campaign on
# every event, "(direct)" when there was none; an e-mail's campaign counts too); "(none)"
# without such an event. Kept apart, so that queries without campaigns never read events.
_CAMPAIGN = """
camp AS (
  SELECT e.customer_id AS customer_id,
         arg_min(e.campaign, struct_pack(t := e.ts, b := e._batch, l := e._line)) AS campaign
  FROM v_events AS e JOIN firsts0 AS f ON f.customer_id = e.customer_id
  WHERE e.campaign IS NOT NULL AND CAST(e.ts AS DATE) <= f.first_d
  GROUP BY e.customer_id
),
firsts AS (
  SELECT f.customer_id AS customer_id, f.first_d AS first_d, f.cohort AS cohort,
         f.channel AS channel, coalesce(c.campaign, '(none)') AS campaign
  FROM firsts0 AS f LEFT JOIN camp AS c ON c.customer_id = f.customer_id
)"""

_NO_CAMPAIGN = """
firsts AS (
  SELECT customer_id, first_d, cohort, channel, '' AS campaign FROM firsts0
)"""


def acquisition_sql(campaign: bool) -> str:
    """CTEs, after the purchases ``p``: ``firsts`` — per customer the first purchase day
    ``first_d``, its month number ``cohort``, the acquisition ``channel`` (of the first
    counted order, the earliest by time, then arrival) and ``campaign`` (see above; ``''``
    unless ``campaign``)."""
    first = f"""
firsts0 AS (
  SELECT customer_id, min(d) AS first_d, {MONTH.format(d="min(d)")} AS cohort,
         arg_min(channel, struct_pack(t := ts, b := _batch, l := _line)) AS channel
  FROM p GROUP BY customer_id
),"""
    return first + (_CAMPAIGN if campaign else _NO_CAMPAIGN)
