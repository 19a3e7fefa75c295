"""Coverage of the moments' 95 % intervals, by simulation (slow; the figure in
docs/methods.md, "Business moments", comes from ``CXLENS_COVERAGE_REPS=200``).

Each replicate simulates a fresh warehouse (:mod:`moments_sim`, 2 000 customers) and
estimates the two moments with a real effect, ``demo_booked`` and ``price_shock``; the true
effect on those who met them is the mean of each treated customer's difference in the
probability to buy within 90 days with and without the moment, which the simulation knows.
An interval covers when it holds that truth.
"""

from __future__ import annotations

import os
from datetime import date

import numpy as np
import pytest
from moments_sim import engine, simulate

from cxlens.analytics import journeys as j

pytestmark = pytest.mark.slow

REPS = int(os.environ.get("CXLENS_COVERAGE_REPS", "30"))
MOMENTS = ("demo_booked", "price_shock", "brochure")


def test_interval_coverage() -> None:
    hits = {m: 0 for m in MOMENTS}
    bias = {m: [] for m in MOMENTS}
    for rep in range(REPS):
        truth: dict[str, list] = {}
        eng = engine(simulate(2000, seed=1000 + rep, truth=truth))
        m = j.moments(eng, "purchase", 90, touchpoints=list(MOMENTS), seed=rep)
        last = (m.last_index - date(2025, 1, 1)).days
        for r in m.rows:
            true = 100 * np.mean([e for _, d, e in truth[r.touchpoint] if d <= last])
            hits[r.touchpoint] += r.low <= true <= r.high
            bias[r.touchpoint].append(r.effect - true)
    cover = {k: v / REPS for k, v in hits.items()}
    print({k: (round(cover[k], 3), round(float(np.mean(bias[k])), 2)) for k in MOMENTS})
    assert all(c >= 0.8 for c in cover.values()), cover
