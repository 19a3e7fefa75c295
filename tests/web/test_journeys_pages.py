"""The Journeys page over HTTP: known paths and process map on a hand-made workspace, the S
demo's page for a viewer, the filters, CSV downloads equal to the tables, a touchpoint and a
segment with markup in their names shown as text, bad parameters a 422, empty selections
that say why."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_helpers import demo_home, figure, ok_page, quick_argon2, sign_in, table_rows, text

from cxlens.web.charts_journeys import layout_xy, positions
from cxlens.web.workspaces import add_member, create_workspace

NASTY = "<script>alert('tp')</script>"
SEGMENT = "<b>VIP</b> & co"
CUSTOMERS = f"email,segment\na@x.fi,\"{SEGMENT}\"\nb@x.fi,B2B\n"
EVENTS = f"""event_id,ts,event_type,channel,email
e1,2026-01-01 10:00:00,page_view,web,a@x.fi
e2,2026-01-01 10:00:30,page_view,web,a@x.fi
e3,2026-01-01 10:01:00,add_to_cart,web,a@x.fi
e4,2026-01-02 09:00:00,page_view,app,b@x.fi
e5,2026-01-02 09:02:00,add_to_cart,app,b@x.fi
e6,2026-01-03 09:00:00,"{NASTY}",app,b@x.fi
"""
ORDERS = "order_id,ts,amount,email\no1,2026-01-01 10:05:00,20,a@x.fi\n"
HAND = "months=12&as_of=2026-01-31"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from cxlens.ingest.load import ingest
    from cxlens.warehouse.store import open_warehouse

    root = tmp_path_factory.mktemp("journeys_pages")

    def extra(con, ws, owner) -> dict:
        from cxlens.web.accounts import user_by_email

        hand, _ = create_workspace(con, ws.path.parent, "hand", "Hand Oy", owner)
        add_member(con, hand, user_by_email(con, "viewer@demo.fi"), "viewer")
        create_workspace(con, ws.path.parent, "empty", "Empty Oy", owner)
        return {"hand": hand.path}

    with quick_argon2():
        app, more = demo_home(root, extra)
    with open_warehouse(more["hand"]) as wh:
        for kind, body in (("customers", CUSTOMERS), ("events", EVENTS), ("orders", ORDERS)):
            (root / f"{kind}.csv").write_text(body, encoding="utf-8")
            assert ingest(wh, root / f"{kind}.csv", kind).balanced
    with TestClient(app):
        yield {"app": app}


@pytest.fixture(scope="module")
def viewer(site: dict) -> TestClient:
    with quick_argon2():
        return sign_in(TestClient(site["app"]), "viewer@demo.fi")


@pytest.fixture(scope="module")
def owner(site: dict) -> TestClient:
    with quick_argon2():
        return sign_in(TestClient(site["app"]), "owner@demo.fi")



def test_the_demo_page_renders_for_a_viewer(viewer) -> None:
    html = ok_page(viewer, "/w/demo/journeys")
    assert "Demo Oy" in html and 'href="/w/demo/journeys"' in html
    paths = table_rows(html, "paths")
    assert paths[0] == ["rank", "path", "customers", "share (%)", "journey ends",
                        "dropped off"]
    assert len(paths) > 3 and all(r[1].endswith("first purchase") for r in paths[1:-1])
    fig = figure(html, "paths")
    assert fig["data"][0]["type"] == "sankey"
    edges = table_rows(html, "map")
    assert edges[0][:4] == ["from", "to", "transitions", "customers"] and len(edges) > 20
    assert any(a.get("showarrow") for a in figure(html, "map")["layout"]["annotations"])
    for path in ("/w/demo/journeys?anchor=support_ticket&direction=from&steps=3&top=20",
                 "/w/demo/journeys?anchor=&direction=from", "/w/demo/journeys?channel=app",
                 "/w/demo/journeys?store=FI-TRE&months=24", "/w/demo/journeys?segment=Customer"):
        ok_page(viewer, path)


def test_known_paths_and_map(viewer) -> None:
    html = ok_page(viewer, f"/w/hand/journeys?{HAND}&anchor=page_view&direction=from&steps=3")
    assert table_rows(html, "paths")[1:] == [
        ["1", "viewed a page → added to cart → ‹script›alert('tp')‹/script›", "1", "50.00",
         "yes", "yes"],
        ["2", "viewed a page ↻ → added to cart → first purchase", "1", "50.00", "yes", ""]]
    edges = {(r[0], r[1]): r[2:] for r in table_rows(html, "map")[1:]}
    assert edges == {
        ("viewed a page", "added to cart"): ["2", "2", "1.2 min", "1.8 min", "75", "111"],
        ("added to cart", "‹script›alert('tp')‹/script›"): ["1", "1", "24 h", "24 h", "86280",
                                                           "86280"],
        ("added to cart", "first purchase"): ["1", "1", "4.0 min", "4.0 min", "240", "240"],
        ("viewed a page", "viewed a page"): ["1", "1", "30 s", "30 s", "30", "30"]}
    fig = figure(html, "paths")["data"][0]
    assert fig["node"]["label"][0] == "viewed a page"


def test_touchpoint_and_segment_names_are_text(viewer) -> None:
    html = ok_page(viewer, f"/w/hand/journeys?{HAND}&anchor=add_to_cart&direction=from")
    assert NASTY not in html and "<b>VIP</b>" not in html
    assert "&lt;b&gt;VIP&lt;/b&gt; &amp; co" in html  # the segment select's option
    assert "‹script›alert" in text(html)
    filtered = ok_page(viewer, f"/w/hand/journeys?{HAND}&segment={SEGMENT.replace('&', '%26')}")
    assert [r[:2] for r in table_rows(filtered, "map")[1:]] == [  # customer a only
        ["added to cart", "first purchase"], ["viewed a page", "added to cart"],
        ["viewed a page", "viewed a page"]]


def test_layout_is_layered_by_typical_position(viewer) -> None:
    from cxlens.analytics.journeys import Edge, Node, ProcessMap

    m = ProcessMap(3, 9, [Node("a", 3, 3, 0), Node("b", 3, 0, 1), Node("c", 2, 0, 2),
                          Node("d", 1, 0, 0)],
                   [Edge("a", "b", 3, 3, 1, 1), Edge("b", "c", 2, 2, 1, 1),
                    Edge("b", "b", 1, 1, 1, 1), Edge("c", "d", 1, 1, 1, 1)])
    pos = positions(m)
    assert pos == pytest.approx({"a": 0, "b": 1, "c": 2, "d": 3})
    xy = layout_xy(m)
    assert [(round(xy[n][0], 9), xy[n][1]) for n in "abcd"] == [(0, 0), (1, 0), (2, 0),
                                                                (3, 0)]
    close = ProcessMap(2, 4, [Node("a", 2, 2, 0), Node("b", 1, 0, 1), Node("c", 1, 0, 1)],
                       [Edge("a", "b", 1, 1, 1, 1), Edge("a", "c", 1, 1, 1, 1)])
    xy = layout_xy(close)  # b and c stand at the same place: c goes to the next row
    assert (xy["a"][1], xy["b"][1], xy["c"][1]) == (0, 0, 1)
    assert layout_xy(m) == layout_xy(m)  # the same every time


def test_empty_selections_say_why(viewer, owner) -> None:
    html = ok_page(viewer, "/w/hand/journeys?months=6&as_of=2020-06-30")
    assert "No touchpoints in this selection" in text(html)
    html = ok_page(viewer, f"/w/hand/journeys?{HAND}&anchor=repeat_purchase")
    assert 'id="anchor-missing"' in html
    assert "No data yet" in text(ok_page(owner, "/w/empty/journeys"))


@pytest.mark.parametrize("key", ["paths", "map"])
def test_csv_download_matches_the_table(viewer, key: str) -> None:
    q = "anchor=view_item&direction=from&steps=3&months=24"
    html = ok_page(viewer, f"/w/demo/journeys?{q}")
    assert f'href="/w/demo/journeys/{key}.csv?' in html
    r = viewer.get(f"/w/demo/journeys/{key}.csv?{q}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(r.text))) == table_rows(html, key)


@pytest.mark.parametrize("query", ["direction=sideways", "steps=0", "steps=11", "top=7",
                                   "months=5", "as_of=yesterday", "segment=" + "x" * 201])
def test_bad_parameters_are_422(viewer, query: str) -> None:
    for url in (f"/w/demo/journeys?{query}", f"/w/demo/journeys/map.csv?{query}"):
        r = viewer.get(url)
        assert r.status_code == 422, (url, r.status_code)


def test_unknown_chart_is_404(viewer) -> None:
    assert viewer.get("/w/demo/journeys/nope.csv").status_code == 404


def test_finnish_and_swedish(viewer) -> None:
    fi = text(ok_page(viewer, "/w/demo/journeys?lang=fi"))
    assert "Asiakaspolut" in fi and "ensimmäinen osto" in fi
    sv = text(ok_page(viewer, "/w/demo/journeys?lang=sv"))
    assert "Kundresor" in sv and "första köp" in sv
    viewer.get("/w/demo/?lang=en")


def test_a_second_visit_is_served_from_the_cache(viewer, monkeypatch) -> None:
    """The analytics run once per selection while the batches stay the same; the CSV of a
    chart the page showed costs nothing either (web/journeys_cache)."""
    from cxlens.analytics import journeys as jr
    from cxlens.web import journeys_cache

    calls: list[str] = []

    def spying(name: str):
        real = getattr(jr, name)

        def spy(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)
        return spy
    for name in ("touchpoints", "paths", "process_map"):
        monkeypatch.setattr(jr, name, spying(name))
    journeys_cache.clear()
    q = f"{HAND}&anchor=add_to_cart&direction=to&steps=2"
    first = ok_page(viewer, f"/w/hand/journeys?{q}")
    assert sorted(calls) == ["paths", "process_map", "touchpoints"]
    assert ok_page(viewer, f"/w/hand/journeys?{q}") == first
    assert viewer.get(f"/w/hand/journeys/map.csv?{q}").status_code == 200
    assert len(calls) == 3
    ok_page(viewer, f"/w/hand/journeys?{q.replace('steps=2', 'steps=3')}")
    assert sorted(calls) == ["paths", "paths", "process_map", "touchpoints"]
