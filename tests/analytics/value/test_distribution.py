"""The CLV distribution: round bins with an open last one, exact quantiles and top shares on
hand-made values, and on simulated orders the same figures as every customer's own CLV
computed one at a time; the mean's draws per (x, t_x, T) equal the draws per customer state
(Gamma-Gamma's expected spend is linear in the repeat spend)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cxlens.analytics.value import distribution as dist
from cxlens.analytics.value._predict import Horizon, point_and_draws, stack
from cxlens.analytics.value.distribution import clv_distribution, histogram, top_shares

from .test_customers import brute_force, shop  # noqa: F401  (the module fixture)


@pytest.mark.parametrize(("span", "bins", "width"), [
    (1000, 20, 50), (1923, 20, 100), (7.3, 20, 0.5), (41, 20, 2.5), (0.0004, 4, 0.0001)])
def test_bin_widths_are_round(span, bins, width) -> None:
    assert dist._nice_width(span, bins) == pytest.approx(width)


def test_histogram_by_hand() -> None:
    values = np.array([0.0, 5.0, 10.0, 19.0, 20.0, 400.0])
    counts = np.array([10, 20, 30, 5, 33, 1])
    bins = histogram(values, counts, bins=2)
    # the 95th percentile of the 99 customers is 20 (order statistic 93.1 of 0..98), in two
    # bins of at least 10: the round width 10, and the open bin from 20
    assert [(b.low, b.high, b.customers) for b in bins] == [
        (0.0, 10.0, 30), (10.0, 20.0, 35), (20.0, None, 34)]
    assert bins[2].value == pytest.approx(33 * 20 + 400)
    assert sum(b.value for b in bins) == pytest.approx(float((values * counts).sum()))


def test_histogram_of_nothing_and_of_zeros() -> None:
    assert histogram(np.array([]), np.array([])) == []
    only = histogram(np.array([0.0]), np.array([7]))
    assert [(b.low, b.high, b.customers) for b in only] == [(0.0, 1.0, 7)]


def test_top_shares_by_hand() -> None:
    # ten customers: one worth 50, four worth 10, five worth 2 (total 100)
    values = np.array([2.0, 10.0, 50.0])
    counts = np.array([5, 4, 1])
    got = {t.customers: t.value for t in top_shares(values, counts, (0.1, 0.2, 0.5, 1.0))}
    assert got == pytest.approx({0.1: 0.5, 0.2: 0.6, 0.5: 0.9, 1.0: 1.0})
    assert top_shares(np.array([0.0]), np.array([3])) == []


def test_the_distribution_is_every_customers_clv(shop) -> None:  # noqa: F811
    sim, eng, v = shop
    h = Horizon(12, 0.1)
    res = clv_distribution(eng, v, horizon=h, draws=20)
    clv = np.sort([c[0] for c in brute_force(sim, v, h).values()])
    assert res.customers == clv.size == sum(b.customers for b in res.bins)
    assert res.mean.value == pytest.approx(clv.mean(), rel=1e-9)
    assert res.total.value == pytest.approx(clv.sum(), rel=1e-9)
    assert res.mean.low < res.mean.value < res.mean.high
    assert res.total.low == pytest.approx(res.mean.low * clv.size)
    assert res.median == pytest.approx(np.quantile(clv, 0.5), rel=1e-9)
    assert res.p90 == pytest.approx(np.quantile(clv, 0.9), rel=1e-9)
    assert res.p99 == pytest.approx(np.quantile(clv, 0.99), rel=1e-9)
    assert res.maximum == pytest.approx(clv[-1])
    for b in res.bins:
        inside = clv[(clv >= b.low) & ((clv < b.high) if b.high is not None else True)]
        assert b.customers == inside.size and b.value == pytest.approx(inside.sum())
    width = res.bins[0].high - res.bins[0].low
    p95 = np.quantile(clv, 0.95)
    assert res.bins[-1].high is None and p95 <= res.bins[-1].low < p95 + width
    top10 = clv[::-1][: clv.size // 10].sum() / clv.sum()
    assert {t.customers: t.value for t in res.top}[0.1] == pytest.approx(top10, rel=1e-2)
    assert res.as_dict()["bins"][0]["low"] == 0.0


def test_draws_per_state_equal_draws_per_customer(shop) -> None:  # noqa: F811
    v = shop[2]
    h = Horizon(6, 0.05)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, 300).astype(float)
    t_x = np.where(x > 0, rng.uniform(1, 50, 300), 0.0).round()
    age = np.full(300, 60.0)
    repeat = np.where(x > 0, rng.gamma(4, 25, 300) * x, 0.0)
    n = rng.integers(1, 4, 300).astype(float)
    got = dist._mean_per_draw(v, h, n, x, t_x, age, repeat, 8, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(x > 0, repeat / np.maximum(x, 1), np.nan)
    _, more = point_and_draws(v, x, t_x, age, m, h, 8, 1)
    want = (n[:, None] * stack(more, "clv")).sum(axis=0) / n.sum()
    assert got == pytest.approx(want, rel=1e-9)


def test_without_a_spend_model_there_is_no_distribution(shop) -> None:  # noqa: F811
    _, eng, v = shop
    res = clv_distribution(eng, dataclasses.replace(v, spend=None), draws=5)
    assert res.bins == [] and res.mean.value is None and "no spend model" in res.notes[0]
    assert res.customers > 0
