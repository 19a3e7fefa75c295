"""Identity resolution: link every identifier seen on the same record into one customer.

Each record's identifiers (``type:value`` keys) form a star of edges around the record's
primary key ``_idkey``. Connected components are found in SQL by minimum-label propagation:
every key starts with itself as label and repeatedly takes the smallest label among its
neighbours until no label changes (a handful of rounds: the number grows with the longest
chain of records that link different identifiers). The customer id is a hash of the
component's smallest key, so the same data always gives the same ids.

Each identity also records which batch's resolution last wrote it (``resolved_in``) and,
when that resolution was incremental, the customer it had just before
(``previous_customer_id``): the lake mirror writes exactly those identities and the
customers on either side of them, without reading its own copy (``warehouse/lake.py``).
"""

from __future__ import annotations

import duckdb

from cxlens.schema import IDENTITY_TYPES, KINDS

MAX_ROUNDS = 100


def _edge_sql(only_table: str | None = None, batch: int | None = None) -> str:
    """Edges from each table's distinct identifier combinations: one scan per table.

    With ``only_table`` and ``batch``, only the rows that batch added to that table.
    """
    parts = []
    for k in KINDS.values():
        if not k.needs_identity or (only_table and k.table != only_table):
            continue
        ids = [t for t in IDENTITY_TYPES if t in k.field_names]
        rows = "_superseded_by IS NULL" + (f" AND _batch = {batch}" if batch is not None else "")
        combos = (f"SELECT DISTINCT _idkey, {', '.join(ids)} FROM {k.table} "
                  f"WHERE {rows} AND _idkey IS NOT NULL")
        keys = ", ".join(f"'{t}:' || {t}" for t in ids)
        parts.append(f"SELECT _idkey AS a, unnest(list_filter([{keys}], lambda x: x IS NOT NULL))"
                     f" AS b FROM ({combos})")
    return "SELECT DISTINCT a, b FROM (" + " UNION ALL ".join(parts) + ")"


def _propagate(con: duckdb.DuckDBPyConnection) -> int:
    """Minimum-label propagation over ``_und`` (both directions) starting from ``_lab``."""
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
        con.execute("DROP TABLE _lab")
        con.execute("ALTER TABLE _new RENAME TO _lab")
        if changed == 0:
            return rounds
    raise RuntimeError("identity resolution did not converge")  # pragma: no cover


# 64 bits of the MD5: two components sharing an id is ~1e-8 likely at a million customers.
def _customer_id(label: str) -> str:
    return f"'C' || substr(md5({label}), 1, 16)"


_CUSTOMER_ID = _customer_id("label")


def resolve(con: duckdb.DuckDBPyConnection, *, table: str | None = None,
            batch: int | None = None) -> dict[str, int]:
    """Bring ``identities`` and ``customers`` up to date; inside the caller's transaction.

    Given the ``table`` and ``batch`` that only *added* rows, the work is incremental:
    adding records can only merge components, never split them, so each existing
    component is treated as one node (its label is its smallest key) and only the new
    edges are propagated. The result is the same as a full recomputation, which runs when
    rows were removed or replaced (rollbacks, changed records) or when nothing is given.
    """
    if table is None or batch is None or not con.execute(
            "SELECT count(*) FROM (SELECT 1 FROM identities LIMIT 1)").fetchall()[0][0]:
        return _resolve_all(con, batch)  # nothing to build on: the full pass is cheaper
    con.execute(f"CREATE OR REPLACE TEMP TABLE _edges AS {_edge_sql(table, batch)}")
    con.execute("CREATE OR REPLACE TEMP TABLE _n AS SELECT a AS node FROM _edges "
                "UNION SELECT b FROM _edges")
    # Every key of every existing customer touched by the batch, with its component label.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _old AS
        SELECT identity_key AS node, customer_id,
               min(identity_key) OVER (PARTITION BY customer_id) AS label
        FROM identities WHERE customer_id IN (
            SELECT customer_id FROM identities WHERE identity_key IN (SELECT node FROM _n))
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _L AS
        SELECT n.node, coalesce(o.label, n.node) AS label FROM _n n LEFT JOIN _old o USING (node)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _und AS
        WITH e AS (SELECT la.label AS a, lb.label AS b FROM _edges
                   JOIN _L la ON la.node = _edges.a JOIN _L lb ON lb.node = _edges.b)
        SELECT a, b FROM e WHERE a <> b UNION SELECT b, a FROM e WHERE a <> b
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _lab AS SELECT DISTINCT label AS node, label "
                "FROM _L")
    rounds = _propagate(con)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _final AS
        SELECT x.node, f.label FROM (SELECT node, label FROM _old UNION SELECT node, label
                                     FROM _L) x JOIN _lab f ON f.node = x.label
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _affected AS
        SELECT customer_id FROM _old UNION SELECT {_CUSTOMER_ID} FROM _final
    """)
    con.execute("DELETE FROM identities WHERE identity_key IN (SELECT node FROM _final)")
    # ``_old`` holds every identity of the customers the batch touched, with its customer
    # before this batch: the previous customer of each rewritten identity (NULL when new).
    con.execute(
        "INSERT INTO identities SELECT f.node, split_part(f.node, ':', 1), "
        f"substr(f.node, strpos(f.node, ':') + 1), {_customer_id('f.label')}, {int(batch)}, "
        "o.customer_id FROM _final f LEFT JOIN _old o USING (node)"
    )
    _rebuild_customers(con, only="_affected")
    return _finish(con, rounds)


def _resolve_all(con: duckdb.DuckDBPyConnection, batch: int | None = None) -> dict[str, int]:
    """Every identity and customer from scratch; ``batch`` (the batch being loaded, if
    any) is recorded as each identity's ``resolved_in``, with no previous customer: what
    the identities were before is not compared, so the lake rewrites both tables whole
    after a full pass, except after the first batch with identifiers (nothing before)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _edges AS {_edge_sql()}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _und AS "
        "SELECT a, b FROM _edges WHERE a <> b UNION SELECT b, a FROM _edges WHERE a <> b"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _lab AS "
        "SELECT DISTINCT a AS node, a AS label FROM _edges UNION SELECT b, b FROM _edges"
    )
    rounds = _propagate(con)
    con.execute("DELETE FROM identities")
    resolved_in = "NULL" if batch is None else str(int(batch))
    con.execute(
        "INSERT INTO identities SELECT node, split_part(node, ':', 1), "
        f"substr(node, strpos(node, ':') + 1), {_CUSTOMER_ID}, {resolved_in}, NULL FROM _lab"
    )
    _rebuild_customers(con)
    return _finish(con, rounds)


def _finish(con: duckdb.DuckDBPyConnection, rounds: int) -> dict[str, int]:
    for t in ("_edges", "_und", "_lab", "_new", "_n", "_old", "_L", "_final", "_affected"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    n_ids, n_customers = con.execute(
        "SELECT count(*), count(DISTINCT customer_id) FROM identities"
    ).fetchall()[0]
    return {"identifiers": n_ids, "customers": n_customers, "rounds": rounds}


def _rebuild_customers(con: duckdb.DuckDBPyConnection, only: str | None = None) -> None:
    """One row per customer: when first and last seen, and the latest CRM attributes.

    ``only`` names a table of ``customer_id``s to rebuild; all customers when absent.
    """
    ids = "identities" if only is None else (
        f"(SELECT * FROM identities WHERE customer_id IN (SELECT customer_id FROM {only}))")
    keys = "" if only is None else f" AND _idkey IN (SELECT identity_key FROM {ids})"
    seen = " UNION ALL ".join(
        f"SELECT _idkey, min({k.ts_field}) AS lo, max({k.ts_field}) AS hi, count(*) AS n "
        f"FROM {k.table} WHERE _superseded_by IS NULL{keys} GROUP BY _idkey"
        for k in KINDS.values() if k.needs_identity
    )
    if only is None:
        con.execute("DELETE FROM customers")
    else:
        con.execute(f"DELETE FROM customers WHERE customer_id IN (SELECT customer_id FROM {only})")
    con.execute(f"""
        INSERT INTO customers
        WITH ident AS (SELECT * FROM {ids}),
        seen AS (
            SELECT i.customer_id, min(s.lo) AS first_seen, max(s.hi) AS last_seen,
                   sum(s.n) AS records
            FROM ({seen}) s JOIN ident i ON i.identity_key = s._idkey
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
            FROM customer_records r JOIN ident i ON i.identity_key = r._idkey
            WHERE r._superseded_by IS NULL GROUP BY i.customer_id
        ),
        fb_lang AS (
            SELECT i.customer_id, mode(f.language) AS language
            FROM feedback f JOIN ident i ON i.identity_key = f._idkey
            WHERE f._superseded_by IS NULL AND f.language IS NOT NULL GROUP BY i.customer_id
        ),
        ids AS (
            SELECT customer_id, count(*) AS identifiers,
                   min(value) FILTER (WHERE identity_type = 'email') AS email,
                   min(value) FILTER (WHERE identity_type = 'phone') AS phone
            FROM ident GROUP BY customer_id
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
    if text.startswith("C") and len(text) == 17:
        keys.append(f"customer:{text}")
    return keys
