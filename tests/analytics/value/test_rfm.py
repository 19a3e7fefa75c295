"""RFM on the hand-made shop: scores, segments and month-to-month moves worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from cxlens.analytics.value._summary import NoPurchases, ValueInputError
from cxlens.analytics.value.rfm import SEGMENTS, rfm

from .tiny import SHOP, SHOP_TODAY, engine


def test_scores_and_segments_at_the_end() -> None:
    res = rfm(engine(SHOP), SHOP_TODAY, months=2)
    assert res.end == date(2026, 4, 3) and res.customers == 5
    # R by last purchase C<B<A<D<E, F 1,1,1 | 2 | 3, M E<D<B<A<C: quintiles of five
    assert res.grid == [[1, 0, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1],
                        [1, 0, 0, 0, 0], [1, 0, 0, 0, 0]]
    got = {s.key: s.customers for s in res.segments if s.customers}
    assert got == {"loyal": 1, "at_risk": 1, "lost": 1, "promising": 1, "new": 1}
    assert [s.key for s in res.segments] == list(SEGMENTS)
    loyal = next(s for s in res.segments if s.key == "loyal")
    assert (loyal.recency_days, loyal.purchases, loyal.revenue_per_customer) == (32, 3, 60)
    assert loyal.revenue_share == pytest.approx(100 * 60 / 223)
    assert "only 5 customers" in res.notes[0]


def test_moves_between_month_ends() -> None:
    res = rfm(engine(SHOP), SHOP_TODAY, months=2)
    jan, feb, mar = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)
    assert res.month_ends == [jan, feb, mar]
    assert res.move_counts(jan) == {("need_attention", "lost"): 1,
                                    ("lost", "potential_loyal"): 1,
                                    (None, "hibernating"): 1}
    assert res.move_counts(feb) == {("lost", "loyal"): 1, ("potential_loyal", "at_risk"): 1,
                                    ("hibernating", "lost"): 1, (None, "promising"): 1}
    assert all(m.stop == feb for m in res.moves if m.start == jan)
    assert res.as_dict()["moves"][0]["start"] == jan


def test_ties_get_one_score_whatever_the_row_order() -> None:
    rows = [(c, date(2026, 1, 5), 10, "web") for c in "PQRSTUVWXY"]
    for shuffled in (rows, rows[::-1]):
        res = rfm(engine(shuffled), SHOP_TODAY, months=1)
        assert res.grid[0][0] == 10  # everybody R = F = 1: one day, one purchase


def test_bad_input() -> None:
    with pytest.raises(NoPurchases):
        rfm(engine([]), SHOP_TODAY)
    with pytest.raises(ValueInputError, match="between 1 and 60"):
        rfm(engine(SHOP), SHOP_TODAY, months=0)
    with pytest.raises(ValueInputError, match="orders are in SEK"):
        rfm(engine([*SHOP, ("F", date(2026, 2, 2), 300, "web", "SEK")]), SHOP_TODAY)
