"""Key drivers and people analytics give the same results on DuckDB and on Spark.

Both engines hold the S demo (the ``engines`` fixture). The key drivers' bootstrap draws
its replicates from the rating combinations the engine returns; both engines return the
same combinations in the same order, so the same seed gives the same intervals, and the
whole result is compared (numbers to 1e-9 relative).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cxlens.analytics import drivers, people
from helpers import assert_same

pytestmark = pytest.mark.spark



def test_assert_same_catches_differences() -> None:
    """The comparison itself: a difference anywhere in a nested result fails."""
    assert_same({"a": [1.0, float("nan")]}, {"a": [1.0 + 1e-12, float("nan")]})
    for other in ({"a": [1.0 + 1e-6, float("nan")]}, {"a": [1.0, 0.0]}, {"b": [1.0, 0.0]}):
        with pytest.raises(AssertionError):
            assert_same({"a": [1.0, float("nan")]}, other)


def test_find_rating_attributes_parity(engines) -> None:
    duck, spark = engines
    found = drivers.find_rating_attributes(duck, "csat")
    assert len(found) == 4  # the demo's rating grid: delivery, product, staff, price
    assert_same(found, drivers.find_rating_attributes(spark, "csat"))
    assert drivers.find_rating_attributes(spark, "nps") == {}


@pytest.mark.parametrize(("method", "window", "n_boot", "seed"), [
    ("johnson", False, 200, 3),
    ("shapley", True, 100, 8),
])
def test_key_drivers_parity(engines, method: str, window: bool, n_boot: int,
                            seed: int) -> None:
    duck, spark = engines
    kw: dict[str, Any] = {"method": method, "n_boot": n_boot, "seed": seed}
    if window:  # the later part of the demo's answers
        row = duck.query("SELECT CAST(min(ts) AS DATE) AS a, CAST(max(ts) AS DATE) AS b "
                         "FROM v_feedback WHERE metric = 'csat'").to_pylist()[0]
        kw["start"] = date.fromordinal((row["a"].toordinal() + row["b"].toordinal()) // 2)
    left = drivers.key_drivers(duck, "csat", **kw)
    assert left.n >= 30 and left.n_boot > 0.9 * n_boot
    assert_same(left, drivers.key_drivers(spark, "csat", **kw))


def test_enps_by_team_parity(engines) -> None:
    duck, spark = engines
    left = people.enps_by_team(duck)
    assert len(left) >= 3
    assert_same(left, people.enps_by_team(spark))


@pytest.mark.parametrize("min_answers", [1, 30])
def test_team_link_parity(engines, min_answers: int) -> None:
    duck, spark = engines
    left = people.team_link(duck, min_answers=min_answers)
    assert len(left.teams) == 10
    assert_same(left, people.team_link(spark, min_answers=min_answers))


MALFORMED = """
SELECT key FROM (
  SELECT unnest(try(json_keys(p))) AS key
  FROM (VALUES ('{"Q? [A]": 3}'), ('{not json'), ('[1, 2]'), (NULL)) AS v(p)
) ORDER BY key
"""


def test_malformed_json_is_null_on_both_engines(engines) -> None:
    """``try(json fn)``: DuckDB's NULL for malformed JSON is what Spark gives natively."""
    duck, spark = engines
    assert duck.query(MALFORMED).to_pylist() == spark.query(MALFORMED).to_pylist() \
        == [{"key": "Q? [A]"}]
    sql = ("SELECT try(json_extract_string(p, $path)) AS v "
           "FROM (VALUES ('{\"Q? [A]\": 3}'), ('{not json')) AS v(p)")
    for eng in engines:
        path = drivers._json_path(eng, "Q? [A]")
        assert eng.query(sql, {"path": path}).column("v").to_pylist() == ["3", None]


def test_spark_refuses_a_key_it_cannot_address(engines) -> None:
    _, spark = engines
    with pytest.raises(ValueError, match="apostrophe"):
        drivers.key_drivers(spark, "csat", attributes=["It's [A]", "Q [B]"])
