"""The Marketing ROI page and ``GET /api/w/{slug}/marketing/roi`` on the S demo: the API
is the CLI's JSON, the page's tables and charts hold the API's numbers, each chart's CSV is
its table, the workspace's notes are drawn on the month timeline, Finnish and Swedish,
another workspace's members get nothing, an empty workspace says why, bad parameters are a
422."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_helpers import demo_home, figure, ok_page, quick_argon2, sign_in, table_cells, text

from cxlens.web.pages import marketing
from cxlens.web.workspaces import create_token, create_workspace

API = "/api/w/{slug}/marketing/roi"
NOTE = "Black Friday <b>ads</b>"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    marketing.clear()

    def extra(con, ws, owner) -> dict:
        empty, _ = create_workspace(con, ws.path.parent, "empty", "Tyhjä Oy", owner)
        return {"read": create_token(con, ws, "read", "read", owner),
                "write": create_token(con, ws, "write", "write", owner),
                "empty_read": create_token(con, empty, "read", "read", owner)}

    with quick_argon2():
        app, more = demo_home(tmp_path_factory.mktemp("marketing_roi"), extra)
    with TestClient(app):
        r = TestClient(app, headers={"Authorization": f"Bearer {more['write']}"}).post(
            "/api/w/demo/annotations", json={"day": "2025-11-28", "label": NOTE,
                                             "channel": "social_ads"})
        assert r.status_code == 201, r.text
        yield {"app": app, **more}


@pytest.fixture(scope="module")
def viewer(site: dict) -> TestClient:
    with quick_argon2():
        return sign_in(TestClient(site["app"]), "viewer@demo.fi")


@pytest.fixture(scope="module")
def api(site: dict) -> TestClient:
    return TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})


def test_the_api_gives_spend_and_return_by_channel(api) -> None:
    r = api.get(API.format(slug="demo") + "?n_boot=50")
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["ok"] and body["reason"] is None and body["by"] == "channel"
    assert body["paid_channels"] == ["search_ads", "social_ads"]
    assert body["spend_campaigns"]["FI_Search_Brand"] == "search_ads"
    assert body["clv_model"] in ("bgnbd", "paretonbd")
    rows = {x["key"]: x for x in body["rows"]}
    assert rows["search_ads"]["customers"] > 0 and rows["social_ads"]["customers"] > 0
    for x in rows.values():
        assert x["roas"]["low"] <= x["roas"]["value"] <= x["roas"]["high"]
        assert x["clv_return"]["value"] >= x["roas_first_order"]["value"]
    assert body["total"]["spend"] == pytest.approx(body["spend"])
    months = api.get(API.format(slug="demo") + "?by=month&n_boot=0&clv=false").json()
    assert len(months["rows"]) >= 20 and all(x["month"] for x in months["rows"])


def test_the_page_shows_the_apis_numbers(viewer, api) -> None:
    html = ok_page(viewer, "/w/demo/marketing")
    assert 'href="/w/demo/marketing"' in html
    body = api.get(API.format(slug="demo")).json()
    rows = table_cells(html, "roi")
    assert [r[0] for r in rows[1:]] == [x["channel"] for x in body["rows"]]
    for row, x in zip(rows[1:], body["rows"], strict=True):
        assert row[1] == f"{x['spend']:,.0f}"
        assert row[2] == f"{x['customers']:,.1f}"
        assert row[5].startswith(f"{x['roas']['value']:,.2f} ({x['roas']['low']:,.2f} … ")
    camp = api.get(API.format(slug="demo") + "?by=campaign").json()
    fig = figure(html, "roi-campaigns")
    shown = [x for x in camp["rows"] if x["spend"] > 0]
    assert fig["data"][0]["y"] == [x["roas"]["value"] for x in shown]
    plat = figure(html, "roi-platform")
    assert plat["data"][0]["y"] == [x["platform_conversions"] for x in shown]


def test_the_notes_are_on_the_month_timeline(viewer) -> None:
    fig = figure(ok_page(viewer, "/w/demo/marketing"), "roi-months")
    assert fig["layout"]["xaxis"]["type"] == "date"
    assert [s["x0"] for s in fig["layout"]["shapes"]] == ["2025-11-28"]
    label = fig["layout"]["annotations"][0]["text"]
    assert "Black Friday" in label and "<b>" not in label and "social_ads" in label
    assert [d["type"] for d in fig["data"]] == ["bar", "scatter", "scatter"]


def test_filters_period_channel_horizon_and_rule(viewer, api) -> None:
    q = "start=2025-06-01&end=2026-06-01&channel=search_ads&horizon=90&model=first_paid"
    html = ok_page(viewer, f"/w/demo/marketing?{q}")
    body = api.get(API.format(slug="demo") + f"?{q.replace('model', 'model')}").json()
    rows = table_cells(html, "roi")
    assert [r[0] for r in rows[1:]] == ["search_ads"]
    assert rows[1][1] == f"{body['rows'][0]['spend']:,.0f}"
    assert 'value="2025-06-01"' in html and "first paid touch" in text(html)


@pytest.mark.parametrize("key", ["roi-channels", "roi-campaigns", "roi-months",
                                 "roi-platform"])
def test_csv_matches_the_table(viewer, key: str) -> None:
    html = ok_page(viewer, "/w/demo/marketing")
    url = f"/w/demo/marketing/{key}.csv?horizon=365&model=last_paid"
    assert f'href="{url.replace("&", "&amp;")}"' in html
    r = viewer.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    m = html.index(f'data-chart="{key}"')
    assert len(rows) - 1 == html[m:html.index("</table>", m)].count("<tr>") - 1


def test_finnish_and_swedish(viewer) -> None:
    fi = text(ok_page(viewer, "/w/demo/marketing?lang=fi"))
    assert "Markkinoinnin tuotto" in fi and "hankitut asiakkaat" in fi
    sv = text(ok_page(viewer, "/w/demo/marketing?lang=sv"))
    assert "Marknadsföringens avkastning" in sv and "förvärvade kunder" in sv
    viewer.get("/w/demo/?lang=en")


def test_isolation_and_empty(site: dict, viewer) -> None:
    for url in ("/w/empty/marketing", "/w/empty/marketing/roi-months.csv"):
        assert viewer.get(url).status_code in (403, 404), url
    other = TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})
    assert other.get(API.format(slug="empty")).status_code in (403, 404)
    with quick_argon2():
        owner = sign_in(TestClient(site["app"]), "owner@demo.fi")
    html = ok_page(owner, "/w/empty/marketing")
    assert 'id="marketing-empty"' in html and "No spend to show" in text(html)
    empty = TestClient(site["app"], headers={"Authorization": f"Bearer {site['empty_read']}"})
    r = empty.get(API.format(slug="empty"))
    assert r.status_code == 200 and r.json()["reason"].startswith("no spend in the period")


@pytest.mark.parametrize("query", ["by=week", "model=markov", "horizon=0", "margin=2",
                                   "n_boot=-1", "start=2026-02-01&end=2026-01-01",
                                   "campaign=nochannel", "currency=EURO", "extra=1"])
def test_bad_api_parameters_are_422(api, query: str) -> None:
    r = api.get(API.format(slug="demo") + "?" + query)
    assert r.status_code == 422, (query, r.text[:300])
    assert r.json()["ok"] is False


@pytest.mark.parametrize("query", ["horizon=45", "model=markov", "start=2026-13-01",
                                   "start=2026-02-01&end=2026-01-01"])
def test_bad_page_parameters_are_422(viewer, query: str) -> None:
    for url in (f"/w/demo/marketing?{query}", f"/w/demo/marketing/roi-months.csv?{query}"):
        assert viewer.get(url).status_code == 422, url


def test_unknown_chart_is_404(viewer) -> None:
    assert viewer.get("/w/demo/marketing/nope.csv").status_code == 404
