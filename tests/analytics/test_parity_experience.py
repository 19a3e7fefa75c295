"""DuckDB/Spark parity of the experience metrics and the response weighting.

Each public function runs on the S demo on both engines (the ``engines`` fixture) with the
same parameters, and the whole results must agree: same rows in the same order, numbers to
1e-9 relative (the engines add floating-point sums in different orders). ``weight_keys``
also runs on a small hand-made set in a separate Spark session, because the demo's answers
carry no weight-like keys and the function's second query would otherwise never run.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from cxlens.analytics import experience as ex
from cxlens.analytics import weighting as W
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.spark import SparkEngine
from helpers import assert_same

pytestmark = pytest.mark.spark



def both(engines, fn, *args: Any, **kwargs: Any) -> Any:
    """``fn`` on both engines; asserts equal results and returns the DuckDB one."""
    duck, spark = engines
    left, right = fn(duck, *args, **kwargs), fn(spark, *args, **kwargs)
    assert_same(left, right)
    return left


def test_score_parity(engines) -> None:
    overall = both(engines, ex.score, "nps")
    assert overall[0].n > 0
    by_month = both(engines, ex.score, "nps", by="store_id", period="month")
    assert len(by_month) > 10 and by_month[0].bucket is not None
    both(engines, ex.score, "csat", by="segment", start=date(2025, 1, 1),
         filters={"country": ["FI", "SE"], "touchpoint": "purchase"})
    # a properties key as the weight (any number works; weight_keys only vets what the
    # API and CLI offer), a customer attribute with NULL groups, quarters
    both(engines, ex.score, "ces", by="customer.language", period="quarter",
         weights="ticket_id")


def test_score_with_poststratified_weights_parity(engines) -> None:
    duck, _ = engines
    w = W.poststratify(duck, "nps", "country", grain="month")
    assert w.weights
    mapped = both(engines, ex.score, "nps", by="store_id", weights=w.weights)
    assert not [t for t in engines[1].tables() if t.startswith("_cx_w_")]  # dropped again
    # the Weighting itself (its weights computed inside the score's query), with a window
    joined = both(engines, ex.score, "nps", by="store_id", weights=w)
    assert_same(joined, mapped)
    both(engines, ex.compare_segments, "csat", by="touchpoint", start=date(2025, 1, 1),
         weights=W.poststratify(duck, "csat", "country", grain="quarter"))


def test_compare_periods_parity(engines) -> None:
    c = both(engines, ex.compare_periods, "nps", "month")
    assert c.current.n > 0
    both(engines, ex.compare_periods, "csat", "quarter", on="share",
         filters={"segment": ["B2B"]})
    both(engines, ex.compare_periods, "enps", "week", date(2026, 6, 10), on="mean")


def test_compare_segments_parity(engines) -> None:
    tests = both(engines, ex.compare_segments, "enps", by="team_id")
    assert any(t.significant for t in tests)
    both(engines, ex.compare_segments, "nps", by="country", start=date(2025, 1, 1),
         on="share")


def test_most_informative_parity(engines) -> None:
    assert both(engines, ex.most_informative, "enps", ["language", "team_id"]) == "team_id"
    both(engines, ex.most_informative, "nps", ["touchpoint", "store_id", "segment"],
         date(2025, 6, 1), date(2026, 6, 1))


def test_poststratify_parity(engines) -> None:
    _, spark = engines
    w = both(engines, W.poststratify, "nps", "country")
    assert w.cells and w.answers > 0
    assert_same(w.weights, W.poststratify(spark, "nps", "country").weights)
    both(engines, W.poststratify, "csat", "country", grain="quarter",
         filters={"touchpoint": ["purchase", "webshop"]})
    both(engines, W.poststratify, "nps", "country", shares={"FI": 3, "SE": 2, "NO": 1})


def test_weight_keys_parity_on_the_demo(engines) -> None:
    assert both(engines, W.weight_keys, "nps") == []


def test_weight_keys_parity_with_weight_like_keys(spark) -> None:
    """Keys named like weights, one holding text and one with a quote in its name, invalid
    JSON and JSON that is not an object: the same keys on both engines."""
    feedback = pa.table({
        "response_id": ["r1", "r2", "r3", "r4", "r5", "r6"],
        "metric": ["nps"] * 6,
        "properties": ['{"weight": 2, "Order number": 7, "Paino": "x"}', '{"weight": 1}',
                       '{"it\'s weight": 1.5, "weight": "-1"}', None, "{not json",
                       "[1, 2]"],
    })
    con = duckdb.connect()
    duck = DuckDBEngine(con)
    duck.register("v_feedback", feedback)
    sp = SparkEngine(spark.newSession())  # own temporary views: the demo's stay untouched
    sp.register("v_feedback", feedback)
    assert W.weight_keys(duck, "nps") == W.weight_keys(sp, "nps") == ["it's weight", "weight"]
    con.close()
