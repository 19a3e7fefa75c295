"""Revenue is never summed across currencies (issue 9, item 6): the overview totals and
trends, the customer profile and experience → value sum the workspace's currency only and
say how many orders in other currencies they left out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cxlens.analytics.experience import value_by_group
from cxlens.analytics.overview import Period, totals, trends
from cxlens.analytics.profile import profile
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_engine, open_warehouse

ORDERS = """order_id,ts,amount,currency,email
O1,2025-01-05 10:00:00,100.00,EUR,anna@example.fi
O2,2025-01-06 10:00:00,50.00,eur,anna@example.fi
O3,2025-01-07 10:00:00,1000.00,SEK,anna@example.fi
O4,2025-01-08 10:00:00,20.00,,bo@example.se
O5,2025-01-09 10:00:00,7.00,XQZ,bo@example.se
"""
FEEDBACK = """response_id,ts,metric,score,email
R1,2025-01-01 09:00:00,nps,10,anna@example.fi
R2,2025-01-01 09:00:00,nps,2,bo@example.se
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("money")
    (root / "o.csv").write_text(ORDERS, encoding="utf-8")
    (root / "f.csv").write_text(FEEDBACK, encoding="utf-8")
    with open_warehouse(root / "ws") as con:
        ingest(con, root / "o.csv", "orders")
        ingest(con, root / "f.csv", "feedback")
    return root / "ws"


def test_totals_sum_one_currency_and_count_the_rest(workspace: Path) -> None:
    with open_engine(workspace) as eng:
        got = {c.name: c for c in totals(eng, Period(date(2025, 1, 1), date(2025, 2, 1)))}
        assert got["revenue"].current == pytest.approx(170.0)  # 100 + 50 + 20 (EUR default)
        assert got["revenue"].left_out == 2  # SEK, and the invalid code (no currency)
        assert got["orders"].current == 5 and got["orders"].left_out == 0
        sek = {c.name: c for c in totals(eng, Period(date(2025, 1, 1), date(2025, 2, 1)),
                                         currency="SEK")}
        assert sek["revenue"].current == pytest.approx(1000.0) and sek["revenue"].left_out == 4


def test_trends_sum_one_currency(workspace: Path) -> None:
    with open_engine(workspace) as eng:
        rows = trends(eng, Period(date(2025, 1, 1), date(2025, 2, 1)), "month")
    assert len(rows) == 1
    assert rows[0].revenue == pytest.approx(170.0) and rows[0].orders == 5
    assert rows[0].other_currency_orders == 2


def test_the_profile_sums_one_currency(workspace: Path) -> None:
    with open_engine(workspace) as eng:
        s = profile(eng, "anna@example.fi")["summary"]
    assert s["revenue"] == pytest.approx(150.0) and s["orders"] == 3
    assert (s["currency"], s["other_currency_orders"]) == ("EUR", 1)


def test_experience_value_sums_one_currency(workspace: Path) -> None:
    with open_engine(workspace) as eng:
        v = value_by_group(eng, days=(7,), n_boot=200)
    promoter = v.get(7, "promoter")  # O1 + O2; O3 (SEK) left out
    assert promoter.n == 1 and promoter.revenue.value == pytest.approx(150.0)
    assert v.currency == "EUR" and v.other_currency_orders == 2
