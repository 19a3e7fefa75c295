"""The marketing-mix model (:mod:`cxlens.analytics.marketing.mmm`): known answers on
simulated series, the demo's planted curves, and the bad input it refuses."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from cxlens.analytics.marketing import mmm
from marketing.mmm_sim import SCALES, simulate


def test_adstock_and_hill_known_values() -> None:
    x = np.array([10.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(mmm.adstock(x, 0.5), [5.0, 2.5, 1.25, 0.625])
    assert mmm.adstock(np.full(200, 3.0), 0.6)[-1] == pytest.approx(3.0)  # weights sum to 1
    np.testing.assert_allclose(mmm.hill(np.array([0.0, 20.0, 60.0]), 20.0, 1.0),
                               [0.0, 0.5, 0.75])
    p = np.array([[0.3, 20.0, 1.5, 4.0]])
    s = np.array([[15.0]])
    eps = 1e-5
    num = (mmm.response(p, s + eps) - mmm.response(p, s - eps)) / (2 * eps)
    assert mmm.marginal(p, s) == pytest.approx(num, rel=1e-6)


def _noiseless(decay: float, k: float, h: float, vmax: float) -> mmm.Series:
    """A series that is exactly the model: baseline 5 + trend 2, one channel."""
    rng = np.random.default_rng(1)
    days = 400
    spend = (rng.lognormal(0, 0.8, days // 14 + 1)[np.arange(days) // 14] * 30.0
             * rng.lognormal(0, 0.2, days))[:, None]
    y = 5.0 + 2.0 * np.arange(days) / (days - 1) + vmax * mmm.adstock(
        mmm.hill(spend[:, 0], k, h), decay)
    return mmm.Series(date(2025, 1, 6), ("tv",), spend, y)


def test_recovers_a_noiseless_series_exactly() -> None:
    f = mmm.fit_series(_noiseless(0.45, 25.0, 1.6, 3.0), n_boot=0)
    c = f.curve("tv")
    assert (c.decay, c.k, c.h, c.vmax) == pytest.approx((0.45, 25.0, 1.6, 3.0), rel=1e-3)
    assert f.r2 == pytest.approx(1.0)
    assert f.baseline["intercept"] == pytest.approx(5.0, abs=1e-3)


TOLERANCE = {"decay_flighted": 0.2, "decay_always_on": 0.3, "rise": 0.25, "marginal": 0.3}
"""What the fit recovers of the demo's curves at the L demo's scale (docs/methods.md):
the decay of a channel whose spend stops now and then (social's flights, search's weeks
off) within 0.2, of an always-on one within 0.3; the curve's rise over the spend seen (10th
to 90th percentile of the daily spend) within 25 %, the marginal return at the median daily
spend within 30 % — about the worst of the simulated series of seeds 3 to 8 since search pauses
(social: decay 0.41 against 0.6 on seed 7, rise +22 % and marginal +25 % on seed 3; search
within 0.14, 11 % and 18 %). Not the level of an always-on channel: its response at zero
spend is never seen, so its level trades off against the baseline (the identifiability
limit in docs/methods.md)."""


@pytest.fixture(scope="module")
def l_fit() -> tuple[mmm.MMMFit, dict[str, dict[str, float]]]:
    series, truth = simulate(SCALES["L"], seed=3)
    return mmm.fit_series(series, n_boot=30), truth


def test_recovers_the_demo_curves_at_l_scale(l_fit) -> None:
    """The demo's generator at the L demo's scale: two years of daily spend, organic
    customers Poisson on a trend (``mmm_sim``)."""
    f, truth = l_fit
    s = f.series
    for c in f.curves:
        t = truth[c.channel]
        col = s.spend[:, s.channels.index(c.channel)]
        flighted = bool((col == 0).any())
        tol = TOLERANCE["decay_flighted" if flighted else "decay_always_on"]
        assert c.decay == pytest.approx(t["decay"], abs=tol), c
        tp = np.array([t["decay"], t["k"], t["h"], t["vmax"]])
        ep = np.array([c.decay, c.k, c.h, c.vmax])
        lo, hi = np.quantile(col[col > 0], [0.1, 0.9])

        def rise(p: np.ndarray, lo: float = lo, hi: float = hi) -> float:
            return float(mmm.response(p, hi) - mmm.response(p, lo))

        assert rise(ep) == pytest.approx(rise(tp), rel=TOLERANCE["rise"]), c.channel
        med = float(np.median(col))
        assert mmm.marginal(ep, med) == pytest.approx(mmm.marginal(tp, med),
                                                      rel=TOLERANCE["marginal"]), c.channel
        for name in ("decay", "k"):  # the planted values lie in the 95 % intervals
            low, high = c.intervals[name]
            assert low <= t[name] <= high, (c.channel, name)


def test_too_few_weeks_says_how_many_are_needed() -> None:
    s = _noiseless(0.3, 25.0, 1.0, 3.0)
    short = mmm.Series(s.start, s.channels, s.spend[:100], s.outcome[:100])
    with pytest.raises(mmm.MMMError, match=r"14 weeks .* at least 26 weeks"):
        mmm.fit_series(short)


def test_a_channel_without_any_spend_is_shown_not_fitted() -> None:
    s = _noiseless(0.3, 25.0, 1.0, 3.0)
    spend = np.column_stack([s.spend, np.zeros(s.days)])
    f = mmm.fit_series(mmm.Series(s.start, ("tv", "radio"), spend, s.outcome), n_boot=0)
    radio = f.curve("radio")
    assert radio.vmax is None and "no spend" in (radio.reason or "")
    assert f.fitted == ("tv",) and f.curve("tv").vmax == pytest.approx(3.0, rel=1e-3)
    nothing = mmm.Series(s.start, ("radio",), np.zeros((s.days, 1)), s.outcome)
    with pytest.raises(mmm.MMMError, match="no channel has any spend"):
        mmm.fit_series(nothing)
