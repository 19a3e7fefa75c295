"""The values a journeys filter can take: the segments of customers, and the channels and
stores their touchpoints carry.

A form offers them (the Journeys and Moments pages), so this is a list, not a statistic:
each dimension sorted, at most ``limit`` values of each, so a warehouse with thousands of
stores still gives a form of bounded size. It lives with the analytics, not the page,
because outputs do not query the warehouse; it runs the same SQL on DuckDB and Spark.
"""

from __future__ import annotations

from cxlens.warehouse.engine import Engine

DIMENSIONS = ("segment", "channel", "store")
DEFAULT_LIMIT = 200

# Where each dimension's values are found (every touchpoint table carries channel and store).
_SOURCES = [("segment", "segment", "customers")] + [
    (dim, column, table)
    for dim, column in (("channel", "channel"), ("store", "store_id"))
    for table in ("v_events", "v_orders", "v_feedback")
]


def _sql(limit: int) -> str:
    union = "\n    UNION ".join(
        f"SELECT '{dim}' AS dim, CAST({column} AS STRING) AS value FROM {table} "
        f"WHERE {column} IS NOT NULL" for dim, column, table in _SOURCES)
    # UNION drops repeats; the rank keeps the first `limit` of each dimension by value
    return f"""SELECT dim, value FROM (
    SELECT dim, value, row_number() OVER (PARTITION BY dim ORDER BY value) AS n FROM (
    {union}
    ) u
) o WHERE n <= {int(limit)} ORDER BY dim, value"""


def filter_options(engine: Engine, limit: int = DEFAULT_LIMIT) -> dict[str, list[str]]:
    """Dimension (``segment``, ``channel``, ``store``) -> its values, sorted, at most
    ``limit`` each (the first by value: the same on every engine)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    out: dict[str, list[str]] = {dim: [] for dim in DIMENSIONS}
    for r in engine.query(_sql(limit)).to_pylist():
        out[r["dim"]].append(str(r["value"]))
    return out
