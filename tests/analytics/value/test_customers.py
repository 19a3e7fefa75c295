"""Per-customer values and the at-risk list equal a brute-force computation customer by
customer (on simulated orders), and their intervals hold the point values."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from cxlens.analytics.value._predict import Horizon, predict
from cxlens.analytics.value._summary import ValueInputError
from cxlens.analytics.value.channels import clv_by_channel, clv_by_nps_group
from cxlens.analytics.value.customers import customer_values
from cxlens.analytics.value.models import MODELS, fit_value
from cxlens.warehouse.engine import DuckDBEngine

from .synthetic import START, orders_table, simulate

END = START + timedelta(weeks=104) - timedelta(days=1)
TODAY = END + timedelta(days=1)


def channel_of(i: int) -> str:
    return "store" if i % 3 == 0 else "web"


@pytest.fixture(scope="module")
def shop():
    sim = simulate(1500, seed=5)
    table = orders_table(sim)
    table = table.append_column("channel", pa.array(
        [channel_of(int(i)) for i in sim["customer"]], pa.string()))
    table = table.append_column("order_id", pa.array(
        [f"o{i}" for i in range(table.num_rows)], pa.string()))
    eng = DuckDBEngine(duckdb.connect())
    eng.register("v_orders", table)
    return sim, eng, fit_value(eng, TODAY, model="bgnbd")


def brute_force(sim, v, h: Horizon, lookback: int = 90):
    """Every customer's state and predictions, one customer at a time."""
    end_day = (END - START).days
    then_day = end_day - lookback
    out = {}
    for c in np.unique(sim["customer"]):
        sel = sim["customer"] == c
        days, inv = np.unique(sim["day"][sel], return_inverse=True)
        amounts = np.bincount(inv, weights=sim["amount"][sel])
        first = days[0]
        x = days.size - 1
        m = amounts[1:].mean() if x else np.nan
        state = (x, (days[-1] - first) / 7, (end_day - first) / 7, m)
        pred = predict(v, v.purchases.params, v.spend.params, *(np.array([s]) for s in state),
                       h)
        early = days[days <= then_day]
        p_then = None
        if early.size:
            p_then = float(MODELS[v.chosen].p_alive(
                v.purchases.params, np.array([early.size - 1.0]),
                np.array([(early[-1] - first) / 7]), np.array([(then_day - first) / 7]))[0])
        out[f"c{c}"] = (float(pred.clv[0]), float(pred.p_alive[0]), p_then,
                        early.size == days.size)
    return out


def test_top_customers_are_the_brute_forces_top(shop) -> None:
    sim, eng, v = shop
    res = customer_values(eng, v, top=25, draws=50)
    truth = brute_force(sim, v, Horizon())
    best = sorted(truth, key=lambda c: (-truth[c][0], c))[:25]
    assert [r.customer_id for r in res.rows] == best
    assert res.customers == len(truth) and res.matching == len(truth)
    for r in res.rows:
        assert r.clv.value == pytest.approx(truth[r.customer_id][0], rel=1e-9)
        assert r.p_alive.value == pytest.approx(truth[r.customer_id][1], rel=1e-9)
        assert r.clv.low <= r.clv.high and r.clv.method == "parameter-draws"
        assert 0 <= r.p_alive.low <= r.p_alive.high <= 1
        assert r.channel == channel_of(int(r.customer_id[1:]))
    assert res.as_dict()["rows"][0]["clv"]["value"] == res.rows[0].clv.value


def test_at_risk_is_the_rule_applied_to_everyone(shop) -> None:
    sim, eng, v = shop
    res = customer_values(eng, v, at_risk=True, top=None, draws=20)
    truth = brute_force(sim, v, Horizon())
    clvs = np.sort([t[0] for t in truth.values()])
    assert res.high_value_clv == pytest.approx(np.quantile(clvs, 0.8), rel=1e-9)
    expect = sorted((c for c, (clv, p, then, silent) in truth.items()
                     if clv >= res.high_value_clv and then is not None and silent
                     and then - p >= 0.1), key=lambda c: (-truth[c][0], c))
    assert expect and [r.customer_id for r in res.rows] == expect
    assert res.matching == len(expect)
    assert all(r.p_alive_then - r.p_alive.value >= 0.1 for r in res.rows)
    assert all(r.last_purchase <= res.then for r in res.rows)
    first = customer_values(eng, v, at_risk=True, top=3, draws=20)
    assert [r.customer_id for r in first.rows] == expect[:3] and first.matching == len(expect)


def test_a_longer_horizon_is_worth_more_and_discounting_less(shop) -> None:
    _, eng, v = shop
    one = customer_values(eng, v, top=1, draws=10, horizon=Horizon(12, 0.0))
    two = customer_values(eng, v, top=1, draws=10, horizon=Horizon(24, 0.0))
    cut = customer_values(eng, v, top=1, draws=10, horizon=Horizon(24, 0.5))
    assert one.rows[0].customer_id == two.rows[0].customer_id
    assert one.rows[0].clv.value < cut.rows[0].clv.value < two.rows[0].clv.value
    # with no discount CLV is expected spend times expected purchases
    r = two.rows[0]
    assert r.clv.value == pytest.approx(r.spend.value * r.purchases.value, rel=1e-12)


def test_bad_options(shop) -> None:
    _, eng, v = shop
    for kwargs, text in (({"top": 0}, "positive number"),
                         ({"horizon": Horizon(0)}, "1 to 120 months"),
                         ({"horizon": Horizon(12, 1.5)}, "discount rate"),
                         ({"lookback_days": 2}, "look-back")):
        with pytest.raises(ValueInputError, match=text):
            customer_values(eng, v, **kwargs)


def test_worth_by_channel_is_the_mean_over_its_customers(shop) -> None:
    sim, eng, v = shop
    h = Horizon(12, 0.1)
    res = clv_by_channel(eng, v, horizon=h, draws=20)
    truth = brute_force(sim, v, h)
    assert [r.group for r in res.rows] == ["store", "web"]
    window = round(12 * 365.25 / 12)
    end_day = (END - START).days
    for r in res.rows:
        ids = [c for c in truth if channel_of(int(c[1:])) == r.group]
        assert r.customers == len(ids)
        assert r.clv.value == pytest.approx(np.mean([truth[c][0] for c in ids]), rel=1e-9)
        assert r.clv.low < r.clv.value < r.clv.high and r.clv.method == "draws+sampling"
        # customers older than the window: their first year's revenue, observed
        old = []
        for c in ids:
            sel = sim["customer"] == int(c[1:])
            first = sim["day"][sel].min()
            if end_day - first >= window:
                old.append(sim["amount"][sel][sim["day"][sel] - first < window].sum())
        assert len(old) > 50
        assert r.new_customer_value.low < r.new_customer_value.value
        assert r.new_customer_value.value == pytest.approx(np.mean(old), rel=0.25)


def test_nps_groups_by_the_first_answer(shop) -> None:
    _, eng, v = shop
    eng.register("v_feedback", pa.table({
        "customer_id": pa.array(["c1", "c2", "c2"], pa.string()),
        "ts": pa.array([datetime(2024, 3, 1, 10)] * 3, pa.timestamp("us")),
        "metric": pa.array(["nps"] * 3), "score": pa.array([10, 3, 10], pa.int64()),
        "_batch": pa.array([1, 1, 1], pa.int32()), "_line": pa.array([1, 2, 3], pa.int64())}))
    res = clv_by_nps_group(eng, v, draws=10)
    assert [(r.group, r.customers) for r in res.rows] == [("promoter", 1), ("detractor", 1)]
    assert res.rows[0].revenue_90d is not None


def test_without_a_spend_model_customers_rank_by_purchases(shop) -> None:
    import dataclasses

    _, eng, v = shop
    bare = dataclasses.replace(v, spend=None)
    res = customer_values(eng, bare, top=5, draws=10)
    assert res.high_value_clv is None and "no spend model" in res.notes[0]
    assert all(r.clv.value is None and r.spend.value is None for r in res.rows)
    got = [r.purchases.value for r in res.rows]
    assert got == sorted(got, reverse=True)
    worth = clv_by_channel(eng, bare, draws=10)
    assert "no spend model" in worth.notes[0]
    assert all(r.clv.value is None for r in worth.rows)
    assert res.as_dict()["rows"][0]["clv"]["value"] is None


def test_draws_outside_the_formulas_give_no_interval(shop) -> None:
    """A draw where BG/NBD's formulas do not hold (a + b + x - 1 <= 0) predicts NaN without a
    warning, and a value whose draws fail more than 5 % of the time has no interval."""
    import warnings

    from cxlens.analytics.value._predict import estimates

    _, _, v = shop
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bad = predict(v, np.array([0.5, 5.0, 1e-19, 0.4]), v.spend.params,
                      np.array([0.0, 1.0]), np.array([0.0, 3.0]), np.array([50.0, 50.0]),
                      np.array([np.nan, 40.0]), Horizon(12, 0.1))
    assert np.isnan(bad.purchases[0]) and np.isnan(bad.clv[0])
    draws = np.tile(np.linspace(1, 2, 100), (2, 1))
    draws[1, :6] = np.nan  # 6 % of the draws failed
    ok, failed = estimates(np.array([1.5, 1.5]), draws)
    assert ok.low is not None and ok.high is not None
    assert failed.value == 1.5 and failed.low is None and failed.high is None
