"""Simulated daily series for the marketing-mix model's known-answer tests and benchmark.

The spend and the ad-bought customers come from the demo's own generator
(:func:`cxlens.demo.behaviour.make_spend` and :func:`~cxlens.demo.behaviour.carry_over`), so
the planted curves and search's weeks off are the demo's (docs/demo.md, ``spend_response``;
the pauses from a stream of their own, so the other days' spend is as without them); the
organic customers are a Poisson series on the demo's growing trend (1 + t / days) with a
weekday rhythm.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from cxlens.analytics.marketing.mmm import Series
from cxlens.demo import behaviour as bh
from cxlens.demo.calendar import DAYS

SCALES = {"S": 0.66, "M": 34.3, "L": 343.0}
"""Buyers per 1 000 of each demo size (78 % of its persons buy)."""
ORGANIC = 0.8
"""Organic new customers per day per 1 000 buyers at the window's start (about the demo's:
most customers arrive organically)."""


def simulate(scale: float, seed: int = 3, organic: float = ORGANIC,
             start: date = date(2024, 12, 1)) -> tuple[Series, dict[str, dict[str, float]]]:
    """(series, planted curves per channel: decay, k, h, vmax per day)."""
    rng = np.random.default_rng(seed)
    sp = bh.make_spend(rng, scale, bh.search_pauses(np.random.default_rng([seed, 14])))
    bh.carry_over(rng, sp)
    assert sp.arrived is not None
    t = np.arange(DAYS)
    weekday = np.array([1.0, 1.0, 1.05, 1.0, 0.95, 1.1, 0.9])[(start.weekday() + t) % 7]
    base = rng.poisson(organic * scale * (1.0 + t / DAYS) * weekday)
    spend = np.zeros((DAYS, 2))
    for ci, ch in enumerate(bh.CHANNELS):
        camps = [i for i, c in enumerate(bh.CAMPAIGNS) if c[0] == ch]
        sel = np.isin(sp.campaign, camps)
        spend[:, ci] = np.bincount(sp.day[sel], weights=sp.cents[sel], minlength=DAYS) / 100
    truth = {ch: {"decay": c["decay"], "k": c["k_eur_per_day"], "h": c["h"],
                  "vmax": c["vmax_new_customers_per_day"]} for ch, c in sp.curves.items()}
    y = base + sp.arrived.sum(axis=0)
    return Series(start, tuple(bh.CHANNELS), spend, y.astype(float)), truth
