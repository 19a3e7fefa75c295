"""Cohorts on a hand-made shop with every number worked out by hand, and bad input."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
import pytest

from cxlens.analytics.value._summary import NoPurchases, ValueInputError
from cxlens.analytics.value.cohorts import cohorts

from .tiny import SHOP, SHOP_TODAY, engine


def _grid(c) -> dict[str, list[tuple]]:
    return {co.key: [(x.months_since, x.customers, x.active, round(x.retention.value, 6),
                      round(x.repeat.value, 6), x.revenue) for x in co.cells]
            for co in c.cohorts}


def test_by_first_purchase_month() -> None:
    c = cohorts(engine(SHOP), SHOP_TODAY)
    assert c.end == date(2026, 4, 3)  # the last purchase: the data stop before yesterday
    assert (c.last_full_month, c.partial_month, c.customers) == ("2026-03", "2026-04", 5)
    assert _grid(c) == {
        "2026-01": [(0, 2, 2, 100.0, 50.0, 80.0), (1, 2, 1, 50.0, 100.0, 5.0),
                    (2, 2, 1, 50.0, 100.0, 30.0)],
        "2026-02": [(0, 1, 1, 100.0, 0.0, 100.0), (1, 1, 0, 0.0, 0.0, 0.0)],
        "2026-03": [(0, 1, 1, 100.0, 0.0, 7.0)],
        "2026-04": [],
    }
    jan = c.cohorts[0]
    assert [x.month for x in jan.cells] == ["2026-01", "2026-02", "2026-03"]
    assert jan.cells[0].revenue_per_customer == 40.0
    assert jan.cells[1].retention.method == "wilson" and jan.cells[1].retention.low > 0
    assert c.cohorts[-1].partial and c.cohorts[-1].customers == 1
    # gaps 15 and 41 days (A), 36 (B): exact quartiles
    assert (c.gaps.n, c.gaps.q1, c.gaps.median, c.gaps.q3) == (3, 25.5, 36.0, 38.5)
    assert (jan.gaps.n, jan.gaps.median) == (3, 36.0)
    assert c.cohorts[1].gaps.n == 0 and c.cohorts[1].gaps.median is None
    assert "2026-04 is not over" in c.notes[0]
    assert c.as_dict()["cohorts"][0]["cells"][0]["retention"]["method"] == "wilson"


def test_by_acquisition_channel() -> None:
    c = cohorts(engine(SHOP), SHOP_TODAY, by="channel")
    # A's first order is web (its second, in the store, does not change the channel)
    assert _grid(c) == {
        "store": [(0, 1, 1, 100.0, 0.0, 50.0), (1, 1, 1, 100.0, 100.0, 5.0),
                  (2, 1, 0, 0.0, 100.0, 0.0)],
        "web": [(0, 3, 3, 100.0, 33.333333, 137.0), (1, 2, 0, 0.0, 50.0, 0.0),
                (2, 1, 1, 100.0, 100.0, 30.0)],
    }
    assert [co.customers for co in c.cohorts] == [1, 4]  # E is web's, in the partial month
    only = cohorts(engine(SHOP), SHOP_TODAY, channel="store")
    assert [co.key for co in only.cohorts] == ["2026-01"] and only.customers == 1


def test_a_month_ending_on_its_last_day_is_whole() -> None:
    c = cohorts(engine(SHOP), SHOP_TODAY, end=date(2026, 3, 31))
    assert (c.last_full_month, c.partial_month, c.notes) == ("2026-03", None, [])
    assert [co.key for co in c.cohorts] == ["2026-01", "2026-02", "2026-03"]


def test_bad_input_is_a_clear_message() -> None:
    with pytest.raises(NoPurchases, match="no purchases in EUR"):
        cohorts(engine([]), SHOP_TODAY)
    with pytest.raises(NoPurchases, match="no purchases in EUR"):  # only a refund
        cohorts(engine([("A", date(2026, 1, 5), 10, "web", "EUR", "refunded")]), SHOP_TODAY)
    mixed = [*SHOP, ("F", date(2026, 2, 2), 300, "web", "SEK")]
    with pytest.raises(ValueInputError, match=r"1 orders are in SEK.*--rate SEK="):
        cohorts(engine(mixed), SHOP_TODAY)
    rated = cohorts(engine(mixed), SHOP_TODAY, rates={"SEK": 0.1})
    assert rated.customers == 6 and rated.cohorts[1].cells[0].revenue == 130.0
    with pytest.raises(ValueInputError, match=r"channel 'app'.*store, web"):
        cohorts(engine(SHOP), SHOP_TODAY, channel="app")
    with pytest.raises(ValueInputError, match="choose month, channel or campaign"):
        cohorts(engine(SHOP), SHOP_TODAY, by="week")  # type: ignore[arg-type]
    with pytest.raises(ValueInputError, match="not before today"):
        cohorts(engine(SHOP), SHOP_TODAY, end=SHOP_TODAY)
    one = cohorts(engine([("A", date(2026, 1, 5), 10, "web")]), SHOP_TODAY)
    assert one.customers == 1 and one.gaps.n == 0


def test_by_acquisition_campaign() -> None:
    """The campaign of the earliest event naming one, on or before the first purchase day."""
    eng = engine(SHOP)
    events = [  # customer, day, campaign, line
        ("A", date(2026, 1, 4), None, 1), ("A", date(2026, 1, 5), "ads-1", 2),
        ("A", date(2026, 1, 6), "mail-9", 3),
        ("B", date(2026, 1, 11), "ads-2", 4),        # after B's first purchase
        ("C", date(2026, 1, 20), "mail-1", 6), ("C", date(2026, 1, 20), "ads-2", 5),
    ]
    eng.register("v_events", pa.table({
        "customer_id": [e[0] for e in events],
        "ts": pa.array([datetime(d.year, d.month, d.day, 9) for _, d, *_ in events],
                       pa.timestamp("us")),
        "campaign": pa.array([e[2] for e in events], pa.string()),
        "_batch": pa.array([1] * len(events), pa.int32()),
        "_line": pa.array([e[3] for e in events], pa.int64())}))
    c = cohorts(eng, SHOP_TODAY, by="campaign")
    assert {co.key: co.customers for co in c.cohorts} == {"ads-1": 1, "ads-2": 1, "(none)": 3}
    # (none): B (January), D (March), E (April, partial): B buys again in February
    assert [(x.customers, x.active) for x in c.cohorts[0].cells] == [(2, 2), (1, 1), (1, 0)]
