"""Theme edits from the web (issue 13): the API's ``POST /api/w/{slug}/text/themes/{theme}/
rename|merge|split|pin|rules`` and ``DELETE /text/edits/{id}``, and the Comments page's forms.
Each edit shows on the page and in ``cxlens text themes --json``, survives ``cxlens text
analyse``; viewers get 403, other workspaces 404, bad edits 422. Also the team filter of the
page, the API and the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_helpers import csrf_of, ok_page, quick_argon2, sign_in, table_cells, team_home

from cxlens import clock
from cxlens.web.pages import comments as comments_pages

TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 12)
# (language, comment, score): delivery, queue, staff and parking in three languages.
TEXTS = [
    ("fi", "Toimitus oli myöhässä viikon.", 3), ("fi", "Pitkä jono kassalla.", 5),
    ("fi", "Myyjä oli todella avulias.", 10), ("fi", "Parkkimaksu oli liian suuri.", 4),
    ("sv", "Leveransen kom en vecka sent.", 2), ("sv", "Lång kö i kassan.", 6),
    ("sv", "Personalen var hjälpsam.", 9), ("en", "The delivery was a week late.", 3),
    ("en", "Long queue at the till.", 6), ("en", "The staff were very helpful.", 10),
]


def _rows(con) -> None:
    """Three copies of the texts as NPS answers of teams T1 and T2 (a month apart), and
    the same as the staff's eNPS answers of T1 (6 of 10) and T2."""
    n = 0
    for copy in range(3):
        for metric in ("nps", "enps"):
            for i, (lang, comment, score) in enumerate(TEXTS):
                n += 1
                team = "T1" if (i + copy) % 2 else "T2"
                con.execute(
                    "INSERT INTO feedback (response_id, ts, metric, score, comment, language, "
                    "store_id, team_id, touchpoint, _batch, _line, _hash) VALUES "
                    "(?, ?, ?, ?, ?, ?, 'S1', ?, 'store', 1, ?, ?)",
                    [f"r{n}", datetime(2026, 9 + copy, 10, 12), metric, score, comment, lang,
                     team, n + 1, n])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from cxlens.text.analyse import analyse
    from cxlens.warehouse.store import open_warehouse
    from cxlens.web.accounts import create_user
    from cxlens.web.workspaces import create_token, create_workspace

    comments_pages.clear()
    root = tmp_path_factory.mktemp("comments_edits")

    def extra(con, ws, owner) -> dict:
        boss = create_user(con, "boss@other.fi", "correct horse battery")
        other, _ = create_workspace(con, ws.path.parent, "other", "Muu Oy", boss)
        return {"acme": ws.path, "other": other.path,
                "write": create_token(con, ws, "write", "write", owner),
                "read": create_token(con, ws, "read", "read", owner),
                "other_write": create_token(con, other, "w", "write", boss)}

    with quick_argon2():
        app, _, more = team_home(root, "acme.fi", "acme", "Acme Oy", extra)
    app.state.clock = clock.fixed(TODAY)
    with open_warehouse(more["acme"]) as con:
        _rows(con)
        analyse(con, now=NOW)
        # A discovered theme to pin (as `cxlens text discover` would store it).
        con.execute("INSERT INTO text_themes VALUES ('d_parking', 'parkkimaksu', "
                    "'{\"fi\": [\"parkkimaksu\"]}', '{\"fi\": [\"parkkimaksu\"]}', 3, 1.0, "
                    "'{}', FALSE, TIMESTAMP '2026-11-01 00:00:00')")
        analyse(con, now=NOW)
    with open_warehouse(more["other"]) as con:
        _rows(con)
        analyse(con, now=NOW)
    with TestClient(app):
        yield {"app": app, **more}


def _api(site: dict, token: str = "write") -> TestClient:
    return TestClient(site["app"], headers={"Authorization": f"Bearer {site[token]}"})


def _member(site: dict, who: str) -> TestClient:
    with quick_argon2():
        return sign_in(TestClient(site["app"]), f"{who}@acme.fi")


def _cli(site: dict, *args: str) -> dict:
    """``cxlens text … --json`` on the workspace, with the server's connection closed
    first (a DuckDB file has one writer; the next request opens it again)."""
    from cxlens.cli import app

    site["app"].state.warehouses.close()
    r = CliRunner().invoke(app, ["text", *args, "-w", str(site["acme"]), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _themes(site: dict, **q: str) -> dict[str, dict]:
    r = _api(site, "read").get("/api/w/acme/text/themes", params=q)
    assert r.status_code == 200, r.text
    return {t["theme"]: t for t in r.json()["themes"]}


def _names(html: str) -> list[str]:
    return [r[0] for r in table_cells(html, "themes")[1:]]


def test_each_api_edit_shows_on_the_page_in_the_cli_and_survives_analyse(site: dict) -> None:
    api, viewer = _api(site), _member(site, "viewer")

    def ids(theme: str) -> set[str]:
        return {c["response_id"] for c in _api(site, "read").get(
            "/api/w/acme/text/comments", params={"theme": theme, "metric": "nps",
                                                 "limit": 1000}).json()}

    merged = len(ids("queue") | ids("store_environment"))
    staff = _themes(site)["staff"]["mentions"]
    assert merged > len(ids("store_environment"))
    made = []
    for path, body in [("delivery/rename", {"label": "Shipping <b>now</b>"}),
                       ("queue/merge", {"into": "store_environment"}),
                       ("staff/split", {"new": "helpful", "keywords": ["avulias", "helpful"]}),
                       ("parking_fee/rules", {"keywords": ["parkkimaksu"], "language": "fi",
                                              "label": "Parking fees"}),
                       ("d_parking/pin", {"pinned": True})]:
        r = api.post(f"/api/w/acme/text/themes/{path}", json=body)
        assert r.status_code == 201, (path, r.text)
        made.append(r.json())
        assert r.json()["reassigned"] == 60  # every comment, at once
    assert [m["op"] for m in made] == ["rename", "merge", "split", "rule", "pin"]
    html = ok_page(viewer, "/w/acme/comments?months=6")
    names = _names(html)
    assert "Shipping <b>now</b>" in names and "<b>now" not in html  # escaped
    assert "Queues and waiting" not in names
    assert {"helpful", "Parking fees"} <= set(names)
    edits_table = table_cells(html, "theme-edits")[1:]
    assert [int(r[0]) for r in edits_table] == [5, 4, 3, 2, 1]
    assert "Undo" not in html  # a viewer sees the edits, not the controls
    listed = _api(site, "read").get("/api/w/acme/text/edits").json()
    assert [e["edit_id"] for e in listed["edits"]] == [1, 2, 3, 4, 5]
    assert {d["theme"]: d["pinned"] for d in listed["discovered"]} == {"d_parking": True}

    for step in ("themes", "analyse"):
        if step == "analyse":
            _cli(site, "analyse")
        cli = {t["theme"]: t for t in _cli(site, "themes")["themes"]}
        assert cli["delivery"]["label"] == "Shipping <b>now</b>", step
        assert "queue" not in cli and cli["store_environment"]["mentions"] == merged, step
        assert cli["helpful"]["source"] == "user" and cli["helpful"]["mentions"] == 6, step
        assert cli["parking_fee"]["mentions"] == 3, step
        assert cli["d_parking"]["pinned"], step
    assert _themes(site)["helpful"]["mentions"] == 6  # the server reads again after the CLI

    # Undo: the rename and the split go; the comments are re-assigned at once.
    for edit_id in (1, 3):
        r = api.delete(f"/api/w/acme/text/edits/{edit_id}")
        assert r.status_code == 200 and r.json()["undone"] == edit_id, r.text
    now = _themes(site)
    assert now["delivery"]["label"] == "Delivery" and "helpful" not in now
    assert now["staff"]["mentions"] == staff
    assert api.delete("/api/w/acme/text/edits/1").status_code == 404  # undone already
    html = ok_page(viewer, "/w/acme/comments?months=6")
    assert [r[-1] for r in table_cells(html, "theme-edits")[1:]][-3::2] == ["undone", "undone"]
    # Undoing the pin lets discovery replace the theme again.
    assert api.delete("/api/w/acme/text/edits/5").status_code == 200
    listed = _api(site, "read").get("/api/w/acme/text/edits").json()
    assert {d["theme"]: d["pinned"] for d in listed["discovered"]} == {"d_parking": False}


@pytest.mark.parametrize(("path", "body", "status"), [
    ("nope/rename", {"label": "x"}, 404),
    ("delivery/rename", {"label": ""}, 422),
    ("delivery/rename", {"label": "x" * 81}, 422),
    ("delivery/merge", {"into": "delivery"}, 422),
    ("delivery/merge", {"into": "nope"}, 422),
    ("delivery/split", {"new": "Bad Name", "keywords": ["x"]}, 422),
    ("delivery/split", {"new": "price", "keywords": ["x"]}, 422),
    ("delivery/split", {"new": "fresh", "keywords": []}, 422),
    ("New Theme/rules", {"keywords": ["x"]}, 422),
    ("delivery/rules", {"keywords": ["x"], "language": "de"}, 422),
    ("delivery/rules", {"keywords": ["!!!"]}, 422),
    ("delivery/pin", {"pinned": True}, 422),  # not a discovered theme
    ("delivery/rename", {"label": "x", "extra": 1}, 422),
])
def test_bad_edits_are_refused_and_change_nothing(site: dict, path: str, body: dict,
                                                  status: int) -> None:
    before = _api(site, "read").get("/api/w/acme/text/edits").json()["edits"]
    r = _api(site).post(f"/api/w/acme/text/themes/{path}", json=body)
    assert r.status_code == status, r.text
    assert r.json()["ok"] is False and r.json()["error"]
    assert _api(site, "read").get("/api/w/acme/text/edits").json()["edits"] == before
    assert _api(site).delete("/api/w/acme/text/edits/999").status_code == 404


def test_viewers_and_read_tokens_get_403_other_workspaces_404(site: dict) -> None:
    body = {"label": "Mine"}
    assert _api(site, "read").post("/api/w/acme/text/themes/delivery/rename",
                                   json=body).status_code == 403
    assert _api(site, "read").delete("/api/w/acme/text/edits/1").status_code == 403
    viewer = _member(site, "viewer")
    token = csrf_of(viewer.get("/w/acme/comments?theme=delivery").text)
    for client in (viewer,):
        r = client.post("/api/w/acme/text/themes/delivery/rename", json=body,
                        headers={"X-CSRF-Token": token})
        assert r.status_code == 403, r.text
        r = client.post("/w/acme/comments/themes/delivery/rename",
                        data={"label": "Mine", "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 403, r.text
    # Another workspace: a token of acme, and acme's analyst, reach nothing there.
    assert _api(site).post("/api/w/other/text/themes/delivery/rename",
                           json=body).status_code == 404
    assert _api(site).delete("/api/w/other/text/edits/1").status_code == 404
    analyst = _member(site, "analyst")
    token = csrf_of(analyst.get("/w/acme/comments").text)
    r = analyst.post("/w/other/comments/themes/delivery/rename",
                     data={"label": "Mine", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 404
    theirs = TestClient(site["app"], headers={"Authorization": f"Bearer {site['other_write']}"})
    assert theirs.get("/api/w/other/text/edits").json()["edits"] == []


def test_the_pages_forms_edit_with_the_csrf_token(site: dict) -> None:
    analyst = _member(site, "analyst")
    html = ok_page(analyst, "/w/acme/comments?months=6&theme=payment")
    assert 'id="theme-edit"' in html and 'action="/w/acme/comments/themes/payment/rename"' in html
    token = csrf_of(html)
    back = "metric=nps&months=6&theme=payment"
    # Without the token: refused.
    r = analyst.post("/w/acme/comments/themes/payment/rename",
                     data={"label": "Maksu", "back": back}, follow_redirects=False)
    assert r.status_code == 403
    r = analyst.post("/w/acme/comments/themes/payment/rename",
                     data={"label": "Maksaminen", "back": back, "csrf_token": token},
                     follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/w/acme/comments?metric=nps&months=6")
    assert "theme=payment" in r.headers["location"]
    html = ok_page(analyst, r.headers["location"].split("#")[0])
    assert "Maksaminen" in _names(html) and "Theme: Maksaminen" in html
    # A keyword rule for a new theme, from the edits card: the page drills into it.
    r = analyst.post("/w/acme/comments/rules",
                     data={"theme": "kassa_jono", "keywords": "jono, kö", "label": "Kassajono",
                           "back": back, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and "theme=kassa_jono" in r.headers["location"]
    html = ok_page(analyst, r.headers["location"].split("#")[0])
    assert "Kassajono" in _names(html)
    # A bad edit: the page again, with the reason, and nothing recorded.
    n = len(table_cells(html, "theme-edits"))
    r = analyst.post("/w/acme/comments/themes/price/merge",
                     data={"into": "price", "back": back, "csrf_token": token})
    assert r.status_code == 422 and 'id="edit-error"' in r.text and "into itself" in r.text
    r = analyst.post("/w/acme/comments/themes/price/rules",
                     data={"keywords": " , ", "back": back, "csrf_token": token})
    assert r.status_code == 422 and "keywords" in r.text
    r = analyst.post("/w/acme/comments/themes/nope/rename",
                     data={"label": "x", "back": back, "csrf_token": token})
    assert r.status_code == 404
    assert len(table_cells(ok_page(analyst, "/w/acme/comments?months=6"), "theme-edits")) == n
    # Undo from the list.
    edit_id = table_cells(html, "theme-edits")[1][0]
    r = analyst.post(f"/w/acme/comments/edits/{edit_id}/undo",
                     data={"back": "metric=nps&months=6", "csrf_token": token},
                     follow_redirects=False)
    assert r.status_code == 303
    assert "Kassajono" not in _names(ok_page(analyst, "/w/acme/comments?months=6"))
    # Pin a discovered theme from its drill-down; then the form offers to unpin it.
    html = ok_page(analyst, "/w/acme/comments?months=6&theme=d_parking")
    pinned = {d["theme"]: d["pinned"] for d in _api(site, "read").get(
        "/api/w/acme/text/edits").json()["discovered"]}["d_parking"]
    op = "unpin" if pinned else "pin"
    assert f'action="/w/acme/comments/themes/d_parking/{op}"' in html
    r = analyst.post(f"/w/acme/comments/themes/d_parking/{op}",
                     data={"back": "months=6&theme=d_parking", "csrf_token": token},
                     follow_redirects=False)
    assert r.status_code == 303
    assert {d["theme"]: d["pinned"] for d in _api(site, "read").get(
        "/api/w/acme/text/edits").json()["discovered"]}["d_parking"] is not pinned
    assert "/unpin" not in ok_page(analyst, "/w/acme/comments?months=6&theme=price")
    # A merge sends the reader to the theme that took the comments.
    r = analyst.post("/w/acme/comments/themes/price/merge",
                     data={"into": "product_quality", "back": back, "csrf_token": token},
                     follow_redirects=False)
    assert r.status_code == 303 and "theme=product_quality" in r.headers["location"]


def test_the_team_filter(site: dict) -> None:
    """``team`` narrows the page, the API and the CLI alike; the page offers the teams."""
    every = _themes(site, metric="enps")
    t1 = _themes(site, metric="enps", team="T1")
    t2 = _themes(site, metric="enps", team="T2")
    assert 0 < t1["staff"]["mentions"] < every["staff"]["mentions"]
    assert t1["staff"]["mentions"] + t2["staff"]["mentions"] == every["staff"]["mentions"]
    assert t1["staff"]["n"] + t2["staff"]["n"] == every["staff"]["n"]
    comments = _api(site, "read").get("/api/w/acme/text/comments",
                                      params={"theme": "staff", "team": "T1"}).json()
    assert len(comments) == t1["staff"]["mentions"] + _themes(
        site, metric="nps", team="T1")["staff"]["mentions"]
    viewer = _member(site, "viewer")
    html = ok_page(viewer, "/w/acme/comments?metric=enps&months=6&team=T1")
    assert '<option value="T1" selected>' in html and '<option value="T2">' in html
    row = next(r for r in table_cells(html, "themes")[1:] if r[0] == "Staff")
    assert int(row[1]) == t1["staff"]["mentions"]
    drill = ok_page(viewer, "/w/acme/comments?metric=enps&months=6&team=T1&theme=staff")
    assert f"{t1['staff']['mentions']} comments in the period" in re.sub(r"\s+", " ", drill)
    cli = {t["theme"]: t for t in _cli(site, "themes", "--metric", "enps", "--team", "T1")[
        "themes"]}
    assert cli["staff"]["mentions"] == t1["staff"]["mentions"]
    assert cli["staff"]["impact"] == t1["staff"]["impact"]
    assert len(_cli(site, "comments", "--theme", "staff", "--team", "T1")) == len(comments)


def test_the_panels_pass_the_team_store_and_touchpoint(site: dict) -> None:
    """The Experience page's top-themes panel narrows to the team (store, touchpoint) its
    query names, offers them in its own form, and links to the Comments page so filtered."""
    viewer = _member(site, "viewer")
    want = {t["label"]: t for t in _themes(site, metric="enps", team="T1").values()}
    html = ok_page(viewer, "/w/acme/experience?metric=enps&months=6&team=T1")
    rows = table_cells(html, "top-themes")[1:]
    assert rows and all(int(r[1]) == want[r[0]]["mentions"] for r in rows)
    assert int(next(r for r in rows if r[0] == "Staff")[1]) < _themes(
        site, metric="enps")["staff"]["mentions"]
    form = html.split('id="top-themes-filters"')[1].split("</form>")[0]
    assert '<option value="T1" selected>' in form and 'name="metric" value="enps"' in form
    link = re.search(r'<table class="top-themes">.*?<a href="([^"]+)"', html, re.S)
    assert link and "team=T1" in link.group(1) and "metric=enps" in link.group(1)
    ok_page(viewer, link.group(1).replace("&amp;", "&"))
    # A value too long leaves the panel out; the page itself stands.
    html = ok_page(viewer, "/w/acme/experience?metric=enps&months=6&team=" + "x" * 300)
    assert 'id="top-themes"' not in html

