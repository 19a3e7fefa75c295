"""Spend and return on a tiny hand-made warehouse, every figure known.

Spend (EUR): search_ads ``S1`` 100 in January and 100 in February (the platform reports 3
and 2 conversions), social_ads ``P1`` 200 in January (4), display ``D1`` 50 (no
touchpoint anywhere), tv 0.

* ``a`` — a web visit from campaign S1, then a web order of 100 on 2026-01-16; 50 on day
  44, 30 on day 136 (after a 90-day horizon): search;
* ``b`` — a visit from P1 (social), then from S1 (search), then an order of 200: the last
  paid touch is search, the first social;
* ``c`` — an e-mail click and a store order of 40: no paid touch (organic);
* ``d`` — a visit from S1 and an order of 60 in February; a refunded order (not counted);
* ``e`` — a visit from P1 50 days before an order of 20: organic with a 30-day lookback,
  social with 60.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cxlens.analytics.marketing import roi
from cxlens.analytics.marketing._spend import SpendInputError, spend_campaigns
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_engine, open_warehouse

TODAY = date(2026, 7, 1)
SPEND = ("date,channel,campaign,amount,currency,Results\n"
         "2026-01-10,search_ads,S1,100.00,EUR,3\n"
         "2026-02-10,search_ads,S1,100.00,EUR,2\n"
         "2026-01-10,social_ads,P1,200.00,EUR,4\n"
         "2026-01-10,display,D1,50.00,EUR,\n"
         "2026-01-10,tv,,0.00,EUR,\n")
FILES = {
    "customers": "email\na@x.fi\nb@x.fi\nc@x.fi\nd@x.fi\ne@x.fi\n",
    "events": (
        "event_id,ts,event_type,channel,campaign,email\n"
        "a1,2026-01-15 10:00:00,session_start,web,S1,a@x.fi\n"
        "b1,2026-01-20 10:00:00,session_start,web,P1,b@x.fi\n"
        "b2,2026-01-25 10:00:00,session_start,web,S1,b@x.fi\n"
        "c1,2026-01-05 10:00:00,newsletter_click,email,nl1,c@x.fi\n"
        "d1,2026-02-12 10:00:00,session_start,web,S1,d@x.fi\n"
        "e1,2025-12-01 10:00:00,session_start,web,P1,e@x.fi\n"
    ),
    "orders": (
        "order_id,ts,amount,currency,channel,status,email\n"
        "o1,2026-01-16 12:00:00,100.00,EUR,web,paid,a@x.fi\n"
        "o2,2026-03-01 12:00:00,50.00,EUR,web,paid,a@x.fi\n"
        "o3,2026-06-01 12:00:00,30.00,EUR,web,paid,a@x.fi\n"
        "o4,2026-01-26 12:00:00,200.00,EUR,web,paid,b@x.fi\n"
        "o5,2026-01-06 12:00:00,40.00,EUR,store,paid,c@x.fi\n"
        "o6,2026-02-15 12:00:00,60.00,EUR,web,paid,d@x.fi\n"
        "o7,2026-02-20 12:00:00,90.00,EUR,web,refunded,d@x.fi\n"
        "o8,2026-01-20 12:00:00,20.00,EUR,web,paid,e@x.fi\n"
    ),
}


def _warehouse(root: Path, files: dict[str, str]) -> Path:
    with open_warehouse(root / "ws") as con:
        for kind, text in files.items():
            path = root / f"{kind}.csv"
            path.write_text(text, encoding="utf-8")
            assert ingest(con, path, kind).quarantined == 0
    return root / "ws"


@pytest.fixture(scope="module")
def eng(tmp_path_factory: pytest.TempPathFactory):
    ws = _warehouse(tmp_path_factory.mktemp("roi"), {**FILES, "spend": SPEND})
    with open_engine(ws) as e:
        yield e


def _rows(r) -> dict:
    return {x.key: x for x in r.rows}


def test_the_spend_table_maps_campaigns_to_their_paid_channel(eng) -> None:
    assert spend_campaigns(eng) == (("D1", "display"), ("P1", "social_ads"),
                                    ("S1", "search_ads"))


def test_every_figure_by_channel_with_the_last_paid_touch(eng) -> None:
    r = roi(eng, today=TODAY, horizon_days=90, n_boot=0)
    assert r.reason is None and r.as_of == date(2026, 6, 30)
    assert r.acquired == 5 and r.organic == pytest.approx(2.0)  # c and e
    rows = _rows(r)
    assert set(rows) == {"display", "search_ads", "social_ads", "tv"}
    s = rows["search_ads"]
    assert s.spend == pytest.approx(200.0) and s.customers == pytest.approx(3.0) and s.n == 3
    assert s.first_order_revenue == pytest.approx(360.0)  # 100 + 200 + 60
    assert s.horizon_revenue == pytest.approx(410.0)  # a's 50 on day 44 in, 30 on day 136 out
    assert s.cac.value == pytest.approx(200 / 3)
    assert s.roas_first_order.value == pytest.approx(1.8)
    assert s.roas.value == pytest.approx(2.05)
    assert s.roi.value == pytest.approx(1.05)
    assert s.payback_months == 1  # the first month's 360 already covers 200
    assert s.platform_conversions == pytest.approx(5.0) and s.flags == []
    so = rows["social_ads"]
    assert so.customers == 0 and so.cac.value is None and so.roas.value == 0.0
    assert so.roi.value == pytest.approx(-1.0) and so.payback_months is None
    assert so.platform_conversions == pytest.approx(4.0)
    assert rows["display"].flags == ["no_touchpoints"] and rows["display"].spend == 50.0
    assert rows["tv"].flags == ["no_spend"] and rows["tv"].roas.value is None
    assert r.total.spend == pytest.approx(450.0) and r.total.customers == pytest.approx(3.0)
    assert any("display" in n for n in r.notes)
    assert r.clv_model is None and s.clv_return.value is None


def test_margin_moves_roi_and_payback(eng) -> None:
    s = _rows(roi(eng, today=TODAY, horizon_days=90, margin=0.5, n_boot=0))["search_ads"]
    assert s.roi.value == pytest.approx((0.5 * 410 - 200) / 200)
    assert s.payback_months == 2  # 0.5 · 360 < 200 ≤ 0.5 · (360 + 50)


@pytest.mark.parametrize(("model", "search", "social"), [
    ("first_paid", 2.0, 1.0), ("linear_paid", 2.5, 0.5), ("last", 3.0, 0.0),
    ("linear", 2.5, 0.5), ("position", 2.5, 0.5)])
def test_the_acquisition_rule(eng, model: str, search: float, social: float) -> None:
    rows = _rows(roi(eng, today=TODAY, model=model, n_boot=0))
    assert rows["search_ads"].customers == pytest.approx(search)
    assert rows["social_ads"].customers == pytest.approx(social)


def test_a_longer_lookback_credits_the_older_visit(eng) -> None:
    r = roi(eng, today=TODAY, lookback_days=60, n_boot=0)
    assert _rows(r)["social_ads"].customers == pytest.approx(1.0)  # e's visit 50 days before
    assert r.organic == pytest.approx(1.0)


def test_by_campaign_and_by_month(eng) -> None:
    rows = _rows(roi(eng, today=TODAY, by="campaign", horizon_days=90, n_boot=0))
    assert rows["search_ads\x1fS1"].customers == pytest.approx(3.0)
    assert rows["search_ads\x1fS1"].campaign == "S1"
    assert rows["tv\x1f(none)"].flags == ["no_spend"]
    months = _rows(roi(eng, today=TODAY, by="month", horizon_days=90, n_boot=0))
    assert list(months) == ["2026-01", "2026-02"]
    jan, feb = months["2026-01"], months["2026-02"]
    assert jan.spend == pytest.approx(350.0) and jan.customers == pytest.approx(2.0)
    assert jan.all_customers == 4 and feb.all_customers == 1  # a, b, c, e; d
    assert feb.spend == pytest.approx(100.0) and feb.horizon_revenue == pytest.approx(60.0)
    assert "young" not in jan.flags


def test_period_and_channel_filters(eng) -> None:
    r = roi(eng, today=TODAY, start=date(2026, 2, 1), end=date(2026, 3, 1),
            channel="search_ads", n_boot=0)
    assert [x.key for x in r.rows] == ["search_ads"]
    assert r.rows[0].spend == pytest.approx(100.0) and r.rows[0].customers == 1.0  # d
    assert r.as_of == date(2026, 2, 28) and r.organic == 0.0  # d alone was acquired


def test_intervals_come_from_a_seeded_bootstrap(eng) -> None:
    a = _rows(roi(eng, today=TODAY, n_boot=300))["search_ads"]
    b = _rows(roi(eng, today=TODAY, n_boot=300))["search_ads"]
    assert a.roas == b.roas and a.roas.low <= a.roas.value <= a.roas.high
    assert a.customers_low <= 3.0 <= a.customers_high


def test_without_the_spend_mapping_the_visits_stay_web(eng) -> None:
    r = roi(eng, today=TODAY, spend_channels=False, n_boot=0)
    assert r.organic == 5 and all(x.customers == 0 for x in r.rows)
    mapped = roi(eng, today=TODAY, spend_channels=False, campaigns={"S%": "search_ads"},
                 n_boot=0)
    assert _rows(mapped)["search_ads"].customers == pytest.approx(3.0)


@pytest.mark.parametrize(("kw", "msg"), [
    ({"by": "week"}, "by must be"), ({"model": "markov"}, "acquisition rule"),
    ({"horizon_days": 0}, "horizon"), ({"margin": 1.5}, "margin"),
    ({"start": date(2026, 3, 1), "end": date(2026, 2, 1)}, "start must be before end")])
def test_bad_parameters_are_refused(eng, kw, msg) -> None:
    with pytest.raises(SpendInputError, match=msg):
        roi(eng, today=TODAY, **kw)


def test_spend_in_several_currencies_is_refused(tmp_path: Path) -> None:
    ws = _warehouse(tmp_path, {**FILES, "spend": SPEND + "2026-01-11,search_ads,S2,900,SEK,\n"})
    with open_engine(ws) as e, pytest.raises(SpendInputError, match=r"1 spend rows are in "
                                                                    r"SEK, not EUR"):
        roi(e, today=TODAY)


def test_no_spend_at_all_says_so(tmp_path: Path) -> None:
    ws = _warehouse(tmp_path, FILES)
    with open_engine(ws) as e:
        r = roi(e, today=TODAY)
    assert r.reason.startswith("no spend in the period") and r.rows == []
    assert r.acquired == 5 and r.organic == 5
