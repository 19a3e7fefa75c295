"""The Attribution and Targets pages over HTTP on the S demo: the API's numbers in the charts'
tables and the lists, the controls, the worker thread's "still computing", CSV, escaping,
another workspace's members kept out, a workspace without a model, bad parameters a 422;
and ``GET /api/w/{slug}/marketing/targets`` itself."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from web_helpers import (
    demo_home_with_orders,
    figure,
    ok_page,
    quick_argon2,
    sign_in,
    table_cells,
    table_rows,
    text,
)

from cxlens.demo.calendar import DEFAULT_TODAY
from cxlens.web import value_cache
from cxlens.web.api.targets import TARGET_CSV_COLUMNS
from cxlens.web.pages import attribution, targets

ONCE = "order_id,ts,amount,email\n" + "".join(
    f"o{i},2026-0{1 + i % 9}-1{i % 10} 10:00:00,{10 + i},c{i}@x.fi\n" for i in range(30))
ADS = "%25Search%25%3Dsearch_ads%2C%20%25Prospecting%25%3Dsocial_ads"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    value_cache.clear()
    attribution.clear()
    targets.clear()
    app, more = demo_home_with_orders(tmp_path_factory.mktemp("marketing_pages"),
                                      {"once": ("Once Oy", ONCE)})
    with TestClient(app):
        yield {"app": app, **more}


@pytest.fixture(scope="module")
def viewer(site: dict) -> TestClient:
    with quick_argon2():
        return sign_in(TestClient(site["app"]), "viewer@demo.fi")


@pytest.fixture(scope="module")
def api(site: dict) -> TestClient:
    return TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})


@pytest.fixture
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page waits for the attribution however long it takes (tests read its numbers)."""
    monkeypatch.setattr(attribution, "WAIT_S", None)


def _period() -> str:
    """The API's start and end of the page's default window (12 months up to today)."""
    today = DEFAULT_TODAY  # the demo home's server clock
    m = today.year * 12 + today.month - 1 - 11
    return f"start={m // 12:04d}-{m % 12 + 1:02d}-01&end={today + timedelta(days=1)}"


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f}"


# --- Attribution ------------------------------------------------------------------------

def test_attribution_is_the_apis(viewer, api, patient) -> None:
    html = ok_page(viewer, f"/w/demo/attribution?order=2&lookback=14&campaigns={ADS}")
    assert 'href="/w/demo/attribution"' in html  # in the navigation
    body = api.get(f"/api/w/demo/marketing/attribution?model=all&order=2&lookback=14"
                   f"&campaign=%25Search%25%3Dsearch_ads"
                   f"&campaign=%25Prospecting%25%3Dsocial_ads&{_period()}").json()
    assert body["ok"] and body["reason"] is None
    for key, share in (("conversions", "conversion_share"), ("revenue", "revenue_share")):
        rows = table_rows(html, key)
        assert len(rows) - 1 == len(body["channels_seen"]) >= 5
        for row, channel in zip(rows[1:], body["channels_seen"], strict=True):
            cells = iter(row[1:])
            for m in body["models"]:
                c = next(c for c in m["channels"] if c["channel"] == channel)
                assert next(cells) == _pct(c[share]), (key, m["model"], channel)
                if m["model"] in ("markov", "shapley"):
                    total = sum(x[key] for x in m["channels"])
                    lo, hi = (c["low"], c["high"]) if key == "conversions" else (
                        c["revenue_low"], c["revenue_high"])
                    assert next(cells) == _pct(lo / total)
                    assert next(cells) == _pct(hi / total)
        fig = figure(html, key)
        assert [t["name"] for t in fig["data"]] == [
            "first touch", "last touch", "linear", "position 40/20/40", "time decay",
            "Markov", "Shapley"]
        assert "error_x" in fig["data"][5] and "error_x" not in fig["data"][0]
    removal = table_rows(html, "removal")
    markov = next(m for m in body["models"] if m["model"] == "markov")["channels"]
    assert sorted(r[1] for r in removal[1:]) == sorted(_pct(c["removal_effect"])
                                                      for c in markov)
    words = text(html)
    assert "200 replicates" in words and "order 2" in words
    assert f"{body['conversions']:,.0f} conversions" in words
    assert "All credit to the first touchpoint" in words and "Shapley value" in words
    assert 'value="%Search%=search_ads, %Prospecting%=social_ads"' in html


def test_attribution_csv_is_the_table(viewer, patient) -> None:
    html = ok_page(viewer, "/w/demo/attribution?conversion=first")
    rows = table_rows(html, "conversions")
    r = viewer.get("/w/demo/attribution/conversions.csv?months=12&conversion=first")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(r.text))) == rows
    assert viewer.get("/w/demo/attribution/nothing.csv").status_code == 404


def test_attribution_is_computed_on_a_worker_thread(site, viewer, monkeypatch) -> None:
    real = attribution._compute

    def slow(*args):
        run = real(*args)

        def later(eng):
            time.sleep(1.5)
            return run(eng)
        return later
    monkeypatch.setattr(attribution, "_compute", slow)
    monkeypatch.setattr(attribution, "WAIT_S", 0.05)
    html = ok_page(viewer, "/w/demo/attribution?lookback=60")
    assert 'id="attribution-pending"' in html and 'http-equiv="refresh"' in html
    for _ in range(200):  # the reload finds it kept
        time.sleep(0.2)
        html = ok_page(viewer, "/w/demo/attribution?lookback=60")
        if 'id="attribution-pending"' not in html:
            break
    assert 'id="chart-conversions"' in html


def test_attribution_in_finnish(viewer, patient) -> None:
    words = text(ok_page(viewer, "/w/demo/attribution?lang=fi"))
    assert "Mitä kukin malli palkitsee" in words
    viewer.get("/w/demo/?lang=en")


def test_a_nasty_channel_is_text(viewer, patient) -> None:
    nasty = "%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    html = ok_page(viewer, f"/w/demo/attribution?campaigns=%25Search%25%3D{nasty}")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert any(r[0] == "<script>alert(1)</script>" for r in table_rows(html, "conversions"))


@pytest.mark.parametrize("query", [
    "order=4", "order=0", "order=x", "lookback=0", "lookback=99999", "conversion=some",
    "campaigns=nochannel", "campaigns=%3Dweb", "months=5", "as_of=2026-13-01"])
def test_attribution_bad_parameters_are_422(viewer, query: str) -> None:
    assert viewer.get(f"/w/demo/attribution?{query}").status_code == 422, query
    assert viewer.get(f"/w/demo/attribution/conversions.csv?{query}").status_code == 422


def test_other_workspaces_are_not_visible(viewer) -> None:
    for url in ("/w/empty/attribution", "/w/empty/attribution/conversions.csv",
                "/w/empty/targets", "/w/empty/targets.csv"):
        assert viewer.get(url).status_code in (403, 404), url


# --- Targets ----------------------------------------------------------------------------

def _api_targets(api: TestClient, query: str) -> dict:
    r = api.get(f"/api/w/demo/marketing/targets?{query}")
    assert r.status_code == 200 and r.json()["ok"], r.text[:500]
    return r.json()


@pytest.mark.parametrize("segment", ["value", "at_risk", "lookalike"])
def test_targets_are_the_apis(viewer, api, segment: str) -> None:
    body = _api_targets(api, f"segment={segment}&top=50")
    html = ok_page(viewer, f"/w/demo/targets?segment={segment}&top=50")
    assert 'href="/w/demo/targets"' in html
    rows = table_cells(html, "targets")
    assert rows[0][:4] == ["customer", "name", "e-mail", "phone"]
    assert body["rows"], segment
    assert [r[0] for r in rows[1:]] == [c["customer_id"] for c in body["rows"]]
    for row, c in zip(rows[1:], body["rows"], strict=True):
        assert row[1:4] == [c["name"] or "", c["email"] or "", c["phone"] or ""]
        if segment == "lookalike":
            assert row[4] == f"{c['score']:.2f}"
            assert row[6].startswith(f"resembles the best customers (P = {c['score']:.2f}): ")
        else:  # the analytics' reason in the page's words and formats
            assert row[6].startswith(f"predicted CLV €{c['clv']:,.0f} over 12 months, in the "
                                     "top 20 %"), row[6]
            assert ("P(alive) fell from" in row[6]) == (segment == "at_risk")
    words = text(html)
    assert (f"{body['matching']:,} of {body['customers']:,} customers are in the list's "
            f"segment; {len(body['rows'])} shown") in words
    if segment == "lookalike":
        auc = body["lookalike"]["auc"]
        assert f"held-out AUC {auc['value']:.2f} (95 % {auc['low']:.2f}–{auc['high']:.2f})" \
            in words
        assert body["lookalike"]["weights"]
    if segment == "at_risk":  # the value module's own list
        risk = api.get("/api/w/demo/value/customers?at_risk=true&top=50").json()
        assert [c["customer_id"] for c in body["rows"]] == [
            c["customer_id"] for c in risk["rows"]]


def test_targets_in_finnish(viewer) -> None:
    html = ok_page(viewer, "/w/demo/targets?segment=lookalike&lang=fi")
    words = text(html)
    assert "muistuttaa parhaita asiakkaita" in words and "ensimmäisen oston summa" in words
    assert "first_amount" not in words and "resembles" not in words
    words = text(ok_page(viewer, "/w/demo/targets?segment=at_risk&lang=fi"))
    assert "ennustettu CLV" in words and "P(asiakas) laski" in words
    viewer.get("/w/demo/?lang=en")


def test_targets_csv(viewer, api) -> None:
    html = ok_page(viewer, "/w/demo/targets?segment=lookalike&top=25")
    assert ('href="/w/demo/targets.csv?segment=lookalike&amp;top=25&amp;top_share=0.2'
            '&amp;lookback_days=90&amp;window=180&amp;months=12&amp;discount=0.1'
            '&amp;currency=EUR"') in html
    r = viewer.get("/w/demo/targets.csv?segment=lookalike&top=25")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.text)))
    body = _api_targets(api, "segment=lookalike&top=25")
    assert table[0] == list(TARGET_CSV_COLUMNS)
    assert [row[0] for row in table[1:]] == [c["customer_id"] for c in body["rows"]]
    assert float(table[1][4]) == pytest.approx(body["rows"][0]["score"], rel=1e-5)


FORMULA = '=HYPERLINK("http://evil.example","x")'


def test_a_nasty_name_is_text(viewer, monkeypatch: pytest.MonkeyPatch) -> None:
    nasty = '<script>alert("x")</script>'
    real = targets.target_list

    def with_nasty(*args, **kwargs):
        out = real(*args, **kwargs)
        rows = [out.rows[0].model_copy(update={"name": nasty}),
                out.rows[1].model_copy(update={"name": FORMULA}), *out.rows[2:]]
        return out.model_copy(update={"rows": rows})

    monkeypatch.setattr(targets, "target_list", with_nasty)
    html = viewer.get("/w/demo/targets?segment=lookalike").text
    assert nasty not in html and "&lt;script&gt;alert(" in html
    assert table_cells(html, "targets")[1][1] == nasty
    table = list(csv.reader(io.StringIO(viewer.get("/w/demo/targets.csv?segment=lookalike")
                                        .text)))
    assert table[2][1] == "'" + FORMULA  # never a formula


def test_targets_without_a_model_say_why(site, viewer, api) -> None:
    html = viewer.get("/w/once/targets").text
    assert 'id="targets-empty"' in html and "too few customers have bought more" in text(html)
    assert viewer.get("/w/once/targets.csv").status_code == 404
    html = ok_page(viewer, "/w/once/targets?segment=lookalike")
    assert "needs 40" in text(html)  # 30 customers: a reason, not a list


@pytest.mark.parametrize("query", [
    "segment=vip", "top=0", "top=20000", "top_share=0", "top_share=1", "lookback_days=3",
    "window=10", "currency=EURO", "months=0", "discount=1.5"])
def test_targets_bad_parameters_are_422(viewer, api, query: str) -> None:
    assert viewer.get(f"/w/demo/targets?{query}").status_code == 422, query
    assert viewer.get(f"/w/demo/targets.csv?{query}").status_code == 422, query
    r = api.get(f"/api/w/demo/marketing/targets?{query}")
    assert r.status_code == 422 and r.json()["ok"] is False, query


def test_the_targets_api_needs_a_token_of_the_workspace(site) -> None:
    assert TestClient(site["app"]).get("/api/w/demo/marketing/targets").status_code == 401
    other = TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})
    assert other.get("/api/w/empty/marketing/targets").status_code in (401, 403, 404)


def test_both_pages_are_in_the_marketing_menu() -> None:
    from cxlens.web.nav import NavGroup, menu_for

    group = next(e for e in menu_for("viewer", "demo")
                 if isinstance(e, NavGroup) and e.label_key == "nav.group.marketing")
    assert group.keys[-3:] == ["attribution", "targets", "planner"]
