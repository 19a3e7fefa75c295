"""Overview analytics: NPS intervals against hand-computed answers, totals and trends on a
tiny warehouse whose every number is known."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from cxlens.analytics.overview import (
    Period,
    data_until,
    default_end,
    nps,
    nps_from_counts,
    nps_trend,
    period_ending,
    totals,
    trends,
)
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_engine, open_warehouse


def adjusted(p: int, m: int, d: int) -> tuple[float, float, float]:
    """The adjusted Wald interval by hand: one pseudo-answer in each group (n + 3)."""
    na = p + m + d + 3
    ap, ad = (p + 1) / na, (d + 1) / na
    se = 100 * math.sqrt((ap + ad - (ap - ad) ** 2) / na)
    centre = 100 * (ap - ad)
    return se, max(-100.0, centre - 1.959964 * se), min(100.0, centre + 1.959964 * se)


def test_nps_hand_computed_50_30_20() -> None:
    # Adjusted: pP = 51/103, pD = 21/103; Var = (72/103 - (30/103)²)/103; SE = 7.7221.
    r = nps_from_counts(50, 30, 20)
    assert r.n == 100 and r.score == pytest.approx(30.0)
    assert r.se == pytest.approx(7.7221, abs=1e-4)
    assert (r.low, r.high) == pytest.approx((13.991, 44.261), abs=1e-3)
    assert (r.se, r.low, r.high) == pytest.approx(adjusted(50, 30, 20))
    assert not r.too_small


def test_nps_interval_is_clipped_and_small_samples_flagged() -> None:
    # 9 promoters, 1 detractor: NPS 80; adjusted centre 61.5, SE 20.46; the top is clipped.
    r = nps_from_counts(9, 0, 1)
    assert r.score == pytest.approx(80.0) and r.se == pytest.approx(20.4634, abs=1e-4)
    assert r.low == pytest.approx(21.431, abs=1e-3) and r.high == 100.0
    assert r.too_small
    # One of each extreme: NPS 0 with a wide but not degenerate interval (SE 40).
    r = nps_from_counts(1, 0, 1)
    assert r.score == 0.0 and (r.se, r.low, r.high) == pytest.approx((40.0, -78.3986, 78.3986))
    # All promoters: the plain Wald interval would collapse to [100, 100]; this one does not.
    r = nps_from_counts(10, 0, 0)
    assert r.score == 100.0 and r.high == 100.0
    assert (r.se, r.low) == pytest.approx((15.9654, 45.631), abs=1e-3)
    # No answers: no score.
    r = nps_from_counts(0, 0, 0)
    assert r.score is None and r.n == 0 and r.too_small


def test_period_previous_and_ending() -> None:
    p = period_ending(date(2026, 11, 27), 30)
    assert p == Period(date(2026, 10, 29), date(2026, 11, 28)) and p.days == 30
    assert p.previous() == Period(date(2026, 9, 29), date(2026, 10, 29))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("tiny")
    orders = root / "orders.csv"
    orders.write_text(
        "order_id,ts,amount,email,status\n"
        "o1,2026-10-05 10:00:00,100.00,a@x.fi,paid\n"   # previous period
        "o2,2026-11-02 10:00:00,50.00,a@x.fi,paid\n"
        "o3,2026-11-03 11:00:00,25.50,b@x.fi,paid\n"
        "o4,2026-11-10 12:00:00,80.00,c@x.fi,refunded\n"  # not counted
        "o5,2026-11-11 12:00:00,10.00,b@x.fi,\n",
        encoding="utf-8")
    feedback = root / "nps.csv"
    rows = ["response_id,ts,metric,score,email"]
    # November: 5 promoters (10), 3 passives (8), 2 detractors (3) -> NPS 30, n 10
    scores = [10] * 5 + [8] * 3 + [3] * 2
    rows += [f"n{i},2026-11-{i + 1:02d} 09:00:00,nps,{s},a@x.fi" for i, s in enumerate(scores)]
    # October: 1 promoter, 1 detractor -> NPS 0
    rows += ["p1,2026-10-10 09:00:00,nps,9,b@x.fi", "p2,2026-10-11 09:00:00,nps,0,b@x.fi",
             "c1,2026-11-05 09:00:00,csat,4,b@x.fi"]
    feedback.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ws = root / "ws"
    with open_warehouse(ws) as con:
        for f, k in ((orders, "orders"), (feedback, "feedback")):
            r = ingest(con, f, k)
            assert r.quarantined == 0, r
    return ws


NOV = Period(date(2026, 11, 1), date(2026, 12, 1))


def test_totals_against_the_previous_period(tiny: Path) -> None:
    with open_engine(tiny) as eng:
        got = {c.name: c for c in totals(eng, NOV)}
    assert (got["orders"].current, got["orders"].previous) == (3, 1)
    assert got["revenue"].current == pytest.approx(85.5)
    assert got["revenue"].previous == pytest.approx(100.0)
    assert got["revenue"].pct == pytest.approx(-14.5)
    assert got["feedback"].current == 11 and got["feedback"].previous == 2
    assert got["events"].current == 0 and got["events"].pct is None


def test_trends_have_every_bucket(tiny: Path) -> None:
    with open_engine(tiny) as eng:
        weekly = trends(eng, NOV, "week")
        daily = trends(eng, Period(date(2026, 11, 1), date(2026, 11, 4)), "day")
        with pytest.raises(ValueError):
            trends(eng, NOV, "hour")
    assert [r.bucket for r in daily] == [date(2026, 11, d) for d in (1, 2, 3)]
    assert [(r.orders, r.revenue) for r in daily] == [(0, 0.0), (1, 50.0), (1, 25.5)]
    assert [r.active_customers for r in daily] == [0, 1, 1]
    assert weekly[0].bucket == date(2026, 10, 26)  # the Monday of the week of 1 Nov
    # November 2026 starts on a Sunday and ends on a Monday: both end weeks are partial
    assert [(r.days, r.complete) for r in weekly] == [
        (1, False), (7, True), (7, True), (7, True), (7, True), (1, False)]
    assert all(r.complete and r.days == 1 for r in daily)
    assert sum(r.orders for r in weekly) == 3
    assert sum(r.revenue for r in weekly) == pytest.approx(85.5)


def test_nps_and_its_monthly_trend(tiny: Path) -> None:
    with open_engine(tiny) as eng:
        now = nps(eng, NOV)
        trend = nps_trend(eng, Period(date(2026, 10, 1), date(2026, 12, 1)))
    assert (now.n, now.promoters, now.passives, now.detractors) == (10, 5, 3, 2)
    # adjusted: pP 6/13, pD 3/13: SE = 100·sqrt((9/13 - (3/13)²)/13) = 22.172
    assert now.score == pytest.approx(30.0) and now.se == pytest.approx(22.1716, abs=1e-4)
    assert now.too_small
    assert [(r.bucket, r.score, r.n) for r in trend] == [
        (date(2026, 10, 1), 0.0, 2), (date(2026, 11, 1), 30.0, 10)]


def test_monthly_trend_starts_with_the_month_the_period_starts_in(tiny: Path) -> None:
    """Buckets come from the period's calendar (not from the data): a month with nothing
    in it is there with zeros, and the first bucket may start before the period."""
    with open_engine(tiny) as eng:
        monthly = trends(eng, Period(date(2026, 9, 15), date(2026, 12, 1)), "month")
        empty = trends(eng, Period(date(2025, 1, 1), date(2025, 1, 8)), "week")
    assert [r.bucket for r in monthly] == [date(2026, 9, 1), date(2026, 10, 1),
                                           date(2026, 11, 1)]
    assert [(r.orders, r.new_customers) for r in monthly] == [(0, 0), (1, 2), (3, 1)]
    assert monthly[2].revenue == pytest.approx(85.5)
    assert monthly[2].active_customers == 3  # c@x.fi too: a refunded order is a visit
    assert [(r.bucket, r.orders, r.revenue) for r in empty] == [
        (date(2024, 12, 30), 0, 0.0), (date(2025, 1, 6), 0, 0.0)]


def test_partial_months_say_how_many_days_they_have(tiny: Path) -> None:
    with open_engine(tiny) as eng:
        monthly = trends(eng, period_ending(date(2026, 11, 10), 90), "month")
    # 13 Aug .. 10 Nov: 19 days of August, September and October whole, 10 of November
    assert [(r.bucket.month, r.days, r.complete) for r in monthly] == [
        (8, 19, False), (9, 30, True), (10, 31, True), (11, 10, False)]


def test_the_default_end_is_yesterday_or_the_last_day_with_data(tiny: Path) -> None:
    """Days nobody has loaded yet must not read as a collapse: when the data stop before
    yesterday, the period ends on their last day, and says so."""
    with open_engine(tiny) as eng:
        assert data_until(eng) == date(2026, 11, 11)  # the last order
        stale = default_end(eng, date(2026, 12, 7))
        current = default_end(eng, date(2026, 11, 12))
        early = default_end(eng, date(2026, 11, 5))
    assert (stale.end, stale.stale, stale.data_until) == (date(2026, 11, 11), True,
                                                          date(2026, 11, 11))
    assert (current.end, current.stale) == (date(2026, 11, 11), False)
    # data after "today" (a clock behind the data): yesterday, never a day in the future
    assert (early.end, early.stale) == (date(2026, 11, 4), False)


def test_an_empty_warehouse_ends_yesterday(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "ws"):
        pass
    with open_engine(tmp_path / "ws") as eng:
        assert data_until(eng) is None
        got = default_end(eng, date(2026, 12, 7))
    assert (got.end, got.stale, got.data_until) == (date(2026, 12, 6), False, None)
