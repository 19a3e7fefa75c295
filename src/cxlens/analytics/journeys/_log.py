"""The journey log: the one SQL building block every journey query starts from.

Per customer, the time-ordered touchpoints of every source in one table:

* **events** as their raw ``event_type`` (web, app, e-mail …), kind ``event``; an event of
  the ``support`` channel (Zendesk, Freshdesk, Intercom tickets) is kind ``ticket``;
* **orders** that count (status not ``refunded`` or ``lost``, as the Overview counts them):
  the customer's first ever is ``first_purchase``, every later one ``repeat_purchase``,
  kind ``order`` (not ``purchase``: GA4 exports a ``purchase`` *event* of its own, which
  keeps its name; the two would otherwise read as one touchpoint); ``amount`` holds the
  order's amount when it is in the workspace's currency;
* **feedback answers**, kind ``answer``: NPS as ``answer:promoter|passive|detractor`` (9–10,
  7–8, 0–6); CSAT, CES and ratings as ``answer:satisfied|neutral|dissatisfied`` — satisfied
  is the Experience page's top box (CSAT and ratings the top two, CES the top three points
  of the scale), dissatisfied the follow-up rules' detractor (``surveys/followups.py``:
  CSAT and ratings 1–2, CES 1–3). Employee answers (eNPS) are no customer touchpoint.

The order within a customer is ``ts``, then the fixed kind order event, ticket, order,
answer (a page view and the order it led to may share a second), then ``_batch, _line``:
each batch loads one file of one kind, so the pair is unique over the whole log and both
engines order every tie alike (docs/engine.md, house rule 2).

The filters select **customers**, never single touchpoints, so a journey is always whole
within the period: a segment (``customers.segment``), a channel or a store (customers with at
least one touchpoint there in the period). The period is half-open ``[start, end)`` on the
touchpoints' time. Only the structure of the SQL depends on the filters; every value is a
``$parameter``.

This module is the journeys family's private helper (DESIGN.md): ``journeys.py``,
``paths.py`` and ``process_map.py`` — and the business moments that come next — build on
:func:`log_sql` and its column set, and define no touchpoint rule of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cxlens.analytics._money import CURRENCY, amount_sql

KINDS: tuple[str, ...] = ("event", "ticket", "order", "answer")
"""The kinds of touchpoint, in the order that breaks ties of equal time (1 = first)."""

SUPPORT_CHANNEL = "support"
REPEAT_PURCHASE = "repeat_purchase"
FIRST_PURCHASE = "first_purchase"
PURCHASES: tuple[str, ...] = (FIRST_PURCHASE, REPEAT_PURCHASE)
COUNTED_ORDER = "coalesce(status, '') NOT IN ('refunded', 'lost')"
ANSWER_METRICS: tuple[str, ...] = ("nps", "csat", "ces", "rating")

# The touchpoint of a feedback answer (see the module's docstring for the rules).
_ANSWER = """'answer:' || CASE
    WHEN metric = 'nps' THEN CASE WHEN score >= 9 THEN 'promoter'
                                  WHEN score >= 7 THEN 'passive' ELSE 'detractor' END
    WHEN metric = 'ces' THEN CASE WHEN score >= coalesce(scale_max, 7) - 2 THEN 'satisfied'
                                  WHEN score <= 3 THEN 'dissatisfied' ELSE 'neutral' END
    ELSE CASE WHEN score >= coalesce(scale_max, 5) - 1 THEN 'satisfied'
              WHEN score <= 2 THEN 'dissatisfied' ELSE 'neutral' END
END"""

# Touchpoints of the whole log. {period} is the period's condition or nothing.
_BASE = f"""orders_all AS (
    SELECT customer_id, ts, channel, store_id, amount, currency, _batch, _line,
           row_number() OVER (PARTITION BY customer_id ORDER BY ts, _batch, _line) AS order_no
    FROM v_orders
    WHERE customer_id IS NOT NULL AND ts IS NOT NULL AND {COUNTED_ORDER}
),
base AS (
    SELECT customer_id, ts, CASE WHEN channel = '{SUPPORT_CHANNEL}' THEN 2 ELSE 1 END AS kind,
           event_type AS touchpoint, channel, store_id,
           CAST(NULL AS DECIMAL(18, 4)) AS amount, _batch, _line
    FROM v_events
    WHERE customer_id IS NOT NULL AND ts IS NOT NULL AND event_type IS NOT NULL{{period}}
    UNION ALL
    SELECT customer_id, ts, 3 AS kind,
           CASE WHEN order_no = 1 THEN '{FIRST_PURCHASE}' ELSE '{REPEAT_PURCHASE}' END
               AS touchpoint,
           channel, store_id,
           {{order_amount}} AS amount,
           _batch, _line
    FROM orders_all
    WHERE TRUE{{period}}
    UNION ALL
    SELECT customer_id, ts, 4 AS kind, {_ANSWER} AS touchpoint, channel, store_id,
           CAST(NULL AS DECIMAL(18, 4)) AS amount, _batch, _line
    FROM v_feedback
    WHERE customer_id IS NOT NULL AND ts IS NOT NULL AND score IS NOT NULL
      AND metric IN ({", ".join(f"'{m}'" for m in ANSWER_METRICS)}){{period}}
)"""

ORDER = "ts, tie, _line"
"""The log's order within a customer: unique per row, the same on both engines. ``tie`` is
``kind`` and ``_batch`` in one BIGINT (``kind · 10¹² + _batch``, batch ids being far below
10¹²), so the window sorts on three keys instead of four: the same order as
``ts, kind, _batch, _line``, measurably cheaper (bench/journeys.py)."""

WINDOW = f"PARTITION BY customer_id ORDER BY {ORDER}"


@dataclass(frozen=True)
class Selection:
    """Which journeys: a period ``[start, end)`` of touchpoints, and customers by segment,
    by a channel or by a store they met in it. ``None`` selects everything."""

    start: date | None = None
    end: date | None = None
    segment: str | None = None
    channel: str | None = None
    store: str | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError("start must be before end (end is the day after the last)")

    @property
    def filtered(self) -> bool:
        """Whether any customer filter applies (the period is no customer filter)."""
        return any(v is not None for v in (self.segment, self.channel, self.store))

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "segment": self.segment,
                "channel": self.channel, "store": self.store}

    def period(self) -> tuple[str, dict[str, Any]]:
        """The period as ``AND ts …`` conditions on a ``ts`` column, with their parameters."""
        sql, params = "", {}
        if self.start is not None:
            sql += " AND ts >= $start"
            params["start"] = self.start
        if self.end is not None:
            sql += " AND ts < $end"
            params["end"] = self.end
        return sql, params


def log_sql(sel: Selection, currency: str = CURRENCY,
            rates: Mapping[str, float] | None = None) -> tuple[str, dict[str, Any]]:
    """``WITH …, log AS (…)`` and its parameters: the CTEs a journey query continues with
    ``, name AS (…) SELECT …`` or a plain ``SELECT … FROM log``.

    ``log`` has one row per touchpoint: ``customer_id, ts, ts_s`` (whole seconds since
    1970, the portable way to subtract times), ``kind`` (1–4, :data:`KINDS`),
    ``touchpoint``, ``tie`` (see :data:`ORDER`), ``channel, store_id, amount`` (DECIMAL,
    orders in ``currency``, others converted at ``rates``, NULL without a rate) and
    ``_batch, _line``. ``orders_all`` (every counted order
    ever, with ``order_no``) stays visible for rules that look past the period, such as
    churn.
    """
    amount, a_params, in_currency, c_params = amount_sql(rates or {}, prefix="o")
    order_amount = f"CASE WHEN {in_currency} THEN CAST({amount} AS DECIMAL(18, 4)) END"
    period, p_params = sel.period()
    params: dict[str, Any] = {"currency": currency, **a_params, **c_params, **p_params}
    conds = []
    if sel.segment is not None:
        conds.append("customer_id IN (SELECT customer_id FROM customers "
                     "WHERE segment = $segment)")
        params["segment"] = sel.segment
    if sel.channel is not None:
        conds.append("customer_id IN (SELECT customer_id FROM base WHERE channel = $channel)")
        params["channel"] = sel.channel
    if sel.store is not None:
        conds.append("customer_id IN (SELECT customer_id FROM base WHERE store_id = $store)")
        params["store"] = sel.store
    where = f"\n    WHERE {' AND '.join(conds)}" if conds else ""
    sql = (f"WITH {_BASE.format(period=period, order_amount=order_amount)},\nlog AS (\n"
           f"    SELECT customer_id, ts, CAST(floor(epoch(ts)) AS BIGINT) AS ts_s, kind, "
           f"touchpoint,\n           CAST(kind AS BIGINT) * 1000000000000 + _batch AS tie, "
           f"channel, store_id, amount, _batch, _line\n"
           f"    FROM base{where}\n)")
    return sql, params


def kind_name(kind: int) -> str:
    """``1`` → ``'event'`` … (the log keeps the kind as its tie-breaking number)."""
    return KINDS[int(kind) - 1]


KIND_CASE = ("CASE kind WHEN 1 THEN 'event' WHEN 2 THEN 'ticket' WHEN 3 THEN 'order' "
             "ELSE 'answer' END")
"""SQL giving a log row's kind as text."""
