"""Known-answer tests of rising_themes on hand-made comments."""

from __future__ import annotations

from datetime import date
from math import comb
from pathlib import Path

import pytest
from scipy.stats import fisher_exact

from cxlens.errors import UserError
from cxlens.text.alerts import fisher_greater, rising_themes, windows
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import open_warehouse

TODAY = date(2026, 7, 15)


def _add(con, rows: list[tuple[str, list[str], str]]) -> None:
    """(day, themes, sentiment) per comment, stored as answers and their analysis."""
    start = con.execute("SELECT count(*) FROM feedback").fetchone()[0]
    for i, (day, themes, sentiment) in enumerate(rows, start=start):
        con.execute("INSERT INTO feedback (response_id, ts, metric, score, comment, _batch, "
                    "_line, _hash) VALUES (?, CAST(? AS TIMESTAMP), 'nps', 7, 'x', 1, ?, ?)",
                    [f"r{i}", f"{day} 12:00:00", i + 2, i])
        con.execute("INSERT INTO comment_analysis VALUES (?, ?, 'v', 'fi', ?, 0.3, 0.4, 0.3, "
                    "'lexicon', ?, TIMESTAMP '2026-07-15 00:00:00')",
                    [f"r{i}", i, sentiment, themes])


def _month(day: str, n: int, delivery: int, negative: int, price: int) -> list[tuple]:
    rows = [(day, ["delivery"], "negative" if j < negative else "neutral")
            for j in range(delivery)]
    rows += [(day, ["price"], "neutral")] * price
    return rows + [(day, [], "neutral")] * (n - delivery - price)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    with open_warehouse(tmp_path / "ws") as con:
        rows = []
        for m in range(1, 7):  # history: Jan..Jun, 50 comments a month
            rows += _month(f"2026-0{m}-10", 50, delivery=5, negative=2, price=5)
        rows += _month("2026-07-05", 50, delivery=15, negative=12, price=5)  # this month
        rows += _month("2025-12-10", 50, delivery=50, negative=50, price=0)  # too old
        rows += _month("2026-07-16", 50, delivery=50, negative=50, price=0)  # after today
        _add(con, rows)
    return tmp_path / "ws"


def _hypergeom_tail(a: int, row: int, col: int, total: int) -> float:
    return sum(comb(col, i) * comb(total - col, row - i)
               for i in range(a, min(row, col) + 1)) / comb(total, row)


def test_fisher_tail_known_answer() -> None:
    assert fisher_greater(15, 50, 45, 350) == pytest.approx(_hypergeom_tail(15, 50, 45, 350))
    assert fisher_greater(15, 50, 45, 350) == pytest.approx(
        fisher_exact([[15, 35], [30, 270]], alternative="greater").pvalue)
    assert fisher_greater(0, 10, 5, 40) == 1.0


def test_windows() -> None:
    assert windows("month", TODAY, 6) == (date(2026, 1, 1), date(2026, 7, 1),
                                          date(2026, 7, 16))
    assert windows("month", date(2026, 3, 10), 6)[0] == date(2025, 9, 1)
    assert windows("week", TODAY, 6) == (date(2026, 6, 1), date(2026, 7, 13),
                                         date(2026, 7, 16))
    with pytest.raises(UserError, match="no period 'year'"):
        windows("year", TODAY, 6)


def test_rising_themes_known_answer(ws: Path) -> None:
    with open_warehouse(ws) as con:
        got = rising_themes(DuckDBEngine(con), "month", TODAY)
    assert (got.comments, got.history_comments, got.tests) == (50, 300, 4)
    by = {(a.theme, a.measure): a for a in got.checked}
    vol = by[("delivery", "volume")]
    assert (vol.current, vol.current_base, vol.history, vol.history_base) == (15, 50, 30, 300)
    assert (vol.current_share, vol.history_share, vol.ratio) == (0.3, 0.1, 3.0)
    p_vol = _hypergeom_tail(15, 50, 45, 350)
    neg = by[("delivery", "negativity")]
    assert (neg.current, neg.current_base, neg.history, neg.history_base) == (12, 15, 12, 30)
    p_neg = _hypergeom_tail(12, 15, 24, 45)
    assert neg.p == pytest.approx(p_neg, abs=1e-8) and vol.p == pytest.approx(p_vol, abs=1e-8)
    p_price = _hypergeom_tail(5, 50, 35, 350)
    ps = sorted([p_vol, p_neg, p_price, 1.0])  # price negativity: 0 of 5 negative, p = 1
    # Benjamini–Hochberg by hand: q_(i) = min_{j >= i} p_(j) · m / j
    raw = [p * 4 / (i + 1) for i, p in enumerate(ps)]
    qs = [min(raw[i:]) for i in range(4)]
    assert sorted(a.q for a in got.checked) == pytest.approx(qs, abs=1e-8)
    assert by[("price", "volume")].rising is False
    assert [(a.theme, a.measure) for a in got.rising] == [("delivery", "volume"),
                                                           ("delivery", "negativity")]


def test_thresholds_and_an_empty_period(ws: Path) -> None:
    with open_warehouse(ws) as con:
        eng = DuckDBEngine(con)
        assert not rising_themes(eng, "month", TODAY, min_mentions=20).rising
        empty = rising_themes(eng, "month", date(2030, 1, 1))
        assert empty.tests == 0 and empty.notes
        with pytest.raises(UserError, match="history"):
            rising_themes(eng, "month", TODAY, history=0)
        with pytest.raises(UserError, match="alpha"):
            rising_themes(eng, "month", TODAY, alpha=2.0)
