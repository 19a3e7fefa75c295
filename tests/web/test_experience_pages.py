"""The dashboards of issue 4 over HTTP (Experience, Drivers, People) on an S-demo workspace:
each renders for a viewer, the demo's planted truths show (T-FI-TRE flagged low on People,
Delivery the first driver), CSV downloads hold the tables' numbers, bad parameters give 422."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from web_helpers import csrf_of, demo_home, quick_argon2, sign_in

from cxlens.web.workspaces import create_workspace

AS_OF = "2026-11-27"
Q = f"months=24&as_of={AS_OF}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A home with workspace ``demo`` (S demo loaded, seed 7) and an empty workspace."""

    def empty(con, ws, owner) -> dict:
        create_workspace(con, ws.path.parent, "empty", "Empty Oy", owner)
        return {}

    with quick_argon2():
        app, _ = demo_home(tmp_path_factory.mktemp("experience_pages"), empty)
        with TestClient(app):
            yield {"app": app}


@pytest.fixture(scope="module")
def viewer(demo: dict) -> TestClient:
    return sign_in(TestClient(demo["app"]), "viewer@demo.fi")


@pytest.fixture(scope="module")
def owner(demo: dict) -> TestClient:
    return sign_in(TestClient(demo["app"]), "owner@demo.fi")


def text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def table_rows(html: str, key: str) -> list[list[str]]:
    m = re.search(rf'<table class="chart-table" data-chart="{key}">(.*?)</table>', html, re.S)
    assert m, key
    return [[unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)]


def figure(html: str, key: str) -> dict:
    m = re.search(rf'<script type="application/json" id="fig-{key}">(.*?)</script>', html, re.S)
    assert m, key
    return json.loads(m.group(1))


PAGES = [f"/w/demo/experience?{Q}", "/w/demo/experience", f"/w/demo/drivers?{Q}",
         f"/w/demo/people?{Q}", "/w/demo/drivers", "/w/demo/people",
         *(f"/w/demo/experience?metric={m}&by={b}&{Q}"
           for m, b in (("csat", "channel"), ("ces", "store_id"), ("enps", "language"),
                        ("nps", "segment"), ("nps", "store_id")))]


@pytest.mark.parametrize("path", PAGES)
def test_each_page_renders_for_a_viewer(path: str, viewer) -> None:
    r = viewer.get(path)
    assert r.status_code == 200, (path, r.text[:2000])
    assert "Demo Oy" in r.text
    assert 'class="error"' not in r.text, text(r.text)[:2000]
    assert '<script src="/assets/plotly.min.js' in r.text


def test_nav_lists_the_three_pages(viewer) -> None:
    html = viewer.get("/w/demo/").text
    for url in ("/w/demo/experience", "/w/demo/drivers", "/w/demo/people"):
        assert f'href="{url}"' in html, url


def test_pages_without_data_render(owner) -> None:
    for page in ("experience", "drivers", "people"):
        assert owner.get(f"/w/empty/{page}").status_code == 200


def test_experience_trend_band_breakdown_and_tests(viewer) -> None:
    html = viewer.get(f"/w/demo/experience?metric=nps&by=store_id&{Q}").text
    trend = table_rows(html, "trend")
    assert trend[0] == ["period start", "NPS", "95 % low", "95 % high", "n", "too few answers"]
    assert len(trend) > 12
    fig = figure(html, "trend")
    assert any(tr.get("fill") == "tonexty" for tr in fig["data"])  # the interval band
    for row in trend[1:]:
        if row[1]:
            assert float(row[2]) <= float(row[1]) <= float(row[3])
    breakdown = table_rows(html, "breakdown")
    assert breakdown[0][:3] == ["store", "n", "NPS"] and len(breakdown) > 2
    tests = table_rows(html, "tests")
    assert tests[0][-3:] == ["p", "q (BH)", "significant"]
    ps = [float(r[7]) for r in tests[1:] if r[7]]
    assert ps == sorted(ps)
    for r in tests[1:]:
        if r[9] == "yes":
            assert float(r[8]) < 0.05


def test_people_flags_the_planted_low_enps_team(viewer) -> None:
    html = viewer.get(f"/w/demo/people?{Q}").text
    rows = table_rows(html, "teams")
    header, body = rows[0], rows[1:]
    flag = header.index("eNPS significantly low")
    flagged = [r[0] for r in body if r[flag] == "yes"]
    assert "T-FI-TRE" in flagged
    m = re.search(r'class="change low-teams">(.*?)</span>\s*</li>', html, re.S)
    assert m and "T-FI-TRE" in m.group(1)
    page = text(html)
    assert "Correlation of eNPS and customers' NPS" in page
    assert re.search(r"\d+ teams|too few teams \(\d+\)", page)
    fig = figure(html, "teams")
    assert fig["layout"]["xaxis"]["title"]["text"] == "eNPS"
    assert "error_x" in fig["data"][0] and "error_y" in fig["data"][0]


def test_drivers_lists_delivery_first(viewer) -> None:
    html = viewer.get(f"/w/demo/drivers?{Q}").text
    rows = table_rows(html, "matrix")
    assert rows[0][:2] == ["rank", "attribute"]
    assert rows[1][:2] == ["1", "Delivery"]
    fig = figure(html, "matrix")
    assert fig["data"][0]["text"][0] == "Delivery"
    assert len(fig["layout"]["shapes"]) == 2  # the importance and performance lines
    assert "error_x" in fig["data"][0] and "error_y" in fig["data"][0]


@pytest.mark.parametrize(("page", "key", "query"), [
    ("experience", "trend", f"metric=nps&by=touchpoint&{Q}"),
    ("experience", "breakdown", f"metric=csat&by=store_id&{Q}"),
    ("experience", "tests", f"metric=nps&by=store_id&{Q}"),
    ("drivers", "matrix", Q),
    ("people", "teams", Q),
])
def test_csv_download_matches_the_table(page: str, key: str, query: str, viewer) -> None:
    html = viewer.get(f"/w/demo/{page}?{query}").text
    assert f'href="/w/demo/{page}/{key}.csv?' in html
    r = viewer.get(f"/w/demo/{page}/{key}.csv?{query}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows == table_rows(html, key)
    assert len(rows) > 1


@pytest.mark.parametrize("path", [
    "/w/demo/experience?metric=foo", "/w/demo/experience?by=customer.email",
    "/w/demo/experience?months=7", "/w/demo/experience?as_of=yesterday",
    "/w/demo/drivers?months=abc", "/w/demo/people?as_of=2026-13-01",
    "/w/demo/experience/trend.csv?metric=foo", "/w/demo/people/teams.csv?months=5",
])
def test_bad_parameters_are_a_clear_4xx(path: str, viewer) -> None:
    r = viewer.get(path)
    assert r.status_code in (400, 422), (path, r.status_code)
    assert "Internal" not in r.text


def test_unknown_chart_is_404(viewer) -> None:
    assert viewer.get(f"/w/demo/drivers/nope.csv?{Q}").status_code == 404


def test_labels_in_finnish_and_swedish(viewer) -> None:
    fi = viewer.get(f"/w/demo/people?{Q}&lang=fi").text
    assert "Henkilöstö ja asiakkaat" in fi and "eNPS merkitsevästi matala" in fi
    sv = viewer.get(f"/w/demo/drivers?{Q}&lang=sv").text
    assert "Prioritetsmatris" in sv
    viewer.get("/w/demo/?lang=en")


def test_annotations_on_the_trend_and_user_text_escaped(owner, viewer) -> None:
    token = csrf_of(owner.get("/w/demo/annotations").text)
    r = owner.post("/w/demo/annotations", follow_redirects=False,
                   data={"day": "2026-10-05", "label": "Store <b>revamp</b>",
                         "csrf_token": token})
    assert r.status_code == 303
    html = viewer.get(f"/w/demo/experience?{Q}").text
    layout = figure(html, "trend")["layout"]
    assert {"type": "line", "x0": "2026-10-05"}.items() <= layout["shapes"][-1].items()
    assert layout["annotations"][-1]["text"] == "Store ‹b›revamp‹/b›"
    assert "<b>revamp" not in html
