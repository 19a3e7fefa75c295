"""Identity resolution: link every identifier seen on the same record into one customer.

Each record's identifiers (``type:value`` keys) form a star of edges around the record's
primary key ``_idkey``. Connected components are found in SQL by minimum-label propagation:
every key starts with itself as label and repeatedly takes the smallest label among its
neighbours until no label changes (a handful of rounds: the number grows with the longest
chain of records that link different identifiers). The customer id is a hash of the
component's smallest key, so the same data always gives the same ids.
"""

from __future__ import annotations

import duckdb

from cxlens.schema import IDENTITY_TYPES, KINDS

MAX_ROUNDS = 100


def _edge_sql() -> str:
    """Edges from each table's distinct identifier combinations: one scan per table."""
    parts = []
    for k in KINDS.values():
        if not k.needs_identity:
            continue
        ids = [t for t in IDENTITY_TYPES if t in k.field_names]
        combos = (f"SELECT DISTINCT _idkey, {', '.join(ids)} FROM {k.table} "
                  "WHERE _superseded_by IS NULL AND _idkey IS NOT NULL")
        keys = ", ".join(f"'{t}:' || {t}" for t in ids)
        parts.append(f"SELECT _idkey AS a, unnest(list_filter([{keys}], lambda x: x IS NOT NULL))"
                     f" AS b FROM ({combos})")
    return "SELECT DISTINCT a, b FROM (" + " UNION ALL ".join(parts) + ")"


def resolve(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Recompute ``identities`` and ``customers`` from all current records.

    Runs inside the caller's transaction, so an ingest and its resolution commit together.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE _edges AS {_edge_sql()}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _und AS "
        "SELECT a, b FROM _edges WHERE a <> b UNION SELECT b, a FROM _edges WHERE a <> b"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _lab AS "
        "SELECT DISTINCT a AS node, a AS label FROM _edges UNION SELECT b, b FROM _edges"
    )
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _new AS "
            "SELECT l.node, least(l.label, coalesce(min(n.label), l.label)) AS label "
            "FROM _lab l LEFT JOIN _und u ON u.a = l.node LEFT JOIN _lab n ON n.node = u.b "
            "GROUP BY l.node, l.label"
        )
        changed = con.execute(
            "SELECT count(*) FROM _new JOIN _lab USING (node) WHERE _new.label <> _lab.label"
        ).fetchall()[0][0]
        con.execute("CREATE OR REPLACE TEMP TABLE _lab AS SELECT * FROM _new")
        if changed == 0:
            break
    else:  # pragma: no cover - a graph this deep means corrupt input, not a user error
        raise RuntimeError("identity resolution did not converge")
    con.execute("DELETE FROM identities")
    con.execute(
        "INSERT INTO identities SELECT node, split_part(node, ':', 1), "
        "substr(node, strpos(node, ':') + 1), 'C' || substr(md5(label), 1, 12) FROM _lab"
    )
    _rebuild_customers(con)
    for t in ("_edges", "_und", "_lab", "_new"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    n_ids, n_customers = con.execute(
        "SELECT count(*), count(DISTINCT customer_id) FROM identities"
    ).fetchall()[0]
    return {"identifiers": n_ids, "customers": n_customers, "rounds": rounds}


def _rebuild_customers(con: duckdb.DuckDBPyConnection) -> None:
    """One row per customer: when first and last seen, and the latest CRM attributes."""
    seen = " UNION ALL ".join(
        f"SELECT _idkey, min({k.ts_field}) AS lo, max({k.ts_field}) AS hi, count(*) AS n "
        f"FROM {k.table} WHERE _superseded_by IS NULL GROUP BY _idkey"
        for k in KINDS.values() if k.needs_identity
    )
    con.execute("DELETE FROM customers")
    con.execute(f"""
        INSERT INTO customers
        WITH seen AS (
            SELECT i.customer_id, min(s.lo) AS first_seen, max(s.hi) AS last_seen,
                   sum(s.n) AS records
            FROM ({seen}) s JOIN identities i ON i.identity_key = s._idkey
            GROUP BY i.customer_id
        ),
        attrs AS (
            SELECT i.customer_id,
                   arg_max(coalesce(r.name, nullif(concat_ws(' ', r.first_name, r.last_name), '')),
                           r._batch) AS name,
                   arg_max(r.language, r._batch) AS language,
                   arg_max(r.country, r._batch) AS country,
                   arg_max(r.city, r._batch) AS city,
                   arg_max(r.segment, r._batch) AS segment
            FROM customer_records r JOIN identities i ON i.identity_key = r._idkey
            WHERE r._superseded_by IS NULL GROUP BY i.customer_id
        ),
        fb_lang AS (
            SELECT i.customer_id, mode(f.language) AS language
            FROM feedback f JOIN identities i ON i.identity_key = f._idkey
            WHERE f._superseded_by IS NULL AND f.language IS NOT NULL GROUP BY i.customer_id
        ),
        ids AS (
            SELECT customer_id, count(*) AS identifiers,
                   min(value) FILTER (WHERE identity_type = 'email') AS email,
                   min(value) FILTER (WHERE identity_type = 'phone') AS phone
            FROM identities GROUP BY customer_id
        )
        SELECT ids.customer_id, seen.first_seen, seen.last_seen, attrs.name, ids.email,
               ids.phone, coalesce(attrs.language, fb_lang.language), attrs.country,
               attrs.city, attrs.segment, ids.identifiers, coalesce(seen.records, 0)
        FROM ids LEFT JOIN seen USING (customer_id) LEFT JOIN attrs USING (customer_id)
        LEFT JOIN fb_lang USING (customer_id)
    """)


def lookup_key(identifier: str, country: str = "FI") -> list[str]:
    """Candidate identity keys for something a person typed: an e-mail, phone, id …"""
    import phonenumbers

    text = identifier.strip()
    if ":" in text and text.split(":", 1)[0] in IDENTITY_TYPES:
        return [text]
    keys = [f"{t}:{text}" for t in ("crm_id", "loyalty_id", "anonymous_id")]
    if "@" in text:
        keys.insert(0, f"email:{text.lower()}")
    try:
        num = phonenumbers.parse(text, country)
        if phonenumbers.is_possible_number(num):
            keys.append("phone:" + phonenumbers.format_number(
                num, phonenumbers.PhoneNumberFormat.E164))
    except phonenumbers.NumberParseException:
        pass
    if text.startswith("C") and len(text) == 13:
        keys.append(f"customer:{text}")
    return keys
