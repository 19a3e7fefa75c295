"""The dashboards of issue 4 over HTTP (Experience, Drivers, People) on an S-demo workspace:
each renders for a viewer, the demo's planted truths show (T-FI-TRE flagged low on People,
Delivery the first driver), CSV downloads hold the tables' numbers, bad parameters give 422."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_helpers import csrf_of, demo_home, figure, quick_argon2, sign_in, table_rows, text

from cxlens.web.assets import asset
from cxlens.web.workspaces import create_workspace

AS_OF = "2026-11-27"
Q = f"months=24&as_of={AS_OF}"


WEIGHTED = """response_id,ts,metric,score,touchpoint,panel_weight
w1,2026-10-05 10:00:00,nps,10,web,3
w2,2026-10-06 10:00:00,nps,0,web,1
w3,2026-11-07 10:00:00,nps,9,store,1
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A home with workspace ``demo`` (S demo loaded, seed 7), an empty workspace, and
    ``weighted``: three NPS answers that carry a response weight (``panel_weight``)."""
    from cxlens.ingest.load import ingest
    from cxlens.warehouse.store import open_warehouse

    def more(con, ws, owner) -> dict:
        create_workspace(con, ws.path.parent, "empty", "Empty Oy", owner)
        weighted, _ = create_workspace(con, ws.path.parent, "weighted", "Weighted Oy", owner)
        return {"weighted": weighted.path}

    root = tmp_path_factory.mktemp("experience_pages")
    with quick_argon2():
        app, extra = demo_home(root, more)
        (root / "weighted.csv").write_text(WEIGHTED, encoding="utf-8")
        with open_warehouse(extra["weighted"]) as wh:
            assert ingest(wh, root / "weighted.csv", "feedback").balanced
        with TestClient(app):
            yield {"app": app}


@pytest.fixture(scope="module")
def viewer(demo: dict) -> TestClient:
    return sign_in(TestClient(demo["app"]), "viewer@demo.fi")


@pytest.fixture(scope="module")
def owner(demo: dict) -> TestClient:
    return sign_in(TestClient(demo["app"]), "owner@demo.fi")








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
    assert f'<script src="{asset("plotly.min.js")}"' in r.text


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
    ("experience", "trend", f"metric=nps&by=store_id&weight_by=country&{Q}"),
    ("experience", "value", f"metric=nps&{Q}"),
    ("experience", "worth", Q),
    ("drivers", "matrix", Q),
    ("drivers", "matrix", f"method=shapley&{Q}"),
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
    "/w/demo/experience?weight_by=touchpoint", "/w/demo/experience?weight_by=customer.email",
    "/w/demo/drivers?method=ols", "/w/demo/drivers/matrix.csv?method=ols",
    "/w/demo/experience/value.csv?weight_by=city",
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


# --- the choices: response weights, the drivers' method, experience → value --------------


def kpi(html: str, label: str) -> str:
    m = re.search(rf'<span class="label">{re.escape(label)}</span>(.*?)</li>', html, re.S)
    assert m, label
    return text(m.group(1)).strip()


def test_weighting_to_the_customer_base(viewer) -> None:
    plain = viewer.get(f"/w/demo/experience?metric=nps&by=store_id&{Q}").text
    assert 'name="weight_by"' in plain and 'id="weighting"' not in plain
    assert 'name="weights"' not in plain  # the demo's answers carry no weights
    html = viewer.get(f"/w/demo/experience?metric=nps&by=store_id&weight_by=country&{Q}").text
    assert '<option value="country" selected>' in html
    page = text(html)
    assert "Weighted by country: each month's answers are weighted" in page
    assert re.search(r"\d+ of \d+ answers have no customer or no value", page)
    cells = re.search(r'<table class="weighting-cells">(.*?)</table>', html, re.S)
    assert cells and "FI" in cells.group(1) and "SE" in cells.group(1)
    assert kpi(html, "NPS") != kpi(plain, "NPS")  # the weighted headline differs
    trend = table_rows(html, "trend")
    assert trend != table_rows(plain, "trend")
    # the CSV links keep the weighting, so a download holds what the page shows
    assert "weight_by=country" in re.search(r'href="(/w/demo/experience/trend\.csv\?[^"]+)"',
                                            html).group(1)


def test_weighting_the_same_numbers_as_the_api(demo, viewer) -> None:
    html = viewer.get(f"/w/demo/experience?metric=nps&weight_by=country&{Q}").text
    api = viewer.get("/api/w/demo/experience/score?metric=nps&weight_by=country&period=month"
                     "&start=2024-12-01&end=2026-11-28").json()
    assert api["weighting"]["weight_by"] == "country"
    rows = table_rows(html, "trend")[1:]
    assert [r[1] for r in rows] == [f"{s['value']['value']:.2f}" for s in api["scores"]]


def test_weights_the_answers_carry(owner) -> None:
    html = owner.get(f"/w/weighted/experience?{Q}").text
    assert '<option value="panel_weight">panel_weight</option>' in html
    weighted = owner.get(f"/w/weighted/experience?weights=panel_weight&{Q}").text
    assert '<option value="panel_weight" selected>' in weighted
    assert "Weighted by each answer's 'panel_weight'" in text(weighted)
    # promoters 3 + 1, detractors 1, of 5: NPS 60 (unweighted 2 − 1 of 3: 33.3)
    assert kpi(weighted, "NPS").startswith("60.0")
    assert kpi(html, "NPS").startswith("33.3")
    wrong = owner.get(f"/w/weighted/experience?weights=nope&{Q}")
    assert wrong.status_code == 200
    assert "No NPS answer carries response weights under 'nope'." in text(wrong.text)
    both = owner.get(f"/w/weighted/experience?weights=panel_weight&weight_by=country&{Q}")
    assert "not both" in text(both.text)


def test_drivers_method_choice(viewer) -> None:
    johnson = viewer.get(f"/w/demo/drivers?{Q}").text
    shapley = viewer.get(f"/w/demo/drivers?method=shapley&{Q}").text
    assert '<option value="shapley" selected>' in shapley
    assert "Shapley value of R²:" in text(shapley)
    assert "Johnson's relative weights:" in text(johnson)
    j, s = table_rows(johnson, "matrix"), table_rows(shapley, "matrix")
    assert j[1][1] == s[1][1] == "Delivery"  # the same leader
    assert j[1][2] != s[1][2]  # by different numbers
    assert 'href="/w/demo/drivers/matrix.csv?months=24&amp;as_of=2026-11-27&amp;' \
           'method=shapley"' in shapley


def test_experience_to_value(viewer) -> None:
    html = viewer.get(f"/w/demo/experience?{Q}").text
    page = text(html)
    assert "Experience and value" in page and "orders until 2026-11-27" in page
    value = table_rows(html, "value")
    assert value[0][:4] == ["days", "group", "n", "revenue per customer"]
    groups = [(r[0], r[1]) for r in value[1:]]
    assert groups == [(d, g) for d in ("90", "180")
                      for g in ("promoters", "passives", "detractors")]
    for r in value[1:]:
        if r[3] and r[4]:
            assert float(r[4]) <= float(r[3]) <= float(r[5])
    for r in value[1:]:  # BCa bootstrap: revenue per customer never below zero
        if r[4]:
            assert float(r[4]) >= 0
    worth = table_rows(html, "worth")
    assert worth[0][:4] == ["days", "promoter − detractor", "95 % low", "95 % high"]
    assert worth[0][5] == "bought again, promoter − detractor (points)"
    assert [r[0] for r in worth[1:]] == ["90", "180"]
    for r in worth[1:]:
        assert float(r[6]) <= float(r[5]) <= float(r[7])
    assert "bought again" in page and "2,000 resamples, BCa" in page
    assert "One detractor turned promoter, 90 days" in page
    fig = figure(html, "value")
    assert [tr["name"] for tr in fig["data"]] == ["90 days", "180 days"]
    assert "error_y" in fig["data"][0]


def test_experience_to_value_without_orders(owner) -> None:
    html = owner.get(f"/w/weighted/experience?{Q}").text
    assert "No customer's NPS answer has a fully observed period of orders yet." in text(html)


def test_new_labels_in_finnish_and_swedish(viewer) -> None:
    fi = text(viewer.get(f"/w/demo/experience?{Q}&lang=fi").text)
    assert "Kokemus ja arvo" in fi and "Painota asiakkaiden mukaan" in fi
    sv = text(viewer.get(f"/w/demo/drivers?{Q}&lang=sv").text)
    assert "Metod" in sv and "Shapley-värdet av R²" in sv
    viewer.get("/w/demo/?lang=en")


def test_experience_opens_on_the_grouping_that_differs_most(viewer) -> None:
    """Not on a grouping with one value (one dot on the chart): on the one with the most
    groups significantly different from the rest, said on the page; a chosen one is kept."""
    r = viewer.get("/w/demo/experience?metric=enps&months=24&as_of=2026-11-27")
    assert r.status_code == 200
    page = text(r.text)
    assert "Grouped by" in page
    selected = re.search(r'<select name="by">.*?<option value="(\w+)" selected', r.text, re.S)
    assert selected and selected.group(1) != "touchpoint"
    assert f"by={selected.group(1)}" in r.text  # the CSV links follow the choice
    chosen = viewer.get("/w/demo/experience?metric=enps&by=touchpoint&months=24"
                        "&as_of=2026-11-27")
    assert "Grouped by" not in text(chosen.text)


def test_the_priority_matrix_names_its_quadrants_and_its_scale(viewer) -> None:
    html = viewer.get("/w/demo/drivers?months=24&as_of=2026-11-27").text
    fig = figure(html, "matrix")
    names = {a["text"] for a in fig["layout"]["annotations"]}
    assert names == {"<b>improve first</b>", "<b>keep up</b>", "<b>monitor</b>",
                     "<b>possibly over-served</b>"}
    assert fig["layout"]["xaxis"]["title"]["text"] == "performance (mean rating, 1–5)"
    assert fig["data"][0]["textposition"] == "top right"  # clear of the error bars


def test_the_value_block_shows_under_nps_only(viewer) -> None:
    """Experience → value compares NPS groups: under CES it would mislead."""
    ces = viewer.get("/w/demo/experience?metric=ces&by=store_id&months=24&as_of=2026-11-27")
    assert "measured on their NPS answers" in text(ces.text)
    assert "value.csv" not in ces.text and "?metric=nps&amp;months=24" in ces.text


def test_no_top_themes_panel_before_the_comments_are_analysed(viewer) -> None:
    """The comments' panel (tests/web/test_comments_pages.py) needs `cxlens text analyse`;
    until then Experience and People stand without it."""
    for path in ("/w/demo/experience", "/w/demo/people"):
        r = viewer.get(path)
        assert r.status_code == 200 and 'id="top-themes"' not in r.text
