"""The Retention page over HTTP on the S demo: the cohort heat map, curves and revenue (the
API's cohorts), days between purchases, the RFM segments, grid and moves (the API's RFM),
cohorts by channel or campaign, CSV equal to each chart's table, a viewer can see it,
another workspace's members cannot, a nasty channel name stays text, an empty workspace
says why, bad parameters a 422."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

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

from cxlens.web.pages import retention

NASTY = '<script>alert("x")</script>=cmd|'
# Customers who buy twice through a channel whose name is markup and a formula.
_QUOTED = '"' + NASTY.replace('"', '""') + '"'
ORDERS = "order_id,ts,amount,channel,email\n" + "".join(
    f"n{i}{k},2026-0{1 + k * 3 + i % 3}-1{i % 10} 10:00:00,{10 + i},{_QUOTED},n{i}@x.fi\n"
    for i in range(20) for k in range(2))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    retention.clear()
    app, more = demo_home_with_orders(tmp_path_factory.mktemp("retention_pages"),
                                      {"nasty": ("Nasty Oy", ORDERS)})
    with TestClient(app):
        yield {"app": app, **more}


@pytest.fixture(scope="module")
def viewer(site: dict) -> TestClient:
    with quick_argon2():
        return sign_in(TestClient(site["app"]), "viewer@demo.fi")


@pytest.fixture(scope="module")
def api(site: dict) -> TestClient:
    return TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})




def test_cohorts_are_the_apis(viewer, api) -> None:
    html = ok_page(viewer, "/w/demo/retention")
    assert 'href="/w/demo/retention"' in html
    coh = api.get("/api/w/demo/value/cohorts").json()
    heat = table_rows(html, "heatmap")
    cells = [(c["key"], k) for c in coh["cohorts"] for k in c["cells"]]
    assert len(heat) - 1 == len(cells)
    for row, (key, k) in zip(heat[1:], cells, strict=True):
        assert row[:4] == [key, str(k["months_since"]), str(k["customers"]), str(k["active"])]
        assert row[4] == f"{k['retention']['value']:.2f}"  # the API's %, as it gives it
        assert row[5] == f"{k['retention']['low']:.2f}"
    fig = figure(html, "heatmap")
    assert fig["data"][0]["type"] == "heatmap"
    assert fig["data"][0]["y"] == [c["key"] for c in coh["cohorts"]]
    assert fig["data"][0]["x"][0] == 1  # month 0 is 100 % by definition
    assert max(v for row in fig["data"][0]["z"] for v in row if v is not None) <= 100
    if coh["partial_month"]:
        assert f"{coh['partial_month']} is not over yet" in text(html)
    for key in ("retention", "repeat", "revenue"):
        assert len(table_rows(html, key)) - 1 == len(cells)
    gaps = table_cells(html, "gaps")
    assert [r[0].split(" (")[0] for r in gaps[1:]] == [c["key"] for c in coh["cohorts"]]
    assert f"n {coh['gaps']['n']:,} gaps" in text(html)


def test_rfm_is_the_apis(viewer, api) -> None:
    html = ok_page(viewer, "/w/demo/retention")
    seg = api.get("/api/w/demo/value/rfm").json()
    rows = table_cells(html, "segments")
    assert [r[0] for r in rows[1:]] == [s["name"] for s in seg["segments"]]
    for row, s in zip(rows[1:], seg["segments"], strict=True):
        assert row[1] == f"{s['customers']:,}" and row[2] == f"{s['share']:,.1f} %"
    grid = table_rows(html, "grid")
    assert [[int(v) for v in r[1:]] for r in grid[1:]] == seg["grid"]
    last = [m for m in seg["moves"] if m["stop"] == seg["moves"][-1]["stop"]]
    assert len(table_cells(html, "moves")) - 1 == len(last)


@pytest.mark.parametrize("by", ["channel", "campaign"])
def test_cohorts_by_acquisition(viewer, api, by: str) -> None:
    html = ok_page(viewer, f"/w/demo/retention?by={by}")
    coh = api.get(f"/api/w/demo/value/cohorts?by={by}").json()
    assert len(figure(html, "heatmap")["data"][0]["y"]) == len(coh["cohorts"])


def test_finnish_and_swedish(viewer) -> None:
    fi = text(ok_page(viewer, "/w/demo/retention?lang=fi"))
    assert "RFM-segmentit" in fi and "mestarit" in fi
    sv = text(ok_page(viewer, "/w/demo/retention?lang=sv"))
    assert "Förflyttningar mellan segment" in sv
    viewer.get("/w/demo/?lang=en")


@pytest.mark.parametrize("key", ["heatmap", "retention", "repeat", "revenue", "grid"])
def test_csv_matches_the_table(viewer, key: str) -> None:
    html = ok_page(viewer, "/w/demo/retention?by=month")
    assert f'href="/w/demo/retention/{key}.csv?by=month&amp;currency=EUR"' in html
    r = viewer.get(f"/w/demo/retention/{key}.csv?by=month&currency=EUR")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(r.text))) == table_rows(html, key)


def test_a_nasty_channel_name_is_text(viewer) -> None:
    html = ok_page(viewer, "/w/nasty/retention?by=channel")
    assert NASTY not in html and "&lt;script&gt;alert(" in html
    assert "<script>alert" not in html
    r = viewer.get("/w/nasty/retention/heatmap.csv?by=channel")
    assert r.status_code == 200
    first = list(csv.reader(io.StringIO(r.text)))[1][0]
    assert first == "'" + NASTY or not first.startswith(("=", "+", "-", "@"))


def test_isolation_and_empty(site: dict, viewer) -> None:
    for url in ("/w/empty/retention", "/w/empty/retention/heatmap.csv"):
        assert viewer.get(url).status_code in (403, 404), url
    with quick_argon2():
        owner = sign_in(TestClient(site["app"]), "owner@demo.fi")
    html = ok_page(owner, "/w/empty/retention")
    assert 'id="retention-empty"' in html and "No purchases in EUR yet" in text(html)
    assert owner.get("/w/empty/retention/heatmap.csv").status_code == 404


@pytest.mark.parametrize("query", ["by=week", "currency=EURO", "currency=€"])
def test_bad_parameters_are_422(viewer, query: str) -> None:
    for url in (f"/w/demo/retention?{query}", f"/w/demo/retention/heatmap.csv?{query}"):
        assert viewer.get(url).status_code == 422, url


def test_unknown_chart_is_404(viewer) -> None:
    assert viewer.get("/w/demo/retention/nope.csv").status_code == 404
