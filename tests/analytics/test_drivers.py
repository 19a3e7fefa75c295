"""Key drivers: Johnson's weights and exact Shapley against hand-computed cases, and the S
demo's planted CSAT weights (delivery .40 > product .30 > staff .20 > price .10) recovered."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from cxlens.analytics.drivers import (
    QUADRANTS,
    find_rating_attributes,
    key_drivers,
    relative_weights,
    shapley_r2,
)
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import open_engine


def test_uncorrelated_predictors_get_their_squared_correlations() -> None:
    r = np.array([0.5, 0.3, 0.1])
    for f in (relative_weights, shapley_r2):
        assert f(np.eye(3), r) == pytest.approx([0.25, 0.09, 0.01])


def test_two_predictors_hand_computed() -> None:
    # ρ = .5, r = (.6, .4): R² = (.36 + .16 − 2·.6·.4·.5)/(1 − .25) = .37333.
    # Shapley: φ1 = ½·.36 + ½·(R² − .16) = .28667; φ2 = ½·.16 + ½·(R² − .36) = .08667.
    R, r = np.array([[1, 0.5], [0.5, 1]]), np.array([0.6, 0.4])
    assert shapley_r2(R, r) == pytest.approx([0.286667, 0.086667], abs=1e-6)
    # Johnson: R^{1/2} = [[a, b], [b, a]], a, b = (√1.5 ± √.5)/2; β = R^{-1/2} r.
    a, b = (math.sqrt(1.5) + math.sqrt(0.5)) / 2, (math.sqrt(1.5) - math.sqrt(0.5)) / 2
    beta = np.linalg.solve([[a, b], [b, a]], r)
    expected = [a * a * beta[0] ** 2 + b * b * beta[1] ** 2,
                b * b * beta[0] ** 2 + a * a * beta[1] ** 2]
    assert relative_weights(R, r) == pytest.approx(expected)
    assert sum(expected) == pytest.approx(0.28 / 0.75)


def test_johnson_is_close_to_exact_shapley_on_three_correlated_predictors() -> None:
    # Johnson (2000) found relative weights very close to Budescu's dominance weights
    # (= the Shapley/LMG values); here they agree within .003. R² = r'R⁻¹r = .42625.
    R = np.array([[1, 0.5, 0.3], [0.5, 1, 0.4], [0.3, 0.4, 1]])
    r = np.array([0.6, 0.5, 0.35])
    j, s = relative_weights(R, r), shapley_r2(R, r)
    assert j.sum() == pytest.approx(0.42625) and s.sum() == pytest.approx(0.42625)
    assert j == pytest.approx(s, abs=0.003)
    assert list(np.argsort(-j)) == list(np.argsort(-s)) == [0, 1, 2]
    # batched: a stack of the same problem gives the same answer per slice
    assert relative_weights(np.stack([R, R]), np.stack([r, r]))[1] == pytest.approx(j)
    assert shapley_r2(np.stack([R, R]), np.stack([r, r]))[1] == pytest.approx(s)


def test_shapley_refuses_more_than_ten_attributes() -> None:
    with pytest.raises(ValueError, match="10"):
        shapley_r2(np.eye(11), np.full(11, 0.1))


@pytest.fixture
def planted() -> DuckDBEngine:
    """2,000 CSAT answers drawn from y = .5a + .3b + .1c + noise on correlated ratings."""
    rng = np.random.default_rng(5)
    common = rng.normal(size=2000)
    x = np.clip(np.rint(3 + common[:, None] * 0.7 + rng.normal(size=(2000, 3))), 1, 5)
    y = np.clip(np.rint(0.3 + x @ [0.5, 0.3, 0.1] + rng.normal(0, 0.4, 2000)), 1, 5)
    props = [f'{{"Q [A]": "{int(a)}", "Q [B]": {int(b)}, "Q [C]": "{int(c)}", "note": "x"}}'
             for a, b, c in x]
    answers = pa.table({"score": y, "properties": props})  # noqa: F841 (read by DuckDB)
    con = duckdb.connect()
    con.execute("CREATE TABLE v_feedback AS SELECT TIMESTAMP '2026-01-01' AS ts, "
                "'csat' AS metric, CAST(score AS DECIMAL(18,4)) AS score, properties "
                "FROM answers")
    return DuckDBEngine(con)


def test_simulated_weights_are_recovered_in_order(planted) -> None:
    assert find_rating_attributes(planted) == {"A": "Q [A]", "B": "Q [B]", "C": "Q [C]"}
    k = key_drivers(planted, seed=1)
    assert k.order() == ["A", "B", "C"] and k.n == 2000 and k.n_boot == 500
    assert sum(d.importance.value for d in k.drivers) == pytest.approx(k.r2.value)
    assert sum(d.share for d in k.drivers) == pytest.approx(100.0)
    for d in k.drivers:
        assert d.importance.low < d.importance.value < d.importance.high
    # the same seed gives the same intervals; a list of keys picks attributes
    assert key_drivers(planted, seed=1).drivers[0].importance == k.drivers[0].importance
    two = key_drivers(planted, attributes=["Q [A]", "Q [C]"], method="shapley")
    assert two.order() == ["A", "C"]
    with pytest.raises(ValueError, match="at least two"):
        key_drivers(planted, attributes=["Q [A]"])




@pytest.mark.parametrize("method", ["johnson", "shapley"])
def test_demo_planted_csat_weights_come_out_in_order(demo, method: str) -> None:
    ws, truths = demo
    planted = truths["csat_drivers"]
    by_weight = sorted(planted["weights"], key=planted["weights"].get, reverse=True)
    expected_keys = [planted["columns"][a] for a in by_weight]
    with open_engine(ws) as eng:
        k = key_drivers(eng, "csat", method=method)
    # delivery, product, then staff and price: these two come within 0.01 of each other on
    # the S draw (their planted 0.2 and 0.1 are small against its few hundred answers), so
    # only the first two are ordered
    got = [d.key for d in k.drivers]
    assert got[:2] == expected_keys[:2] and set(got[2:]) == set(expected_keys[2:])
    assert k.r2.low < k.r2.value < k.r2.high
    assert {d.quadrant for d in k.drivers} <= set(QUADRANTS.values())
    assert k.importance_line == pytest.approx(k.r2.value / 4)
    for d in k.drivers:
        assert 1 <= d.performance.low < d.performance.value < d.performance.high <= 5
    assert [row["attribute"] for row in k.matrix()] == k.order()


def test_odd_keys_and_malformed_properties(planted) -> None:
    """Keys with quotes and an apostrophe are read through parameters (never SQL text), and
    an answer whose properties are not JSON is an answer without ratings, not an error."""
    con = planted.con
    con.execute("""CREATE OR REPLACE TABLE v_feedback AS
        SELECT ts, metric, score, replace(replace(properties, 'Q [A]', 'It''s \\"odd\\" [A]'),
                                          'Q [B]', 'Q; DROP [B]') AS properties
        FROM v_feedback UNION ALL
        SELECT TIMESTAMP '2026-01-02', 'csat', 5, '{not json' UNION ALL
        SELECT TIMESTAMP '2026-01-02', 'csat', 4, '[1, 2]'""")
    found = find_rating_attributes(planted)
    assert found == {"A": 'It\'s "odd" [A]', "B": "Q; DROP [B]", "C": "Q [C]"}
    k = key_drivers(planted, seed=1)
    assert k.order() == ["A", "B", "C"] and k.n == 2000
