"""The Follow-ups page over HTTP on web_helpers' ``survey_home``: the two detractors' items
with score, comment, answer time and a working link to the customer's profile; filters by
status and owner; changing status, owner and note (analysts and owners, with CSRF; viewers
only read); escaping of a ``<script>`` comment and note; the CSV; isolation."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from fastapi.testclient import TestClient
from web_helpers import (
    SCRIPT_COMMENT,
    SURVEY_DAY,
    Site,
    csrf_of,
    sign_in,
    survey_page_fixtures,
    text,
)

home, owner, analyst, viewer = survey_page_fixtures("followup_pages")


def items(html: str) -> dict[str, list[str]]:
    """The listed items by id: the text of each cell (without the edit form)."""
    m = re.search(r'<table class="followups">(.*?)</table>', html, re.S)
    assert m
    body = re.sub(r"<details>.*?</details>", "", m.group(1), flags=re.S)
    out = {}
    for row in re.findall(r'<tr id="item-(\d+)"[^>]*>(.*?)</tr>', body, re.S):
        out[row[0]] = [text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)]
    return out


def change(client: TestClient, fid: int, token: str | None, **fields: str) -> object:
    data = {"status": "open", "owner": "", "note": "", **fields}
    if token is not None:
        data["csrf_token"] = token
    return client.post(f"/w/shop/followups/{fid}", data=data, follow_redirects=False)


def test_lists_the_detractors_items_for_every_role(owner, analyst, viewer) -> None:
    for client in (owner, analyst, viewer):
        r = client.get("/w/shop/followups")
        assert r.status_code == 200 and 'href="/w/shop/followups" aria-current="page"' in r.text
    html = viewer.get("/w/shop/followups").text
    listed = items(html)
    assert list(listed) == ["1", "2"]  # open, oldest first
    one, two = listed["1"], listed["2"]
    assert one[:4] == ["1", "open", "3 NPS", SCRIPT_COMMENT]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", one[4])
    answered = datetime.strptime(one[4], "%Y-%m-%d %H:%M")
    assert one[5].startswith((answered + timedelta(days=2)).strftime("%Y-%m-%d %H:%M"))
    assert one[6:10] == ["email:bert@shop.se", "nps", "", ""]
    assert two[1:4] == ["open", "0 NPS", "Never again"]
    for s, n in (("open", 2), ("contacted", 0), ("resolved", 0)):
        assert f'id="count-{s}">{n}<' in html


def test_a_script_comment_is_shown_as_text(viewer) -> None:
    html = viewer.get("/w/shop/followups").text
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; late delivery" in html


def test_the_profile_link_opens_the_customer(viewer) -> None:
    html = viewer.get("/w/shop/followups").text
    links = re.findall(r'<a class="profile" href="([^"]+)">', html)
    assert links[0] == "/w/shop/customers?q=email%3Abert%40shop.se"
    profile = viewer.get(unescape(links[0]))
    assert profile.status_code == 200 and "bert@shop.se" in profile.text
    assert 'class="error"' not in profile.text


def test_a_viewer_reads_but_cannot_change(viewer) -> None:
    html = viewer.get("/w/shop/followups").text
    assert "<details>" not in html and 'name="note"' not in html
    r = change(viewer, 1, csrf_of(html), status="resolved", note="viewer was here")
    assert r.status_code == 403
    assert items(viewer.get("/w/shop/followups").text)["1"][1] == "open"


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_change_without_the_csrf_token_is_refused(analyst, token: str | None) -> None:
    r = change(analyst, 1, token, status="resolved")
    assert r.status_code == 403 and "CSRF" in r.text
    assert items(analyst.get("/w/shop/followups").text)["1"][1] == "open"


def test_bad_values_are_a_clear_4xx(analyst) -> None:
    token = csrf_of(analyst.get("/w/shop/followups").text)
    r = change(analyst, 1, token, status="done")
    assert r.status_code == 422 and "&#39;done&#39; is not a follow-up status" in r.text
    assert "use open, contacted, resolved" in r.text
    assert change(analyst, 99, token, status="open").status_code == 404
    long = change(analyst, 1, token, status="open", note="x" * 4001)
    assert long.status_code == 422
    for query in ("status=done", "owner=" + "x" * 300):
        assert analyst.get(f"/w/shop/followups?{query}").status_code == 422
    assert items(analyst.get("/w/shop/followups").text)["1"][1] == "open"


def test_an_analyst_works_an_item_through(analyst, viewer) -> None:
    token = csrf_of(analyst.get("/w/shop/followups").text)
    r = change(analyst, 1, token, status="contacted", owner="Aino",
               note="<b>Called</b>, sends a voucher", filter_status="open")
    assert r.status_code == 303
    assert r.headers["location"] == "/w/shop/followups?status=open#item-1"
    html = viewer.get("/w/shop/followups").text
    one = items(html)["1"]
    assert one[1] == "contacted" and one[8:10] == ["Aino", "<b>Called</b>, sends a voucher"]
    assert "<b>Called" not in html and "&lt;b&gt;Called&lt;/b&gt;" in html
    assert 'id="count-open">1<' in html and 'id="count-contacted">1<' in html
    r = change(analyst, 1, token, status="resolved", owner="Aino", note="Voucher sent")
    assert r.status_code == 303
    api = viewer.get("/api/w/shop/followups").json()["followups"]
    first = next(f for f in api if f["followup_id"] == 1)
    assert (first["status"], first["owner"], first["note"]) == ("resolved", "Aino",
                                                                "Voucher sent")
    assert first["contacted_at"] and first["resolved_at"]


def test_filter_by_status_and_owner(analyst, viewer) -> None:
    token = csrf_of(analyst.get("/w/shop/followups").text)
    assert change(analyst, 2, token, status="open", owner="Bo").status_code == 303
    assert list(items(viewer.get("/w/shop/followups?status=open").text)) == ["2"]
    assert list(items(viewer.get("/w/shop/followups?status=resolved").text)) == ["1"]
    assert list(items(viewer.get("/w/shop/followups?status=contacted").text)) == []
    html = viewer.get("/w/shop/followups?owner=Aino").text
    assert list(items(html)) == ["1"] and '<option value="Aino" selected>' in html
    assert list(items(viewer.get("/w/shop/followups?status=open&owner=Aino").text)) == []
    assert change(analyst, 2, token, status="open", owner="").status_code == 303
    assert list(items(viewer.get("/w/shop/followups?owner=-").text)) == ["2"]
    assert "No follow-up items." in viewer.get("/w/shop/followups?status=contacted").text


def test_csv_holds_the_filtered_list_and_no_formulas(analyst, viewer) -> None:
    token = csrf_of(analyst.get("/w/shop/followups").text)
    change(analyst, 2, token, status="contacted", owner="Bo", note="=HYPERLINK(\"x\")")
    html = viewer.get("/w/shop/followups?status=contacted").text
    assert 'href="/w/shop/followups.csv?status=contacted"' in html
    r = viewer.get("/w/shop/followups.csv?status=contacted")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["followup_id"], x["status"], x["owner"], x["score"]) for x in rows] == [
        ("2", "contacted", "Bo", "0")]
    assert rows[0]["note"] == "'=HYPERLINK(\"x\")" and rows[0]["comment"] == "Never again"
    everything = list(csv.DictReader(io.StringIO(viewer.get("/w/shop/followups.csv").text)))
    assert {x["comment"] for x in everything} == {SCRIPT_COMMENT, "Never again"}


def test_labels_in_finnish_and_swedish(viewer) -> None:
    fi = text(viewer.get("/w/shop/followups?lang=fi").text)
    assert "Yhteydenotot" in fi and "vastuuhenkilö" in fi and "ratkaistu" in fi
    sv = text(viewer.get("/w/shop/followups?lang=sv").text)
    assert "Uppföljningar" in sv and "ansvarig" in sv
    viewer.get("/w/shop/followups?lang=en")


def test_other_workspaces_stay_out_of_reach(home: dict, owner) -> None:
    token = csrf_of(owner.get("/w/shop/followups").text)
    for path in ("/w/other/followups", "/w/other/followups.csv"):
        r = owner.get(path)
        assert r.status_code == 404 and "OTHER-SECRET" not in r.text
    r = owner.post("/w/other/followups/1", data={"status": "resolved", "csrf_token": token})
    assert r.status_code == 404
    boss = sign_in(TestClient(home["app"]), "boss@other.fi")
    theirs = items(boss.get("/w/other/followups").text)
    assert theirs["1"][1] == "open" and theirs["1"][3].endswith("OTHER-SECRET")
    assert "OTHER-SECRET" not in owner.get("/w/shop/followups").text
    assert boss.get("/w/shop/followups").status_code == 404


def test_a_workspace_without_data_renders(site: Site) -> None:
    client = site.member("ann@acme.fi")
    r = client.get("/w/acme/followups")
    assert r.status_code == 200 and "No follow-up items." in r.text
    csv_text = client.get("/w/acme/followups.csv").text
    assert csv_text.startswith("followup_id,status,owner,note")


def test_items_left_open_past_two_days_are_overdue(home, analyst, viewer) -> None:
    """Due two days after the answer; an open item past that is highlighted and counted,
    one somebody has contacted is not. The owner is chosen among the workspace's people."""
    from cxlens import clock

    app = home["app"]
    token = csrf_of(analyst.get("/w/shop/followups").text)
    for fid in (1, 2):
        assert change(analyst, fid, token, status="open").status_code == 303
    html = viewer.get("/w/shop/followups").text
    assert 'id="count-overdue">0<' in html and "overdue" not in items(html)["1"][5]
    before = app.state.clock
    try:
        app.state.clock = clock.fixed(SURVEY_DAY + timedelta(days=5))
        assert change(analyst, 2, token, status="contacted").status_code == 303
        html = viewer.get("/w/shop/followups").text
        assert 'id="count-overdue">1<' in html
        assert "overdue" in items(html)["1"][5] and "overdue" not in items(html)["2"][5]
        assert '<tr id="item-1" class="status-open overdue">' in html
        rows = list(csv.DictReader(io.StringIO(viewer.get("/w/shop/followups.csv").text)))
        assert {x["followup_id"]: x["overdue"] for x in rows} == {"1": "True", "2": "False"}
    finally:
        app.state.clock = before
    form = analyst.get("/w/shop/followups").text
    edit = form.split('<tr id="edit-', 1)[1]  # the edit form's row under the first item
    owners = re.findall(r'<select name="owner"><option value="">[^<]*</option>(.*?)</select>',
                        edit, re.S)[0]
    offered = re.findall(r'<option value="([^"]+)"', owners)
    assert set(offered) >= {"analyst@shop.fi", "owner@shop.fi"}
    assert "viewer@shop.fi" not in offered  # a viewer cannot work an item
