"""The marketing-mix model's intervals hold the truth about as often as they say: a small
simulation of series with a known curve, each fitted with its bootstrap (docs/methods.md,
"Uncertainty")."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from cxlens.analytics.marketing import mmm

TRUTH = {"decay": 0.5, "k": 30.0, "h": 1.3, "vmax": 12.0}
SERIES = 12
BOOT = 30


def _series(seed: int) -> mmm.Series:
    """One channel over a year: four-week flights (some off), a weekday rhythm, daily
    jitter; the outcome a baseline of 40 a day on a trend plus the planted response, with
    Poisson noise (the demo's new customers are counts)."""
    rng = np.random.default_rng(seed)
    days = 364
    flights = rng.lognormal(0.0, 0.6, days // 28 + 1)
    flights[rng.random(len(flights)) < 0.15] = 0.0
    spend = flights[np.arange(days) // 28] * 35.0 * rng.lognormal(0.0, 0.15, days)
    mean = 40.0 * (1.0 + np.arange(days) / days) + TRUTH["vmax"] * mmm.adstock(
        mmm.hill(spend, TRUTH["k"], TRUTH["h"]), TRUTH["decay"])
    return mmm.Series(date(2025, 1, 6), ("ads",), spend[:, None],
                      rng.poisson(mean).astype(float))


def coverage(series: int = SERIES, n_boot: int = BOOT) -> dict[str, float]:
    """Share of the simulated series whose 95 % interval holds the planted value."""
    hits: dict[str, list[bool]] = {name: [] for name in TRUTH}
    for seed in range(series):
        c = mmm.fit_series(_series(seed), n_boot=n_boot, seed=seed).curve("ads")
        for name, true in TRUTH.items():
            low, high = c.intervals[name]
            hits[name].append(low <= true <= high)
    return {name: float(np.mean(v)) for name, v in hits.items()}


@pytest.mark.slow
def test_the_95_percent_intervals_hold_the_planted_curve_about_as_often() -> None:
    """12 series, 30 replicates each (about a minute of CPU): measured 10 of 12 for decay
    and h, 11 of 12 for k and vmax (docs/methods.md) — below the nominal 95 %, as a
    percentile interval of few replicates and a skewed, bounded estimate are; the floor, 9
    of 12, is what a coverage of 90 % misses with probability 3 %."""
    got = coverage()
    for name, share in got.items():
        assert share >= 9 / SERIES, (name, got)
