"""The pages of issue 3 over HTTP: each renders for a member of a small S-demo workspace,
CSV downloads hold the table's numbers, annotations CRUD with CSRF, the upload flow end to
end, and what a viewer may not do."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from web_helpers import csrf_of, demo_home, figure, quick_argon2, sign_in, table_rows, text

from cxlens.web.assets import asset
from cxlens.web.workspaces import create_token

AS_OF = "2026-11-27"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A home with workspace ``demo`` (S demo loaded): owner, analyst, viewer and tokens."""

    def tokens(con, ws, owner) -> dict:
        return {"read": create_token(con, ws, "read", "read", owner),
                "write": create_token(con, ws, "write", "write", owner)}

    root = tmp_path_factory.mktemp("pages")
    with quick_argon2():
        app, more = demo_home(root, tokens)
        with TestClient(app):
            yield {"app": app, "root": root, **more}


def member(demo: dict, who: str) -> TestClient:
    return sign_in(TestClient(demo["app"]), f"{who}@demo.fi")


@pytest.fixture(scope="module")
def owner(demo: dict) -> TestClient:
    return member(demo, "owner")


@pytest.fixture(scope="module")
def viewer(demo: dict) -> TestClient:
    return member(demo, "viewer")


@pytest.fixture(scope="module")
def analyst(demo: dict) -> TestClient:
    return member(demo, "analyst")




@pytest.mark.parametrize("path", ["/w/demo/", "/w/demo/customers", "/w/demo/data",
                                  "/w/demo/annotations", f"/w/demo/?as_of={AS_OF}&days=30"
                                  "&grain=day", "/w/demo/?days=365&grain=month"])
def test_each_page_renders_for_every_role(path: str, owner, analyst, viewer) -> None:
    for client in (owner, analyst, viewer):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:2000])
        assert "Demo Oy" in r.text






def test_overview_shows_totals_nps_interval_and_charts(owner) -> None:
    r = owner.get(f"/w/demo/?as_of={AS_OF}&days=90&grain=week")
    page = text(r.text)
    for words in ("Orders", "Revenue", "New customers", "Feedback answers", "NPS",
                  "95 % interval", "Download CSV"):
        assert words in page, words
    assert re.search(r"n \d+", page)
    assert r.text.count('class="chart"') == 4
    assert f'<script src="{asset("plotly.min.js")}"' in r.text


@pytest.mark.parametrize("key", ["orders", "revenue", "customers", "nps"])
def test_csv_download_matches_the_table(key: str, owner) -> None:
    query = f"as_of={AS_OF}&days=90&grain=week"
    html = owner.get(f"/w/demo/?{query}").text
    r = owner.get(f"/w/demo/charts/{key}.csv?{query}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows == table_rows(html, key)
    assert len(rows) > 1


def test_small_nps_samples_are_flagged(owner) -> None:
    html = owner.get(f"/w/demo/?as_of={AS_OF}&days=30").text
    rows = table_rows(html, "nps")
    header, body = rows[0], rows[1:]
    flag, n = header.index("too few answers"), header.index("n")
    assert body and all((r[flag] == "yes") == (int(r[n]) < 30) for r in body)


def test_bad_query_values_are_422(owner) -> None:
    assert owner.get("/w/demo/?days=7").status_code == 422
    assert owner.get("/w/demo/?grain=hour").status_code == 422
    assert owner.get("/w/demo/charts/nope.csv").status_code == 404


def test_annotations_crud_with_csrf_and_on_charts(analyst, viewer, owner) -> None:
    token = csrf_of(analyst.get("/w/demo/annotations").text)
    form = {"day": "2026-11-02", "label": "Black <Friday> campaign", "campaign": "bf26"}
    r = analyst.post("/w/demo/annotations", data=form, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    r = analyst.post("/w/demo/annotations", data={**form, "csrf_token": token},
                     follow_redirects=False)
    assert r.status_code == 303
    page = viewer.get("/w/demo/annotations").text
    assert "Black &lt;Friday&gt; campaign" in page and "<Friday>" not in page
    note_id = int(re.findall(r"/w/demo/annotations/(\d+)/delete", analyst.get(
        "/w/demo/annotations").text)[-1])
    # On the time charts, as a vertical line with its label (no markup from user text).
    html = owner.get(f"/w/demo/?as_of={AS_OF}&days=90").text
    for key in ("orders", "revenue", "customers", "nps"):
        layout = figure(html, key)["layout"]
        assert {"type": "line", "x0": "2026-11-02", "x1": "2026-11-02"}.items() <= \
            layout["shapes"][-1].items()
        assert layout["annotations"][-1]["text"] == "Black ‹Friday› campaign (bf26)"
    # Edit, then delete.
    r = analyst.post(f"/w/demo/annotations/{note_id}", data={
        "day": "2026-11-03", "label": "Price change", "csrf_token": token},
        follow_redirects=False)
    assert r.status_code == 303
    assert "Price change" in viewer.get("/w/demo/annotations").text
    bad = analyst.post("/w/demo/annotations", data={"day": "31.2.2026", "label": "x",
                                                    "csrf_token": token})
    assert bad.status_code == 400 and "is not a date" in bad.text
    r = analyst.post(f"/w/demo/annotations/{note_id}/delete", data={"csrf_token": token},
                     follow_redirects=False)
    assert r.status_code == 303
    assert "Price change" not in viewer.get("/w/demo/annotations").text


def test_annotations_api(demo: dict) -> None:
    write = TestClient(demo["app"], headers={"Authorization": f"Bearer {demo['write']}"})
    read = TestClient(demo["app"], headers={"Authorization": f"Bearer {demo['read']}"})
    r = write.post("/api/w/demo/annotations", json={"day": "2026-10-01", "label": "TV spot",
                                                    "channel": "tv"})
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["label"] == "TV spot" and note["channel"] == "tv"
    listed = read.get("/api/w/demo/annotations").json()["annotations"]
    assert any(a["id"] == note["id"] for a in listed)
    assert read.post("/api/w/demo/annotations", json={"day": "2026-10-01",
                                                       "label": "x"}).status_code == 403
    r = write.put(f"/api/w/demo/annotations/{note['id']}",
                  json={"day": "2026-10-02", "label": "TV spot 2"})
    assert r.status_code == 200 and r.json()["day"] == "2026-10-02"
    bad = write.post("/api/w/demo/annotations", json={"day": "nope", "label": "x"})
    assert bad.status_code in (400, 422) and bad.json()["ok"] is False
    assert write.delete(f"/api/w/demo/annotations/{note['id']}").status_code == 200
    assert write.delete(f"/api/w/demo/annotations/{note['id']}").status_code == 404


def test_viewer_cannot_upload_annotate_or_roll_back(viewer) -> None:
    token = csrf_of(viewer.get("/w/demo/data").text)
    assert 'action="/w/demo/data/upload"' not in viewer.get("/w/demo/data").text
    r = viewer.post("/w/demo/data/upload", data={"kind": "orders", "csrf_token": token},
                    files={"file": ("o.csv", b"order_id,ts,amount\n1,2026-01-01,1\n")})
    assert r.status_code == 403
    r = viewer.post("/w/demo/annotations", data={"day": "2026-11-01", "label": "x",
                                                 "csrf_token": token})
    assert r.status_code == 403
    r = viewer.post("/w/demo/data/batches/1/rollback", data={"csrf_token": token})
    assert r.status_code == 403


def test_customers_find_profile_and_timeline(viewer) -> None:
    page = viewer.get("/w/demo/customers").text
    first = re.search(r'/w/demo/customers\?q=(C[0-9a-f]{16})', page)
    assert first, "no recent customers listed"
    r = viewer.get(f"/w/demo/customers?q={first.group(1)}")
    assert r.status_code == 200
    assert "Timeline" in r.text and "Identifiers" in r.text
    email = re.search(r'E-mail</span> <code translate="no">([^<]+)</code>', r.text)
    if email:  # the same customer by e-mail
        assert first.group(1) in viewer.get(f"/w/demo/customers?q={email.group(1)}").text
    missing = viewer.get("/w/demo/customers?q=nobody@nowhere.example")
    assert missing.status_code == 404 and "no customer found" in unescape(missing.text)


def test_customers_are_found_by_part_of_a_name(viewer) -> None:
    """"nieminen" finds the Niemisen, not only an exact identifier; event names read as
    people say them; the header says whether the customer is a promoter."""
    r = viewer.get("/w/demo/customers?q=nen")
    assert r.status_code == 200
    names = re.findall(r'<table class="matches">.*?</table>', r.text, re.S)
    assert names and "nen" in names[0].lower()
    assert "customers match" in text(r.text)
    link = re.search(r'/w/demo/customers\?q=(C[0-9a-f]{16})', names[0])
    one = viewer.get(f"/w/demo/customers?q={link.group(1)}")
    assert "Timeline" in one.text
    page = text(one.text)
    assert "page_view" not in page and "session_start" not in page
    # a customer with an NPS answer carries its group and score in the header
    for cid in re.findall(r'/w/demo/customers\?q=(C[0-9a-f]{16})', names[0]):
        html = viewer.get(f"/w/demo/customers?q={cid}").text
        if "<td>NPS " in html:  # the timeline's answer row, "NPS 9"
            badge = re.search(r'class="badge nps-(\w+)"[^>]*>([^<]+)<', html)
            assert badge and badge.group(2).lower().startswith(badge.group(1))
            break
    else:
        pytest.fail("no customer matching 'nen' answered an NPS survey")


BAD_ORDERS = ("order_id,ts,amount,email\n"
              "W-1,2026-11-20 10:00:00,19.90,web1@example.fi\n"
              "W-2,2026-11-21 11:00:00,not-a-number,web2@example.fi\n"
              "W-3,2026-11-22 12:00:00,5.00,web3@example.fi\n")


def upload_and_wait(client: TestClient, content: str, kind: str = "orders",
                    shown: str = "not-a-number") -> str:
    token = csrf_of(client.get("/w/demo/data").text)
    r = client.post("/w/demo/data/upload", data={"kind": kind, "csrf_token": token},
                    files={"file": ("web_orders.csv", content.encode())})
    assert r.status_code == 200, r.text
    assert "First 3 rows" in r.text and shown in r.text  # the preview
    confirm = re.search(r'action="(/w/demo/data/upload/[^"]+)"', r.text).group(1)
    r = client.post(confirm, data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    job_url = r.headers["location"]
    job_id = job_url.rsplit("/", 1)[1]
    deadline = time.monotonic() + 30
    while True:
        status = client.get(f"/api/w/demo/jobs/{job_id}").json()
        if status["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status["status"] == "done", status
    return client.get(job_url).text


def _wait_done(client: TestClient, job_url: str) -> dict:
    job_id = job_url.rsplit("/", 1)[1]
    deadline = time.monotonic() + 30
    while True:
        status = client.get(f"/api/w/demo/jobs/{job_id}").json()
        if status["status"] in ("done", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_a_workbook_with_several_sheets_asks_which_one(analyst) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.append(["read me", "first"])
    wb.active.append(["this sheet", "is not data"])
    orders = wb.create_sheet("Orders 2026")
    orders.append(["order_id", "ts", "amount", "email"])
    orders.append(["X-1", "2026-03-01 10:00:00", 12.5, "x1@example.fi"])
    orders.append(["X-2", "2026-03-02 10:00:00", 20, "x2@example.fi"])
    buf = io.BytesIO()
    wb.save(buf)
    token = csrf_of(analyst.get("/w/demo/data").text)
    r = analyst.post("/w/demo/data/upload", data={"kind": "orders", "csrf_token": token},
                     files={"file": ("book.xlsx", buf.getvalue())})
    assert r.status_code == 200, r.text
    assert re.findall(r'<option value="([^"]+)">', r.text) == ["Notes", "Orders 2026"]
    choose = re.search(r'action="(/w/demo/data/upload/[^"]+/sheet)"', r.text).group(1)
    # Loading before a sheet is chosen does nothing.
    early = analyst.post(choose.removesuffix("/sheet"), data={"csrf_token": token},
                         follow_redirects=False)
    assert early.headers["location"] == "/w/demo/data"
    assert analyst.post(choose, data={"sheet": "Elsewhere", "csrf_token": token}
                        ).status_code == 422
    r = analyst.post(choose, data={"sheet": "Orders 2026", "csrf_token": token})
    assert r.status_code == 200 and "First 2 rows" in r.text and "x2@example.fi" in r.text
    confirm = re.search(r'action="(/w/demo/data/upload/[^"/]+)"', r.text).group(1)
    r = analyst.post(confirm, data={"csrf_token": token}, follow_redirects=False)
    status = _wait_done(analyst, r.headers["location"])
    assert status["status"] == "done", status
    assert (status["result"]["rows_in"], status["result"]["loaded"]) == (2, 2)


def test_upload_reading_options(analyst) -> None:
    token = csrf_of(analyst.get("/w/demo/data").text)
    content = "order_id;ts;amount;email\nS-1;2026-03-01 10:00:00;12,50;s1@example.fi\n"
    r = analyst.post("/w/demo/data/upload", data={"kind": "orders", "delimiter": ";",
                                                  "encoding": "utf-8", "csrf_token": token},
                     files={"file": ("semi.csv", content.encode())})
    assert r.status_code == 200 and "s1@example.fi" in r.text
    assert "<th>amount</th>" in r.text  # split on the chosen delimiter
    bad = analyst.post("/w/demo/data/upload", data={"delimiter": "x", "csrf_token": token},
                       files={"file": ("semi.csv", content.encode())})
    assert bad.status_code == 422


def test_upload_end_to_end(analyst, owner) -> None:
    html = upload_and_wait(analyst, BAD_ORDERS)
    page = text(html)
    assert "Loaded as batch" in page
    for name, n in (("rows_in", 3), ("loaded", 2), ("quarantined", 1), ("duplicates", 0),
                    ("skipped", 0)):
        assert re.search(rf'id="{name}">{n}<', html), name
    assert "not a number" in page and "W-2" in page  # the reason and the raw row
    # the row as a table, the failing cell marked with its reason beside it
    bad_cell = re.search(r'<tr class="bad"><th>amount</th><td><code>not-a-number</code> '
                         r'<span class="why">([^<]+)</span>', html)
    assert bad_cell and "not a number" in bad_cell.group(1)
    data = owner.get("/w/demo/data").text
    assert "web_orders.csv" in data and "not a number" in text(data)
    # The batch list narrowed to one source (each source row links there).
    assert 'href="?source=custom#batches"' in data
    def sources_listed(html: str) -> set[str]:
        table = html.split('id="batches"')[1].split("</table>")[0]
        return set(re.findall(r"<tr>\s*<td>\d+</td><td>([^<]*)</td>", table))

    assert len(sources_listed(data)) > 1
    only = owner.get("/w/demo/data", params={"source": "custom"}).text
    # 'custom' (an upload without a named mapping) by its words
    assert sources_listed(only) == {"files uploaded here"}
    assert "Only the batches of the source: files uploaded here." in text(only)
    none = owner.get("/w/demo/data", params={"source": "<b>x</b>"}).text
    assert "<b>x</b>" not in none and "&lt;b&gt;x&lt;/b&gt;" in none
    # The same file again: nothing new is loaded, and every row is still accounted for.
    again = upload_and_wait(analyst, BAD_ORDERS)
    counts = {k: v for k, v in re.findall(r'id="(\w+)">(\d+)<', again)}
    assert counts["loaded"] == "0"
    assert int(counts["rows_in"]) == int(counts["quarantined"]) + int(counts["duplicates"]) == 3
    # The owner rolls the first upload back.
    batch = int(re.search(r"Loaded as batch (\d+)", page).group(1))
    token = csrf_of(data)
    r = owner.post(f"/w/demo/data/batches/{batch}/rollback", data={"csrf_token": token},
                   follow_redirects=False)
    assert r.status_code == 303
    assert "rolled back" in owner.get("/w/demo/data").text


def test_upload_of_an_unreadable_file_says_why(analyst) -> None:
    token = csrf_of(analyst.get("/w/demo/data").text)
    r = analyst.post("/w/demo/data/upload", data={"kind": "orders", "csrf_token": token},
                     files={"file": ("empty.csv", b"order_id,ts,amount\n")})
    assert r.status_code == 400 and "class=\"error\"" in r.text


def test_jobs_are_not_visible_from_other_workspaces(demo: dict) -> None:
    assert TestClient(demo["app"], headers={"Authorization": f"Bearer {demo['read']}"}).get(
        "/api/w/demo/jobs/nope").status_code == 404


def test_the_default_period_ends_on_the_last_day_with_data(demo, owner) -> None:
    """Weeks after the data stop would read as a collapse: the default period ends on the
    data's last day and says so; the partial last week is marked, not shown as a drop."""
    from datetime import date, timedelta

    from cxlens import clock
    from cxlens.demo.calendar import DEFAULT_TODAY as TODAY

    app = demo["app"]
    try:
        app.state.clock = clock.fixed(TODAY + timedelta(days=40))
        r = owner.get("/w/demo/?days=90&grain=week")
        page = text(r.text)
        assert "The data end on 2026-11-26" in page
        assert "2026-08-29 – 2026-11-26 (90 days)" in page
        rows = table_rows(r.text, "orders")
        assert rows[0][-1] == "days in the period"
        assert rows[-1][0] == "2026-11-23" and rows[-1][-1] == "4"  # Mon 23 .. Thu 26 Nov
        assert all(row[-1] == "" for row in rows[2:-1])  # the weeks between are whole
        # the same page a clock-day later than the data: no notice, the same period
        app.state.clock = clock.fixed(TODAY)
        r2 = owner.get("/w/demo/?days=90&grain=week")
        assert "The data end on" not in text(r2.text)
        assert table_rows(r2.text, "orders") == rows
        # a chosen day is kept as it is, even past the data
        r3 = owner.get("/w/demo/?days=30&grain=week&as_of=2027-01-01")
        assert "The data end on" not in text(r3.text) and "2027-01-01" in text(r3.text)
    finally:
        app.state.clock = clock.fixed(TODAY)
    assert date(2026, 11, 26) == TODAY - timedelta(days=1)


def test_insights_are_the_same_on_the_page_in_the_api_and_the_cli(demo, owner,
                                                                   tmp_path) -> None:
    """The Overview's findings: one function, one sentence, wherever they are read."""
    import json
    import shutil

    from typer.testing import CliRunner

    from cxlens.cli import app as cli

    # a year of the S demo with a finding: the draws move with the demo's spend (issue 14:
    # the year to 16 Jan 2026 had one after the ads' carry-over, the year to 27 Sep 2026
    # again since search pauses)
    query = "days=365&as_of=2026-09-27"
    page = owner.get(f"/w/demo/?{query}").text
    assert 'data-src="/w/demo/insights?days=365&amp;as_of=2026-09-27"' in page
    fragment = owner.get(f"/w/demo/insights?{query}")
    assert fragment.status_code == 200
    shown = [unescape(s) for s in re.findall(r'<span class="insight">(.*?)</span>', fragment.text)]
    api = TestClient(demo["app"], headers={"Authorization": f"Bearer {demo['read']}"})
    got = api.get(f"/api/w/demo/insights?{query}")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["insights"], "the S demo's year to 27 Sep 2026 has findings"
    assert [i["text"] for i in body["insights"]] == shown[:len(body["insights"])]
    for i in body["insights"]:
        assert i["effect"]["low"] is not None and i["n"] > 0
        assert f'href="{i["evidence"]}"' in fragment.text.replace("&amp;", "&")
    # the CLI on a copy: the server in this process holds the warehouse open
    ws = tmp_path / "demo"
    shutil.copytree(demo["app"].state.settings.workspaces_dir / "demo", ws)
    r = CliRunner().invoke(cli, ["insights", "--days", "365", "--as-of", "2026-09-27",
                                 "-w", str(ws), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == body
    # in Finnish, the same findings in Finnish
    fi = api.get(f"/api/w/demo/insights?{query}&lang=fi").json()
    assert [i["strength"] for i in fi["insights"]] == [i["strength"] for i in body["insights"]]
    assert all(a["text"] != b["text"] for a, b in zip(fi["insights"], body["insights"],
                                                      strict=True))
    assert api.get("/api/w/demo/insights?days=7").status_code == 422


def test_a_period_where_nothing_stands_out_says_so(owner) -> None:
    # 90 days of the S demo without a finding (since search pauses, issue 14, the last 90
    # days have one: a promoter's revenue)
    r = owner.get("/w/demo/insights?days=90&as_of=2026-08-26")
    assert "Nothing in this period stands out" in text(r.text)


def test_the_upload_mapping_names_fields_in_the_readers_language(analyst) -> None:
    token = csrf_of(analyst.get("/w/demo/data").text)
    content = "order_id,ts,amount,email\nF-1,2026-03-01 10:00:00,12.50,f1@example.fi\n"
    try:
        r = analyst.post("/w/demo/data/upload?lang=fi", data={"kind": "orders",
                                                              "csrf_token": token},
                         files={"file": ("fi_orders.csv", content.encode())})
    finally:
        analyst.get("/w/demo/data?lang=en")  # the choice is remembered: back to English
    assert r.status_code == 200
    mapping = re.search(r'<table class="mapping">(.*?)</table>', r.text, re.S).group(1)
    assert "Tilausnumero" in mapping and "Aika" in mapping
    assert '<code translate="no">order_id</code>' in mapping



def test_a_report_total_row_is_counted_as_skipped_on_the_page(analyst, owner) -> None:
    html = upload_and_wait(analyst, "order_id,ts,amount,email\n"
                                    "T-1,2026-11-20 10:00:00,19.90,t1@example.fi\n"
                                    "T-2,2026-11-21 11:00:00,5.00,t2@example.fi\n"
                                    "Total,,24.90,\n", shown="T-2")
    for name, n in (("rows_in", 3), ("loaded", 2), ("quarantined", 0), ("skipped", 1)):
        assert re.search(rf'id="{name}">{n}<', html), name
    data = owner.get("/w/demo/data").text
    assert "Skipped" in data and "report totals" in text(data)


def test_findings_are_kept_until_the_data_change(demo, owner, analyst, monkeypatch) -> None:
    """The second visit of the Overview does not compute its findings again; a write (a new
    batch) does."""
    from cxlens.web.api import insights as api

    calls = []
    real = api.insights_out

    def counted(*args, **kwargs):
        calls.append(args[2:5])
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "insights_out", counted)
    api._CACHE.clear()  # earlier tests asked for the same findings
    url = "/w/demo/insights?days=365&as_of=2026-01-16"
    first = owner.get(url).text
    assert owner.get(url).text == first and len(calls) == 1
    assert owner.get(url + "&lang=fi").status_code == 200 and len(calls) == 2  # per language
    owner.get("/w/demo/data?lang=en")
    upload_and_wait(analyst, BAD_ORDERS.replace("W-", "K-"))  # a write: the data changed
    assert owner.get(url).text == first and len(calls) == 3
    # a batch loaded beside the server (as the CLI does) changes the data version too
    from cxlens.ingest.load import ingest

    wh = next(iter(demo["app"].state.warehouses._by_path.values()))  # the one workspace
    orders = demo["root"] / "cli-orders.csv"
    orders.write_text(BAD_ORDERS.replace("W-", "L-"), encoding="utf-8")
    with wh.read() as cur:  # another connection's write, not the server's own
        assert ingest(cur, orders, "orders").balanced
    assert owner.get(url).text == first and len(calls) == 4
