"""Spend and return: what each paid channel, campaign and month cost, and what it brought.

**Spend** is the spend table (the ad platforms' cost reports) in the reporting currency,
spend in other currencies converted at ``rates`` in the engine's SQL; spend or orders in a
currency without a rate are refused (``_spend.check_currency``, ``analytics._money``), never
summed or dropped. A **paid channel** is a channel the spend table books cost under.

**Customers acquired**: a customer is acquired on their first counted order (refunded and
lost orders do not count). The acquisition is credited to the paid touches of their path
before it — the touchpoints within ``lookback_days`` before the first order (the
attribution paths of ``_paths`` with ``conversion="first"``, without the order's own
channel as a touch), each event's channel being its campaign's channel in the spend table
(``_spend.spend_campaigns``) unless the user maps campaigns otherwise. The rule
(``model``):

* ``last_paid`` (default): all to the last paid touch; ``first_paid``: to the first paid
  touch; ``linear_paid``: equal shares to every paid touch;
* ``last``, ``first``, ``linear``, ``position`` (40/20/40): the attribution rules over
  every touch, paid or not — a customer whose credit falls on e-mail or the store brings
  the paid channels only their part of it.

A customer without a paid touch in the lookback is acquired **without** paid media
(``organic``). The credit's campaign is the touch's own (``(none)`` for a paid channel's
event without one).

**Return**, per group (channel, campaign or month of acquisition), over its credited
customers ``w_i`` (credit shares sum to one per customer):

* ``customers`` = Σ w_i; **CAC** = spend / customers;
* **first-order ROAS** = Σ w_i · first order / spend; **ROAS** = Σ w_i · revenue in the
  ``horizon_days`` after the first purchase (first order included) / spend;
* **ROI** = (margin · horizon revenue − spend) / spend, ``margin`` the gross margin share
  (1.0, the default, makes it ROI on revenue);
* **payback**: the months after acquisition until the cumulative margin (revenue at margin
  1.0) of the acquired customers reaches the spend that bought them — over the acquisition
  months observed that many months, each month's spend against its own customers' revenue;
* **CLV return** (with a fitted value model): Σ w_i · (revenue to date + the value model's
  CLV over its horizon, discounted) / spend — the return on customer lifetime value, not
  only on what has been bought so far;
* the platforms' own conversions (Meta "Results", Google "Conversions") beside cxlens's.

**Intervals** (95 %): a Poisson bootstrap over the acquired customers (each weighted by a
Poisson(1) draw per replicate, so their number varies as well as who they are); the CLV
return also draws the value model's parameters (one draw per replicate). Spend is known,
not estimated. Seeded: the same data give the same interval on both engines.

Revenue of a customer acquired less than ``horizon_days`` ago is what they have bought so
far (``horizon_incomplete`` counts them); the month table shows which months are young.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from cxlens.analytics._money import (
    CURRENCY,
    amount_sql,
    clean_rates,
    unrated,
    unrated_message,
)
from cxlens.analytics._orders import counted_order
from cxlens.analytics.journeys._log import Selection
from cxlens.analytics.marketing._paths import DEFAULT_LOOKBACK, PathOptions, _cte
from cxlens.analytics.marketing._spend import (
    SpendInputError,
    check_currency,
    spend_campaigns,
    spend_sql,
    touches_sql,
)
from cxlens.analytics.value._purchases import month_index, month_name
from cxlens.warehouse.engine import Engine

RULES: dict[str, str] = {
    "last_paid": "CASE WHEN paid = 1 AND j = m THEN 1.0 ELSE 0.0 END",
    "first_paid": "CASE WHEN paid = 1 AND j = 1 THEN 1.0 ELSE 0.0 END",
    "linear_paid": "CASE WHEN paid = 1 THEN 1.0 / m ELSE 0.0 END",
    "last": "CASE WHEN i = n THEN 1.0 ELSE 0.0 END",
    "first": "CASE WHEN i = 1 THEN 1.0 ELSE 0.0 END",
    "linear": "1.0 / n",
    "position": ("CASE WHEN n = 1 THEN 1.0 WHEN n = 2 THEN 0.5 WHEN i = 1 OR i = n THEN 0.4 "
                 "ELSE 0.2 / (n - 2) END"),
}
"""Credit of a touch: ``i`` its place among the ``n`` touches of the path, ``j`` among the
``m`` paid ones, ``paid`` 1 for a paid channel."""
BY = ("channel", "campaign", "month")
DEFAULT_HORIZON = 365
N_BOOT = 200
SEED = 14
LEVEL = 0.95
MONTH_DAYS = 365.25 / 12
MAX_PAYBACK = 36  # months looked at for payback
NONE = "(none)"


@dataclass(frozen=True)
class Ratio:
    """A ratio with its 95 % interval (``None`` without spend or without replicates)."""

    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class RoiRow:
    """One channel, campaign or month: spend, the customers credited to it and what they
    brought (see the module's docstring). ``flags``: ``no_spend`` (nothing spent in the
    period), ``no_touchpoints`` (spend, but no event of the channel in the data: nothing can
    be credited to it), ``young`` (a month whose customers' horizon is not over)."""

    key: str
    channel: str | None
    campaign: str | None
    month: str | None
    spend: float
    customers: float
    customers_low: float | None
    customers_high: float | None
    first_order_revenue: float
    horizon_revenue: float
    cac: Ratio
    roas_first_order: Ratio
    roas: Ratio
    roi: Ratio
    clv_return: Ratio
    payback_months: int | None
    platform_conversions: float | None
    n: int  # distinct customers with any credit
    all_customers: int | None = None  # month rows: every customer acquired, paid or not
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Roi:
    """Spend and return by ``by``; ``reason`` says why there is nothing to show."""

    by: str
    model: str
    horizon_days: int
    lookback_days: int
    margin: float
    currency: str
    start: date | None
    end: date | None
    as_of: date
    rows: list[RoiRow]
    total: RoiRow | None
    spend: float
    acquired: int  # every customer acquired in the period
    organic: float  # of them, without a paid touch (credit on no paid channel, whatever
    # the channel filter)
    horizon_incomplete: int  # credited customers acquired less than the horizon ago
    paid_channels: list[str]
    campaigns: dict[str, str]
    spend_campaigns: dict[str, str]
    clv_model: str | None
    clv_months: int | None
    n_boot: int
    seed: int
    notes: list[str] = field(default_factory=list)
    reason: str | None = None
    rates: dict[str, float] = field(default_factory=dict)  # other currencies' value in it

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def credit_sql(opts: PathOptions, model: str, currency: str, paid: Sequence[str],
               since: bool = True, rates: Mapping[str, float] | None = None
               ) -> tuple[str, dict[str, Any]]:
    """Per acquired customer (first counted order before ``$last``, and from ``$first``
    when ``since``) the credit of each paid channel and campaign (``kind = 1``), and per
    day the number of customers acquired (``kind = 0``)."""
    cte, params = _cte(Selection(), opts, currency, rates)
    params["paid"] = list(paid) or ["\x1f"]
    sql = f"""{cte},
o AS (
    SELECT customer_id, min(ts) AS first_ts FROM k
    WHERE conv = 1 AND is_order = 1 GROUP BY customer_id
),
oc AS (
    SELECT customer_id, first_ts FROM o
    WHERE {"CAST(first_ts AS DATE) >= $first AND " if since else ""}CAST(first_ts AS DATE) < $last
),
t AS (
    SELECT k.customer_id AS customer_id, k.ch AS ch, k.camp AS camp, k.ts AS ts,
           k.tie AS tie, k._line AS _line,
           CASE WHEN list_contains($paid, k.ch) THEN 1 ELSE 0 END AS paid
    FROM k JOIN oc ON oc.customer_id = k.customer_id
    WHERE k.conv = 1 AND k.touch = 1
),
r AS (
    SELECT customer_id, ch, camp, paid,
           row_number() OVER (PARTITION BY customer_id ORDER BY ts, tie, _line) AS i,
           count(*) OVER (PARTITION BY customer_id) AS n,
           CAST(sum(paid) OVER (PARTITION BY customer_id ORDER BY ts, tie, _line
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS j,
           CAST(sum(paid) OVER (PARTITION BY customer_id) AS BIGINT) AS m
    FROM t
),
c AS (
    SELECT customer_id, ch, coalesce(camp, '{NONE}') AS camp,
           CAST({RULES[model]} AS DOUBLE) AS w
    FROM r WHERE paid = 1
)
SELECT 1 AS kind, c.customer_id AS customer_id, CAST(oc.first_ts AS DATE) AS first_d,
       c.ch AS channel, c.camp AS campaign, CAST(sum(c.w) AS DOUBLE) AS weight
FROM c JOIN oc ON oc.customer_id = c.customer_id
WHERE c.w > 0
GROUP BY c.customer_id, CAST(oc.first_ts AS DATE), c.ch, c.camp
UNION ALL
SELECT 0 AS kind, '' AS customer_id, CAST(first_ts AS DATE) AS first_d,
       '' AS channel, '' AS campaign, CAST(count(*) AS DOUBLE) AS weight
FROM oc GROUP BY CAST(first_ts AS DATE)
ORDER BY kind, customer_id, channel, campaign, first_d"""
    return sql, params


_ORDERS = f"""
WITH o AS (
    SELECT customer_id, ts, CAST({{amount}} AS DOUBLE) AS amount,
           row_number() OVER (PARTITION BY customer_id ORDER BY ts, _batch, _line) AS order_no
    FROM v_orders
    WHERE customer_id IS NOT NULL AND {counted_order()} AND {{in_currency}}
      AND amount >= 0 AND list_contains($ids, customer_id) AND CAST(ts AS DATE) <= $as_of
),
f AS (SELECT customer_id, ts AS first_ts FROM o WHERE order_no = 1)
SELECT o.customer_id AS customer_id,
       CAST(date_diff('day', CAST(f.first_ts AS DATE), CAST(o.ts AS DATE)) AS BIGINT) AS days,
       CAST(sum(CASE WHEN o.order_no = 1 THEN o.amount ELSE 0 END) AS DOUBLE) AS first_amount,
       CAST(sum(o.amount) AS DOUBLE) AS amount
FROM o JOIN f ON f.customer_id = o.customer_id
GROUP BY o.customer_id, CAST(date_diff('day', CAST(f.first_ts AS DATE), CAST(o.ts AS DATE))
                                 AS BIGINT)
ORDER BY customer_id, days"""
"""The credited customers' counted orders by day after their first (the first order's
amount apart): first-order and horizon revenue, revenue to date and payback."""


def orders_sql(rates: Mapping[str, float] | None = None) -> tuple[str, dict[str, Any]]:
    """:data:`_ORDERS` in ``$currency``, other currencies converted at ``rates``; and the
    rates' parameters."""
    amount, a_params, in_currency, c_params = amount_sql(rates or {})
    return (_ORDERS.format(amount=amount, in_currency=in_currency),
            {**a_params, **c_params})


@dataclass
class _Customers:
    ids: list[str]
    first_month: np.ndarray  # month number of the first purchase
    first_age_days: np.ndarray  # days from the first purchase to as_of
    first_amount: np.ndarray
    horizon: np.ndarray
    to_date: np.ndarray
    by_month: np.ndarray  # customers × MAX_PAYBACK: revenue in month k after acquisition
    clv: np.ndarray | None = None  # point CLV ahead (value model)
    clv_draws: np.ndarray | None = None  # customers × draws


def _check(model: str, by: str, horizon_days: int, lookback_days: int, margin: float,
           n_boot: int) -> None:
    if model not in RULES:
        raise SpendInputError(f"the acquisition rule must be one of {', '.join(RULES)}, "
                              f"not {model!r}")
    if by not in BY:
        raise SpendInputError(f"by must be channel, campaign or month, not {by!r}")
    if not 1 <= int(horizon_days) <= 3650:
        raise SpendInputError(f"the horizon must be 1 to 3650 days, not {horizon_days}")
    if not 1 <= int(lookback_days) <= 3650:
        raise SpendInputError(f"the lookback must be 1 to 3650 days, not {lookback_days}")
    if not 0 < float(margin) <= 1:
        raise SpendInputError(f"the margin must be above 0 and at most 1 (0.4 = 40 %), "
                              f"not {margin}")
    if not 0 <= int(n_boot) <= 10_000:
        raise SpendInputError(f"bootstrap replicates must be 0 to 10000, not {n_boot}")


def _customers(engine: Engine, ids: list[str], currency: str, as_of: date,
               horizon_days: int, value: Any, n_boot: int, seed: int,
               rates: Mapping[str, float]) -> _Customers:
    if not ids:
        z = np.zeros(0)
        return _Customers([], z.astype(int), z, z, z, z, np.zeros((0, MAX_PAYBACK)),
                          None if value is None else z,
                          None if value is None else np.zeros((0, n_boot)))
    sql, rparams = orders_sql(rates)
    t = engine.query(sql, {**rparams, "currency": currency, "ids": ids, "as_of": as_of}
                     ).to_pydict()
    pos = {c: i for i, c in enumerate(ids)}
    idx = np.array([pos[c] for c in t["customer_id"]], dtype=int)
    days = np.asarray(t["days"], dtype=float)
    amount = np.asarray(t["amount"], dtype=float)
    n = len(ids)
    first_amount = np.bincount(idx, np.asarray(t["first_amount"], dtype=float), n)
    horizon = np.bincount(idx, np.where(days < horizon_days, amount, 0.0), n)
    to_date = np.bincount(idx, amount, n)
    k = np.minimum((days // MONTH_DAYS).astype(int), MAX_PAYBACK - 1)
    by_month = np.zeros((n, MAX_PAYBACK))
    np.add.at(by_month, (idx, k), np.where(days // MONTH_DAYS < MAX_PAYBACK, amount, 0.0))
    out = _Customers(ids, np.zeros(n, int), np.zeros(n), first_amount, horizon, to_date,
                     by_month)
    if value is not None:
        out.clv, out.clv_draws = _clv(engine, value, ids, n_boot, seed, rates)
    return out


def _clv(engine: Engine, value: Any, ids: list[str], n_boot: int,
         seed: int, rates: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's CLV ahead from the fitted value model (its purchases and end), at
    the estimate and at ``n_boot`` parameter draws; predicted once per distinct state."""
    from cxlens.analytics.value._predict import Horizon, point_and_draws
    from cxlens.analytics.value._purchases import purchases_sql
    from cxlens.analytics.value.customers import STATE_SQL

    sql, params = purchases_sql(engine, value.end, currency=value.currency, rates=rates)
    q = STATE_SQL.format(purchases=sql) + """
SELECT customer_id, x, t_x_days, age_days, repeat_amount FROM coded
WHERE list_contains($ids, customer_id) ORDER BY customer_id"""
    t = engine.query(q, {**params, "then": value.end, "ids": ids}).to_pydict()
    n = len(ids)
    clv = np.zeros(n)
    draws = np.zeros((n, max(n_boot, 1)))
    if not t["customer_id"]:
        return clv, draws[:, :n_boot]
    pos = {c: i for i, c in enumerate(ids)}
    idx = np.array([pos[c] for c in t["customer_id"]], dtype=int)
    unit = value.summary.unit_days
    x = np.asarray(t["x"], dtype=float)
    rep = np.array([np.nan if v is None else v for v in t["repeat_amount"]], dtype=float)
    state = np.stack([x, np.asarray(t["t_x_days"], float), np.asarray(t["age_days"], float),
                      np.nan_to_num(rep, nan=-1.0)], axis=1)
    keys, inverse = np.unique(state, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(keys[:, 0] > 0, np.where(keys[:, 3] < 0, np.nan, keys[:, 3])
                     / np.maximum(keys[:, 0], 1), np.nan)
    point, more = point_and_draws(value, keys[:, 0], keys[:, 1] / unit, keys[:, 2] / unit, m,
                                  Horizon(), max(n_boot, 1), seed)
    clv[idx] = np.nan_to_num(point.clv[inverse])
    per = np.stack([np.nan_to_num(p.clv) for p in more], axis=1)
    draws[idx] = per[inverse]
    return clv, draws[:, :n_boot]


def _ratio(num: float, reps: np.ndarray | None, spend: float, invert: bool = False,
           minus: float = 0.0, scale: float = 1.0) -> Ratio:
    """num/spend (or spend/num), with the replicates' 95 % interval."""
    if spend <= 0 or (invert and num <= 0):
        return Ratio(None)

    def f(v: np.ndarray | float) -> Any:
        if invert:
            with np.errstate(divide="ignore"):
                return spend / np.asarray(v, dtype=float)
        return (scale * np.asarray(v, dtype=float) - minus) / spend

    value = float(f(num))
    if reps is None or reps.size == 0:
        return Ratio(value)
    vals = f(reps)
    vals = vals[np.isfinite(vals)]
    if vals.size < 0.95 * reps.size:
        return Ratio(value)
    lo, hi = np.quantile(vals, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return Ratio(value, float(lo), float(hi))


def _payback(cust: _Customers, w: np.ndarray, spend_by_month: Mapping[int, float],
             as_of_month: int, margin: float) -> int | None:
    """Months until the margin of the customers acquired with ``w`` reaches the spend of
    their acquisition months, over the months observed that long."""
    if not spend_by_month or sum(spend_by_month.values()) <= 0:
        return None
    cum = np.cumsum(cust.by_month, axis=1) * margin
    for k in range(1, MAX_PAYBACK + 1):
        months = [mo for mo in spend_by_month if mo + k <= as_of_month]
        if not months:
            return None
        spend = sum(spend_by_month[mo] for mo in months)
        keep = np.isin(cust.first_month, months)
        back = float((w[keep] * cum[keep, k - 1]).sum())
        if spend > 0 and back >= spend:
            return k
    return None


def roi(engine: Engine, *, today: date, by: str = "channel", model: str = "last_paid",
        horizon_days: int = DEFAULT_HORIZON, lookback_days: int = DEFAULT_LOOKBACK,
        margin: float = 1.0, start: date | None = None, end: date | None = None,
        channel: str | None = None,
        campaigns: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        spend_channels: bool = True, value: Any = None,
        n_boot: int = N_BOOT, seed: int = SEED, currency: str = CURRENCY,
        rates: Mapping[str, float] | None = None) -> Roi:
    """Spend and return per paid channel, campaign or month of ``[start, end)`` (see the
    module's docstring). ``value``: a fitted :class:`~cxlens.analytics.value.models.
    ValueModel` for the CLV return (``None``: left out). ``today`` bounds the data
    (``as_of`` is the day before it, or the day before ``end``). Spend and revenue are in
    ``currency``, other currencies converted at ``rates`` (their value in ``currency``);
    :class:`SpendInputError` names a currency of spend or orders without a rate."""
    _check(model, by, horizon_days, lookback_days, margin, n_boot)
    if start is not None and end is not None and start >= end:
        raise SpendInputError("start must be before end (end is the day after the last)")
    as_of = min(today, end) - timedelta(days=1) if end else today - timedelta(days=1)
    rates = clean_rates(currency, rates)
    check_currency(engine, currency, rates)
    bad = unrated(engine, "v_orders", currency, rates,
                  f"customer_id IS NOT NULL AND {counted_order()} AND amount >= 0 "
                  "AND CAST(ts AS DATE) <= $as_of", {"as_of": as_of})
    if bad:
        raise SpendInputError(unrated_message("orders", bad, currency))
    exact = spend_campaigns(engine) if spend_channels else ()
    user = PathOptions.mapping(campaigns)
    opts = PathOptions(int(lookback_days), "first", user, exact, sale_touch=False)
    last = end or today
    bounds: dict[str, Any] = {"end": last, **({"start": start} if start else {})}
    s_sql, s_params = spend_sql(start is not None, rates)
    spend_t = engine.query(s_sql, {**s_params, "currency": currency, **bounds}).to_pydict()
    paid_all = sorted({str(r["channel"]) for r in engine.query(
        "SELECT DISTINCT channel FROM v_spend WHERE channel IS NOT NULL").to_pylist()})
    tparams: dict[str, Any] = {}
    touched = {r["channel"]: int(r["events"]) for r in engine.query(
        touches_sql(user, exact, tparams), tparams).to_pylist()}
    sql, params = credit_sql(opts, model, currency, paid_all, start is not None, rates)
    params = {**params, "last": last, **({"first": start} if start else {})}
    credit = engine.query(sql, params).to_pydict()
    base = dict(by=by, model=model, horizon_days=int(horizon_days),
                lookback_days=int(lookback_days), margin=float(margin), currency=currency,
                rates=dict(rates),
                start=start, end=end, as_of=as_of, paid_channels=paid_all,
                campaigns=dict(user), spend_campaigns=dict(exact),
                clv_model=None if value is None else value.chosen,
                clv_months=None if value is None else 12, n_boot=int(n_boot),
                seed=int(seed))
    return _assemble(engine, base, spend_t, credit, touched, channel, value, today)


def _assemble(engine: Engine, base: dict[str, Any], spend_t: dict[str, list],
              credit: dict[str, list], touched: Mapping[str, int], channel: str | None,
              value: Any, today: date) -> Roi:
    by, currency, as_of = base["by"], base["currency"], base["as_of"]
    n_boot, seed, margin = base["n_boot"], base["seed"], base["margin"]
    kinds = np.asarray(credit["kind"], dtype=int)
    acq_days = [d for d, k in zip(credit["first_d"], kinds, strict=True) if k == 0]
    acq_n = [w for w, k in zip(credit["weight"], kinds, strict=True) if k == 0]
    acquired_by_month: dict[int, int] = {}
    for d, w in zip(acq_days, acq_n, strict=True):
        acquired_by_month[month_index(d)] = acquired_by_month.get(month_index(d), 0) + int(w)
    rows_c = [i for i, k in enumerate(kinds) if k == 1]
    c_id = [credit["customer_id"][i] for i in rows_c]
    c_ch = [credit["channel"][i] for i in rows_c]
    c_camp = [credit["campaign"][i] for i in rows_c]
    c_day = [credit["first_d"][i] for i in rows_c]
    c_w = np.asarray([credit["weight"][i] for i in rows_c], dtype=float)
    credited = float(c_w.sum())  # on any paid channel, before the channel filter
    if channel is not None:
        keep = [i for i, c in enumerate(c_ch) if c == channel]
        c_id, c_ch = [c_id[i] for i in keep], [c_ch[i] for i in keep]
        c_camp, c_day, c_w = [c_camp[i] for i in keep], [c_day[i] for i in keep], c_w[keep]
    ids = sorted(set(c_id))
    cust = _customers(engine, ids, currency, as_of, base["horizon_days"], value, n_boot,
                      seed + 1, base["rates"])
    pos = {c: i for i, c in enumerate(ids)}
    ci = np.array([pos[c] for c in c_id], dtype=int)
    first_day = {c: d for c, d in zip(c_id, c_day, strict=True)}
    for c, i in pos.items():
        cust.first_month[i] = month_index(first_day[c])
        cust.first_age_days[i] = (as_of - first_day[c]).days
    # spend per group and month
    sp_ch = [str(c) for c in spend_t["channel"]]
    sp_camp = [str(c) or NONE for c in spend_t["campaign"]]
    sp_mo = [int(m) for m in spend_t["month"]]
    sp_amt = [float(a or 0) for a in spend_t["spend"]]
    sp_plat = [None if p is None else float(p) for p in spend_t["platform_conversions"]]
    if channel is not None:
        keep = [i for i, c in enumerate(sp_ch) if c == channel]
    else:
        keep = list(range(len(sp_ch)))

    def key_of(ch: str, camp: str, mo: int) -> str:
        return ch if by == "channel" else f"{ch}\x1f{camp}" if by == "campaign" \
            else month_name(mo)

    groups: dict[str, dict[str, Any]] = {}

    def group(key: str) -> dict[str, Any]:
        return groups.setdefault(key, {"spend": 0.0, "by_month": {}, "plat": None})

    for i in keep:
        g = group(key_of(sp_ch[i], sp_camp[i], sp_mo[i]))
        g["spend"] += sp_amt[i]
        g["by_month"][sp_mo[i]] = g["by_month"].get(sp_mo[i], 0.0) + sp_amt[i]
        if sp_plat[i] is not None:
            g["plat"] = (g["plat"] or 0.0) + sp_plat[i]
    c_keys = [key_of(ch, camp, month_index(d))
              for ch, camp, d in zip(c_ch, c_camp, c_day, strict=True)]
    if by == "channel":
        for ch in base["paid_channels"]:
            if channel is None or ch == channel:
                group(ch)
    for k in c_keys:
        group(k)
    if by == "month" and groups:
        months = [int(k[:4]) * 12 + int(k[5:]) - 1 for k in groups]
        for mo in range(min(months), max(months) + 1):
            group(month_name(mo))
    rng = np.random.default_rng(seed)
    reps = (rng.poisson(1.0, (n_boot, len(ids))).astype(float)
            if n_boot > 0 and ids else None)
    names = sorted(groups)
    matrix = np.zeros((len(ids), len(names)))
    col = {k: j for j, k in enumerate(names)}
    if len(ci):
        np.add.at(matrix, (ci, [col[k] for k in c_keys]), c_w)
    as_of_month = month_index(as_of)
    rows = [_row(k, groups[k], matrix[:, j], cust, reps, by, touched, margin, as_of_month,
                 acquired_by_month, base["horizon_days"])
            for j, k in enumerate(names)]
    total = None
    if rows:
        spend_all: dict[str, Any] = {"spend": sum(g["spend"] for g in groups.values()),
                                     "by_month": {}, "plat": None}
        for g in groups.values():
            for mo, v in g["by_month"].items():
                spend_all["by_month"][mo] = spend_all["by_month"].get(mo, 0.0) + v
            if g["plat"] is not None:
                spend_all["plat"] = (spend_all["plat"] or 0.0) + g["plat"]
        total = _row("total", spend_all, matrix.sum(axis=1), cust, reps, "total", touched,
                     margin, as_of_month, acquired_by_month, base["horizon_days"])
    acquired = int(sum(acq_n))
    incomplete = int((cust.first_age_days < base["horizon_days"] - 1).sum())
    spend = float(sum(sp_amt[i] for i in keep))
    notes: list[str] = []
    reason = None
    if not sp_amt:
        reason = ("no spend in the period: load the ad platforms' cost reports (Meta Ads, "
                  "Google Ads: kind spend) to see what the customers cost")
    elif spend <= 0:
        reason = "every spend row of the period is zero: no return to compute"
    elif not ids:
        notes.append("no customer acquired in the period had a paid touch in the lookback")
    if incomplete:
        notes.append(f"{incomplete} of the credited customers were acquired less than "
                     f"{base['horizon_days']} days ago: their horizon revenue is what they "
                     "have bought so far")
    for r in rows:
        if "no_touchpoints" in r.flags:
            notes.append(f"{r.channel}: spend but no touchpoint in the data — its ads' "
                         "visits are not linked to it (map their campaign with --campaign "
                         "PATTERN=CHANNEL, or load the web analytics with the campaign)")
    if value is None:
        notes.append("no value model: the CLV return is left out")
    return Roi(**base, rows=rows, total=total, spend=spend, acquired=acquired,
               organic=max(float(acquired) - credited, 0.0),
               horizon_incomplete=incomplete, notes=notes, reason=reason)


def _row(key: str, g: dict[str, Any], w: np.ndarray, cust: _Customers,
         reps: np.ndarray | None, by: str, touched: Mapping[str, int], margin: float,
         as_of_month: int, acquired_by_month: Mapping[int, int], horizon_days: int) -> RoiRow:
    spend = float(g["spend"])
    ch = camp = mo = None
    if by == "channel":
        ch = key
    elif by == "campaign":
        ch, camp = key.split("\x1f", 1)
    elif by == "month":
        mo = key
    customers = float(w.sum())
    first_rev = float(w @ cust.first_amount)
    horizon = float(w @ cust.horizon)
    rc = rf = rh = rl = None
    if reps is not None:
        rc, rf, rh = reps @ w, reps @ (w * cust.first_amount), reps @ (w * cust.horizon)
    lifetime = None
    if cust.clv is not None:
        lifetime = float(w @ (cust.to_date + cust.clv))
        if reps is not None and cust.clv_draws is not None and cust.clv_draws.size:
            rl = ((reps * (cust.to_date[None, :] + cust.clv_draws.T)) @ w)
    q = [(1 - LEVEL) / 2, (1 + LEVEL) / 2]
    c_lo, c_hi = (None, None) if rc is None else map(float, np.quantile(rc, q))
    flags = []
    if spend <= 0:
        flags.append("no_spend")
    if ch is not None and spend > 0 and not touched.get(ch):
        flags.append("no_touchpoints")
    all_customers = None
    if mo is not None:
        mi = int(mo[:4]) * 12 + int(mo[5:]) - 1
        all_customers = int(acquired_by_month.get(mi, 0))
        if (as_of_month - mi) * MONTH_DAYS < horizon_days:
            flags.append("young")
    payback = None if by == "month" else _payback(cust, w, g["by_month"], as_of_month,
                                                  margin)
    return RoiRow(
        key, ch, camp, mo, spend, customers, c_lo, c_hi, first_rev, horizon,
        _ratio(customers, rc, spend, invert=True),
        _ratio(first_rev, rf, spend), _ratio(horizon, rh, spend),
        _ratio(horizon, rh, spend, minus=spend, scale=margin),
        Ratio(None) if lifetime is None else _ratio(lifetime, rl, spend),
        payback, g["plat"], int((w > 0).sum()), all_customers, flags)


__all__ = ["BY", "RULES", "Ratio", "Roi", "RoiRow", "SpendInputError", "roi"]
