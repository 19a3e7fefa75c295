"""Experience metrics: intervals against published and hand-computed answers, the NPS
interval's coverage by simulation, score/compare on a tiny hand-built warehouse, and the
S demo's planted low-eNPS team found by the segment test."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pytest
from scipy import stats

from cxlens.analytics import experience as ex
from cxlens.analytics._intervals import (
    benjamini_hochberg,
    fisher_z_interval,
    mean_interval,
    newcombe_difference,
    nps_adjusted_interval_vec,
    nps_difference,
    nps_interval,
    welch_difference,
    wilson,
)
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import open_engine, open_warehouse

# --- intervals: known answers ------------------------------------------------------------


def test_nps_adjusted_wald_hand_computed() -> None:
    # 50/30/20 of 100: add one answer to each group → 51/31/21 of 103.
    # d = 30/103 = .291262; Var = (72/103 − d²)/103 = .0059631; SE = 7.7221 points.
    r = nps_interval(0.5, 0.2, 100)
    assert r.value == pytest.approx(30.0)  # the observed score, not the adjusted centre
    assert r.se == pytest.approx(7.72209, abs=1e-4)
    assert r.low == pytest.approx(29.12621 - 1.959964 * 7.72209, abs=1e-3)  # 13.991
    assert r.high == pytest.approx(44.2612, abs=1e-3)
    assert r.method == "nps-adjusted-wald"
    # The plain Wald variant reproduces overview.nps_from_counts (docs/methods.md).
    w = nps_interval(0.5, 0.2, 100, adjusted=False)
    assert (w.se, w.low) == (pytest.approx(7.81025, abs=1e-4), pytest.approx(14.692, abs=1e-3))


def test_nps_adjusted_interval_does_not_collapse_at_the_extremes() -> None:
    # 10 promoters of 10: Wald says ±0; adjusted: 11/13 − 1/13 = 76.92, SE 100·√((12/13 −
    # (10/13)²)/13) = 15.97 → 45.63 … 108.2, clipped to 100: honest for n = 10.
    r = nps_interval(1.0, 0.0, 10)
    assert r.value == 100.0
    assert r.se == pytest.approx(100 * math.sqrt((12 / 13 - (10 / 13) ** 2) / 13))
    assert r.low == pytest.approx(76.923 - 1.959964 * 15.9654, abs=1e-2)
    assert r.high == 100.0
    assert nps_interval(1.0, 0.0, 10, adjusted=False).se == 0.0


def test_wilson_reproduces_newcombe_1998() -> None:
    # Newcombe (1998a), Statistics in Medicine 17, Table II: 81/263 and 15/148.
    a, b = wilson(81 / 263, 263), wilson(15 / 148, 148)
    assert (a.low, a.high) == (pytest.approx(25.53, abs=0.01), pytest.approx(36.62, abs=0.01))
    assert (b.low, b.high) == (pytest.approx(6.24, abs=0.01), pytest.approx(16.05, abs=0.01))
    w = wilson(0.0, 10)  # 0 of 10: the interval is 0 … 27.75, not a point
    assert w.low == 0.0 and w.high == pytest.approx(27.75, abs=0.01)


def test_newcombe_difference_reproduces_newcombe_1998() -> None:
    # Newcombe (1998b), Statistics in Medicine 17, 873–890, example (a): 56/70 − 48/80,
    # method 10: 0.0524 … 0.3339.
    d, p = newcombe_difference(56 / 70, 70, 48 / 80, 80)
    assert d.value == pytest.approx(20.0)
    assert (d.low, d.high) == (pytest.approx(5.24, abs=0.01), pytest.approx(33.39, abs=0.01))
    # pooled z: p̄ = 104/150, SE0 = √(p̄(1−p̄)(1/70 + 1/80)) → z = 2.650, p = .00805
    assert p == pytest.approx(0.008045, abs=1e-5)


def test_nps_difference_hand_computed() -> None:
    # 50/30/20 vs 30/30/40 (n = 100 each): 30 − (−10) = 40 points.
    # Adjusted variances .0059631 and (72/103 − (10/103)²)/103 = .0066952 → SE 11.2509.
    d, p = nps_difference(0.5, 0.2, 100, 0.3, 0.4, 100)
    assert d.value == pytest.approx(40.0)
    assert d.se == pytest.approx(11.2509, abs=1e-3)
    assert p == pytest.approx(2 * stats.norm.sf(40 / 11.2509), rel=1e-3)  # ≈ .000378


def test_means_agree_with_scipy() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(5, 1, 40), rng.normal(4.5, 2, 25)
    m = mean_interval(float(x.mean()), float(x.var(ddof=1)), 40)
    ci = stats.t.interval(0.95, 39, loc=x.mean(), scale=stats.sem(x))
    assert (m.low, m.high) == (pytest.approx(ci[0]), pytest.approx(ci[1]))
    d, p = welch_difference(float(x.mean()), float(x.var(ddof=1)), 40,
                            float(y.mean()), float(y.var(ddof=1)), 25)
    ref = stats.ttest_ind(x, y, equal_var=False)
    assert p == pytest.approx(ref.pvalue)
    lo, hi = ref.confidence_interval(0.95)
    assert (d.low, d.high) == (pytest.approx(lo), pytest.approx(hi))


def test_benjamini_hochberg_hand_computed_and_against_scipy() -> None:
    # sorted .005 .01 .03 .04 → ×4/rank = .02 .02 .04 .04 (already monotone)
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    assert q == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # step-up: .02·3/1 = .06 and .03·3/2 = .045 are lowered to the later .045·3/3
    q = benjamini_hochberg([0.02, 0.03, 0.045])
    assert q == pytest.approx([0.045, 0.045, 0.045])
    p = np.random.default_rng(1).uniform(0, 0.2, 25)
    assert benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p))
    assert benjamini_hochberg([]).size == 0


def test_fisher_z_hand_computed() -> None:
    # r = .5, n = 28: z = .5493, SE = 1/5 → tanh(.5493 ± .392) = .156 … .736
    r, p = fisher_z_interval(0.5, 28)
    assert (r.low, r.high) == (pytest.approx(0.15603, abs=1e-4), pytest.approx(0.73582, abs=1e-4))
    assert p == pytest.approx(stats.pearsonr(*_with_r(0.5, 28)).pvalue, rel=1e-6)
    assert fisher_z_interval(0.9, 3)[0].low is None


def _with_r(r: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two series of length n whose sample correlation is exactly r."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=n), rng.normal(size=n)
    a = (a - a.mean()) / np.linalg.norm(a - a.mean())
    b = b - b.mean()
    b = b - (b @ a) * a
    b /= np.linalg.norm(b)
    return a, r * a + math.sqrt(1 - r * r) * b


@pytest.mark.parametrize("p", [(0.5, 0.3, 0.2), (0.2, 0.3, 0.5), (0.7, 0.2, 0.1),
                               (0.33, 0.34, 0.33), (0.85, 0.1, 0.05)])
@pytest.mark.parametrize("n", [30, 100, 400])
def test_nps_interval_coverage_by_simulation(p: tuple[float, float, float], n: int) -> None:
    rng = np.random.default_rng(20261128)
    counts = rng.multinomial(n, p, size=20_000)
    lo, hi = nps_adjusted_interval_vec(counts[:, 0], counts[:, 2], n)
    true = 100 * (p[0] - p[2])
    coverage = float(((lo <= true) & (true <= hi)).mean())
    assert 0.93 <= coverage <= 0.97, coverage
    # the scalar function gives the same bounds as the vectorised one
    one = nps_interval(counts[0, 0] / n, counts[0, 2] / n, n)
    assert (one.low, one.high) == (pytest.approx(lo[0]), pytest.approx(hi[0]))


# --- score and compare on a tiny warehouse ------------------------------------------------


@pytest.fixture
def tiny() -> DuckDBEngine:
    """NPS: store A 6 promoters, 2 passives, 2 detractors in Nov; store B 1/2/7 in Oct.
    CSAT (1–5): 4, 5, 5, 3, 1 and one on a 1–7 scale (6 = top-two-box). CES: 7, 5, 2."""
    con = duckdb.connect()
    con.execute("""
        CREATE TABLE v_feedback (response_id VARCHAR, ts TIMESTAMP, metric VARCHAR,
            score DECIMAL(18,4), scale_max BIGINT, touchpoint VARCHAR, channel VARCHAR,
            store_id VARCHAR, team_id VARCHAR, language VARCHAR, survey_id VARCHAR,
            source VARCHAR, customer_id VARCHAR, properties VARCHAR)""")
    con.execute("""CREATE TABLE customers (customer_id VARCHAR, segment VARCHAR,
                   country VARCHAR, city VARCHAR, language VARCHAR)""")
    rows = []
    a = [10] * 3 + [9] * 3 + [8, 7] + [3, 6]
    b = [9, 7, 8, 0, 1, 2, 3, 4, 5, 6]  # 1 promoter, 2 passives, 7 detractors
    for i, s in enumerate(a):
        rows.append((f"a{i}", datetime(2026, 11, 2 + i), "nps", s, None, "A", f"c{i}", '{"w": 2}'))
    for i, s in enumerate(b):
        rows.append((f"b{i}", datetime(2026, 10, 2 + i), "nps", s, None, "B", f"d{i}", '{"w": 1}'))
    for i, (s, m) in enumerate([(4, None), (5, None), (5, None), (3, None), (1, None), (6, 7)]):
        rows.append((f"s{i}", datetime(2026, 11, 1 + i), "csat", s, m, "A", f"c{i}", None))
    for i, s in enumerate([7, 5, 2]):
        rows.append((f"e{i}", datetime(2026, 11, 1 + i), "ces", s, None, "A", None, None))
    con.executemany(
        "INSERT INTO v_feedback (response_id, ts, metric, score, scale_max, store_id, "
        "customer_id, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.executemany("INSERT INTO customers VALUES (?, ?, 'FI', NULL, 'fi')",
                    [(f"c{i}", "B2B" if i < 5 else "B2C") for i in range(10)]
                    + [(f"d{i}", "B2C") for i in range(10)])
    return DuckDBEngine(con)


def test_score_overall_and_by_store(tiny) -> None:
    (all_,) = ex.score(tiny, "nps")
    assert all_.n == 20 and all_.value.value == pytest.approx(100 * (7 - 9) / 20)
    assert all_.too_small and all_.detractors is not None
    by = {s.group: s for s in ex.score(tiny, "nps", by="store_id")}
    assert by["A"].value.value == pytest.approx(40.0) and by["B"].value.value == -60.0
    assert by["A"].value.se == pytest.approx(100 * math.sqrt((10 / 13 - (4 / 13) ** 2) / 13))
    assert by["A"].mean.value == pytest.approx(np.mean([10] * 3 + [9] * 3 + [8, 7, 3, 6]))
    assert by["A"].share.value == pytest.approx(60.0)


def test_score_csat_ces_and_scale_max(tiny) -> None:
    (c,) = ex.score(tiny, "csat")
    assert c.n == 6 and c.value.value == pytest.approx(400 / 6)  # 4,5,5 and 6-of-7
    assert c.value.method == "wilson" and c.mean.value == pytest.approx(24 / 6)
    (e,) = ex.score(tiny, "ces")
    assert e.value.value == pytest.approx(14 / 3) and e.share.value == pytest.approx(200 / 3)
    assert e.value.method == "t"


def test_score_by_period_customer_attribute_and_filters(tiny) -> None:
    months = ex.score(tiny, "nps", period="month")
    assert [(s.bucket, s.n) for s in months] == [(date(2026, 10, 1), 10), (date(2026, 11, 1), 10)]
    seg = {s.group: s.n for s in ex.score(tiny, "nps", by="segment")}
    assert seg == {"B2B": 5, "B2C": 15}
    (f,) = ex.score(tiny, "nps", filters={"segment": "B2B"})
    assert f.n == 5 and f.value.value == pytest.approx(100.0)
    (f,) = ex.score(tiny, "nps", filters={"store_id": ["A", "B"]}, start=date(2026, 11, 1))
    assert f.n == 10
    assert ex.score(tiny, "nps", by="customer.language")[0].group == "fi"
    with pytest.raises(ValueError, match="unknown dimension"):
        ex.score(tiny, "nps", by="nope")
    with pytest.raises(ValueError, match="metric"):
        ex.score(tiny, "stars")
    (none,) = ex.score(tiny, "enps")
    assert none.n == 0 and none.value.value is None and none.too_small


def test_weights_use_the_effective_sample_size(tiny) -> None:
    # Equal weights change nothing; A weighted 2, B weighted 1 (the "w" property):
    # n_eff = 30²/(10·4 + 10·1) = 18; shares (2·6 + 1)/30 promoters, (2·2 + 7)/30 detractors.
    (w,) = ex.score(tiny, "nps", weights="w")
    assert w.n == 20 and w.n_eff == pytest.approx(18.0)
    assert w.value.value == pytest.approx(100 * (13 - 11) / 30)
    exp = nps_interval(13 / 30, 11 / 30, 18.0)
    assert (w.value.low, w.value.high) == (pytest.approx(exp.low), pytest.approx(exp.high))
    mapping = {f"a{i}": 3.0 for i in range(10)} | {f"b{i}": 3.0 for i in range(10)}
    (m,) = ex.score(tiny, "nps", weights=mapping)
    (u,) = ex.score(tiny, "nps")
    assert m.n_eff == pytest.approx(20) and m.value.low == pytest.approx(u.value.low)
    # answers without a weight are left out
    (part,) = ex.score(tiny, "nps", weights={"a0": 1.0, "b0": 1.0})
    assert part.n == 2
    # the mapping was registered for the query only
    assert not [t for t in tiny.tables() if t.startswith("_cx_w_")]


def test_compare_periods_without_answers_uses_the_given_day_not_the_clock() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE v_feedback (response_id VARCHAR, ts TIMESTAMP, metric VARCHAR, "
                "score DECIMAL(18,4), scale_max BIGINT, customer_id VARCHAR)")
    eng = DuckDBEngine(con)
    c = ex.compare_periods(eng, "nps", today=date(2031, 5, 17))
    assert c.current_period == (date(2031, 5, 1), date(2031, 6, 1))
    assert ex.compare_periods(eng, "nps").current_period == (date(1970, 1, 1), date(1970, 2, 1))


def test_compare_periods_month_over_month(tiny) -> None:
    c = ex.compare_periods(tiny, "nps", as_of=date(2026, 11, 15))
    assert c.current_period == (date(2026, 11, 1), date(2026, 12, 1))
    assert c.previous_period == (date(2026, 10, 1), date(2026, 11, 1))
    d, p = nps_difference(0.6, 0.2, 10, 0.1, 0.7, 10)
    assert c.difference.value == pytest.approx(100.0) and c.difference.se == pytest.approx(d.se)
    assert c.p_value == pytest.approx(p)
    # by default the current month is the one of the latest answer
    assert ex.compare_periods(tiny, "nps").current_period[0] == date(2026, 11, 1)
    m = ex.compare_periods(tiny, "nps", on="mean", current=(date(2026, 11, 1), date(2026, 12, 1)))
    assert m.previous_period == (date(2026, 10, 2), date(2026, 11, 1))  # same length before
    assert m.difference.method == "welch-t"


def test_compare_segments_each_against_the_rest(tiny) -> None:
    tests = ex.compare_segments(tiny, "nps", by="store_id")
    assert [t.group for t in tests] == ["A", "B"]  # two groups: equal p, sorted by name
    a = tests[0]
    assert a.rest.n == 10 and a.rest.value.value == -60.0
    assert a.p_value == pytest.approx(tests[1].p_value)
    assert a.q_value == pytest.approx(a.p_value)  # m = 2, both p equal: q = p·2/2
    assert a.significant == (a.q_value < 0.05)
    only_a = ex.compare_segments(tiny, "nps", by="store_id", filters={"store_id": ["A"]})
    assert only_a == []  # one group has no rest to be compared with


def test_value_by_group_hand_computed() -> None:
    con = duckdb.connect()
    con.execute("CREATE SEQUENCE line START 2")  # the answers' lines in their file
    con.execute("CREATE TABLE v_feedback (response_id VARCHAR, ts TIMESTAMP, metric VARCHAR, "
                "score DECIMAL(18,4), customer_id VARCHAR, _batch INTEGER DEFAULT 1, "
                "_line BIGINT DEFAULT nextval('line'))")
    con.execute("CREATE TABLE v_orders (order_id VARCHAR, customer_id VARCHAR, ts TIMESTAMP, "
                "amount DECIMAL(18,2), currency VARCHAR, status VARCHAR)")
    con.executemany("INSERT INTO v_feedback (response_id, ts, metric, score, customer_id) "
                    "VALUES (?, ?, 'nps', ?, ?)", [
        ("r1", "2026-01-01", 10, "c1"), ("r1b", "2026-02-01", 0, "c1"),  # only the first counts
        ("r2", "2026-01-01", 3, "c2"), ("r5", "2026-01-02", 5, "c5"),
        ("r3", "2026-10-01", 8, "c3"),  # its 90 days are not observed by 2026-11-26
        ("r4", "2026-01-01", 9, "c4"),  # a promoter who never buys again
    ])
    con.executemany("INSERT INTO v_orders VALUES (?, ?, ?, ?, 'EUR', ?)", [
        ("o0", "c1", "2025-12-31", 500, None),  # before the answer
        ("o1", "c1", "2026-01-15", 100, "paid"), ("o2", "c1", "2026-05-15", 50, None),
        ("o9", "c1", "2026-01-20", 999, "refunded"),
        ("o3", "c2", "2026-02-01", 20, None), ("o5", "c5", "2026-03-01", 40, None),
        ("o4", "c3", "2026-10-05", 70, None),
    ])
    # an order in another currency is not summed with the euros (c1's revenue stays 100), only
    # counted; it is still an order, so it counts as a repurchase
    con.execute("INSERT INTO v_orders VALUES ('o6', 'c1', '2026-01-10', 300, 'SEK', NULL)")
    v = ex.value_by_group(DuckDBEngine(con), days=(90, 180), as_of=date(2026, 11, 26))
    assert v.currency == "EUR" and v.other_currency_orders == 1
    p90, d90, m90 = (v.get(90, g) for g in ("promoter", "detractor", "passive"))
    assert (p90.n, p90.revenue.value, p90.repurchase.value) == (2, 50.0, 50.0)
    assert (d90.n, d90.revenue.value, d90.repurchase.value) == (2, 30.0, 100.0)
    assert m90.n == 0 and m90.revenue.value is None
    assert v.get(180, "promoter").revenue.value == 75.0  # 100 + 50 for c1, 0 for c4
    # promoters 100, 0 (s² 5000) vs detractors 20, 40 (s² 200): 20 ± t·√(2500 + 100)
    diff = v.promoter_minus_detractor[90]
    assert diff.value == pytest.approx(20.0) and diff.se == pytest.approx(math.sqrt(2600))
    ref = stats.ttest_ind([100, 0], [20, 40], equal_var=False)
    assert v.p_values[90] == pytest.approx(ref.pvalue)
    # two customers are too few to bootstrap: the mean without an interval
    assert p90.revenue.method == "bca-bootstrap" and p90.revenue.low is None
    assert p90.too_small
    # repurchase 1/2 promoters vs 2/2 detractors: −50 points, Newcombe's interval
    rep, rep_p = newcombe_difference(0.5, 2, 1.0, 2)
    assert v.repurchase_difference[90] == rep and v.repurchase_p_values[90] == rep_p
    w90, w180 = v.worth()
    assert (w90.days, w90.difference, w90.p_value) == (90, diff, v.p_values[90])
    assert (w90.repurchase_difference, w90.repurchase_p_value) == (rep, rep_p)
    assert (w90.n_promoters, w90.n_detractors, w90.too_small) == (2, 2, True)
    assert w180.days == 180 and w180.n_detractors == 2
    assert (v.n_boot, v.seed) == (2000, 0)


# --- the S demo ---------------------------------------------------------------------------




def test_demo_low_enps_team_is_the_only_one_significantly_below(demo) -> None:
    ws, truths = demo
    with open_engine(ws) as eng:
        tests = ex.compare_segments(eng, "enps", by="team_id")
        (overall,) = ex.score(eng, "enps")
    below = [t.group for t in tests if t.significant and t.difference.value < 0]
    assert below == [truths["people_link"]["low_enps_team"]]
    assert overall.n == 725 and not overall.too_small


def test_demo_scores_by_every_kind_of_dimension(demo) -> None:
    ws, _ = demo
    with open_engine(ws) as eng:
        for by in ("touchpoint", "store_id", "country", "segment", "customer.language"):
            rows = ex.score(eng, "nps", by=by)
            assert sum(r.n for r in rows) == ex.score(eng, "nps")[0].n, by
        q = ex.score(eng, "csat", period="quarter")
        assert all(r.bucket.month in (1, 4, 7, 10) for r in q)
        c = ex.compare_periods(eng, "nps", grain="quarter")
        assert c.current.n > 0 and c.previous.n > 0 and 0 <= c.p_value <= 1


def test_demo_value_by_group_uses_only_fully_observed_windows(demo) -> None:
    ws, _ = demo
    with open_warehouse(ws, read_only=True) as con:
        v = ex.value_by_group(DuckDBEngine(con), days=(90, 180))
        last_answer = con.execute(
            "SELECT max(ts) FROM v_feedback WHERE metric = 'nps'").fetchall()[0][0]
        first = con.execute("""
            SELECT count(*) FROM (SELECT customer_id, min(ts) AS ts FROM v_feedback
            WHERE metric = 'nps' AND customer_id IS NOT NULL GROUP BY 1)
            WHERE ts + INTERVAL 90 DAY <= $u""", {"u": v.observed_until}).fetchall()[0][0]
    assert v.observed_until <= datetime(2026, 11, 28) and v.observed_until > last_answer - \
        timedelta(days=2)
    n90 = sum(g.n for g in v.groups if g.days == 90)
    n180 = sum(g.n for g in v.groups if g.days == 180)
    assert n90 == first and 0 < n180 < n90
    for g in v.groups:
        assert g.revenue.value >= 0 and 0 <= g.repurchase.value <= 100
        assert g.repurchase.low <= g.repurchase.value <= g.repurchase.high
        if g.revenue.low is not None:  # the bootstrap interval never goes below zero
            assert 0 <= g.revenue.low <= g.revenue.value <= g.revenue.high
    p, d = v.get(90, "promoter"), v.get(90, "detractor")
    diff = v.promoter_minus_detractor[90]
    assert diff.value == pytest.approx(p.revenue.value - d.revenue.value)
    assert diff.low < diff.value < diff.high and v.p_values[90] is not None
