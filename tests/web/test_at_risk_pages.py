"""The At-risk page over HTTP on the S demo: the API's list (CLV with interval, P(alive) now
and then, last purchase, orders, revenue), the rule in words with its parameters, the
``top`` control, the whole list as CSV in the CLI's columns, a viewer can see it, another
workspace's members cannot, a workspace without a model says why, bad parameters a 422."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_helpers import demo_home_with_orders, quick_argon2, sign_in, table_cells, text

from cxlens.web import value_cache
from cxlens.web.api.value import CUSTOMER_CSV_COLUMNS
from cxlens.web.pages import at_risk

ONCE = "order_id,ts,amount,email\n" + "".join(
    f"o{i},2026-0{1 + i % 9}-1{i % 10} 10:00:00,{10 + i},c{i}@x.fi\n" for i in range(30))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    value_cache.clear()
    at_risk.clear()
    app, more = demo_home_with_orders(tmp_path_factory.mktemp("at_risk_pages"),
                                      {"once": ("Once Oy", ONCE)})
    with TestClient(app):
        yield {"app": app, **more}


@pytest.fixture(scope="module")
def viewer(site: dict) -> TestClient:
    with quick_argon2():
        return sign_in(TestClient(site["app"]), "viewer@demo.fi")


@pytest.fixture(scope="module")
def api(site: dict) -> dict:
    client = TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})
    r = client.get("/api/w/demo/value/customers?at_risk=true&top=10000")
    assert r.status_code == 200 and r.json()["ok"], r.text[:500]
    return r.json()



def _money(v: float) -> str:
    return f"€{v:,.0f}"


def test_the_list_is_the_apis(viewer, api: dict) -> None:
    r = viewer.get("/w/demo/at-risk")
    assert r.status_code == 200 and 'class="error"' not in r.text
    assert 'href="/w/demo/at-risk"' in r.text  # in the navigation's value group
    rows = table_cells(r.text, "at-risk")
    assert rows[0][:3] == ["customer", "acquisition channel", "CLV 12 mo"]
    assert api["matching"] == len(api["rows"]) and api["rows"], "the demo has customers at risk"
    shown = api["rows"][:100]
    assert len(rows) - 1 == len(shown)
    for row, c in zip(rows[1:], shown, strict=True):
        assert row[0] == c["customer_id"] and row[1] == c["channel"]
        assert f'href="/w/demo/customers?q={c["customer_id"]}"' in r.text  # to the profile
        assert row[6] == c["last_purchase"] and row[7] == f"{c['orders']:,}"
        assert row[4] == f"{c['p_alive']['value']:.2f}"
        assert row[5] == f"{c['p_alive_then']:.2f}"
    words = text(r.text)
    assert f"{api['matching']:,} of {api['customers']:,} customers match" in words
    assert "top 20 % of all customers" in words and "last 90 days" in words
    assert "fallen by at least 0.10" in words


def test_top_and_lookback(viewer, api: dict) -> None:
    rows = table_cells(viewer.get("/w/demo/at-risk?top=25").text, "at-risk")
    assert len(rows) - 1 == min(25, api["matching"])
    assert "last 60 days" in text(viewer.get("/w/demo/at-risk?lookback_days=60").text)


def test_the_horizon_is_the_apis(site: dict, viewer) -> None:
    html = viewer.get("/w/demo/at-risk?months=36&discount=0").text
    assert '<option value="36" selected>' in html
    client = TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})
    api = client.get("/api/w/demo/value/customers?at_risk=true&top=10000&months=36"
                     "&discount=0").json()
    rows = table_cells(html, "at-risk")
    assert "CLV 36 mo" in rows[0]
    assert [r[0] for r in rows[1:]] == [c["customer_id"] for c in api["rows"][:100]]
    table = list(csv.reader(io.StringIO(
        viewer.get("/w/demo/at-risk.csv?months=36&discount=0").text)))
    assert float(table[1][table[0].index("clv")]) == pytest.approx(
        api["rows"][0]["clv"]["value"], rel=1e-5)


def test_the_page_in_finnish_and_swedish(viewer) -> None:
    assert "Kuka on listalla" in text(viewer.get("/w/demo/at-risk?lang=fi").text)
    assert "Vem som står på listan" in text(viewer.get("/w/demo/at-risk?lang=sv").text)
    viewer.get("/w/demo/?lang=en")


def test_csv_is_the_whole_list_in_the_clis_columns(viewer, api: dict) -> None:
    html = viewer.get("/w/demo/at-risk?top=25").text
    assert ('href="/w/demo/at-risk.csv?lookback_days=90&amp;months=12&amp;discount=0.1'
            '&amp;currency=EUR"') in html
    r = viewer.get("/w/demo/at-risk.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.text)))
    assert table[0] == list(CUSTOMER_CSV_COLUMNS)
    assert [row[0] for row in table[1:]] == [c["customer_id"] for c in api["rows"]]
    first = dict(zip(table[0], table[1], strict=True))
    assert float(first["clv"]) == pytest.approx(api["rows"][0]["clv"]["value"], rel=1e-5)


def test_other_workspaces_are_not_visible(viewer) -> None:
    for url in ("/w/empty/at-risk", "/w/empty/at-risk.csv"):
        assert viewer.get(url).status_code in (403, 404), url


def test_without_a_model_the_page_says_why(site: dict, viewer) -> None:
    with quick_argon2():
        owner = sign_in(TestClient(site["app"]), "owner@demo.fi")
    assert "No purchases in EUR yet" in text(owner.get("/w/empty/at-risk").text)
    html = viewer.get("/w/once/at-risk").text
    assert 'id="at-risk-empty"' in html and "too few customers have bought more" in text(html)
    assert viewer.get("/w/once/at-risk.csv").status_code == 404


@pytest.mark.parametrize("query", ["top=0", "top=x", "lookback_days=3", "lookback_days=400",
                                   "currency=EURO", "months=0", "discount=1.5"])
def test_bad_parameters_are_422(viewer, query: str) -> None:
    assert viewer.get(f"/w/demo/at-risk?{query}").status_code == 422
    if not query.startswith("top"):
        assert viewer.get(f"/w/demo/at-risk.csv?{query}").status_code == 422


FORMULA = '=HYPERLINK("http://evil.example","x")'


def test_a_nasty_channel_name_is_text(viewer, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    nasty = '<script>alert("x")</script>=cmd|'
    real = at_risk.at_risk_list

    def with_nasty(*args, **kwargs):
        res = real(*args, **kwargs)
        rows = [dataclasses.replace(res.rows[0], channel=nasty),
                dataclasses.replace(res.rows[1], channel=FORMULA), *res.rows[2:]]
        return dataclasses.replace(res, rows=rows)

    monkeypatch.setattr(at_risk, "at_risk_list", with_nasty)
    html = viewer.get("/w/demo/at-risk").text
    assert nasty not in html and "&lt;script&gt;alert(" in html
    assert table_cells(html, "at-risk")[1][1] == nasty
    table = list(csv.reader(io.StringIO(viewer.get("/w/demo/at-risk.csv").text)))
    assert table[1][1] in (nasty, "'" + nasty)  # never a formula, never lost
    assert table[2][1] == "'" + FORMULA  # the CLI's --csv writes through the same rows
