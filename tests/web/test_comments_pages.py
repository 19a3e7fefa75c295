"""The Comments page over HTTP on an analysed copy of the S demo: the theme table, the impact
chart and the sentiment's trust are the API's numbers; a theme's drill-down marks the
theme's words (Finnish inflections and compounds through lemmas) after escaping the comment,
shows quotes per language and pages; filters narrow; bad values are a 422; a workspace not
analysed says what to run, an empty one why; other workspaces are out of reach; fi and sv
render."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime, time
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from web_helpers import demo_home, figure, ok_page, quick_argon2, sign_in, table_cells, table_rows
from web_helpers import text as page_text

from cxlens.web.pages import comments as comments_pages

NOW = datetime(2026, 11, 30, 12)
NASTY = ('<script>alert("x")</script> Toimituksen kanssa <b>oli</b> ongelmia & '
         'pakettitoimitus myöhästyi </td><mark>viikon</mark>')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from cxlens.text import edits
    from cxlens.text.analyse import analyse
    from cxlens.warehouse.store import open_warehouse
    from cxlens.web.accounts import create_user, user_by_email
    from cxlens.web.workspaces import add_member, create_token, create_workspace

    comments_pages.clear()
    root = tmp_path_factory.mktemp("comments_pages")

    def extra(con, ws, owner) -> dict:
        viewer = user_by_email(con, "viewer@demo.fi")
        made = {}
        for slug, name in (("tiny", "Pieni Oy"), ("fresh", "Uusi Oy"), ("bare", "Paljas Oy"),
                           ("empty", "Tyhjä Oy"), ("quiet", "Hiljainen Oy")):
            w, _ = create_workspace(con, ws.path.parent, slug, name, owner)
            add_member(con, w, viewer, "viewer")
            made[slug] = w.path
        boss = create_user(con, "boss@other.fi", "correct horse battery")
        other, _ = create_workspace(con, ws.path.parent, "other", "Muu Oy", boss)
        return {**made, "demo": ws.path, "other": other.path,
                "read": create_token(con, ws, "read", "read", owner)}

    with quick_argon2():
        app, more = demo_home(root, extra)
    with open_warehouse(more["demo"]) as con:
        analyse(con, now=NOW)
    with open_warehouse(more["tiny"]) as con:
        con.execute("INSERT INTO feedback (response_id, ts, metric, score, comment, language, "
                    "store_id, _batch, _line, _hash) VALUES ('n1', TIMESTAMP "
                    "'2026-11-01 10:00:00', 'nps', 2, ?, 'fi', 'S1', 1, 2, 2)", [NASTY])
        analyse(con, now=NOW)
        # The user's own: a renamed taxonomy theme (with markup in its name) and a new theme
        # from a keyword rule; the next analysis assigns them.
        edits.rename(con, "delivery", "Toimitukset <i>kaikki</i>", now=NOW)
        edits.rule(con, "ongelmat", ["ongelma"], language="fi", label="Ongelmat", now=NOW)
        analyse(con, now=NOW)
    with open_warehouse(more["fresh"]) as con:
        pass  # the tables, no analysed comment
    with open_warehouse(more["bare"]) as con:
        con.execute("DROP TABLE comment_analysis")
    with open_warehouse(more["quiet"]) as con:
        analyse(con, now=NOW)  # analysed, but nobody wrote a comment
    with TestClient(app):
        yield {"app": app, **more}


@pytest.fixture(scope="module")
def viewer(site: dict) -> TestClient:
    with quick_argon2():
        return sign_in(TestClient(site["app"]), "viewer@demo.fi")


def _window() -> tuple[str, str]:
    from cxlens.demo.calendar import DEFAULT_TODAY
    from cxlens.web.pages.experience import Window

    w = Window(comments_pages.DEFAULT_MONTHS, None, datetime.combine(DEFAULT_TODAY, time(12)))
    return w.start.isoformat(), w.end.isoformat()


def _api(site: dict, path: str, **q: str) -> object:
    start, end = _window()
    client = TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})
    r = client.get(f"/api/w/demo/text/{path}?{urlencode({'start': start, 'end': end, **q})}")
    assert r.status_code == 200, r.text[:300]
    return r.json()


def _f(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def test_the_theme_numbers_are_the_apis(site: dict, viewer) -> None:
    html = ok_page(viewer, "/w/demo/comments")
    api = _api(site, "themes", metric="nps")
    assert api["comments"] > 0
    want = [[t["label"], str(t["mentions"]), str(t["negative"]), str(t["neutral"]),
             str(t["positive"]), _f(t["sentiment"]), _f(t["impact"]), _f(t["low"]),
             _f(t["high"]), str(t["negative_mentions"]), str(t["n"])]
            for t in api["themes"] if t["mentions"]]
    rows = table_rows(html, "impact")
    got = [[r[0], *r[1:2], *r[3:]] for r in rows[1:]]
    assert got == want
    assert rows[0][7] == "Impact on NPS"
    # The visible table (the reader's number format) has the same themes in the same order.
    visible = table_cells(html, "themes")
    assert [r[0] for r in visible[1:]] == [r[0] for r in want]
    assert f"<strong class=\"value\">{api['comments']}</strong>" in html
    # The forest plot: the mentioned themes with an impact, most costly at the top.
    fig = figure(html, "impact")["data"][0]
    assert fig["x"] == [t["impact"] for t in reversed(api["themes"])
                        if t["mentions"] and t["impact"] is not None]


def test_the_trust_is_the_sentiment_apis(site: dict, viewer) -> None:
    html = ok_page(viewer, "/w/demo/comments")
    api = _api(site, "sentiment")
    rows = table_cells(html, "sentiment-trust")[1:]
    assert [r[1] for r in rows] == [str(lg["comments"]) for lg in api["languages"]]
    assert [r[6] for r in rows] == [str(lg["accuracy"]["n"]) for lg in api["languages"]]
    assert "learned from this workspace" in page_text(html)


def test_the_trend_counts_the_mentions(site: dict, viewer) -> None:
    html = ok_page(viewer, "/w/demo/comments?metric=enps")
    api = {t["theme"]: t for t in _api(site, "themes", metric="enps")["themes"]}
    staff = [r for r in table_rows(html, "trend")[1:] if r[1] == "Staff"]
    assert [[r[0], int(r[2]), int(r[3])] for r in staff] == [
        [m["month"], m["mentions"], m["negative"]] for m in api["staff"]["trend"]]


def test_the_nav_and_a_viewer(viewer) -> None:
    html = ok_page(viewer, "/w/demo/experience")
    assert 'href="/w/demo/comments"' in html
    assert 'aria-current' in ok_page(viewer, "/w/demo/comments")


def test_a_drilldown_shows_quotes_and_marked_comments(site: dict, viewer) -> None:
    html = ok_page(viewer, "/w/demo/comments?metric=nps&theme=delivery")
    assert 'id="theme"' in html and "<mark>" in html
    start, end = _window()
    quotes = _api(site, "quotes", theme="delivery", metric="nps")
    assert quotes["languages"]
    for lang, qs in quotes["languages"].items():
        assert f'<div class="quotes" lang="{lang}">' in html
        block = html.split(f'<div class="quotes" lang="{lang}">')[1].split("</div>")[0]
        quoted = re.findall(r'<blockquote class="quote"><span translate="no">(.*?)</span>'
                            r'<footer', block, re.S)
        assert [re.sub(r"</?mark>", "", b) for b in quoted] == [
            q["comment"].replace("&", "&amp;").replace("<", "&lt;") for q in qs]
    n = int(table_rows(html, "impact")[[r[0] for r in table_rows(html, "impact")]
                                       .index("Delivery")][1])
    assert f"{n} comments in the period" in page_text(html)
    assert start < end


def test_paging(viewer) -> None:
    first = ok_page(viewer, "/w/demo/comments?metric=enps&months=24&theme=staff")
    assert "page 1 of 3" in page_text(first) and 'rel="next"' in first
    second = ok_page(viewer, "/w/demo/comments?metric=enps&months=24&theme=staff&page=2")
    assert "page 2 of 3" in page_text(second) and 'rel="prev"' in second
    a, b = table_cells(first, "comments")[1:], table_cells(second, "comments")[1:]
    assert len(a) == comments_pages.PAGE_SIZE and a != b


def test_filters_narrow(site: dict, viewer) -> None:
    q = "/w/demo/comments?metric=enps&months=24"
    all_ = {r[0]: int(r[1]) for r in table_rows(ok_page(viewer, q), "impact")[1:]}
    one = ok_page(viewer, f"{q}&language=fi&store=FI-TRE")
    some = {r[0]: int(r[1]) for r in table_rows(one, "impact")[1:]}
    assert 0 < some["Staff"] < all_["Staff"]
    assert '<option value="FI-TRE" selected>' in one
    drill = ok_page(viewer, f"{q}&store=FI-TRE&theme=staff")
    assert {r[4] for r in table_cells(drill, "comments")[1:]} == {"FI-TRE"}
    assert f"{some['Staff']} comments in the period" in page_text(drill)
    none = ok_page(viewer, f"{q}&language=sv&theme=staff")
    assert table_cells(none, "comments")[1:] == [["No data."]] and "No quotes" in none


def test_a_nasty_comment_is_escaped_then_marked(viewer) -> None:
    html = ok_page(viewer, "/w/tiny/comments?metric=nps&months=24&theme=delivery")
    assert '<script>alert("x")' not in html and "<b>oli</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;oli&lt;/b&gt;" in html
    assert "&lt;/td&gt;&lt;mark&gt;viikon&lt;/mark&gt;" in html
    cell = html.split('<td class="comment" lang="fi" translate="no">')[1].split("</td>")[0]
    # The inflected form and the compound are marked through their lemmas (toimitus).
    assert re.findall(r"<mark>(.*?)</mark>", cell) == ["Toimituksen",
                                                       "pakettitoimitus myöhästyi"]


def test_marked_escapes_first() -> None:
    """Escaped first, marked after; the default catalogue is the taxonomy alone."""
    m = str(comments_pages.marked("<i>Toimitus</i> & leveransen", "fi", "delivery"))
    assert m == "&lt;i&gt;<mark>Toimitus</mark>&lt;/i&gt; &amp; leveransen"
    sv = str(comments_pages.marked("Leveransen var sen, leveranserna också", "sv", "delivery"))
    assert sv == "<mark>Leveransen</mark> var sen, <mark>leveranserna</mark> också"


def test_not_analysed_and_empty_say_why(viewer) -> None:
    for slug in ("bare", "fresh"):
        html = ok_page(viewer, f"/w/{slug}/comments")
        assert 'id="not-analysed"' in html and "cxlens text analyse" in html, slug
        assert viewer.get(f"/w/{slug}/comments/impact.csv").status_code == 404
    html = ok_page(viewer, "/w/empty/comments")
    assert 'id="comments-empty"' in html
    html = ok_page(viewer, "/w/quiet/comments")
    assert 'id="no-comments"' in html and 'id="not-analysed"' not in html


@pytest.mark.parametrize("key", ["impact", "trend"])
def test_csv_matches_the_table(viewer, key: str) -> None:
    html = ok_page(viewer, "/w/demo/comments?metric=enps")
    r = viewer.get(f"/w/demo/comments/{key}.csv?metric=enps")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(r.text))) == table_rows(html, key)
    assert f'href="/w/demo/comments/{key}.csv?metric=enps' in html
    assert viewer.get("/w/demo/comments/nope.csv").status_code == 404


@pytest.mark.parametrize("query", [
    "metric=ces", "months=5", "as_of=2026-02-30", "page=0", "theme=nope",
    "store=" + "x" * 300, "page=x"])
def test_bad_values_are_422(viewer, query: str) -> None:
    assert viewer.get(f"/w/demo/comments?{query}").status_code == 422, query


def test_other_workspaces_are_out_of_reach(viewer) -> None:
    for path in ("/w/other/comments", "/w/other/comments?theme=delivery",
                 "/w/other/comments/impact.csv"):
        assert viewer.get(path).status_code == 404, path


@pytest.mark.parametrize(("lang", "words"), [
    ("fi", ["Avoimet kommentit", "Toimitus", "Sävyn tunnistuksen tarkkuus"]),
    ("sv", ["Fritextkommentarer", "Leverans", "Träffsäkerhet för tonen"]),
])
def test_finnish_and_swedish(viewer, lang: str, words: list[str]) -> None:
    try:
        html = ok_page(viewer, f"/w/demo/comments?lang={lang}&theme=delivery")
        for w in words:
            assert w in html, w
    finally:
        viewer.get("/w/demo/comments?lang=en")  # the language is remembered in a cookie


@pytest.mark.parametrize(("page", "metric"), [("experience", "nps"), ("people", "enps"),
                                              ("experience", "csat")])
def test_the_top_themes_panel_is_the_apis(site: dict, viewer, page: str, metric: str) -> None:
    """Experience (its metric) and People (the staff's eNPS) show the window's most mentioned
    themes with the API's numbers, each linking to the Comments page filtered the same."""
    q = f"metric={metric}&months=12" if page == "experience" else "months=12"
    html = ok_page(viewer, f"/w/demo/{page}?{q}")
    api = [t for t in _api(site, "themes", metric=metric)["themes"] if t["mentions"]]
    top = sorted(api, key=lambda t: (-t["mentions"], t["theme"]))[:comments_pages.TOP]
    rows = table_cells(html, "top-themes")[1:]
    assert [(r[0], r[1]) for r in rows] == [(t["label"], str(t["mentions"])) for t in top]
    assert [r[3] for r in rows] == [f"{t['impact']:+.1f}" for t in top]
    link = re.search(r'<table class="top-themes">.*?<a href="([^"]+)"', html, re.S)
    assert link and f"metric={metric}" in link.group(1) and "theme=" in link.group(1)
    ok_page(viewer, link.group(1).replace("&amp;", "&"))


def test_the_panel_is_left_out_without_an_analysis(viewer) -> None:
    for slug in ("bare", "fresh"):
        html = ok_page(viewer, f"/w/{slug}/experience")
        assert 'id="top-themes"' not in html


def test_the_panel_does_not_wait_for_the_taxonomy(viewer, monkeypatch) -> None:
    """Before the taxonomy is loaded in the server (seconds after a start), the panel says
    the themes are being prepared instead of holding the Experience page up."""
    monkeypatch.setattr(comments_pages, "taxonomy_ready", lambda: False)
    html = ok_page(viewer, "/w/demo/experience")
    assert 'id="themes-warming"' in html and '<table class="top-themes">' not in html


def test_the_users_themes_show_by_their_names(viewer) -> None:
    """The workspace's catalogue: a renamed taxonomy theme shows the user's name (escaped, in
    every language), a rule's new theme is in the table and its words are marked."""
    try:
        for lang in ("en", "fi"):
            html = ok_page(viewer, f"/w/tiny/comments?lang={lang}&months=24")
            names = [r[0] for r in table_cells(html, "themes")[1:]]
            assert "Toimitukset <i>kaikki</i>" in names and "Ongelmat" in names, names
            assert "&lt;i&gt;kaikki&lt;/i&gt;" in html and "<i>kaikki" not in html
    finally:
        viewer.get("/w/tiny/comments?lang=en")
    drill = ok_page(viewer, "/w/tiny/comments?months=24&theme=ongelmat")
    cell = drill.split('<td class="comment" lang="fi" translate="no">')[1].split("</td>")[0]
    assert re.findall(r"<mark>(.*?)</mark>", cell) == ["ongelmia"]
