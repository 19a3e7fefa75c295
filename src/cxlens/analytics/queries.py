"""Representative analytic queries, written once in DuckDB SQL and run on any ``Engine``.

These are the shapes the analytics modules are built from — per-customer aggregates, windows
over a customer's event stream, ordered aggregation, sessionisation, cohorts — kept here as
the reference that the DuckDB/Spark parity tests run (tests/warehouse/test_engine_parity.py,
with the transpiled Spark SQL under tests/warehouse/sql/). Each SQL text is a module
constant, so it is translated once (SparkEngine caches translations) and can be reviewed.

House rules the queries follow (docs/engine.md explains each):

* every computed column has an alias;
* every ordered window and ordered aggregate ends with a tie-breaker unique per row that
  both engines order alike: the row's arrival, ``_batch, _line`` (integers; a current row's
  pair is unique). Not ``event_id``: GA4 and Mailchimp events have none, and equal
  timestamps without it came out in different orders on Spark and DuckDB (the L demo).
  ``arg_min``/``arg_max`` take a struct ``struct_pack(t := ts, b := _batch, l := _line)``
  for the same reason. A result's own ``ORDER BY`` is unique too (``event_seq``,
  ``session_no``), so both engines return the same rows in the same order;
* seconds between timestamps are ``CAST(floor(epoch(ts)) AS BIGINT)`` differences, never
  ``date_diff`` on timestamps (DuckDB counts boundaries, Spark elapsed units);
* aggregates whose result type differs between engines carry an explicit ``CAST``
  (``sum`` of integers, ``avg`` of decimals).

Rows whose ``customer_id`` is NULL (events not yet resolved to a customer) are left out.
"""

from __future__ import annotations

import pyarrow as pa

from cxlens.warehouse.engine import Engine

ORDERS_PER_CUSTOMER = """
SELECT
    customer_id,
    count(*) AS orders,
    count(*) FILTER (WHERE status = 'refunded') AS refunded_orders,
    count(DISTINCT channel) AS channels,
    coalesce(sum(amount) FILTER (WHERE status IS DISTINCT FROM 'refunded'), 0) AS revenue,
    CAST(avg(amount) AS DOUBLE) AS avg_order_value,
    min(ts) AS first_order_at,
    max(ts) AS last_order_at
FROM orders
WHERE customer_id IS NOT NULL
GROUP BY customer_id
ORDER BY customer_id
"""

EVENT_GAPS = """
WITH e AS (
    SELECT customer_id, event_id, ts, event_type, channel, _batch, _line,
           CAST(floor(epoch(ts)) AS BIGINT) AS ts_s
    FROM events
    WHERE customer_id IS NOT NULL
)
SELECT
    customer_id,
    event_id,
    ts,
    event_type,
    row_number() OVER w AS event_seq,
    lag(event_type) OVER w AS prev_event_type,
    lag(channel, 1, 'none') OVER w AS prev_channel,
    ts_s - lag(ts_s) OVER w AS seconds_since_prev,
    lead(event_type) OVER w AS next_event_type
FROM e
WINDOW w AS (PARTITION BY customer_id ORDER BY ts, _batch, _line)
ORDER BY customer_id, event_seq
"""

EVENT_PATHS = """
SELECT
    customer_id,
    count(*) AS events,
    count(DISTINCT event_type) AS distinct_event_types,
    string_agg(event_type, ' > ' ORDER BY ts, _batch, _line) AS path,
    arg_min(event_type, struct_pack(t := ts, b := _batch, l := _line)) AS first_event_type,
    min(ts) AS first_event_at,
    max(ts) AS last_event_at
FROM events
WHERE customer_id IS NOT NULL
GROUP BY customer_id
ORDER BY customer_id
"""

SESSIONS = """
WITH e AS (
    SELECT customer_id, ts, event_type, _batch, _line,
           CAST(floor(epoch(ts)) AS BIGINT) AS ts_s
    FROM events
    WHERE customer_id IS NOT NULL
),
flagged AS (
    SELECT *,
           CASE
               WHEN ts_s - lag(ts_s) OVER (PARTITION BY customer_id ORDER BY ts, _batch, _line)
                    <= $gap_seconds THEN 0
               ELSE 1
           END AS starts_session
    FROM e
),
numbered AS (
    SELECT *,
           CAST(sum(starts_session) OVER (
               PARTITION BY customer_id ORDER BY ts, _batch, _line
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) AS BIGINT) AS session_no
    FROM flagged
)
SELECT
    customer_id,
    session_no,
    min(ts) AS session_start,
    max(ts) AS session_end,
    max(ts_s) - min(ts_s) AS duration_s,
    count(*) AS events,
    string_agg(event_type, ' > ' ORDER BY ts, _batch, _line) AS path
FROM numbered
GROUP BY customer_id, session_no
ORDER BY customer_id, session_no
"""

COHORT_RETENTION = """
WITH firsts AS (
    SELECT customer_id, min(ts) AS first_ts
    FROM orders
    WHERE customer_id IS NOT NULL
    GROUP BY customer_id
),
activity AS (
    SELECT DISTINCT
        o.customer_id,
        CAST(date_trunc('month', f.first_ts) AS DATE) AS cohort_month,
        (year(o.ts) - year(f.first_ts)) * 12 + month(o.ts) - month(f.first_ts)
            AS months_since_first
    FROM orders AS o
    JOIN firsts AS f ON o.customer_id = f.customer_id
),
counts AS (
    SELECT cohort_month, months_since_first, count(*) AS customers
    FROM activity
    GROUP BY cohort_month, months_since_first
)
SELECT
    cohort_month,
    months_since_first,
    customers,
    first_value(customers) OVER (
        PARTITION BY cohort_month ORDER BY months_since_first
    ) AS cohort_size,
    CAST(customers AS DOUBLE) / first_value(customers) OVER (
        PARTITION BY cohort_month ORDER BY months_since_first
    ) AS retention
FROM counts
ORDER BY cohort_month, months_since_first
"""

# name -> SQL, for the parity tests and the golden files of transpiled Spark SQL.
QUERIES: dict[str, str] = {
    "orders_per_customer": ORDERS_PER_CUSTOMER,
    "event_gaps": EVENT_GAPS,
    "event_paths": EVENT_PATHS,
    "sessions": SESSIONS,
    "cohort_retention": COHORT_RETENTION,
}


def orders_per_customer(engine: Engine) -> pa.Table:
    """Orders, refunds, channels, revenue (refunds excluded) and order dates per customer."""
    return engine.query(ORDERS_PER_CUSTOMER)


def event_gaps(engine: Engine) -> pa.Table:
    """Each event with its predecessor: previous type and channel, seconds since it.

    The raw material of journey analysis (directly-follows pairs, time between touchpoints).
    """
    return engine.query(EVENT_GAPS)


def event_paths(engine: Engine) -> pa.Table:
    """Each customer's whole event path as one ordered string ``'a > b > c'``.

    A string rather than a list because ordered ``list()`` does not survive the
    translation to Spark (see docs/engine.md); split it in Python when needed.
    """
    return engine.query(EVENT_PATHS)


def sessions(engine: Engine, gap_minutes: int = 30) -> pa.Table:
    """Sessions per customer: a new session starts after ``gap_minutes`` of silence."""
    return engine.query(SESSIONS, {"gap_seconds": int(gap_minutes) * 60})


def cohort_retention(engine: Engine) -> pa.Table:
    """Customers still ordering N months after their first order, per first-order month."""
    return engine.query(COHORT_RETENTION)
