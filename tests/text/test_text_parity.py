"""The text aggregates give the same results on DuckDB and Spark.

The derived tables are not in the Parquet lake yet (docs/text.md), so Spark gets the analysed
S demo's ``v_feedback`` (materialised) and ``comment_analysis`` registered, as the analytics
parity tests do with every table.
"""

from __future__ import annotations

import duckdb
import pytest

from cxlens.text.impact import impacts
from cxlens.text.themes import comments, trend, volumes
from cxlens.warehouse.engine import DuckDBEngine

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def both(text_demo, spark):
    from cxlens.warehouse.spark import SparkEngine

    ws, _ = text_demo
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    se = SparkEngine(spark)
    for name in ("v_feedback", "comment_analysis"):
        cols = con.sql(f"DESCRIBE SELECT * FROM {name}").fetchall()
        exprs = [f'lower(to_hex("{c}")) AS "{c}"' if t in ("HUGEINT", "UHUGEINT")
                 else f'"{c}"' for c, t, *_ in cols]
        se.register(name, con.sql(f"SELECT {', '.join(exprs)} FROM {name}").to_arrow_table())
    try:
        yield DuckDBEngine(con), se
    finally:
        con.close()


@pytest.mark.parametrize("ask", [
    lambda e: volumes(e, metric="nps"),
    lambda e: volumes(e, by="store"),
    lambda e: volumes(e, by="language"),
    lambda e: trend(e),
    lambda e: comments(e, "delivery", limit=10),
], ids=["volumes", "by-store", "by-language", "trend", "comments"])
def test_aggregates_are_equal(both, ask) -> None:
    duck, spark = both
    assert ask(duck).equals(ask(spark))


def test_impacts_are_equal(both) -> None:
    duck, spark = both
    assert impacts(duck, metric="nps") == impacts(spark, metric="nps")


def test_rising_themes_are_equal(both) -> None:
    from datetime import date

    from cxlens.text.alerts import rising_themes

    duck, spark = both
    for period in ("month", "week"):
        got = rising_themes(duck, period, date(2026, 11, 20))
        assert got.tests > 0 and got.comments > 0
        assert got == rising_themes(spark, period, date(2026, 11, 20))
