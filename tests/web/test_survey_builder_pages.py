"""The survey builder and the trigger form over HTTP on the survey home of web_helpers
(``shop``: NPS, CES and a custom survey, triggers nps-purchase → ces-after-nps, eight
invitations made today): roles, CSRF, the buttons without JavaScript, a survey saved from
the form identical to its YAML, refusals by the field in the reader's language, escaping,
limits; triggers added, changed, refused and deleted; Run now twice (nothing new the second
time); and the same triggers and run counts over the API.

Tests that change the workspace come after those that read it."""

from __future__ import annotations

import re
from html import unescape

import pytest
from web_helpers import csrf_of, survey_page_fixtures, text

from cxlens.surveys import forms
from cxlens.surveys.definitions import parse

home, owner, analyst, viewer = survey_page_fixtures("survey_builder")

VISIT_YAML = """id: visit
metric: rating
default_language: fi
title: {fi: Käynti, sv: Besök, en: Your visit}
questions:
  - id: overall
    type: rating
    scale: [1, 5]
    main: true
    text: {fi: Kokonaisarvio, sv: Helhetsbetyg, en: Overall}
    low: {fi: Huono, en: Poor}
  - id: reason
    type: choice
    options:
      - {id: price, text: {fi: Hinta, sv: Pris, en: Price}}
      - {id: range, text: {fi: Valikoima, sv: Sortiment, en: Range}}
    text: {fi: "Miksi?", sv: "Varför?", en: "Why?"}
thanks: {fi: Kiitos!, sv: Tack!, en: Thank you!}
email:
  subject: {fi: Käyntisi, sv: Ditt besök, en: Your visit}
  body: {fi: "Vastaa: {link}", sv: "Svara: {link}", en: "Answer: {link}"}
"""
VISIT_FORM = {
    "id": "visit", "metric": "rating", "default_language": "fi", "main": "0",
    "title.fi": "Käynti", "title.sv": "Besök", "title.en": "Your visit",
    "questions[0].type": "rating", "questions[0].id": "overall",
    "questions[0].scale.from": "1", "questions[0].scale.to": "5",
    "questions[0].text.fi": "Kokonaisarvio", "questions[0].text.sv": "Helhetsbetyg",
    "questions[0].text.en": "Overall", "questions[0].low.fi": "Huono",
    "questions[0].low.en": "Poor",
    "questions[1].type": "choice", "questions[1].id": "reason",
    "questions[1].text.fi": "Miksi?", "questions[1].text.sv": "Varför?",
    "questions[1].text.en": "Why?",
    "questions[1].options[0].id": "price", "questions[1].options[0].text.fi": "Hinta",
    "questions[1].options[0].text.sv": "Pris", "questions[1].options[0].text.en": "Price",
    "questions[1].options[1].id": "range", "questions[1].options[1].text.fi": "Valikoima",
    "questions[1].options[1].text.sv": "Sortiment", "questions[1].options[1].text.en": "Range",
    "thanks.fi": "Kiitos!", "thanks.sv": "Tack!", "thanks.en": "Thank you!",
    "email.subject.fi": "Käyntisi", "email.subject.sv": "Ditt besök",
    "email.subject.en": "Your visit", "email.body.fi": "Vastaa: {link}",
    "email.body.sv": "Svara: {link}", "email.body.en": "Answer: {link}",
}


def fields_of(html: str) -> dict[str, str]:
    """The values a browser would post from the builder (inputs, checked boxes, selected
    options, textareas), without the buttons."""
    out: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrf_token":
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) in ("radio", "checkbox") and " checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        out[unescape(name.group(1))] = unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        out[name] = unescape(chosen.group(1)) if chosen else ""
    for name, value in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', html,
                                  re.S):
        out[unescape(name)] = unescape(value)
    return out


def rows_of(html: str, table: str) -> list[list[str]]:
    m = re.search(rf'<table class="{table}"[^>]*>(.*?)</table>', html, re.S)
    assert m, table
    return [[text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(1), re.S)]


def field_error(html: str, key: str) -> str:
    m = re.search(rf'<span class="field-error" id="{forms_anchor(key)}-error">(.*?)</span>',
                  html, re.S)
    assert m, (key, html[html.find("builder-errors"):][:1500])
    return text(m.group(1))


def forms_anchor(key: str) -> str:
    from cxlens.web.pages.survey_builder import anchor

    return anchor(key)


def post_build(client, fields: dict[str, str], action: str = "save", lang: str = "",
               **kw):
    token = csrf_of(client.get("/w/shop/surveys/new").text)
    query = f"?lang={lang}" if lang else ""
    return client.post(f"/w/shop/surveys/build{query}",
                       data={**fields, "action": action, "csrf_token": token}, **kw)


# --- reading ---------------------------------------------------------------------------------

def test_a_viewer_sees_no_form_and_cannot_post(viewer) -> None:
    html = viewer.get("/w/shop/surveys").text
    assert "/surveys/new" not in html and 'id="trigger-form"' not in html
    assert 'id="run-now"' not in html and "/surveys/triggers/" not in html
    assert viewer.get("/w/shop/surveys/new").status_code == 403
    assert viewer.get("/w/shop/surveys/store_visit/edit").status_code == 403
    token = csrf_of(html)
    for path, data in (("/w/shop/surveys/build", VISIT_FORM),
                       ("/w/shop/surveys/triggers", {"survey": "nps", "after": "purchase",
                                                     "days": "1"}),
                       ("/w/shop/surveys/triggers/nps-purchase/delete", {}),
                       ("/w/shop/surveys/run", {"dry_run": "0"})):
        r = viewer.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 403, path
    assert [r[0] for r in rows_of(viewer.get("/w/shop/surveys").text, "triggers")[1:]] == \
        ["nps-purchase", "ces-after-nps"]


@pytest.mark.parametrize("token", [None, "forged"])
def test_every_new_form_needs_the_csrf_token(analyst, token: str | None) -> None:
    for path, data in (("/w/shop/surveys/build", VISIT_FORM),
                       ("/w/shop/surveys/triggers", {"survey": "nps", "after": "purchase",
                                                     "days": "1"}),
                       ("/w/shop/surveys/triggers/ces-after-nps/delete", {}),
                       ("/w/shop/surveys/run", {"dry_run": "0"})):
        body = data if token is None else {**data, "csrf_token": token}
        r = analyst.post(path, data=body, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text, path
    html = analyst.get("/w/shop/surveys").text
    assert [r[0] for r in rows_of(html, "triggers")[1:]] == ["nps-purchase", "ces-after-nps"]
    assert "visit" not in {r[0] for r in rows_of(html, "surveys")}


def test_the_builder_starts_with_a_score_and_a_comment(analyst) -> None:
    html = analyst.get("/w/shop/surveys/new").text
    fields = fields_of(html)
    assert fields["questions[0].id"] == "score" and fields["questions[0].type"] == "rating"
    assert fields["questions[1].type"] == "text" and fields["main"] == "0"
    assert fields["metric"] == "nps" and fields["id"] == ""
    assert 'name="csrf_token"' in html and 'name="definition"' not in html  # no YAML here
    assert html.index('value="save"') < html.index('value="remove:0"')  # Enter saves
    fi = text(analyst.get("/w/shop/surveys/new?lang=fi").text)
    assert "Uusi kysely" in fi and "Lisää monivalintakysymys" in fi and "Pääkysymys" in fi
    sv = text(analyst.get("/w/shop/surveys/new?lang=sv").text)
    assert "Ny enkät" in sv and "Lägg till en flervalsfråga" in sv
    analyst.get("/w/shop/surveys/new?lang=en")


def test_the_buttons_work_without_javascript(analyst) -> None:
    r = post_build(analyst, VISIT_FORM, "add:choice")
    assert r.status_code == 200
    fields = fields_of(r.text)
    assert fields["questions[2].type"] == "choice"
    assert "questions[2].options[1].text.en" in fields  # two empty options to fill
    assert fields["questions[0].text.fi"] == "Kokonaisarvio"  # what was typed is kept
    moved = fields_of(post_build(analyst, fields, "down:0").text)
    assert (moved["questions[0].id"], moved["questions[1].id"]) == ("reason", "overall")
    assert moved["main"] == "1"  # the main question moved with it
    fewer = fields_of(post_build(analyst, moved, "remove:2").text)
    assert "questions[2].type" not in fewer
    more = fields_of(post_build(analyst, fewer, "add_option:0").text)
    assert "questions[0].options[2].id" in more


# --- refusals --------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "key", "english", "finnish"), [
    ({"title.en": ""}, "title.en", "The English text is missing",
     "Englanninkielinen teksti puuttuu"),
    ({"email.body.sv": "Svara här"}, "email.body.sv", "The text must contain {link}",
     "Tekstissä on oltava {link}"),
    ({"questions[0].scale.from": "7"}, "questions[0].scale", "Write two whole numbers",
     "Kirjoita kaksi kokonaislukua"),
    ({"questions[1].options[1].id": "price"}, "questions[1].options", "Two options have the "
     "same id", "Kahdella vaihtoehdolla on sama tunnus"),
    ({"id": "Visit!"}, "id", "Use 1–40 lower-case letters", "Käytä 1–40 pientä kirjainta"),
    ({"id": "store_visit"}, "id", "A survey with this id exists",
     "Tällä tunnuksella on jo kysely"),
    ({"id": "nps"}, "id", "Built-in surveys cannot be edited", "Valmiita kyselyjä ei voi"),
    ({"title.fi": "x" * (forms.MAX_SHORT + 1)}, "title.fi", "At most 300 characters",
     "Enintään 300 merkkiä"),
])
def test_a_refusal_is_shown_by_its_field_in_the_readers_language(
        analyst, change: dict[str, str], key: str, english: str, finnish: str) -> None:
    r = post_build(analyst, {**VISIT_FORM, **change})
    assert r.status_code == 422
    assert field_error(r.text, key).startswith(english)
    assert 'id="builder-errors"' in r.text and "Traceback" not in r.text
    assert "Line " not in text(r.text)  # no YAML line number
    assert f'href="#{forms_anchor(key)}"' in r.text  # the list at the top links to it
    assert fields_of(r.text) == {**fields_of(post_build(analyst, VISIT_FORM, "x").text),
                                 **change}  # the form comes back as typed
    fi = post_build(analyst, {**VISIT_FORM, **change}, lang="fi")
    analyst.get("/w/shop/surveys?lang=en")  # the cookie remembers the language
    assert field_error(fi.text, key).startswith(finnish)


def test_what_people_typed_is_escaped(analyst) -> None:
    evil = "<script>alert(1)</script>"
    r = post_build(analyst, {**VISIT_FORM, "title.en": "", "title.sv": evil,
                             "questions[0].text.fi": '"><img src=x onerror=alert(1)>'})
    assert r.status_code == 422
    assert evil not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<img src=x" not in r.text
    bad = post_build(analyst, VISIT_FORM, f"remove:0{evil}")  # an unknown action: unchanged
    assert bad.status_code == 200 and evil not in bad.text


# --- saving and editing -----------------------------------------------------------------------

def test_a_survey_from_the_form_is_the_survey_of_its_yaml(analyst, viewer) -> None:
    r = post_build(analyst, VISIT_FORM, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/w/shop/surveys?saved=visit"
    html = viewer.get("/w/shop/surveys?saved=visit").text
    assert "Survey visit saved." in html
    row = next(r for r in rows_of(html, "surveys") if r[0] == "visit")
    assert row[1:4] == ["Your visit", "rating", "custom"]
    assert "SV 1 texts shown in English" in row[4]  # the missing Swedish label, as before
    stored = analyst.get("/w/shop/surveys?edit=visit").text  # the YAML under "Advanced"
    textarea = re.search(r'<textarea name="definition"[^>]*>(.*?)</textarea>', stored, re.S)
    assert textarea
    assert parse(unescape(textarea.group(1)))[0] == parse(VISIT_YAML)[0]
    assert '<details class="card" id="add" open>' in stored


def test_edit_a_custom_survey_in_the_same_form(analyst, viewer) -> None:
    html = analyst.get("/w/shop/surveys").text
    assert 'href="/w/shop/surveys/visit/edit"' in html
    assert 'href="/w/shop/surveys/nps/edit"' not in html  # built-ins are read-only
    assert analyst.get("/w/shop/surveys/nps/edit").status_code == 409
    assert analyst.get("/w/shop/surveys/nope/edit").status_code == 404
    form = analyst.get("/w/shop/surveys/visit/edit").text
    assert re.search(r'<input name="id"[^>]*readonly', form)
    fields = fields_of(form)
    assert fields["original"] == "visit" and fields["questions[1].options[1].text.sv"] == \
        "Sortiment"
    fields["title.fi"] = "Myymäläkäynti"
    r = post_build(analyst, fields, follow_redirects=False)
    assert r.status_code == 303
    assert "Myymäläkäynti" in viewer.get("/w/shop/surveys?lang=fi").text
    viewer.get("/w/shop/surveys?lang=en")


# --- triggers ----------------------------------------------------------------------------------

def trigger_form(client, **values: str) -> dict[str, str]:
    html = client.get("/w/shop/surveys").text
    return {"csrf_token": csrf_of(html), "original": "", "id": "", "survey": "visit",
            "after": "first_purchase", "days": "7", "quiet_days": "30", "reminder_days": "",
            "expire_days": "30", "catch_up_days": "3", "touchpoint": "", **values}


def test_add_change_and_refuse_triggers(analyst, viewer) -> None:
    html = analyst.get("/w/shop/surveys").text
    form = html[html.index('id="trigger-form"'):html.index('id="run"')]
    assert '<option value="purchase"' in form and '<option value="step:ces-after-nps"' in form
    assert '<option value="visit"' in form
    r = analyst.post("/w/shop/surveys/triggers", data=trigger_form(analyst, touchpoint="store"),
                     follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == \
        "/w/shop/surveys?trigger_saved=visit-first_purchase#triggers"
    rows = rows_of(viewer.get("/w/shop/surveys").text, "triggers")
    assert rows[3] == ["visit-first_purchase", "visit", "the first purchase", "7", "30", "–",
                       "30", "3", "store"]
    edit = analyst.get("/w/shop/surveys?trigger=visit-first_purchase").text
    assert "Change the trigger visit-first_purchase" in edit
    assert re.search(r'<input name="id" value="visit-first_purchase"[^>]*readonly', edit)
    assert '<option value="step:visit-first_purchase"' not in edit  # not after itself
    data = trigger_form(analyst, original="visit-first_purchase", id="visit-first_purchase",
                        days="14", reminder_days="3")
    assert analyst.post("/w/shop/surveys/triggers", data=data,
                        follow_redirects=False).status_code == 303
    rows = rows_of(viewer.get("/w/shop/surveys").text, "triggers")
    assert rows[3][3:6] == ["14", "30", "3"]
    for values, field, shown in (
            ({"days": "seven"}, "days", "Write a whole number from 0 to 3650."),
            ({"reminder_days": "0"}, "reminder_days", "Write a whole number from 1 to 3650."),
            ({"id": "nps-purchase"}, "id", "This id is already used here"),
            ({"after": "lunch"}, "after", "Choose the event after which"),
            ({"survey": "gone"}, "survey", "Choose a survey of this workspace."),
            ({"touchpoint": "<b>" + "x" * 120}, "touchpoint", "At most 100 characters.")):
        r = analyst.post("/w/shop/surveys/triggers", data=trigger_form(analyst, **values))
        assert r.status_code == 422, values
        m = re.search(rf'<span class="field-error" id="trigger-{field}-error">(.*?)</span>',
                      r.text)
        assert m and text(m.group(1)).startswith(shown), (values, r.text[-2000:])
        assert "<b>xxx" not in r.text
    fi = analyst.post("/w/shop/surveys/triggers?lang=fi",
                      data=trigger_form(analyst, days="seven"))
    assert "Kirjoita kokonaisluku väliltä 0–3650." in text(fi.text)
    analyst.get("/w/shop/surveys?lang=en")
    assert len(rows_of(viewer.get("/w/shop/surveys").text, "triggers")) == 4  # none stored


def test_run_now_twice_makes_nothing_new_the_second_time(analyst) -> None:
    token = csrf_of(analyst.get("/w/shop/surveys").text)
    preview = analyst.post("/w/shop/surveys/run", data={"dry_run": "1", "csrf_token": token})
    assert preview.status_code == 200
    assert "Preview for 2026-11-28: 0 invitations would be made." in text(preview.text)
    r = analyst.post("/w/shop/surveys/run", data={"dry_run": "0", "csrf_token": token})
    assert r.status_code == 200
    shown = text(r.text)
    assert "Invitations made for 2026-11-28: 0." in shown
    assert 'id="nothing-new"' in r.text and "A run is safe to repeat." in shown
    rows = {row[0]: row[1:] for row in rows_of(r.text, "run-result")[1:]}
    # the eight buyers were invited this morning: the NPS step has them already, and the
    # new first-purchase step is in their quiet period
    assert rows["nps-purchase"] == ["8", "0", "8", "0", "0"]
    assert rows["ces-after-nps"] == ["0", "0", "0", "0", "0"]
    fi = text(analyst.post("/w/shop/surveys/run?lang=fi",
                           data={"dry_run": "0", "csrf_token": token}).text)
    assert "Ei mitään uutta" in fi and "kutsuttu jo aiemmin" in fi
    analyst.get("/w/shop/surveys?lang=en")


def test_the_api_gives_the_same_triggers_and_run(analyst, home) -> None:
    listed = analyst.get("/api/w/shop/surveys/triggers").json()
    assert [t["id"] for t in listed["triggers"]] == ["nps-purchase", "ces-after-nps",
                                                     "visit-first_purchase"]
    assert listed["triggers"][2]["days"] == 14
    token = csrf_of(analyst.get("/w/shop/surveys").text)
    run = analyst.post("/api/w/shop/surveys/run", json={"dry_run": True},
                       headers={"X-CSRF-Token": token}).json()
    assert run["skipped"]["nps-purchase"] == {"due": 8, "already": 8, "quiet": 0,
                                              "opted_out": 0}
    bad = analyst.put("/api/w/shop/surveys/triggers/t2", headers={"X-CSRF-Token": token},
                      json={"survey": "nps", "after": "purchase", "days": 5000})
    assert bad.status_code == 400 and bad.json()["key"] == "triggers[3].days"
    assert bad.json()["code"] == "days"
    defs = analyst.get("/api/w/shop/surveys/definitions").json()["surveys"]
    assert {d["id"]: d["builtin"] for d in defs} == {"ces": True, "nps": True,
                                                     "store_visit": False, "visit": False}


def test_delete_a_trigger_but_not_the_start_of_a_chain(analyst, viewer) -> None:
    token = csrf_of(analyst.get("/w/shop/surveys").text)
    html = analyst.get("/w/shop/surveys").text
    assert 'data-confirm="Delete the trigger nps-purchase? The invitations it made stay."' \
        in html
    r = analyst.post("/w/shop/surveys/triggers/nps-purchase/delete",
                     data={"csrf_token": token})
    assert r.status_code == 409
    assert "The chain step ces-after-nps follows this trigger" in text(r.text)
    r = analyst.post("/w/shop/surveys/triggers/visit-first_purchase/delete",
                     data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    html = viewer.get("/w/shop/surveys?trigger_deleted=visit-first_purchase").text
    assert "Trigger visit-first_purchase deleted." in html
    assert [r[0] for r in rows_of(html, "triggers")[1:]] == ["nps-purchase", "ces-after-nps"]
    assert analyst.post("/w/shop/surveys/triggers/nope/delete",
                        data={"csrf_token": token}).status_code == 404


def test_other_workspaces_stay_out_of_reach(owner) -> None:
    token = csrf_of(owner.get("/w/shop/surveys").text)
    assert owner.get("/w/other/surveys/new").status_code == 404
    for path, data in (("/w/other/surveys/build", VISIT_FORM),
                       ("/w/other/surveys/triggers", {"survey": "nps", "after": "purchase",
                                                      "days": "1"}),
                       ("/w/other/surveys/triggers/nps-purchase/delete", {}),
                       ("/w/other/surveys/run", {})):
        r = owner.post(path, data={**data, "csrf_token": token})
        assert r.status_code == 404 and "OTHER-SECRET" not in r.text, path
    assert owner.get("/api/w/other/surveys/triggers").status_code == 404
