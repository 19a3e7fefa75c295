"""DuckDB/Spark parity of the business moments, time to outcome and actions on the S demo.

Every query of the three (the candidates, the cells, the survival counts, the actions list
and its counts) runs on both engines through the public functions, with and without a
filter; the results — which hold the engines' aggregates and what NumPy computed from them
— must be equal (``assert_same``: numbers to 1e-9 relative). The comparison's index times
are drawn from ``md5`` ranks and DOUBLE quantiles, so equal results also check that both
engines draw the same customers at the same times.
"""

from __future__ import annotations

import pytest

from cxlens.analytics import journeys as j
from helpers import assert_same

pytestmark = pytest.mark.spark


def test_moments_parity(engines) -> None:
    duck, spark = engines
    seg = duck.query("SELECT min(segment) AS s FROM customers").to_pylist()[0]["s"]
    for outcome, sel in (("purchase", j.Selection()), ("revenue", j.Selection(segment=seg))):
        left = j.moments(duck, outcome, 90, sel, pairs=3, n_boot=100)
        assert left.rows and left.reason is None, left
        assert_same(left, j.moments(spark, outcome, 90, sel, pairs=3, n_boot=100),
                    f"moments {outcome} {sel}")


def test_survival_and_actions_parity(engines) -> None:
    duck, spark = engines
    top = j.moments(duck, "purchase", 60, pairs=2, n_boot=100).rows[0].touchpoint
    for moment in (top, "no_such_touchpoint"):
        assert_same(j.survival(duck, moment, "purchase", 60),
                    j.survival(spark, moment, "purchase", 60), f"survival {moment}")
        assert_same(j.customers(duck, moment, "repurchase", 60, limit=50),
                    j.customers(spark, moment, "repurchase", 60, limit=50),
                    f"customers {moment}")
    assert j.survival(duck, top, "purchase", 60).curves
