"""The findings first on the Overview, on a warehouse whose every difference is planted:
one store far below the rest, a score that fell, nothing else."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from cxlens.analytics._intervals import Estimate
from cxlens.analytics.insights import _strength, insights
from cxlens.analytics.overview import data_until, period_ending
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_engine, open_warehouse

END = date(2026, 11, 30)


def nps_rows(rng: random.Random, start: date, days: int, store: str, n: int,
             promoters: float, detractors: float, first: int) -> list[str]:
    rows = []
    for i in range(n):
        u = rng.random()
        score = rng.choice((9, 10)) if u < promoters else (
            rng.choice(range(0, 7)) if u < promoters + detractors else rng.choice((7, 8)))
        day = start + timedelta(days=rng.randrange(days))
        rows.append(f"r{first + i},{day} 12:00:00,nps,{score},{store},c{first + i}@x.fi")
    return rows


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """90 days before END: stores A, B, C at NPS ≈ +30, store D at ≈ −40; the 90 days
    before that: every store with the very same answers, NPS +50 (so the score fell)."""
    rng = random.Random(3)
    root = tmp_path_factory.mktemp("insights")
    now_start, before_start = END - timedelta(days=89), END - timedelta(days=179)
    rows = ["response_id,ts,metric,score,store_id,email"]
    first = 0
    for store in "ABC":
        rows += nps_rows(rng, now_start, 90, store, 300, 0.5, 0.2, first)
        first += 300
    rows += nps_rows(rng, now_start, 90, "D", 300, 0.15, 0.55, first)
    first += 300
    same = [10] * 180 + [8] * 90 + [3] * 30  # 60 % promoters, 10 % detractors
    for store in "ABCD":
        rows += [f"r{first + i},{before_start + timedelta(days=i % 90)} 12:00:00,nps,{score},"
                 f"{store},c{first + i}@x.fi" for i, score in enumerate(same)]
        first += len(same)
    path = root / "nps.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    staff = root / "employees.csv"  # the HR list names store D, not the others
    staff.write_text("employee_id,team_id,team_name,store_id,store_name\n"
                     "e1,TD,Team Ratina,D,Tampere Ratina\n", encoding="utf-8")
    ws = root / "ws"
    with open_warehouse(ws) as con:
        assert ingest(con, path, "feedback").quarantined == 0
        assert ingest(con, staff, "employees").loaded == 1
    return ws


def test_the_planted_store_and_the_fall_come_first(planted: Path) -> None:
    with open_engine(planted) as eng:
        found = insights(eng, period_ending(END, 90))
    kinds = [(i.kind, i.metric, i.subject, i.direction) for i in found]
    assert kinds[0] == ("group", "nps", "D", "down"), kinds
    assert ("change", "nps", None, "down") in kinds
    d = found[0]
    assert d.dimension == "store_id" and d.n == 300 and d.n_other == 900
    assert d.subject_name == "Tampere Ratina"  # by its name, not its code
    assert d.effect.low < d.effect.value < d.effect.high < 0
    assert d.value < 0 < d.other  # store D's NPS against the rest's
    assert d.p_value is not None and d.p_value < 0.05
    # strongest first, and nothing that is not significant
    assert [i.strength for i in found] == sorted((i.strength for i in found), reverse=True)
    assert all(i.strength > 0 for i in found)


def test_a_period_without_differences_has_no_findings(planted: Path) -> None:
    """The 90 days before: every store alike, and no earlier period to have changed from."""
    with open_engine(planted) as eng:
        found = insights(eng, period_ending(END - timedelta(days=90), 90))
    assert [i for i in found if i.kind == "group"] == []


def test_pages_open_on_the_grouping_that_differs(planted: Path) -> None:
    from cxlens.analytics.experience import most_informative

    with open_engine(planted) as eng:
        p = period_ending(END, 90)
        assert most_informative(eng, "nps", ["touchpoint", "store_id"], p.start,
                                p.end) == "store_id"
        # nothing differs in the earlier period: the first grouping with two groups
        q = period_ending(END - timedelta(days=90), 90)
        assert most_informative(eng, "nps", ["touchpoint", "store_id"], q.start,
                                q.end) == "store_id"  # touchpoint has no groups at all
        assert most_informative(eng, "nps", ["touchpoint"], p.start, p.end) is None


def test_strength_is_the_interval_end_nearest_zero_over_the_reference() -> None:
    assert _strength(Estimate(-30.0, 5.0, -40.0, -20.0, "x"), 20.0) == 1.0
    assert _strength(Estimate(10.0, 2.0, 6.0, 14.0, "x"), 20.0) == 0.3
    assert _strength(Estimate(5.0, 4.0, -3.0, 13.0, "x"), 20.0) == 0.0  # includes zero
    assert _strength(Estimate(None, None, None, None, "x"), 20.0) == 0.0


def test_a_partial_last_day_is_not_the_last_day_with_data(tmp_path: Path) -> None:
    """An export taken on a morning ends with a few rows of its last day."""
    rows = ["order_id,ts,amount,email"]
    for d in range(10):
        day = date(2026, 11, 1) + timedelta(days=d)
        rows += [f"o{d}-{i},{day} 1{i % 10}:00:00,10.00,c{i}@x.fi" for i in range(20)]
    rows.append("late,2026-11-11 07:00:00,10.00,c1@x.fi")  # 1 row against 20 a day
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        ingest(con, path, "orders")
    with open_engine(tmp_path / "ws") as eng:
        assert data_until(eng) == date(2026, 11, 10)
