"""The time to outcome's intervals: Greenwood on the log(−log) scale, and the median's.

The known answers were computed by hand (the arithmetic is in the comments): six customers,
outcomes on days 1, 1, 3 and 4, followed without one until days 2 and 5. lifelines is not
in the environment, so the figures are checked against the formulas as Collett (2015,
section 2.2) writes them, not against another program.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cxlens.analytics.journeys.survival import band, first_at_or_below, kaplan_meier

Z = 1.959963984540054


def _hand_band(s: float, greenwood: float) -> tuple[float, float]:
    se = math.sqrt(greenwood) / abs(math.log(s))
    return s ** math.exp(Z * se), s ** math.exp(-Z * se)


def test_greenwood_log_log_by_hand() -> None:
    day = np.array([1, 2, 3, 4, 5])
    event = np.array([1, 0, 1, 1, 0])
    count = np.array([2, 1, 1, 1, 1])
    steps, median = kaplan_meier(day, event, np.ones(5), count, 5)
    # S(1) = 4/6, S(3) = 4/6 · 2/3 = 4/9, S(4) = 4/9 · 1/2 = 2/9
    assert [s.survival for s in steps] == pytest.approx([1, 2 / 3, 2 / 3, 4 / 9, 2 / 9, 2 / 9])
    # Greenwood's sums: 2/(6·4) = 1/12; + 1/(3·2) = 1/4; + 1/(2·1) = 3/4
    expect = {1: _hand_band(2 / 3, 1 / 12), 3: _hand_band(4 / 9, 1 / 4),
              4: _hand_band(2 / 9, 3 / 4)}
    for d, (low, high) in expect.items():
        assert (steps[d].low, steps[d].high) == pytest.approx((low, high), rel=1e-12)
    # the same figures written out: day 1 (0.194617, 0.904434), day 4 upper 0.614721
    assert steps[1].low == pytest.approx(0.194617, abs=1e-6)
    assert steps[1].high == pytest.approx(0.904434, abs=1e-6)
    assert steps[4].high == pytest.approx(0.614721, abs=1e-6)
    assert (steps[0].low, steps[0].high) == (1.0, 1.0)  # no outcome yet: no spread
    assert (steps[2].low, steps[2].high) == (steps[1].low, steps[1].high)
    assert all(s.low <= s.survival <= s.high for s in steps)
    # median day 3; its interval: the band's lower end reaches 50 % on day 1, its upper end
    # never within the five days (0.61 on day 4)
    days = [s.day for s in steps]
    assert median == 3
    assert first_at_or_below([s.low for s in steps], days) == 1
    assert first_at_or_below([s.high for s in steps], days) is None


def test_band_edges() -> None:
    assert band(1.0, 0.0, Z) == (1.0, 1.0)
    assert band(0.0, 0.5, Z) == (0.0, 0.0)
    assert band(0.3, float("inf"), Z) == (0.0, 0.0)
    low, high = band(0.5, 0.01, Z)
    assert 0 < low < 0.5 < high < 1


def test_weights_use_the_effective_numbers_at_risk() -> None:
    # equal weights of any size give Greenwood's own band (the effective numbers are the
    # counts)
    day, event, count = np.array([1, 2, 3]), np.array([1, 1, 0]), np.array([3, 3, 4])
    plain, _ = kaplan_meier(day, event, np.ones(3), count, 3)
    scaled, _ = kaplan_meier(day, event, np.full(3, 2.5), count, 3)
    assert [x for s in scaled for x in (s.low, s.high)] == pytest.approx(
        [x for s in plain for x in (s.low, s.high)])
    # unequal ones: two customers of weight 1 with the outcome on day 1, one of weight 2
    # followed to day 2: S(1) = 1 − 2/4 = 1/2; Kish's r = 4²/(1+1+4) = 8/3 at risk,
    # d = 2 · (8/3)/4 = 4/3, Greenwood 4/3 / (8/3 · 4/3) = 3/8 (unweighted 2 of 4: 1/4)
    steps, _ = kaplan_meier(np.array([1, 2]), np.array([1, 0]), np.array([1.0, 2.0]),
                            np.array([2, 1]), 2)
    assert steps[1].survival == pytest.approx(0.5)
    assert (steps[1].low, steps[1].high) == pytest.approx(_hand_band(0.5, 3 / 8), rel=1e-12)


def test_curves_carry_the_median_interval(small) -> None:
    from cxlens.analytics import journeys as j

    met, comp = j.survival(small, "demo", "purchase", 30, weighted=False).curves
    assert met.median_days == 10
    assert met.median_low is not None and met.median_low <= 10
    assert met.median_high is None or met.median_high >= 10
    assert comp.median_days is None and comp.median_high is None
    assert all(s.low <= s.survival <= s.high for s in met.steps)


@pytest.fixture(scope="module")
def small():
    from moments_sim import engine
    from test_moments import tiny

    return engine(tiny())
