"""``analytics/journeys/options``: the values the journeys filters offer — every segment,
channel and store of the warehouse, sorted, repeats dropped, at most ``limit`` of each — and
the same answer on DuckDB and Spark."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxlens.analytics.journeys.options import filter_options
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import open_warehouse


def _distinct(con, sql: str) -> list[str]:
    return sorted(str(r[0]) for r in con.execute(sql).fetchall())


def test_every_value_once_and_sorted(demo) -> None:
    ws, _ = demo
    with open_warehouse(ws, read_only=True) as con:  # the engines fixture holds it read-only
        got = filter_options(DuckDBEngine(con), limit=10_000)
        segments = _distinct(con, "SELECT DISTINCT segment FROM customers "
                                  "WHERE segment IS NOT NULL")
        channels = _distinct(con, """SELECT channel FROM v_events WHERE channel IS NOT NULL
            UNION SELECT channel FROM v_orders WHERE channel IS NOT NULL
            UNION SELECT channel FROM v_feedback WHERE channel IS NOT NULL""")
        stores = _distinct(con, """SELECT store_id FROM v_events WHERE store_id IS NOT NULL
            UNION SELECT store_id FROM v_orders WHERE store_id IS NOT NULL
            UNION SELECT store_id FROM v_feedback WHERE store_id IS NOT NULL""")
    assert got == {"segment": segments, "channel": channels, "store": stores}
    assert segments and len(channels) > 2 and len(stores) > 2


def test_at_most_limit_of_each_the_first_by_value(demo) -> None:
    ws, _ = demo
    with open_warehouse(ws, read_only=True) as con:  # the engines fixture holds it read-only
        eng = DuckDBEngine(con)
        every = filter_options(eng, limit=10_000)
        two = filter_options(eng, limit=2)
    assert two == {dim: values[:2] for dim, values in every.items()}
    with pytest.raises(ValueError, match="limit"):
        filter_options(eng, limit=0)


def test_an_empty_warehouse_offers_nothing(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "ws") as con:
        assert filter_options(DuckDBEngine(con)) == {"segment": [], "channel": [], "store": []}


@pytest.mark.spark
def test_parity(engines) -> None:
    duck, spark = engines
    for limit in (1, 3, 200):
        assert filter_options(duck, limit) == filter_options(spark, limit), limit
