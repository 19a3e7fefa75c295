"""The demo's planted value link: which orders move where, on a hand-built timeline."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from cxlens.demo import value_link as vl
from cxlens.demo.behaviour import DAY, Orders
from cxlens.demo.calendar import DEFAULT as CAL
from cxlens.demo.feedback import NpsAnswers


def _orders(person: list[int], day: list[float], origin: list[int],
            ticket: list[bool]) -> Orders:
    n = len(person)
    return Orders(np.array(person), CAL.start_epoch + np.array(day) * DAY, np.zeros(n, bool),
                  np.full(n, -1), np.full(n, 5000), np.array(origin), np.array(ticket))


def test_plant_moves_later_orders_by_the_first_answer() -> None:
    last = (CAL.end_epoch - CAL.start_epoch) / DAY
    orders = _orders(
        # person 0, a promoter: answered after order 0 (day 10.5); person 1, a detractor:
        # answered after order 4 (day 20.5); person 2 never answered
        person=[0, 0, 0, 0, 1, 1, 1, 1, 1, 2],
        day=[10.25, 50.75, 60.25, 70.5, 20.25, 30.5, 40.5, last - 100, 25.5, 80.0],
        origin=[0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        ticket=[False, False, False, True, False, False, False, False, False, False])
    ans = NpsAnswers(sel=np.array([0, 4, 1]), delay=np.array([0.25, 0.25, 1.0]) * DAY,
                     theme=np.full(3, -1), comment=pa.array([None] * 3, pa.string()),
                     score=np.array([10, 3, 0]), low=np.zeros(3, bool))
    first = vl.first_answers(ans, orders, 3)
    assert first.group.tolist() == [0, 2, -1]  # the later answer of person 0 is not first
    assert (first.t[:2] - CAL.start_epoch) / DAY == pytest.approx([10.5, 20.5])
    moved_orders, moved = vl.plant(orders, first, CAL)
    day = (moved_orders.t - CAL.start_epoch) / DAY
    # promoter, f = 0.25: day 50.75 is 40.25 days after the answer → 10.06 days: 30 whole
    # days earlier (the time of day stays); a lift order and a ticketed order stay
    assert day[1] == 20.75 and day[2] == 60.25 and day[3] == 70.5 and day[0] == 10.25
    # detractor, f = 2: 10 days after → 20 days after; 20 days → 40; one that would land
    # within 60 days of the end stays; 5 days after → 10 days after
    assert (day[5], day[6], day[7], day[8]) == (40.5, 60.5, last - 100, 30.5)
    assert day[4] == 20.25 and day[9] == 80.0  # before the answer; no answer
    assert moved.tolist() == [False, True, False, False, False, True, True, False, True,
                              False]
    assert len(moved_orders.t) == len(orders.t)  # nothing added or dropped


def test_realised_counts_linked_orders_in_the_window() -> None:
    orders = _orders(person=[0, 0, 1, 1], day=[10.0, 40.0, 10.0, 150.0], origin=[0] * 4,
                     ticket=[False] * 4)
    first = vl.FirstAnswers(CAL.start_epoch + np.array([10.5, 10.5]) * DAY, np.array([0, 2]))
    r = vl.realised(orders, first, np.array([True, True, True, True]), CAL)
    assert r["90"]["promoter"] == {"customers": 1, "bought_again_pct": 100.0,
                                   "revenue_per_customer_eur": 50.0}
    assert r["90"]["detractor"]["bought_again_pct"] == 0.0  # day 150 is after 90 days
    assert r["180"]["detractor"]["bought_again_pct"] == 100.0
    assert r["90"]["passive"] == {"customers": 0, "bought_again_pct": None,
                                  "revenue_per_customer_eur": None}
    unlinked = vl.realised(orders, first, np.array([True, False, True, True]), CAL)
    assert unlinked["90"]["promoter"]["bought_again_pct"] == 0.0
