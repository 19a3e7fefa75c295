"""The ``engines`` fixture gives both engines the same S demo (the base of the parity tests)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.spark

COUNTS = """
SELECT 'orders' AS t, count(*) AS n, CAST(sum(amount) AS DOUBLE) AS total FROM v_orders
UNION ALL SELECT 'feedback', count(*), CAST(sum(score) AS DOUBLE) FROM v_feedback
UNION ALL SELECT 'events', count(*), NULL FROM v_events
UNION ALL SELECT 'customers', count(*), NULL FROM customers
ORDER BY t
"""


def test_both_engines_hold_the_same_demo(engines) -> None:
    duck, spark = engines
    left, right = duck.query(COUNTS), spark.query(COUNTS)
    assert left.to_pylist() == right.to_pylist()
    assert all(r["n"] > 0 for r in left.to_pylist())
