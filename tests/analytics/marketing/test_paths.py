"""Attribution paths in SQL on a tiny hand-made warehouse, every path known.

* ``a`` — an e-mail click, two web page views and a web order (100 EUR): ``email, web``
  (the views and the webshop sale are one web touch); then a support ticket and a store
  order (50 EUR): ``support, store``; then a newsletter open (skipped: no visit);
* ``b`` — a search ad visit (campaign ``FI_Search_1``) and an e-mail click, no order: a
  non-converting ``web, email`` (``search_ads, email`` with the campaign mapping);
* ``c`` — an e-mail click 60 days before a store order (30 EUR) and a web visit one day
  before it: ``web, store`` with a 30-day lookback, ``email, web, store`` with 90;
* ``d`` — a store order and nothing else (20 EUR): ``store``, or no touch at all without
  the sale touch;
* ``e`` — an e-mail click and a web order in USD: ``email, web``, no revenue in EUR (the
  paths leave it NULL; ``attribute`` refuses it without a USD rate).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cxlens.analytics.journeys import Selection
from cxlens.analytics.marketing import PathOptions, attribute, journey_paths
from cxlens.analytics.marketing._paths import decay_sql
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_engine, open_warehouse

FILES = {
    "customers": "email,segment\na@x.fi,B2C\nb@x.fi,B2C\nc@x.fi,B2B\nd@x.fi,B2B\ne@x.fi,B2C\n",
    "events": (
        "event_id,ts,event_type,channel,campaign,email\n"
        "a1,2026-01-01 10:00:00,newsletter_click,email,nl1,a@x.fi\n"
        "a2,2026-01-02 09:00:00,page_view,web,,a@x.fi\n"
        "a3,2026-01-02 09:01:00,page_view,web,,a@x.fi\n"
        "a4,2026-01-02 09:02:00,purchase,web,,a@x.fi\n"
        "a5,2026-01-20 10:00:00,support_ticket,support,,a@x.fi\n"
        "a6,2026-02-10 10:00:00,newsletter_open,email,nl2,a@x.fi\n"
        "b1,2026-01-01 10:00:00,session_start,web,FI_Search_1,b@x.fi\n"
        "b2,2026-01-05 10:00:00,newsletter_click,email,nl1,b@x.fi\n"
        "c1,2025-11-03 10:00:00,newsletter_click,email,nl0,c@x.fi\n"
        "c2,2026-01-01 10:00:00,page_view,web,,c@x.fi\n"
        "e1,2026-01-03 10:00:00,newsletter_click,email,nl1,e@x.fi\n"
    ),
    "orders": (
        "order_id,ts,amount,currency,channel,store_id,status,email\n"
        "o1,2026-01-02 09:02:00,100.00,EUR,web,,paid,a@x.fi\n"
        "o2,2026-01-21 12:00:00,50.00,EUR,store,S1,,a@x.fi\n"
        "o3,2026-01-02 10:00:00,30.00,EUR,store,S1,,c@x.fi\n"
        "o4,2026-01-03 12:00:00,20.00,EUR,store,S1,,d@x.fi\n"
        "o5,2026-01-04 12:00:00,70.00,USD,web,,paid,e@x.fi\n"
        "o6,2026-01-05 12:00:00,80.00,EUR,web,,refunded,e@x.fi\n"
    ),
}


@pytest.fixture(scope="module")
def eng(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("attribution")
    with open_warehouse(root / "ws") as con:
        for kind, text in FILES.items():
            path = root / f"{kind}.csv"
            path.write_text(text, encoding="utf-8")
            assert ingest(con, path, kind).quarantined == 0
    with open_engine(root / "ws") as e:
        yield e


def _rows(table) -> dict[tuple[str, ...], tuple[float, float, float]]:
    return {p: (float(c), float(r), float(n)) for p, c, r, n in
            zip(table.paths, table.conversions, table.revenue, table.nulls, strict=True)}


def test_every_order_is_a_conversion_with_the_touches_since_the_previous(eng) -> None:
    assert _rows(journey_paths(eng)) == {
        ("email", "web"): (2, 100, 0),
        ("support", "store"): (1, 50, 0),
        ("web", "email"): (0, 0, 1),
        ("web", "store"): (1, 30, 0),
        ("store",): (1, 20, 0),
    }


def test_the_lookback_reaches_further_back(eng) -> None:
    rows = _rows(journey_paths(eng, opts=PathOptions(lookback_days=90)))
    assert rows[("email", "web", "store")] == (1, 30, 0)
    assert ("web", "store") not in rows


def test_first_purchase_only(eng) -> None:
    assert _rows(journey_paths(eng, opts=PathOptions(conversion="first"))) == {
        ("email", "web"): (2, 100, 0),
        ("web", "email"): (0, 0, 1),
        ("web", "store"): (1, 30, 0),
        ("store",): (1, 20, 0),
    }


def test_first_purchase_before_the_period_leaves_the_customer_out(eng) -> None:
    sel = Selection(start=date(2026, 1, 10))
    assert _rows(journey_paths(eng, sel, PathOptions(conversion="first"))) == {}
    assert _rows(journey_paths(eng, sel)) == {("support", "store"): (1, 50, 0)}


def test_campaigns_map_to_channels_and_without_the_sale_touch_orders_are_no_touch(eng) -> None:
    opts = PathOptions(campaigns=PathOptions.mapping({"FI_Search%": "search_ads"}),
                       sale_touch=False)
    assert _rows(journey_paths(eng, opts=opts)) == {
        ("email",): (1, 0, 0),
        ("email", "web"): (1, 100, 0),
        ("support",): (1, 50, 0),
        ("search_ads", "email"): (0, 0, 1),
        ("web",): (1, 30, 0),
        (): (1, 20, 0),
    }


def test_time_decay_weighs_a_touch_by_its_age(eng) -> None:
    # c: web one day before the store order, the order itself at age 0. Half-life 1 day:
    # weights 1/2 and 1, so web gets 1/3 of c's conversion and store 2/3.
    sql, params = decay_sql(Selection(start=date(2026, 1, 1), end=date(2026, 1, 3),
                                      segment="B2B"), PathOptions(), 1.0)
    got = {r["channel"]: (r["conversions"], r["revenue"]) for r in
           eng.query(sql, params).to_pylist()}
    assert got == {"store": pytest.approx((2 / 3, 20.0)), "web": pytest.approx((1 / 3, 10.0))}


def test_attribute_reports_options_selection_and_the_untouched(eng) -> None:
    a = attribute(eng, sale_touch=False, n_boot=20, rates={"USD": 0.5})
    assert a.untouched_conversions == 1 and a.untouched_revenue == 20
    assert a.rates == {"USD": 0.5}
    assert a.options["sale_touch"] is False and a.options["lookback_days"] == 30
    assert a.conversions == 5 and a.non_conversions == 1
    linear = {r.channel: r.conversions for r in a.model("linear").rows}
    assert linear == pytest.approx({"email": 1.5, "support": 1.0, "web": 1.5})


def test_attribute_refuses_orders_without_a_rate(eng) -> None:
    with pytest.raises(ValueError, match=r"1 orders are in USD, not EUR.*--rate USD=RATE"):
        attribute(eng, n_boot=0)


@pytest.mark.parametrize(("kw", "msg"), [({"lookback_days": 0}, "lookback"),
                                         ({"conversion": "some"}, "conversion")])
def test_bad_options_are_refused(eng, kw, msg) -> None:
    with pytest.raises(ValueError, match=msg):
        attribute(eng, **kw)


def test_a_workspace_without_events_or_orders_says_so(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "ws"):
        pass
    with open_engine(tmp_path / "ws") as e:
        a = attribute(e, n_boot=10)
    assert a.reason == "no touchpoints or orders in the selection"
    assert a.channels == [] and a.conversions == 0
