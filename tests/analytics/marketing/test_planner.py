"""The budget planner (:mod:`cxlens.analytics.marketing.planner`): known answers on curves
set by hand, the demo's planted truth, and the plans it refuses."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from cxlens.analytics.marketing import mmm, planner
from marketing.mmm_sim import SCALES, simulate


def _fit(params: list[list[float]], channels: tuple[str, ...] = ("a", "b"),
         current: tuple[float, ...] = (10.0, 10.0), draws: int = 0) -> mmm.MMMFit:
    """A fit with curves set by hand (channels × decay, k, h, vmax)."""
    p = np.array(params, float)
    days = 200
    spend = np.tile(np.array(current), (days, 1))
    series = mmm.Series(date(2025, 1, 6), channels, spend, np.zeros(days))
    rng = np.random.default_rng(0)
    d = p[None] * rng.lognormal(0, 0.05, (draws, *p.shape)) if draws else np.zeros((0, *p.shape))
    curves = tuple(mmm.ChannelCurve(ch, float(spend[:, i].sum()), days, current[i],
                                    current[i] * 3, *p[i]) for i, ch in enumerate(channels))
    return mmm.MMMFit(series, curves, channels, p, d, {}, 1.0, draws, 0, False)


def test_equal_concave_curves_split_evenly_and_the_optimum_balances_marginals() -> None:
    f = _fit([[0.0, 20.0, 1.0, 5.0], [0.0, 20.0, 1.0, 5.0]])
    p = planner.plan(f, 600.0, days=30)
    a, b = p.recommended.rows
    assert a.amount == pytest.approx(300.0, rel=1e-4) and b.amount == pytest.approx(300.0,
                                                                                    rel=1e-4)
    # known answer: 30 days * 5 * 10 / (20 + 10) per channel
    assert p.recommended.expected == pytest.approx(2 * 30 * 5 * 10 / 30, rel=1e-6)
    g = _fit([[0.0, 10.0, 1.0, 5.0], [0.0, 40.0, 1.0, 8.0]])
    r = planner.plan(g, 900.0, days=30).recommended.rows
    m = [mmm.marginal(g.params[i], r[i].per_day) for i in range(2)]
    assert m[0] == pytest.approx(m[1], rel=1e-3)  # equal marginal returns at the optimum


def test_target_at_least_cost_inverts_the_plan() -> None:
    f = _fit([[0.0, 10.0, 1.0, 5.0], [0.0, 40.0, 1.0, 8.0]])
    p = planner.plan(f, 900.0, days=30)
    t = planner.plan_for_target(f, p.recommended.expected, days=30)
    assert t.recommended.budget == pytest.approx(900.0, rel=1e-3)
    with pytest.raises(planner.PlanError, match="out of reach"):
        planner.plan_for_target(f, 30 * 13.5, days=30)  # above 30 * (5 + 8) * 0.999…


def test_bounds_commitments_and_a_budget_below_them() -> None:
    f = _fit([[0.0, 10.0, 1.0, 5.0], [0.0, 40.0, 1.0, 8.0]])
    p = planner.plan(f, 900.0, days=30, committed={"a": 700.0})
    assert p.recommended.rows[0].amount >= 700.0 - 1e-6
    q = planner.plan(f, 900.0, days=30, bounds={"b": (None, 100.0)})
    assert q.recommended.rows[1].amount <= 100.0 + 1e-6
    assert sum(r.amount for r in q.recommended.rows) == pytest.approx(900.0)
    with pytest.raises(planner.PlanError, match="below the current commitments"):
        planner.plan(f, 500.0, days=30, committed={"a": 400.0, "b": 200.0})
    with pytest.raises(planner.PlanError, match="no channel 'tv'"):
        planner.plan(f, 500.0, committed={"tv": 1.0})


def test_scenario_with_intervals_and_extrapolation_flag() -> None:
    f = _fit([[0.0, 10.0, 1.0, 5.0], [0.0, 40.0, 1.0, 8.0]], draws=50)
    s = planner.scenario(f, {"a": 300.0, "b": 3000.0}, days=30)
    a, b = s.rows
    assert a.expected == pytest.approx(30 * 5 * 10 / 20)
    assert a.low is not None and a.low < a.expected < a.high
    assert not a.extrapolated and b.extrapolated  # 100 a day: more than b ever spent (30)
    with pytest.raises(planner.PlanError, match="not an amount"):
        planner.scenario(f, {"a": -1.0})


def test_the_recommended_split_beats_the_actual_split_on_the_planted_truth() -> None:
    """The L-scale demo series: the plan from the fitted curves, judged by the *planted*
    curves, brings more than the demo's own split of the same budget."""
    series, truth = simulate(SCALES["L"], seed=3)
    f = mmm.fit_series(series, n_boot=0)
    budget = float(series.spend[-91:].sum()) * 30 / 91  # a month at the recent pace
    p = planner.plan(f, budget, days=30)
    tp = np.array([[truth[ch][k] for k in ("decay", "k", "h", "vmax")]
                   for ch in series.channels])

    def true_outcome(amounts: np.ndarray) -> float:
        return float((30 * mmm.response(tp, amounts / 30)).sum())

    rec = np.array([r.amount for r in p.recommended.rows])
    actual = np.array([r.amount for r in p.current.rows])
    assert true_outcome(rec) > true_outcome(actual)
    assert p.gain is not None and p.gain > 0
