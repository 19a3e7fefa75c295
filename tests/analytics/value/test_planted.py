"""The value models recover parameters planted in simulated orders, and bad input ends in a
clear message or a flagged result, never a crash or nonsense."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from cxlens.analytics.value import bgnbd, gamma_gamma
from cxlens.analytics.value._summary import ValueInputError, purchase_summary
from cxlens.analytics.value.models import fit_value
from cxlens.warehouse.engine import DuckDBEngine

from .synthetic import START, orders_table, simulate

END = START + timedelta(weeks=104) - timedelta(days=1)
TODAY = END + timedelta(days=1)
PLANTED = {"r": 0.5, "alpha": 8.0, "a": 0.8, "b": 3.0}


def engine_with(table: pa.Table) -> DuckDBEngine:
    eng = DuckDBEngine(duckdb.connect())
    eng.register("v_orders", table)
    return eng


@pytest.fixture(scope="module")
def sim():
    return simulate(6000, seed=3)


def test_planted_parameters_are_recovered(sim) -> None:
    """Each fitted parameter's 99 % interval (±2.58 SE) holds the planted value; spend too.
    Day resolution rounds purchase times, which biases nothing visible at this size."""
    s = purchase_summary(engine_with(orders_table(sim)), END, TODAY)
    f = bgnbd.fit(s.x, s.t_x, s.T, s.n)
    assert f.converged, f.message
    for name, se, value in zip(f.names, f.se, f.params, strict=True):
        assert abs(value - PLANTED[name]) < 2.58 * se, (name, value, se)
    rep = s.x > 0
    g = gamma_gamma.fit(s.x[rep], s.spend[rep], s.n[rep])
    for name, se, value in zip(g.names, g.se, g.params, strict=True):
        assert abs(value - {"p": 5.0, "q": 4.0, "gamma": 60.0}[name]) < 2.58 * se, name
    ind = gamma_gamma.independence(s.x, s.spend, s.n)
    assert ind.low < 0 < ind.high  # planted independent


def test_fit_value_holds_out_and_chooses(sim) -> None:
    v = fit_value(engine_with(orders_table(sim)), TODAY)
    assert v.end == END
    assert {c.model for c in v.candidates} == {"bgnbd", "paretonbd"}
    chosen = min(v.candidates, key=lambda c: c.holdout_error)
    assert v.chosen == chosen.model and v.chosen_by == "holdout"
    for c in v.candidates:
        assert sum(r.customers for r in c.by_frequency) == v.customers - v.summary.left_out[
            "first_bought_after_calibration"]
        assert c.predicted_total == pytest.approx(c.actual_total, rel=0.15)
    forced = fit_value(engine_with(orders_table(sim)), TODAY, model="paretonbd")
    assert forced.chosen == "paretonbd" and forced.chosen_by == "request"


def _small(rows: list[tuple[str, date, str, str, str | None]]) -> pa.Table:
    return pa.table({
        "customer_id": pa.array([r[0] for r in rows], pa.string()),
        "ts": pa.array([datetime(d.year, d.month, d.day, 10) for _, d, *_ in rows],
                       pa.timestamp("us")),
        "amount": pa.array([Decimal(r[2]) for r in rows], pa.decimal128(18, 2)),
        "currency": pa.array([r[3] for r in rows], pa.string()),
        "status": pa.array([r[4] for r in rows], pa.string()),
        "_batch": pa.array([1] * len(rows), pa.int32()),
        "_line": pa.array(range(1, len(rows) + 1), pa.int64()),
    })


def test_refunds_zero_amounts_and_future_orders_are_counted_not_used(sim) -> None:
    base = orders_table(sim)
    extra = _small([
        ("c1", START + timedelta(days=30), "-25.00", "EUR", None),       # refund row
        ("c1", START + timedelta(days=31), "40.00", "EUR", "refunded"),  # refunded order
        ("c2", START + timedelta(days=40), "0.00", "EUR", None),         # free order: counts
        ("c3", TODAY + timedelta(days=300), "99.00", "EUR", None),       # in the future
    ])
    eng = engine_with(pa.concat_tables([base, extra]))
    s = purchase_summary(eng, END, TODAY)
    clean = purchase_summary(engine_with(base), END, TODAY)
    assert s.left_out["refund_rows"] == 1
    assert s.left_out["refunded_or_lost"] == 1
    assert s.left_out["after_today"] == 1
    assert int((s.x * s.n).sum()) - int((clean.x * clean.n).sum()) in (0, 1)  # the free one
    v = fit_value(eng, TODAY)
    assert any("after today" in n for n in v.notes)


def test_everyone_bought_once_is_not_identifiable() -> None:
    rows = [(f"c{i}", START + timedelta(days=i), "10.00", "EUR", None) for i in range(50)]
    eng = engine_with(_small(rows))
    with pytest.raises(bgnbd.NotIdentifiable, match="bought exactly once"):
        fit_value(eng, START + timedelta(days=200))


def test_calibration_before_the_first_purchase_is_refused(sim) -> None:
    eng = engine_with(orders_table(sim))
    with pytest.raises(ValueInputError, match="before the first purchase"):
        purchase_summary(eng, START - timedelta(days=10), TODAY)
    with pytest.raises(ValueInputError, match="after today"):
        purchase_summary(eng, TODAY + timedelta(days=1), TODAY)
    with pytest.raises(ValueInputError, match="must be before the end"):
        fit_value(eng, TODAY, calibration_end=END)


def test_mixed_currencies_are_refused_unless_rates_are_given(sim) -> None:
    n = sim["customer"].size
    cur = np.where(sim["customer"] % 5 == 0, "SEK", "EUR").tolist()
    sek = dict(sim)
    sek["amount"] = np.where(sim["customer"] % 5 == 0, sim["amount"] * 11.0, sim["amount"])
    eng = engine_with(orders_table(sek, currency=cur))
    with pytest.raises(ValueInputError, match=r"SEK.*--rate SEK="):
        purchase_summary(eng, END, TODAY)
    with_rates = purchase_summary(eng, END, TODAY, rates={"SEK": 1 / 11.0})
    plain = purchase_summary(engine_with(orders_table(sim)), END, TODAY)
    assert with_rates.customers == plain.customers == len(set(sim["customer"]))
    order = np.lexsort((plain.spend, plain.T, plain.t_x, plain.x))
    order2 = np.lexsort((with_rates.spend, with_rates.T, with_rates.t_x, with_rates.x))
    np.testing.assert_allclose(with_rates.spend[order2], plain.spend[order], rtol=1e-6)
    assert n > 0
    with pytest.raises(ValueInputError, match="positive number"):
        purchase_summary(eng, END, TODAY, rates={"SEK": -1})


def test_a_tiny_shop_gets_a_flagged_result_not_nonsense() -> None:
    """Twelve customers: the fit runs, says how few, and keeps its intervals wide."""
    rows = []
    for i in range(12):
        for k in range(i % 4 + 1):
            rows.append((f"c{i}", START + timedelta(days=5 * i + 17 * k), "20.00", "EUR", None))
    v = fit_value(engine_with(_small(rows)), START + timedelta(days=200))
    assert any("only 12 customers" in n for n in v.notes)
    p = v.purchases
    assert (not p.converged) or np.all(np.isfinite(p.se))
