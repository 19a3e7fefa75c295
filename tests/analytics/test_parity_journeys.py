"""DuckDB/Spark parity of the journeys: the log, outcomes, touchpoints, paths, process map.

Each public function runs on the S demo on both engines (the ``engines`` fixture) with the
same parameters, with and without filters; the whole results must be equal (``assert_same``:
the same rows in the same order, numbers to 1e-9 relative). The demo's journeys have many
touchpoints in the same second (a page view and its event, an order and its ``purchase``
event), so equal results also check that both engines break ties alike.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cxlens.analytics import journeys as j
from helpers import assert_same

pytestmark = pytest.mark.spark


def _selections(duck) -> list[j.Selection]:
    """No filter; the last half year; a segment; a channel; a store (the demo's first)."""
    last = duck.query("SELECT CAST(max(ts) AS DATE) AS d FROM v_events").to_pylist()[0]["d"]
    seg = duck.query("SELECT min(segment) AS s FROM customers").to_pylist()[0]["s"]
    store = duck.query("SELECT min(store_id) AS s FROM v_orders").to_pylist()[0]["s"]
    return [j.Selection(), j.Selection(start=last - timedelta(days=182),
                                       end=last + timedelta(days=1)),
            j.Selection(segment=seg), j.Selection(channel="email"), j.Selection(store=store),
            j.Selection(start=date(1990, 1, 1), end=date(1990, 2, 1))]  # nobody


def test_journey_log_and_outcomes_parity(engines) -> None:
    duck, spark = engines
    for sel in _selections(duck)[:3]:
        left = j.journey_log(duck, sel, gap_minutes=20)
        assert_same(left.to_pylist(), j.journey_log(spark, sel, gap_minutes=20).to_pylist(),
                    f"journey_log {sel}")
        left = j.outcomes(duck, sel, churn_days=90)
        assert_same(left.to_pylist(), j.outcomes(spark, sel, churn_days=90).to_pylist(),
                    f"outcomes {sel}")


def test_touchpoints_and_process_map_parity(engines) -> None:
    duck, spark = engines
    for sel in _selections(duck):
        assert_same(j.touchpoints(duck, sel), j.touchpoints(spark, sel), f"touchpoints {sel}")
        left = j.process_map(duck, sel)
        assert_same(left, j.process_map(spark, sel), f"process_map {sel}")
    assert len(j.process_map(duck).edges) > 20


def test_paths_parity(engines) -> None:
    duck, spark = engines
    sels = _selections(duck)
    cases = [("add_to_cart", "from", 4), ("first_purchase", "to", 4), (None, "from", 3),
             (None, "to", 2), ("no_such_touchpoint", "from", 4)]
    for anchor, direction, steps in cases:
        for sel in (sels[0], sels[1], sels[3], sels[-1]):
            left = j.paths(duck, anchor, direction, sel, steps=steps, top=10)
            assert_same(left, j.paths(spark, anchor, direction, sel, steps=steps, top=10),
                        f"paths {anchor} {direction} {sel}")
    assert j.paths(duck, "add_to_cart").rows
