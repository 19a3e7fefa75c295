"""The Surveys page over HTTP on a small workspace with real survey state (web_helpers'
``survey_home``): definitions with their languages and a flagged missing translation, the
counts and the response rate with its interval (table = CSV), triggers and chains, adding
a survey as YAML (a bad one comes back with its line), the CSV of personal links, roles,
CSRF, escaping, isolation and the three languages.

Tests that change the workspace come after those that read its exact numbers."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from web_helpers import CUSTOM_SURVEY, Site, csrf_of, survey_page_fixtures, text

home, owner, analyst, viewer = survey_page_fixtures("survey_pages")


def rows_of(html: str, table: str) -> list[list[str]]:
    m = re.search(rf'<table class="{table}"[^>]*>(.*?)</table>', html, re.S)
    assert m, table
    return [[text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(1), re.S)]


def test_renders_for_every_role_and_is_in_the_navigation(owner, analyst, viewer) -> None:
    for client in (owner, analyst, viewer):
        r = client.get("/w/shop/surveys")
        assert r.status_code == 200, r.text[:2000]
        assert "Shop Oy" in r.text and 'class="error"' not in r.text
        assert 'href="/w/shop/surveys" aria-current="page"' in r.text
        assert 'href="/w/shop/followups"' in r.text


def test_definitions_with_languages_and_the_missing_translation(viewer) -> None:
    rows = {r[0]: r for r in rows_of(viewer.get("/w/shop/surveys").text, "surveys")[1:]}
    assert set(rows) == {"ces", "nps", "store_visit"}
    assert rows["nps"][1:4] == ["Tell us about your experience", "NPS", "built-in"]
    assert rows["nps"][4] == "FI ✓ · SV ✓ · EN ✓"
    visit = rows["store_visit"]
    assert visit[1:4] == ["Your visit", "own scale", "custom"]
    assert visit[4].startswith("FI ✓ · SV 2 texts shown in English · EN ✓ 2 warnings")
    assert "questions[1].text: no 'sv' text; English is shown instead" in visit[4]
    assert visit[5].startswith("/s/public/shop.")


def test_counts_and_response_rate_with_interval_table_and_csv(viewer) -> None:
    html = viewer.get("/w/shop/surveys").text
    table = rows_of(html, "chart-table")
    assert table[0] == ["survey", "invitations", "not yet sent", "sent (n)", "reminders",
                        "opened", "answered", "expired", "opted out", "public-link answers",
                        "response rate %", "95 % low", "95 % high", "too few answers",
                        "last sent"]
    nps = next(r for r in table if r[0] == "nps")
    # 8 invited, 2 not yet sent, 6 sent; 4 of 6 answered: Wilson 95 % 30.00 … 90.32
    assert nps[1:14] == ["8", "2", "6", "1", "0", "4", "0", "1", "1", "66.67", "30.00",
                         "90.32", "yes"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", nps[14])
    assert next(r for r in table if r[0] == "ces")[1:4] == ["0", "0", "0"]
    assert 'href="/w/shop/surveys/rates.csv"' in html
    r = viewer.get("/w/shop/surveys/rates.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(r.text))) == table
    assert viewer.get("/w/shop/surveys/nope.csv").status_code == 404
    kpis = text(html[html.index('class="kpis"'):html.index('id="chart-rates"')])
    assert "Invitations sent 6" in kpis and "Answered 4" in kpis
    assert "Customers who opted out of all surveys 1" in kpis


def test_triggers_and_chains_are_listed(viewer) -> None:
    rows = rows_of(viewer.get("/w/shop/surveys").text, "triggers")
    assert rows[1] == ["nps-purchase", "nps", "a purchase", "7", "30", "3", "30", "3",
                       "after a purchase"]
    assert rows[2][:4] == ["ces-after-nps", "ces", "chain: the invitation of nps-purchase",
                           "60"]


def test_labels_in_finnish_and_swedish(viewer) -> None:
    fi = text(viewer.get("/w/shop/surveys?lang=fi").text)
    assert "Kyselyt" in fi and "Vastausprosentti kyselyittäin" in fi and "Yhteydenotot" in fi
    sv = text(viewer.get("/w/shop/surveys?lang=sv").text)
    assert "Svarsfrekvens per enkät" in sv and "Utlösare och kedjor" in sv
    viewer.get("/w/shop/surveys?lang=en")


def test_a_viewer_reads_but_cannot_change(viewer) -> None:
    html = viewer.get("/w/shop/surveys").text
    assert 'name="definition"' not in html and "/surveys/links.csv" not in html
    assert "/surveys/builtin" not in html
    token = csrf_of(html)
    for path, data in (("/w/shop/surveys", {"definition": CUSTOM_SURVEY}),
                       ("/w/shop/surveys/builtin", {"name": "csat"}),
                       ("/w/shop/surveys/links.csv", {})):
        r = viewer.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 403, path
    assert "csat" not in {r[0] for r in rows_of(viewer.get("/w/shop/surveys").text,
                                                 "surveys")}


@pytest.mark.parametrize("token", [None, "forged"])
def test_forms_without_the_csrf_token_are_refused(owner, token: str | None) -> None:
    survey = CUSTOM_SURVEY.replace("id: store_visit", "id: csrf_probe")
    for path, data in (("/w/shop/surveys", {"definition": survey}),
                       ("/w/shop/surveys/builtin", {"name": "csat"}),
                       ("/w/shop/surveys/links.csv", {})):
        body = data if token is None else {**data, "csrf_token": token}
        r = owner.post(path, data=body, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text, path
    html = owner.get("/w/shop/surveys").text
    assert "csrf_probe" not in html and "Add CSAT" in html
    nps = next(r for r in rows_of(html, "chart-table") if r[0] == "nps")
    assert nps[2] == "2"  # still 2 not yet sent: no links were handed out


@pytest.mark.parametrize(("bad", "line", "message", "hint"), [
    (CUSTOM_SURVEY.replace("scale: [1, 5]", "scale: [5, 1]"), 8,
     "questions[0].scale: [5, 1] is not a scale", "How to fix: write two whole numbers"),
    (CUSTOM_SURVEY.replace("type: text", "type: essay"), 11,
     "questions[1].type: 'essay' is not a question type", "How to fix: use one of rating"),
    (CUSTOM_SURVEY.replace('en: "Answer: {link}"', 'en: "Answer here"'), 16,
     "email.body.en: does not contain {link}", "How to fix: put {link} where"),
    (CUSTOM_SURVEY.replace("title: {fi: Käyntisi, en: Your visit}", "title: {fi: Käyntisi}"),
     4, "title.en: the English text is missing", "How to fix: English is the fallback"),
    (CUSTOM_SURVEY.replace("questions:\n  - id: overall", "questions:\n  - id: overall\n"
                           "   bad: [indent"), 7, "not valid YAML", "How to fix: check the"),
])
def test_a_bad_definition_comes_back_with_its_line_and_how_to_fix(
        analyst, bad: str, line: int, message: str, hint: str) -> None:
    token = csrf_of(analyst.get("/w/shop/surveys").text)
    r = analyst.post("/w/shop/surveys", data={"definition": bad, "csrf_token": token})
    assert r.status_code == 422
    m = re.search(r'<div class="error" role="alert" id="definition-error">(.*?)</div>',
                  r.text, re.S)
    assert m, r.text[-3000:]
    shown = text(m.group(1))
    assert shown.startswith(f"Line {line}: "), shown
    assert message in shown and hint in shown
    assert f"{line} | {bad.splitlines()[line - 1].strip()}" in shown
    assert 'aria-describedby="definition-error"' in r.text
    textarea = re.search(r'<textarea name="definition"[^>]*>(.*?)</textarea>', r.text, re.S)
    assert textarea and unescape(textarea.group(1)) == bad  # the text is kept to fix


def test_add_a_custom_survey_escape_it_and_edit_it(analyst, viewer) -> None:
    survey = (CUSTOM_SURVEY.replace("id: store_visit", "id: pickup")
              .replace("title: {fi: Käyntisi, en: Your visit}",
                       'title: {fi: Nouto, sv: Avhämtning, en: "<script>alert(1)</script>"}'))
    token = csrf_of(analyst.get("/w/shop/surveys").text)
    r = analyst.post("/w/shop/surveys", data={"definition": survey, "csrf_token": token},
                     follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/w/shop/surveys?saved=pickup"
    html = viewer.get("/w/shop/surveys?saved=pickup").text
    assert "Survey pickup saved." in html
    assert "saved." not in viewer.get("/w/shop/surveys?saved=Call+us+now").text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    row = next(r for r in rows_of(html, "surveys") if r[0] == "pickup")
    assert row[2:4] == ["own scale", "custom"] and "SV 1 texts shown in English" in row[4]
    edit = analyst.get("/w/shop/surveys?edit=pickup").text
    textarea = re.search(r'<textarea name="definition"[^>]*>(.*?)</textarea>', edit, re.S)
    assert textarea and unescape(textarea.group(1)) == survey
    assert "&lt;script&gt;" in textarea.group(1)
    changed = survey.replace("Nouto", "Noutopiste")
    r = analyst.post("/w/shop/surveys", data={"definition": changed, "csrf_token": token},
                     follow_redirects=False)
    assert r.status_code == 303
    fi = viewer.get("/w/shop/surveys?lang=fi").text
    assert "Noutopiste" in fi
    viewer.get("/w/shop/surveys?lang=en")


def test_add_a_built_in_survey(owner) -> None:
    html = owner.get("/w/shop/surveys").text
    assert "Add CSAT" in html and "Add eNPS" in html and "Add NPS" not in html
    token = csrf_of(html)
    r = owner.post("/w/shop/surveys/builtin", data={"name": "csat", "csrf_token": token},
                   follow_redirects=False)
    assert r.status_code == 303
    rows = {r[0]: r for r in rows_of(owner.get("/w/shop/surveys").text, "surveys")}
    assert rows["csat"][3] == "built-in" and rows["csat"][4] == "FI ✓ · SV ✓ · EN ✓"
    bad = owner.post("/w/shop/surveys/builtin", data={"name": "nope", "csrf_token": token})
    assert bad.status_code == 422 and "no built-in survey 'nope'" in unescape(bad.text)


def test_personal_links_csv_counts_them_as_sent(home: dict, analyst) -> None:
    token = csrf_of(analyst.get("/w/shop/surveys").text)
    # a forged Host header does not reach the links: they start with the configured address
    r = analyst.post("/w/shop/surveys/links.csv", data={"csrf_token": token},
                     headers={"Host": "evil.example"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "evil.example" not in r.text
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(row["email"] for row in rows) == ["gus@shop.com", "hilma@shop.fi"]
    assert {row["kind"] for row in rows} == {"invitation"}
    for row in rows:
        assert row["link"].startswith("http://127.0.0.1:8000/s/shop.")
        page = TestClient(home["app"]).get(row["link"].removeprefix("http://127.0.0.1:8000"))
        assert page.status_code == 200 and 'name="score"' in page.text
    table = rows_of(analyst.get("/w/shop/surveys").text, "chart-table")
    nps = next(r for r in table if r[0] == "nps")
    assert nps[1:4] == ["8", "0", "8"]  # none waiting now: all eight sent
    again = analyst.post("/w/shop/surveys/links.csv", data={"csrf_token": token})
    assert list(csv.reader(io.StringIO(again.text)))[1:] == []  # not handed out twice


def test_other_workspaces_stay_out_of_reach(owner) -> None:
    assert owner.get("/w/other/surveys").status_code == 404
    assert owner.get("/w/other/surveys/rates.csv").status_code == 404
    token = csrf_of(owner.get("/w/shop/surveys").text)
    for path, data in (("/w/other/surveys", {"definition": CUSTOM_SURVEY}),
                       ("/w/other/surveys/builtin", {"name": "csat"}),
                       ("/w/other/surveys/links.csv", {})):
        r = owner.post(path, data={**data, "csrf_token": token})
        assert r.status_code == 404 and "OTHER-SECRET" not in r.text and "Other Ab" not in r.text


def test_a_workspace_without_data_renders(site: Site) -> None:
    client = site.member("ann@acme.fi")
    r = client.get("/w/acme/surveys")
    assert r.status_code == 200 and "No surveys yet." in r.text and "No triggers yet." in r.text
    assert "Add NPS" in r.text
    assert client.get("/w/acme/surveys/rates.csv").status_code == 404


def test_the_public_survey_page_names_the_company_asking(viewer) -> None:
    rows = {r[0]: r for r in rows_of(viewer.get("/w/shop/surveys").text, "surveys")[1:]}
    link = rows["nps"][5].split()[0]
    page = TestClient(viewer.app).get(link)  # a respondent: nobody signed in
    assert page.status_code == 200
    assert '<p class="company">Shop Oy</p>' in page.text
    assert "Other Ab" not in page.text
