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
           CAST(CAST(amount AS DECIMAL(18, 2)) AS VARCHAR) || ' ' || coalesce(currency, '')
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

# The customer's latest NPS answer (ties: the later batch and line), for the profile's
# header: promoter, passive or detractor.
_LATEST_NPS = """
SELECT CAST(score AS DOUBLE) AS score, ts FROM v_feedback
WHERE customer_id = $cid AND metric = 'nps' AND score IS NOT NULL
ORDER BY ts DESC NULLS LAST, _batch DESC, _line DESC LIMIT 1
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


# Customers whose name, e-mail or any identifier holds the text, or whose phone holds the
# digits typed: "nieminen", "@acme.fi", "40 123". instr() is in both engines' dialects.
_SEARCH = """
SELECT c.customer_id, c.name, c.email, c.phone, c.city, c.last_seen
FROM customers c
WHERE instr(lower(coalesce(c.name, '')), $text) > 0
   OR instr(lower(coalesce(c.email, '')), $text) > 0
   OR ($digits <> '' AND instr(regexp_replace(coalesce(c.phone, ''), '[^0-9]', '', 'g'),
                              $digits) > 0)
   OR c.customer_id IN (SELECT customer_id FROM identities
                        WHERE instr(lower(identity_key), $text) > 0)
ORDER BY c.last_seen DESC NULLS LAST, c.customer_id
LIMIT $limit
"""
MIN_SEARCH = 3  # characters: fewer would match a large share of any customer base


def search_customers(engine: Engine, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Customers matching part of a name, an e-mail address, a phone number or an
    identifier, most recently seen first; at most ``limit``. Text shorter than
    ``MIN_SEARCH`` characters matches nobody."""
    needle = text.strip().lower()
    if len(needle) < MIN_SEARCH:
        return []
    digits = "".join(ch for ch in needle if ch.isdigit())
    if digits.startswith("0"):
        digits = digits[1:]  # a national number's trunk 0: stored numbers are E.164
    if len(digits) < MIN_SEARCH:
        digits = ""
    return plain_rows(engine.query(_SEARCH, {"text": needle, "digits": digits,
                                            "limit": max(int(limit), 0)}))


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
    nps = plain_rows(engine.query(_LATEST_NPS, params))
    latest = None
    if nps:
        score = float(nps[0]["score"])
        latest = {"score": score, "ts": nps[0]["ts"],
                  "group": "promoter" if score >= 9 else "passive" if score >= 7
                  else "detractor"}
    return {
        "customer": customer,
        "identifiers": ids,
        "summary": {"orders": int(s["orders"]), "revenue": float(s["revenue"]),
                    "currency": currency,
                    "other_currency_orders": int(s["other_currency_orders"]),
                    "events": int(s["events"]), "feedback": int(s["feedback"])},
        "timeline": timeline,
        "latest_nps": latest,
    }
