"""Money in several currencies (issue 14, "Bad input"): SEK spend and SEK orders converted
at a rate give the figures of the same data in EUR; without a rate they are refused with a
message naming the currency and how to add a rate — never summed, never dropped.

The warehouse is test_roi's with search_ads' February spend (1 000 SEK) and b's order
(2 000 SEK) in kronor: at SEK=0.1 they are the 100 EUR and 200 EUR of test_roi."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cxlens.analytics.marketing import attribute, roi
from cxlens.analytics.marketing._spend import SpendInputError
from cxlens.analytics.marketing.mmm import MMMError, read_series
from cxlens.warehouse.store import open_engine

from .test_roi import FILES, SPEND, TODAY, _warehouse

SEK = {
    "spend": SPEND.replace("2026-02-10,search_ads,S1,100.00,EUR",
                           "2026-02-10,search_ads,S1,1000.00,SEK"),
    "orders": FILES["orders"].replace("o4,2026-01-26 12:00:00,200.00,EUR",
                                      "o4,2026-01-26 12:00:00,2000.00,SEK"),
}


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory):
    eur = _warehouse(tmp_path_factory.mktemp("eur"), {**FILES, "spend": SPEND})
    sek = _warehouse(tmp_path_factory.mktemp("sek"), {**FILES, **SEK})
    with open_engine(eur) as a, open_engine(sek) as b:
        yield a, b


def test_roi_with_a_rate_equals_the_same_money_in_eur(engines) -> None:
    eur, sek = engines
    want = roi(eur, today=TODAY, horizon_days=90, n_boot=0)
    got = roi(sek, today=TODAY, horizon_days=90, n_boot=0, rates={"SEK": 0.1})
    assert got.rates == {"SEK": 0.1} and got.spend == pytest.approx(want.spend)
    s = {x.key: x for x in got.rows}["search_ads"]
    assert s.spend == pytest.approx(200.0)  # 100 EUR + 1 000 SEK · 0.1
    assert s.first_order_revenue == pytest.approx(360.0)  # 100 + 2 000 SEK · 0.1 + 60
    assert s.horizon_revenue == pytest.approx(410.0) and s.roas.value == pytest.approx(2.05)
    for a, b in zip(want.rows, got.rows, strict=True):
        assert (a.key, a.customers) == (b.key, pytest.approx(b.customers))


def test_roi_reports_in_sek_with_the_inverse_rate(engines) -> None:
    _, sek = engines
    got = roi(sek, today=TODAY, horizon_days=90, n_boot=0, currency="SEK",
              rates={"EUR": 10.0})
    s = {x.key: x for x in got.rows}["search_ads"]
    assert got.currency == "SEK" and s.spend == pytest.approx(2000.0)
    assert s.horizon_revenue == pytest.approx(4100.0)


@pytest.mark.parametrize("rates", [None, {"NOK": 0.09}])
def test_roi_without_a_rate_is_refused_naming_the_currency(engines, rates) -> None:
    _, sek = engines
    with pytest.raises(SpendInputError) as exc:
        roi(sek, today=TODAY, n_boot=0, rates=rates)
    text = str(exc.value)
    assert "1 spend rows are in SEK, not EUR" in text and "no exchange rate" in text
    assert "cxlens workspace currency EUR --rate SEK=RATE" in text


def test_roi_refuses_unrated_orders_too(tmp_path: Path) -> None:
    ws = _warehouse(tmp_path, {**FILES, "spend": SPEND, "orders": SEK["orders"]})
    with open_engine(ws) as e, pytest.raises(SpendInputError, match="1 orders are in SEK"):
        roi(e, today=TODAY, n_boot=0)


def test_attribution_converts_revenue_and_refuses_without_a_rate(engines) -> None:
    eur, sek = engines
    want = attribute(eur, ["last", "linear", "time_decay"], n_boot=0)
    got = attribute(sek, ["last", "linear", "time_decay"], n_boot=0, rates={"SEK": 0.1})
    assert got.revenue == pytest.approx(want.revenue) == pytest.approx(500.0)
    for m in ("last", "linear", "time_decay"):
        assert ({r.channel: r.revenue for r in got.model(m).rows}
                == pytest.approx({r.channel: r.revenue for r in want.model(m).rows}))
    with pytest.raises(SpendInputError, match=r"1 orders are in SEK, not EUR.*--rate SEK="):
        attribute(sek, ["last"], n_boot=0)


def test_the_planner_reads_spend_and_revenue_converted(engines) -> None:
    eur, sek = engines
    for outcome in ("new_customers", "revenue"):
        want = read_series(eur, outcome, currency="EUR")
        got = read_series(sek, outcome, currency="EUR", rates={"SEK": 0.1})
        assert got.currency == "EUR" and got.channels == want.channels
        assert got.spend == pytest.approx(want.spend) and got.outcome == pytest.approx(
            want.outcome)
    with pytest.raises(MMMError, match="spend rows are in SEK"):
        read_series(sek, "new_customers", currency="EUR")


def test_the_planner_refuses_unrated_orders_for_revenue_only(tmp_path: Path) -> None:
    ws = _warehouse(tmp_path, {**FILES, "spend": SPEND, "orders": SEK["orders"]})
    with open_engine(ws) as e:
        assert read_series(e, "new_customers", currency="EUR").outcome.sum() == 3
        with pytest.raises(MMMError, match="1 orders are in SEK"):
            read_series(e, "revenue", currency="EUR")


def test_the_cli_takes_the_workspace_money_and_options_override_it(tmp_path: Path) -> None:
    """`cxlens marketing roi|attribution|curves` refuse SEK without a rate (exit code 2,
    the message naming SEK), sum it once `cxlens workspace currency` saved a rate, and
    --currency/--rate override the saved settings."""
    import json

    from typer.testing import CliRunner

    from cxlens.cli import app
    from cxlens.errors import UserError

    runner = CliRunner()
    ws = str(_warehouse(tmp_path, {**FILES, **SEK}))
    roi_args = ["marketing", "roi", "--json", "--no-clv", "--bootstrap", "0", "-w", ws]
    for args in (roi_args, ["marketing", "attribution", "--json", "--bootstrap", "0",
                            "-w", ws], ["marketing", "curves", "-w", ws]):
        r = runner.invoke(app, args)
        assert isinstance(r.exception, UserError) and "are in SEK" in str(r.exception), args
        assert "cxlens workspace currency EUR --rate SEK=RATE" in str(r.exception)
        assert r.exception.exit_code == 2
    assert runner.invoke(app, ["workspace", "currency", "EUR", "--rate", "SEK=0.1",
                               "-w", ws]).exit_code == 0
    out = json.loads(runner.invoke(app, roi_args).output)
    assert out["currency"] == "EUR" and out["rates"] == {"SEK": 0.1}
    assert {r["key"]: r["spend"] for r in out["rows"]}["search_ads"] == pytest.approx(200)
    out = json.loads(runner.invoke(app, [*roi_args, "--currency", "SEK"]).output)
    assert {r["key"]: r["spend"] for r in out["rows"]}["search_ads"] == pytest.approx(2000)
    out = json.loads(runner.invoke(app, [*roi_args, "--rate", "SEK=0.2"]).output)
    assert {r["key"]: r["spend"] for r in out["rows"]}["search_ads"] == pytest.approx(300)
    r = runner.invoke(app, ["workspace", "currency", "EURO", "-w", ws])
    assert isinstance(r.exception, UserError) and "is not a currency code" in str(r.exception)
    r = runner.invoke(app, ["workspace", "currency", "EUR", "--rate", "SEK=0", "-w", ws])
    assert isinstance(r.exception, UserError) and "positive rate" in str(r.exception)


def test_the_overview_converts_revenue_and_counts_what_has_no_rate(engines) -> None:
    from cxlens.analytics.overview import Period, totals, trends

    eur, sek = engines
    p = Period(date(2026, 1, 1), date(2026, 7, 1))
    want = {c.name: c for c in totals(eur, p)}["revenue"]
    got = {c.name: c for c in totals(sek, p, rates={"SEK": 0.1})}["revenue"]
    assert got.current == pytest.approx(want.current) == pytest.approx(500.0)
    assert got.left_out == 0
    bare = {c.name: c for c in totals(sek, p)}["revenue"]
    assert bare.current == pytest.approx(300.0) and bare.left_out == 1  # counted, not hidden
    rows = trends(sek, p, "month", rates={"SEK": 0.1})
    assert sum(r.revenue for r in rows) == pytest.approx(500.0)
    assert sum(r.other_currency_orders for r in rows) == 0
