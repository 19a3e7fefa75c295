"""The Moments page over HTTP: the numbers are the journeys API's on a hand-made workspace
(ranked moments, balance, time to outcome, customers), the S demo's page for a viewer in
three languages, a touchpoint and a channel with markup in their names shown as text, CSV
downloads (the charts' tables, the customers in the CLI's columns), bad parameters a 422,
empty selections and workspaces that say why, and a slow first computation that answers at
once and reloads.

The hand-made workspace is the moments API test's: 40 customers view a page on 1 January
2025 and meet a moment (here named with markup) on 1 March; 25 of them buy ten days later,
15 never; 40 others view a page in January and never buy. Half of each group came first
through a channel named with markup.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from web_helpers import demo_home, figure, ok_page, quick_argon2, sign_in, table_cells, table_rows
from web_helpers import text as page_text

from cxlens.web import journeys_cache
from cxlens.web.charts import cell
from cxlens.web.pages import moments as page
from cxlens.web.workspaces import add_member, create_token, create_workspace

NASTY = "<script>alert('m')</script>"
CHANNEL = "<b>web</b> & co"
JAN, MAR = datetime(2025, 1, 1, 9), datetime(2025, 3, 1, 12)
HAND = "months=24&as_of=2025-12-31"
API_SEL = "start=2024-01-01&end=2026-01-01"  # the page's window as the API's period
MOMENT = quote(NASTY)


def _files() -> dict[str, str]:
    ev = ["event_id,ts,event_type,channel,email"]
    od = ["order_id,ts,amount,email"]
    for i in range(40):
        t0 = MAR + timedelta(hours=i)
        ch = f'"{CHANNEL}"' if i % 2 else "web"  # half of each group came by each channel
        ev += [f"a{i},{JAN:%Y-%m-%d %H:%M:%S},page_view,{ch},t{i}@x.fi",
               f"b{i},{t0:%Y-%m-%d %H:%M:%S},\"{NASTY}\",web,t{i}@x.fi",
               f"c{i},{JAN + timedelta(minutes=i):%Y-%m-%d %H:%M:%S},page_view,{ch},k{i}@x.fi"]
        if i < 25:
            od.append(f"o{i},{t0 + timedelta(days=10):%Y-%m-%d %H:%M:%S},40,t{i}@x.fi")
    ev.append("z,2025-12-31 12:00:00,page_view,web,k0@x.fi")
    return {"events": "\n".join(ev) + "\n", "orders": "\n".join(od) + "\n"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from cxlens.ingest.load import ingest
    from cxlens.warehouse.store import open_warehouse

    root = tmp_path_factory.mktemp("moments_pages")

    def extra(con, ws, owner) -> dict:
        from cxlens.web.accounts import user_by_email

        hand, _ = create_workspace(con, ws.path.parent, "hand", "Hand Oy", owner)
        add_member(con, hand, user_by_email(con, "viewer@demo.fi"), "viewer")
        create_workspace(con, ws.path.parent, "empty", "Empty Oy", owner)
        create_workspace(con, ws.path.parent, "other", "Other Oy", owner)
        return {"hand": hand.path, "read": create_token(con, hand, "read", "read", owner)}

    with quick_argon2():
        app, more = demo_home(root, extra)
    with open_warehouse(more["hand"]) as wh:
        for kind, body in _files().items():
            (root / f"{kind}.csv").write_text(body, encoding="utf-8")
            assert ingest(wh, root / f"{kind}.csv", kind).balanced
    saved = page.WAIT_S
    page.WAIT_S = 300.0  # the tests read the whole page; one test checks the short wait
    with TestClient(app):
        yield {"app": app, **more}
    page.WAIT_S = saved


@pytest.fixture(scope="module")
def viewer(site: dict) -> TestClient:
    with quick_argon2():
        return sign_in(TestClient(site["app"]), "viewer@demo.fi")


@pytest.fixture(scope="module")
def owner(site: dict) -> TestClient:
    with quick_argon2():
        return sign_in(TestClient(site["app"]), "owner@demo.fi")


@pytest.fixture(scope="module")
def api(site: dict) -> TestClient:
    return TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})


def _api(api: TestClient, what: str, query: str) -> dict:
    r = api.get(f"/api/w/hand/journeys/{what}?{API_SEL}&{query}")
    assert r.status_code == 200, r.text[:500]
    return r.json()


def test_the_numbers_are_the_apis(viewer, api) -> None:
    html = ok_page(viewer, f"/w/hand/moments?{HAND}")
    m = _api(api, "moments", "outcome=purchase")
    assert m["moments"], m
    rows = table_rows(html, "moments")
    assert rows[0][:8] == ["rank", "moment", "met it", "compared", "naive (pp)",
                           "effect (pp)", "95 % low", "95 % high"]
    for i, (row, r) in enumerate(zip(rows[1:], m["moments"], strict=True), 1):
        assert row[0] == str(i)
        assert row[2:8] == [cell(r["customers"]), cell(r["comparison"]), cell(r["naive"]),
                            cell(r["effect"]), cell(r["low"]), cell(r["high"])]
    top = m["moments"][0]
    # the moment named like a script, and its pair after a page view, are met by the same
    # customers; which ranks first is the comparison draw's: the name is text in either row
    at = [r["touchpoint"] for r in m["moments"]].index(NASTY)
    assert rows[1 + at][1] == "<script>alert('m')</script>"
    fig = figure(html, "moments")
    drawn = {y: x for trace in fig["data"][:-1] for y, x in zip(trace["y"], trace["x"],
                                                                 strict=True)}
    estimated = [r for r in m["moments"] if r["effect"] is not None]
    assert sorted(drawn.values()) == sorted(r["effect"] for r in estimated)
    assert fig["data"][-1]["x"] == [r["naive"] for r in estimated]  # naive, in rank order
    assert fig["layout"]["yaxis"]["categoryarray"] == fig["data"][-1]["y"]
    assert fig["layout"]["shapes"][0]["x0"] == 0  # the zero line
    # balance of the top row, the default moment
    balance = table_rows(html, "balance")
    assert [r[2:4] for r in balance[1:]] == [[cell(b["before"]), cell(b["after"])]
                                             for b in top["balance"]]
    assert ("Balanced:" if top["balanced"] else "Not balanced:") in page_text(html)
    assert "0.1" in page_text(html)  # the rule's line, stated
    # time to outcome: the API's curves day by day
    s = _api(api, "survival", f"moment={MOMENT}&outcome=purchase&within=90")
    curves = table_rows(html, "survival")
    assert len(curves) == 1 + 91 + 1  # the header, days 0–90, the medians
    met, comp = s["curves"]

    def day10(curve: dict) -> list[str]:
        x = curve["steps"][10]
        return [cell(x["at_risk"]), cell(x["events"]), cell(100 * x["survival"]),
                cell(100 * x["low"]), cell(100 * x["high"])]
    assert curves[11][1:6] == day10(met) and curves[11][6:] == day10(comp)
    assert curves[-1][3] == str(met["median_days"])  # with its 95 % interval beside it
    assert curves[-1][4:6] == [str(met["median_low"]),
                               "–" if met["median_high"] is None else str(met["median_high"])]
    fig = figure(html, "survival")
    bands = [d for d in fig["data"] if d.get("fill") == "tonexty"]
    assert len(bands) == 2 and bands[0]["y"] == [100 * x["high"] for x in met["steps"]]
    assert f"{met['median_days']} days" in page_text(html)
    # the customers behind it, each linking to their profile
    c = _api(api, "customers", f"moment={MOMENT}&outcome=purchase&limit={page.PAGE_ROWS}")
    listed = table_cells(html, "moment-customers")
    assert [r[0] for r in listed[1:]] == [x["customer_id"] for x in c["customers"]]
    assert [r[2] for r in listed[1:]] == [str(x["days_since"]) for x in c["customers"]]
    assert c["total"] == 15 and len(listed) == 16
    first = c["customers"][0]["customer_id"]
    assert f'href="/w/hand/customers?q={quote(first)}"' in html


def test_a_sequence_is_named_readably_and_revenue_in_currency(viewer) -> None:
    html = ok_page(viewer, f"/w/hand/moments?{HAND}&outcome=revenue&within=30")
    assert "naive (EUR)" in table_rows(html, "moments")[0]
    assert "EUR of revenue per customer within 30 days" in page_text(html)
    names = [r[1] for r in table_rows(html, "moments")[1:]]
    assert "viewed a page → <script>alert('m')</script>" in names
    assert "time to a purchase" in page_text(html)  # revenue has no time of its own


def test_names_with_markup_are_text(viewer) -> None:
    html = ok_page(viewer, f"/w/hand/moments?{HAND}")
    assert NASTY not in html and "<b>web</b>" not in html
    assert "&lt;b&gt;web&lt;/b&gt; &amp; co" in html  # the channel select's option
    assert "&lt;script&gt;alert(&#39;m&#39;)&lt;/script&gt;" in html
    assert "‹script›alert('m')‹/script›" in figure(html, "moments")["data"][-1]["y"][0]
    filtered = ok_page(viewer, f"/w/hand/moments?{HAND}&channel={quote(CHANNEL)}")
    assert "&lt;b&gt;web&lt;/b&gt; &amp; co</option>" in filtered


def test_a_chosen_moment_and_not_sure_rows(viewer) -> None:
    html = ok_page(viewer, f"/w/hand/moments?{HAND}&moment=page_view")
    words = page_text(html)
    assert "The moment “viewed a page”" in words
    assert "Nobody in this selection met this moment." in words  # ranked, without an effect
    assert "No verdict on the balance" in words
    assert 'id="time-to-outcome"' in html
    for row in table_rows(html, "moments")[1:]:
        if row[5] and float(row[6]) <= 0 <= float(row[7]):
            assert row[8] == "not sure"


def test_the_demo_page_for_a_viewer_in_three_languages(viewer) -> None:
    html = ok_page(viewer, "/w/demo/moments")
    assert 'href="/w/demo/moments" aria-current="page"' in html
    assert 'href="/w/demo/journeys"' in html  # beside Journeys in the group
    assert len(table_rows(html, "moments")) > 5 and figure(html, "balance")["data"]
    fi = page_text(ok_page(viewer, "/w/demo/moments?lang=fi"))
    assert "Liiketoiminnan hetket" in fi and "prosenttiyksikköinä" in fi
    sv = page_text(ok_page(viewer, "/w/demo/moments?lang=sv"))
    assert "Affärsögonblick" in sv and "procentenheter" in sv
    viewer.get("/w/demo/?lang=en")


@pytest.mark.parametrize("key", ["moments", "balance", "survival"])
def test_chart_csv_matches_the_table(viewer, key: str) -> None:
    html = ok_page(viewer, f"/w/hand/moments?{HAND}")
    links = [a for a in html.split('href="')[1:] if a.startswith(f"/w/hand/moments/{key}.csv?")]
    assert links, key
    r = viewer.get(links[0].split('"')[0].replace("&amp;", "&"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(r.text))) == table_rows(html, key)


def test_customers_csv_has_the_clis_columns_and_everyone(viewer, api) -> None:
    r = viewer.get(f"/w/hand/moments/customers.csv?{HAND}&moment={MOMENT}")
    assert r.status_code == 200
    lines = list(csv.reader(io.StringIO(r.text)))
    assert lines[0] == ["customer_id", "met_at", "days_since", "open"]
    c = _api(api, "customers", f"moment={MOMENT}&limit=100000")
    assert [row[0] for row in lines[1:]] == [x["customer_id"] for x in c["customers"]]
    assert len(lines) == 16 and lines[1][2:] == ["303", "false"]
    assert viewer.get(f"/w/hand/moments/customers.csv?{HAND}").status_code == 404


@pytest.mark.parametrize("query", ["outcome=sales", "within=0", "within=3651", "months=5",
                                   "as_of=yesterday", "segment=" + "x" * 201,
                                   "moment=" + "x" * 201])
def test_bad_parameters_are_422(viewer, query: str) -> None:
    for url in (f"/w/demo/moments?{query}", f"/w/demo/moments/moments.csv?{query}"):
        r = viewer.get(url)
        assert r.status_code == 422, (url, r.status_code)


def test_unknown_chart_is_404(viewer) -> None:
    assert viewer.get(f"/w/hand/moments/nope.csv?{HAND}").status_code == 404


def test_other_workspaces_are_404(viewer) -> None:
    for url in ("/w/other/moments", "/w/other/moments/moments.csv",
                "/w/other/moments/customers.csv?moment=x"):
        assert viewer.get(url).status_code == 404, url


def test_empty_selections_and_workspaces_say_why(viewer, owner) -> None:
    assert "No data yet" in page_text(ok_page(owner, "/w/empty/moments"))
    assert owner.get("/w/empty/moments/moments.csv").status_code == 404
    nothing = page_text(ok_page(viewer, "/w/hand/moments?months=6&as_of=2020-06-30"))
    assert "No touchpoints in this selection" in nothing
    never = page_text(ok_page(viewer, f"/w/hand/moments?{HAND}&outcome=promoter"))
    assert "never happens" in never
    long = page_text(ok_page(viewer, "/w/hand/moments?months=6&as_of=2025-12-31&within=365"))
    assert "not longer than the horizon of 365 days" in long
    few = ok_page(viewer, f"/w/hand/moments?{HAND}&segment=nobody")
    assert 'id="moments-empty"' in few


def test_a_slow_first_computation_answers_at_once(viewer, monkeypatch) -> None:
    """The moments are computed on a worker thread: a page asked before they are done says
    so and reloads itself; once done they are kept and the page shows them."""
    from cxlens.analytics import journeys as jr

    release = threading.Event()
    real = jr.moments

    def slow(*args, **kwargs):
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(jr, "moments", slow)
    monkeypatch.setattr(page, "WAIT_S", 0.05)
    journeys_cache.clear()
    url = f"/w/hand/moments?{HAND}&within=60"
    html = ok_page(viewer, url)
    assert 'id="moments-pending"' in html and 'http-equiv="refresh"' in html
    assert 'id="moments-pending"' in ok_page(viewer, url)  # still computing: one computation
    release.set()
    monkeypatch.setattr(page, "WAIT_S", 30.0)
    done = ok_page(viewer, url)
    assert 'id="moments-pending"' not in done and 'http-equiv="refresh"' not in done
    assert NASTY in [r[1] for r in table_rows(done, "moments")[1:]]
