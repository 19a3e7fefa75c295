"""One customer's unified profile and timeline across every source."""

from __future__ import annotations

from typing import Any

import duckdb

from cxlens.errors import UserError
from cxlens.ingest.identity import lookup_key

_TIMELINE = """
SELECT ts, source, 'order ' || order_id AS what,
       amount::VARCHAR || ' ' || coalesce(currency, '') || coalesce(' · ' || channel, '') AS detail
FROM v_orders WHERE customer_id = $cid
UNION ALL
SELECT ts, source, event_type, concat_ws(' · ', channel, campaign, store_id)
FROM v_events WHERE customer_id = $cid
UNION ALL
SELECT ts, source, metric || ' ' || score::DOUBLE, left(comment, 120)
FROM v_feedback WHERE customer_id = $cid
UNION ALL
SELECT created_at, source, 'customer record', concat_ws(' · ', segment, city, country)
FROM v_customer_records WHERE customer_id = $cid
ORDER BY ts DESC NULLS LAST
"""


def find_customer(con: duckdb.DuckDBPyConnection, identifier: str) -> str:
    """The customer id behind anything a person typed; a clear error when none matches."""
    keys = lookup_key(identifier)
    direct = [k.split(":", 1)[1] for k in keys if k.startswith("customer:")]
    rows = con.execute(
        "SELECT DISTINCT customer_id FROM identities WHERE list_contains(?, identity_key) "
        "UNION SELECT customer_id FROM customers WHERE list_contains(?, customer_id)",
        [keys, direct],
    ).fetchall()
    if not rows:
        raise UserError(f"no customer found for {identifier!r}",
                        hint="try an e-mail, phone (+358…), CRM id, loyalty number or cookie id")
    if len(rows) > 1:
        raise UserError(f"{identifier!r} matches {len(rows)} customers",
                        hint="prefix the type, e.g. crm_id:123 or loyalty_id:123")
    return str(rows[0][0])


def profile(con: duckdb.DuckDBPyConnection, identifier: str, limit: int = 50) -> dict[str, Any]:
    cid = find_customer(con, identifier)
    rel = con.execute("SELECT * FROM customers WHERE customer_id = ?", [cid])
    cols = [d[0] for d in rel.description]
    customer = dict(zip(cols, rel.fetchall()[0], strict=True))
    ids = [r[0] for r in con.execute(
        "SELECT identity_key FROM identities WHERE customer_id = ? ORDER BY identity_key", [cid]
    ).fetchall()]
    orders, revenue = con.execute(
        "SELECT count(*), coalesce(sum(amount), 0) FROM v_orders WHERE customer_id = ?", [cid]
    ).fetchall()[0]
    events = con.execute("SELECT count(*) FROM v_events WHERE customer_id = ?", [cid]).fetchall()
    feedback = con.execute("SELECT count(*) FROM v_feedback WHERE customer_id = ?",
                           [cid]).fetchall()
    timeline = con.execute(f"{_TIMELINE} LIMIT {int(limit)}", {"cid": cid}).fetchall()
    return {
        "customer": customer,
        "identifiers": ids,
        "summary": {"orders": int(orders), "revenue": float(revenue),
                    "events": int(events[0][0]), "feedback": int(feedback[0][0])},
        "timeline": [dict(zip(("ts", "source", "what", "detail"), r, strict=True))
                     for r in timeline],
    }
