"""One customer's unified profile and timeline across every source.

Reads through an :class:`~cxlens.warehouse.engine.Engine` (DuckDB or Spark) with SQL in
DuckDB's dialect that follows docs/engine.md's house rules. The timeline is ordered newest
first with unique tie-breakers (source kind, then the row's batch and line), so a limited
timeline holds the same rows in the same order on every engine and every run, even where
several things happened in the same second.
"""

from __future__ import annotations

from typing import Any

from cxlens.analytics._money import CURRENCY, IN_CURRENCY
from cxlens.analytics._rows import plain_rows
from cxlens.errors import UserError
from cxlens.ingest.identity import lookup_key
from cxlens.warehouse.engine import Engine

# ``kind`` orders rows of equal time (orders, events, feedback, then the customer record);
# (_batch, _line) is unique within each view. Both stay inside the query.
_TIMELINE = """
WITH t AS (
    SELECT ts, source, 'order ' || order_id AS what,
           CAST(amount AS VARCHAR) || ' ' || coalesce(currency, '')
               || coalesce(' · ' || channel, '') AS detail,
           1 AS kind, _batch, _line
    FROM v_orders WHERE customer_id = $cid
    UNION ALL
    SELECT ts, source, event_type AS what,
           concat_ws(' · ', channel, campaign, store_id) AS detail, 2 AS kind, _batch, _line
    FROM v_events WHERE customer_id = $cid
    UNION ALL
    SELECT ts, source, metric || ' ' || CAST(CAST(score AS DOUBLE) AS VARCHAR) AS what,
           left(comment, 120) AS detail, 3 AS kind, _batch, _line
    FROM v_feedback WHERE customer_id = $cid
    UNION ALL
    SELECT created_at AS ts, source, 'customer record' AS what,
           concat_ws(' · ', segment, city, country) AS detail, 4 AS kind, _batch, _line
    FROM v_customer_records WHERE customer_id = $cid
),
ranked AS (
    SELECT ts, source, what, detail,
           row_number() OVER (ORDER BY ts DESC NULLS LAST, kind, _batch, _line) AS pos
    FROM t
)
SELECT ts, source, what, detail FROM ranked WHERE pos <= $limit ORDER BY pos
"""

_FIND = """
SELECT DISTINCT customer_id FROM identities WHERE list_contains($keys, identity_key)
UNION
SELECT customer_id FROM customers WHERE list_contains($keys, 'customer:' || customer_id)
"""

_CUSTOMER = """
SELECT customer_id, first_seen, last_seen, name, email, phone, language, country, city,
       segment, identifiers, records
FROM customers WHERE customer_id = $cid
"""

_IDENTIFIERS = "SELECT identity_key FROM identities WHERE customer_id = $cid ORDER BY identity_key"

_SUMMARY = f"""
SELECT
  (SELECT count(*) FROM v_orders WHERE customer_id = $cid) AS orders,
  (SELECT CAST(coalesce(sum(amount), 0) AS DOUBLE) FROM v_orders WHERE customer_id = $cid
     AND {IN_CURRENCY}) AS revenue,
  (SELECT count(*) FROM v_orders WHERE customer_id = $cid
     AND NOT coalesce({IN_CURRENCY}, false)) AS other_currency_orders,
  (SELECT count(*) FROM v_events WHERE customer_id = $cid) AS events,
  (SELECT count(*) FROM v_feedback WHERE customer_id = $cid) AS feedback
"""


def find_customer(engine: Engine, identifier: str) -> str:
    """The customer id behind anything a person typed; a clear error when none matches."""
    rows = engine.query(_FIND, {"keys": lookup_key(identifier)}).to_pylist()
    if not rows:
        raise UserError(f"no customer found for {identifier!r}",
                        hint="try an e-mail, phone (+358…), CRM id, loyalty number or cookie id")
    if len(rows) > 1:
        raise UserError(f"{identifier!r} matches {len(rows)} customers",
                        hint="prefix the type, e.g. crm_id:123 or loyalty_id:123")
    return str(rows[0]["customer_id"])


def profile(engine: Engine, identifier: str, limit: int = 50,
            currency: str = CURRENCY) -> dict[str, Any]:
    """The customer behind ``identifier``: their record, identifiers, counts and the newest
    ``limit`` entries of their timeline (orders, events, feedback, customer records).
    The summary's revenue is in ``currency`` only; ``other_currency_orders`` counts the
    orders in other currencies, which are not added to it."""
    cid = find_customer(engine, identifier)
    params = {"cid": cid}
    customer = plain_rows(engine.query(_CUSTOMER, params))[0]
    ids = [r["identity_key"] for r in engine.query(_IDENTIFIERS, params).to_pylist()]
    s = engine.query(_SUMMARY, {**params, "currency": currency}).to_pylist()[0]
    timeline = plain_rows(engine.query(_TIMELINE, {"cid": cid, "limit": max(int(limit), 0)}))
    return {
        "customer": customer,
        "identifiers": ids,
        "summary": {"orders": int(s["orders"]), "revenue": float(s["revenue"]),
                    "currency": currency,
                    "other_currency_orders": int(s["other_currency_orders"]),
                    "events": int(s["events"]), "feedback": int(s["feedback"])},
        "timeline": timeline,
    }
