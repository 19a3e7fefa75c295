"""People and customers: how customer answers are tied to teams (tiny warehouse), and the S
demo's planted low-eNPS team T-FI-TRE flagged with its store's customers' NPS lower."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from cxlens.analytics import people
from cxlens.analytics.experience import compare_segments
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import open_engine


@pytest.fixture
def tiny() -> DuckDBEngine:
    """Teams T1 (store S1), T2 and T3 (both store S2); T4 (store S4, no customers)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE v_employees (employee_id VARCHAR, team_id VARCHAR, "
                "team_name VARCHAR, store_id VARCHAR)")
    con.executemany("INSERT INTO v_employees VALUES (?, ?, ?, ?)",
                    [("e1", "T1", "One", "S1"), ("e2", "T2", "Two", "S2"),
                     ("e3", "T3", "Three", "S2"), ("e4", "T4", "Four", "S4")])
    con.execute("""
        CREATE TABLE v_feedback (response_id VARCHAR, ts TIMESTAMP, metric VARCHAR,
            score DECIMAL(18,4), scale_max BIGINT, touchpoint VARCHAR, channel VARCHAR,
            store_id VARCHAR, team_id VARCHAR, language VARCHAR, survey_id VARCHAR,
            source VARCHAR, customer_id VARCHAR, properties VARCHAR)""")
    rows = [
        # customers: S1 by store → T1; S2 is shared → only the answer carrying T3 counts
        ("n1", "nps", 10, "S1", None), ("n2", "nps", 9, "S1", None), ("n3", "nps", 3, "S1", None),
        ("n4", "nps", 10, "S2", None), ("n5", "nps", 2, "S2", "T3"),
        # staff
        ("s1", "enps", 10, "S1", "T1"), ("s2", "enps", 9, "S1", "T1"),
        ("s3", "enps", 5, "S2", "T2"), ("s4", "enps", 8, "S2", "T3"),
        ("s5", "enps", 9, "S4", "T4"),
    ]
    con.executemany("INSERT INTO v_feedback (response_id, ts, metric, score, store_id, team_id)"
                    " VALUES (?, '2026-06-01', ?, ?, ?, ?)", rows)
    return DuckDBEngine(con)


def test_customer_answers_are_tied_to_teams(tiny) -> None:
    link = people.team_link(tiny, min_answers=1)
    t1, t2, t3, t4 = (link.team(t) for t in ("T1", "T2", "T3", "T4"))
    assert t1.customer_nps.n == 3 and t1.customer_nps.value.value == pytest.approx(100 / 3)
    assert t2.customer_nps is None  # S2 is shared by two teams: its store answer is left out
    assert t3.customer_nps.n == 1 and t3.customer_nps.value.value == -100.0
    assert t4.customer_nps is None and t4.enps.value.value == 100.0
    assert (t1.team_name, t1.store_id) == ("One", "S1")
    assert link.n_teams == 2 and link.correlation.value is None  # fewer than 3 teams
    assert [s.group for s in people.enps_by_team(tiny)] == ["T1", "T2", "T3", "T4"]


@pytest.fixture
def people_demo(demo):
    """The shared S demo (tests/analytics/conftest.py) with its planted people link."""
    ws, truths = demo
    return ws, truths["people_link"]


def test_demo_low_enps_team_is_flagged_and_its_customers_score_lower(people_demo) -> None:
    ws, truth = people_demo
    with open_engine(ws) as eng:
        link = people.team_link(eng, min_answers=1)
        stores = {t.group: t for t in compare_segments(eng, "nps", by="store_id")}
    low = link.team(truth["low_enps_team"])
    assert link.low_enps_teams == [truth["low_enps_team"]]
    assert low.store_id == truth["low_enps_store"]
    assert low.enps.value.value == pytest.approx(truth["realised_enps_low_team"], abs=0.01)
    assert low.enps.value.high < min(t.enps.value.low for t in link.teams if t is not low)
    # its customers' NPS is the store's realised one and below the rest of the answers; on
    # S a handful of answers (7) decides the teams' order, so the order is not pinned
    nps = {t.team_id: t.customer_nps.value.value for t in link.teams if t.customer_nps}
    assert nps[truth["low_enps_team"]] == pytest.approx(truth["realised_nps_low_store"], abs=0.01)
    assert truth["realised_nps_low_store"] < truth["realised_nps_other_stores"]
    # against every other answer (the web shop's too) its 7 answers say nothing either way
    store = stores[truth["low_enps_store"]]
    assert store.segment.n == truth["nps_answers_low_store"] and not store.significant
    assert low.customer_nps.too_small  # a few answers on S: shown, flagged as too small
    # the correlation across the 9 teams with customers: r inside its Fisher interval
    assert link.n_teams == 9
    r = link.correlation
    assert r.low < r.value < r.high and r.value > 0
    assert r.se == pytest.approx(1 / np.sqrt(9 - 3))
    # nine teams are few: the range of r with each one left out, by hand, and the caveat
    pairs = {t.team_id: (t.enps.value.value, t.customer_nps.value.value) for t in link.teams
             if t.enps and t.customer_nps and t.customer_nps.n >= 1}
    by_hand = {tid: float(np.corrcoef(*np.array([p for k, p in pairs.items() if k != tid]).T
                                      )[0, 1]) for tid in pairs}
    assert link.leave_one_out == pytest.approx((min(by_hand.values()), max(by_hand.values())))
    assert link.influential_team == max(by_hand, key=lambda k: abs(by_hand[k] - r.value))
    assert link.fragile


def test_demo_correlation_needs_enough_answers_per_team(demo) -> None:
    ws, _ = demo
    with open_engine(ws) as eng:
        link = people.team_link(eng)  # min_answers = 30: only the webshop qualifies on S
    assert link.n_teams == 1 and link.correlation.value is None and link.p_value is None
    assert link.leave_one_out is None and not link.fragile  # no r, nothing to caveat
    assert len(link.teams) == 10
