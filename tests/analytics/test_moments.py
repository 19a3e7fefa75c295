"""Business moments, time to outcome and actions: known answers, a simulation, bad input.

The known answers come from a tiny hand-made warehouse (:func:`tiny`): 40 customers meet
``demo`` on 1 March 2025 after a page view on 1 January; 25 of them buy ten days later, 5
buy in the very second of the moment (which is no outcome *after* it), 5 buy in July (after
the 90 days) and 5 never; 40 others only viewed a page in January and never buy (ten of
each group are B2B); 3 more have one touchpoint, in June, and so no past at any index time
before it. The simulation
(:mod:`moments_sim`) plants a helping moment, a harmful one, a null and a decoy that only
correlates with buying through hidden intent.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pytest
from moments_sim import engine, simulate

from cxlens.analytics import journeys as j
from cxlens.analytics.journeys._adjust import design, estimate
from cxlens.analytics.journeys.survival import kaplan_meier

JAN, MAR = datetime(2025, 1, 1, 9), datetime(2025, 3, 1, 12)


def tiny() -> dict[str, pa.Table]:
    ev: list[tuple[str, datetime, str]] = []
    od: list[tuple[str, datetime]] = []
    for i in range(40):
        c = f"t{i:02d}"
        ev += [(c, JAN, "page_view"), (c, MAR + timedelta(hours=i), "demo")]
        t0 = MAR + timedelta(hours=i)
        if i < 25:
            od.append((c, t0 + timedelta(days=10)))
        elif i < 30:
            od.append((c, t0))  # the same second: not after the moment
        elif i < 35:
            od.append((c, datetime(2025, 7, 1)))
    for i in range(40):
        ev.append((f"k{i:02d}", JAN + timedelta(minutes=i), "page_view"))
    for i in range(3):
        ev.append((f"o{i}", datetime(2025, 6, 1), "page_view"))
    ev.append(("k00", datetime(2025, 12, 31, 12), "page_view"))  # the data end: 1 Jan 2026
    n, k = len(ev), len(od)
    cust = sorted({e[0] for e in ev})
    return {
        "v_events": pa.table({
            "customer_id": [e[0] for e in ev], "ts": pa.array([e[1] for e in ev]),
            "event_type": [e[2] for e in ev], "channel": ["web"] * n,
            "store_id": pa.nulls(n, pa.string()), "_batch": pa.array([1] * n, pa.int32()),
            "_line": pa.array(range(n), pa.int64())}),
        "v_orders": pa.table({
            "customer_id": [o[0] for o in od], "ts": pa.array([o[1] for o in od]),
            "channel": ["web"] * k, "store_id": pa.nulls(k, pa.string()),
            "amount": pa.array([40.0] * k), "currency": ["EUR"] * k, "status": ["paid"] * k,
            "_batch": pa.array([2] * k, pa.int32()), "_line": pa.array(range(k), pa.int64())}),
        "v_feedback": simulate(1)["v_feedback"],
        "customers": pa.table({"customer_id": cust, "segment": [
            "B2B" if c[0] in "tk" and int(c[1:]) < 10 else "B2C" for c in cust]}),
    }


@pytest.fixture(scope="module")
def small():
    return engine(tiny())


@pytest.fixture(scope="module")
def sim():
    truth: dict[str, list] = {}
    return engine(simulate(3000, seed=1, truth=truth)), truth


def test_known_answer_on_tiny_journeys(small) -> None:
    m = j.moments(small, "purchase", 90, touchpoints=["demo"], n_boot=200)
    assert m.reason is None and m.scale == "percentage points"
    assert m.end == date(2026, 1, 1) and m.last_index == date(2025, 10, 3)
    (row,) = m.rows
    # the 40 who met it, and as comparison the 40 who never do and those of the 40 whose
    # drawn index time came before their demo (the one-event customers left out)
    assert row.customers == 40 and 40 < row.comparison < 80
    assert row.treated_rate == pytest.approx(62.5)
    # only those compared before their demo buy (their order after it is in the horizon)
    bought = round(row.comparison_rate * row.comparison / 100)
    assert 0 < bought <= row.comparison - 40
    assert row.naive == pytest.approx(62.5 - 100 * bought / row.comparison)
    # everyone has the same past (one page view on 1 January); only a comparison index
    # time in the first days of February still has it in the last 30 days: the adjustment
    # stays near the naive difference
    assert row.effect == pytest.approx(row.naive, abs=1.0)
    assert row.ipw == pytest.approx(row.naive, abs=1.0)
    assert row.low < row.effect < row.high and row.trimmed == 0
    assert [b.covariate for b in row.balance][:2] == ["prior_touchpoints"] * 1 + [
        "recent_touchpoints"]
    # revenue: 25 × 40 EUR over 40 customers
    r = j.moments(small, "revenue", 90, touchpoints=["demo"], n_boot=200)
    assert r.scale == "EUR"
    assert r.rows[0].naive == pytest.approx(25.0 - 40.0 * bought / row.comparison)
    assert r.rows[0].effect == pytest.approx(r.rows[0].naive, abs=1.0)
    # deterministic: the same result twice
    assert j.moments(small, "purchase", 90, touchpoints=["demo"], n_boot=200) == m


def test_adjustment_on_hand_made_cells() -> None:
    """One binary covariate: the propensity is the cells' share (up to the ridge), so both
    IPW and the doubly robust ATT equal the treated-weighted difference within cells."""
    rows = []
    for x, (n1, y1, n0, y0) in {"a": (80, 60, 20, 10), "b": (20, 4, 80, 8)}.items():
        for g, n, y in ((1, n1, y1), (0, n0, y0)):
            rows += [{"x": x, "g": g, "pos": 1, "n": y, "s": y, "ss": y},
                     {"x": x, "g": g, "pos": 0, "n": n - y, "s": 0, "ss": 0}]
    des = design(rows, ("x",))
    fit = estimate(des)
    want = (80 * (60 / 80 - 10 / 20) + 20 * (4 / 20 - 8 / 80)) / 100
    assert fit.naive == pytest.approx(64 / 100 - 18 / 100)
    assert fit.ipw == pytest.approx(want, abs=1e-3)
    assert fit.dr == pytest.approx(want, abs=1e-3)
    assert np.all(np.abs(fit.balance_after) < 0.01) and np.max(np.abs(fit.balance_before)) > 1


def test_simulation_recovers_planted_effects(sim) -> None:
    eng, truth = sim
    m = j.moments(eng, "purchase", 90,
                  touchpoints=["demo_booked", "price_shock", "brochure", "newsletter_open"])
    rows = {r.touchpoint: r for r in m.rows}
    assert m.rows[0].touchpoint == "demo_booked"
    assert rows["demo_booked"].low > 0
    assert rows["price_shock"].high < 0 and m.rows[-1].touchpoint == "price_shock"
    assert rows["brochure"].low < 0 < rows["brochure"].high
    decoy = rows["newsletter_open"]
    # shrinks, but not to zero (intent is only partly visible in the past): +20.9 → +10.6
    assert decoy.naive > 15 and abs(decoy.effect) < 0.6 * decoy.naive
    for name in ("demo_booked", "price_shock"):  # the true ATT inside the interval
        true = 100 * np.mean([e for _, d, e in truth[name]
                              if d <= (m.last_index - date(2025, 1, 1)).days])
        assert rows[name].low < true < rows[name].high, (name, true, rows[name])


def test_survival_curves(sim, small) -> None:
    eng, _ = sim
    s = j.survival(eng, "demo_booked", "purchase", 90)
    met, comp = s.curves
    assert (met.group, comp.group) == ("met", "comparison")
    assert met.steps[90].survival < comp.steps[90].survival - 0.1
    assert met.median_days is not None and met.median_days < 90
    assert met.steps[0].at_risk == met.customers
    assert all(a.survival >= b.survival for a, b in pairwise(met.steps))
    t = j.survival(small, "demo", "purchase", 30, weighted=False)
    met = t.curves[0]
    assert met.customers == 40 and met.events == 25  # the same-second orders are not after
    assert met.steps[10].events == 25 and met.steps[10].survival == pytest.approx(15 / 40)
    assert met.median_days == 10 and t.curves[1].median_days is None


def test_kaplan_meier_by_hand() -> None:
    # times 1, 2 (censored), 3, 3: S(1) = 3/4, S(3) = 3/4 · 0/2 = 0
    steps, median = kaplan_meier(np.array([1, 2, 3]), np.array([1, 0, 1]),
                                 np.ones(3), np.array([1, 1, 2]), 3)
    assert [round(s.survival, 6) for s in steps] == [1.0, 0.75, 0.75, 0.0]
    assert [s.at_risk for s in steps] == [4, 4, 3, 2] and median == 3


def test_actions_list(small) -> None:
    a = j.customers(small, "demo", "purchase", 90)
    assert (a.met, a.total) == (40, 15)  # 5 same-second, 5 in July, 5 never
    ids = [c.customer_id for c in a.customers]
    assert ids == [f"t{i:02d}" for i in range(39, 24, -1)]  # the most recent first
    assert a.customers[0].met_at == MAR + timedelta(hours=39)
    assert not a.customers[0].open and a.customers[0].days_since == 303
    assert len(j.customers(small, "demo", "purchase", 90, limit=3).customers) == 3


def test_bad_input(small) -> None:
    with pytest.raises(ValueError, match="at least one day"):
        j.moments(small, "purchase", 0)
    with pytest.raises(ValueError, match="outcome must be"):
        j.moments(small, "sales", 90)
    with pytest.raises(ValueError, match="needs an event"):
        j.survival(small, "demo", "churn")
    m = j.moments(small, "promoter", 90, touchpoints=["demo"])
    assert not m.rows and "never happens" in m.reason
    m = j.moments(small, "purchase", 90, touchpoints=["demo", "nothing"], n_boot=100)
    assert m.rows[-1].touchpoint == "nothing" and m.rows[-1].effect is None
    assert "nobody met it" in m.rows[-1].reason
    nobody = j.Selection(segment="no such segment")
    assert j.moments(small, "purchase", 90, nobody).reason == "no touchpoints in the selection"
    assert j.survival(small, "demo", sel=nobody).reason == "no touchpoints in the selection"
    assert j.customers(small, "demo", sel=nobody).reason == "no touchpoints in the selection"
    assert "nobody" in j.customers(small, "nothing").reason
    m = j.moments(small, "purchase", 400)
    assert not m.rows and "horizon" in m.reason
    m = j.moments(small, "purchase", 90, min_customers=1000)
    assert not m.rows and "1000" in m.reason
    # churn: only prior buyers count, and nobody here bought before the moment
    m = j.moments(small, "churn", 90, touchpoints=["demo"])
    assert m.rows[0].effect is None and "bought before" in m.rows[0].reason
    # too few customers: the B2B segment has 10 who met it and 10 to 20 to compare (10 who
    # never meet it, and those who met it whose drawn index time came before their demo)
    m = j.moments(small, "purchase", 90, j.Selection(segment="B2B"), touchpoints=["demo"])
    (row,) = m.rows
    assert row.customers == 10 and 10 <= row.comparison <= 20 and row.effect is None
    assert row.naive is not None and "too few customers" in row.reason
