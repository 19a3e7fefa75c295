"""The purchase summary the value models are fitted on, computed in the engine.

Buy-till-you-die models see a customer as three numbers: ``x`` repeat purchases, the time
``t_x`` of the last one and the customer's age ``T``, both counted from the first purchase
(Fader, Hardie & Lee 2005). Gamma-Gamma adds the mean value of the repeat purchases. The
engine reduces the orders to one row per distinct combination with a count of customers,
so a million customers become a few hundred thousand rows at most (repeat buyers' spend is
nearly unique) and a few thousand without spend; NumPy fits on that.

Time has day resolution (orders on the same day are one purchase, as in the papers'
CDNOW data) and is expressed in ``unit_days`` (7: weeks, the papers' unit). A purchase is a
counted order (not refunded or lost) with an amount of zero or more: a free order is still a
visit that bought (CDNOW has eight, and the papers count them); refund rows (negative
amounts) are left out and counted, so nothing disappears without a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from cxlens.analytics._money import CURRENCY, amount_sql
from cxlens.analytics._orders import counted_order
from cxlens.warehouse.engine import Engine

WEEK = 7.0


class ValueInputError(ValueError):
    """The orders cannot be summarised as asked; the message says why and what to do."""


class NoPurchases(ValueInputError):
    """The workspace has no purchases to model (yet): a state, not a wrong request."""


@dataclass(frozen=True)
class PurchaseSummary:
    """Customers in compressed form: row ``i`` stands for ``n[i]`` customers with ``x[i]``
    repeat purchases, the last at ``t_x[i]``, age ``T[i]`` (in units of ``unit_days``) at
    the calibration end, ``x_holdout[i]`` purchases after it up to ``holdout_end``, and
    ``spend[i]`` the mean amount of their repeat purchases (NaN without any)."""

    calibration_end: date
    holdout_end: date | None
    unit_days: float
    currency: str
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    x_holdout: np.ndarray
    spend: np.ndarray
    n: np.ndarray
    # How many orders were left out, and why: refunded/lost, negative amount, another currency
    # (without a rate), dated after today, no customer yet; customers who first bought after
    # the calibration end (they appear only in the holdout).
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def customers(self) -> int:
        return int(self.n.sum())

    @property
    def repeat_customers(self) -> int:
        return int(self.n[self.x > 0].sum())

    def first_purchase(self) -> np.ndarray:
        """Each row's first purchase day (the age counted back from the calibration end)."""
        days = np.rint(self.T * self.unit_days).astype("int64")
        return np.datetime64(self.calibration_end) - days.astype("timedelta64[D]")


def _amount(rates: Mapping[str, float]) -> tuple[str, dict[str, object], str, dict[str, object]]:
    """SQL for the amount in the chosen currency (with its parameters), and the condition
    for rows that have one (with its): ``analytics._money.amount_sql``."""
    return amount_sql(rates)


_SUMMARY = """
WITH o AS (
  SELECT customer_id, CAST(ts AS DATE) AS d, {amount} AS amount
  FROM v_orders
  WHERE customer_id IS NOT NULL AND {counted} AND {in_currency} AND amount >= 0
    AND CAST(ts AS DATE) <= $last
), days AS (
  SELECT customer_id, d, sum(amount) AS amount FROM o GROUP BY customer_id, d
), firsts AS (
  SELECT customer_id, min(d) AS first_d FROM days GROUP BY customer_id
), cust AS (
  SELECT
    CAST(count(*) FILTER (WHERE y.d > f.first_d AND y.d <= $cal) AS BIGINT) AS x,
    date_diff('day', CAST(f.first_d AS DATE),
              CAST(max(y.d) FILTER (WHERE y.d <= $cal) AS DATE)) AS t_x_days,
    date_diff('day', CAST(f.first_d AS DATE), CAST($cal AS DATE)) AS age_days,
    CAST(count(*) FILTER (WHERE y.d > $cal) AS BIGINT) AS x_holdout,
    CAST(sum(y.amount) FILTER (WHERE y.d > f.first_d AND y.d <= $cal) AS DOUBLE) AS repeat_amount
  FROM firsts AS f JOIN days AS y ON y.customer_id = f.customer_id
  WHERE f.first_d <= $cal
  GROUP BY f.customer_id, f.first_d
)
SELECT x, t_x_days, age_days, x_holdout, repeat_amount, CAST(count(*) AS BIGINT) AS customers
FROM cust
GROUP BY x, t_x_days, age_days, x_holdout, repeat_amount
ORDER BY x, t_x_days, age_days, x_holdout, repeat_amount NULLS FIRST
"""

_LEFT_OUT = """
WITH o AS (
  SELECT *, CAST(ts AS DATE) <= $last AS used, CAST(ts AS DATE) > $today AS future
  FROM v_orders
)
SELECT
  CAST(count(*) FILTER (WHERE used AND NOT ({counted})) AS BIGINT) AS refunded_or_lost,
  CAST(count(*) FILTER (WHERE used AND {counted} AND amount < 0) AS BIGINT) AS refund_rows,
  CAST(count(*) FILTER (WHERE used AND {counted} AND amount >= 0 AND NOT {in_currency})
       AS BIGINT) AS other_currency,
  CAST(count(*) FILTER (WHERE future) AS BIGINT) AS after_today,
  CAST(count(*) FILTER (WHERE used AND customer_id IS NULL) AS BIGINT) AS no_customer,
  min(CAST(ts AS DATE)) FILTER (WHERE NOT future AND {counted} AND amount >= 0
                                AND {in_currency}) AS first_day
FROM o
"""


def purchase_summary(engine: Engine, calibration_end: date, today: date, *,
                     holdout_end: date | None = None, unit_days: float = WEEK,
                     currency: str = CURRENCY,
                     rates: Mapping[str, float] | None = None) -> PurchaseSummary:
    """Summarise the orders up to ``calibration_end`` (inclusive) and count each customer's
    purchases after it up to ``holdout_end`` (inclusive).

    ``today`` comes from the edge: orders dated after it are left out and counted (a clock
    or an export gone wrong). Orders in another currency are refused unless ``rates`` give
    its value in ``currency`` (one unit of that currency = rate units of ``currency``).
    """
    rates = {k.upper(): v for k, v in (rates or {}).items() if k.upper() != currency}
    last = holdout_end or calibration_end
    if last > today:
        raise ValueInputError(f"the period ends {last}, after today ({today}): "
                              f"choose an end on or before {today}")
    if holdout_end is not None and holdout_end <= calibration_end:
        raise ValueInputError(f"the holdout end {holdout_end} is not after the calibration "
                              f"end {calibration_end}")
    for cur, rate in rates.items():
        if not (rate > 0 and np.isfinite(rate)):
            raise ValueInputError(f"the rate of {cur} must be a positive number, not {rate}")
    amount, amount_params, in_currency, params = _amount(rates)
    fmt = {"amount": amount, "in_currency": in_currency, "counted": counted_order()}
    base = {**params, "currency": currency, "last": last}
    left = engine.query(_LEFT_OUT.format(**fmt), {**base, "today": today}).to_pylist()[0]
    first_day = left.pop("first_day")
    if left["other_currency"]:
        others = ", ".join(r["currency"] for r in engine.query(
            f"SELECT currency FROM v_orders WHERE {fmt['counted']} AND amount >= 0 "
            f"AND NOT {in_currency} AND CAST(ts AS DATE) <= $last "
            "GROUP BY currency ORDER BY currency", base).to_pylist())
        raise ValueInputError(
            f"{left['other_currency']} orders are in {others}, not {currency}: adding them "
            f"without exchange rates would mix currencies. Give a rate per currency "
            f"(for example --rate {others.split(', ')[0]}=0.09, or save it in the "
            f"workspace's money settings: cxlens workspace currency {currency} --rate "
            f"{others.split(', ')[0]}=0.09) or choose that currency")
    if first_day is None:
        raise NoPurchases(f"no purchases in {currency} up to {today}: load orders first "
                              "or choose the currency the orders are in")
    if calibration_end < first_day:
        raise ValueInputError(f"the calibration ends {calibration_end}, before the first "
                              f"purchase ({first_day}): choose a later calibration end")
    rows = engine.query(_SUMMARY.format(**fmt),
                        {**base, **amount_params, "cal": calibration_end})
    cols = {c: rows.column(c).to_numpy(zero_copy_only=False) for c in rows.column_names}
    x = cols["x"].astype("int64")
    t_x = np.nan_to_num(cols["t_x_days"].astype("float64")) / unit_days
    repeat = cols["repeat_amount"].astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        spend = np.where(x > 0, repeat / np.maximum(x, 1), np.nan)
    late = engine.query(
        "SELECT CAST(count(*) AS BIGINT) AS n FROM (SELECT customer_id FROM v_orders "
        f"WHERE customer_id IS NOT NULL AND {fmt['counted']} AND {in_currency} AND amount >= 0 "
        "AND CAST(ts AS DATE) <= $last GROUP BY customer_id "
        "HAVING min(CAST(ts AS DATE)) > $cal) AS t", {**base, "cal": calibration_end})
    left["first_bought_after_calibration"] = int(late.column("n")[0].as_py())
    return PurchaseSummary(
        calibration_end=calibration_end, holdout_end=holdout_end, unit_days=unit_days,
        currency=currency, x=x, t_x=t_x,
        T=cols["age_days"].astype("float64") / unit_days,
        x_holdout=cols["x_holdout"].astype("int64"), spend=spend,
        n=cols["customers"].astype("int64"), left_out={k: int(v) for k, v in left.items()})



def last_purchase_day(engine: Engine, today: date, currency: str = CURRENCY) -> date | None:
    """The last day before ``today`` with a counted purchase in ``currency``: where the
    data end when an export stopped earlier (customers' ages are counted to there)."""
    rows = engine.query(
        f"SELECT max(CAST(ts AS DATE)) AS d FROM v_orders WHERE {counted_order()} "
        "AND currency = $currency AND amount >= 0 AND CAST(ts AS DATE) < $today",
        {"currency": currency, "today": today})
    return rows.column("d")[0].as_py()
