"""``value_by_group`` gives the same result on DuckDB and on Spark (the S demo on both).

The bootstrap intervals are equal too, not merely close: both engines return the same
aggregate (each group's distinct revenues with their counts, in the same order) and the
bootstrap is seeded from the same ``seed``, so NumPy draws the same replicates.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime

import pytest

from cxlens.analytics import experience as ex
from helpers import assert_same

pytestmark = pytest.mark.spark



@pytest.mark.parametrize("params", [
    # the page's and the API's default: observed until the last order before the server's now
    {"now": datetime(2026, 11, 28, 12, tzinfo=UTC)},
    # a chosen day, three horizons, another seed and fewer replicates
    {"days": (30, 90, 180), "as_of": date(2026, 10, 1), "seed": 7, "n_boot": 500},
])
def test_value_by_group_is_the_same_on_duckdb_and_spark(engines, params) -> None:
    duck, spark = engines
    left = ex.value_by_group(duck, **params)
    right = ex.value_by_group(spark, **params)
    # the planted value link: promoters and detractors are there at every horizon, and
    # enough of them that the revenue intervals are real bootstraps
    for d in params.get("days", (90, 180)):
        for g in ("promoter", "detractor"):
            assert left.get(d, g).n >= 10 and left.get(d, g).revenue.low is not None, (d, g)
    assert left.observed_until is not None
    assert_same(asdict(left), asdict(right))
    assert_same([asdict(w) for w in left.worth()], [asdict(w) for w in right.worth()])
