"""The survey builder's form → definition mapping: a survey built from form fields is the
survey the same YAML gives (and is stored the same), the buttons move questions without
JavaScript, and refusals name the field; the trigger form's mapping."""

from __future__ import annotations

from typing import Any

import pytest
from survey_data import NOW, builtin_source

from cxlens.surveys import definitions, forms, store
from cxlens.surveys.definitions import DefinitionError, parse
from cxlens.surveys.forms import FieldProblem

VISIT_YAML = """
id: store_visit
metric: rating
default_language: sv
title: {fi: Käynti, sv: Besök, en: Visit}
questions:
  - id: overall
    type: rating
    scale: [1, 5]
    text: {fi: Kokonaisarvio, sv: Helhetsbetyg, en: Overall}
    low: {fi: Huono, en: Poor}
    high: {fi: Erinomainen, sv: Utmärkt, en: Excellent}
  - id: reason
    type: choice
    required: true
    options:
      - {id: price, text: {fi: Hinta, sv: Pris, en: Price}}
      - {id: range, text: {fi: Valikoima, sv: Sortiment, en: Range}}
    text: {fi: "Miksi?", sv: "Varför?", en: "Why?"}
  - id: comment
    type: text
    text: {fi: Kommentti, sv: Kommentar, en: Comment}
thanks: {fi: Kiitos, sv: Tack, en: Thanks}
email:
  subject: {fi: Kysely, sv: Enkät, en: Survey}
  body: {fi: "Vastaa {link}", sv: "Svara {link}", en: "Answer {link}"}
"""

# The same survey as the browser posts it from the builder (empty fields included).
VISIT_FORM: dict[str, str] = {
    "id": "store_visit", "metric": "rating", "default_language": "sv", "main": "0",
    "title.fi": "Käynti", "title.sv": "Besök", "title.en": "Visit",
    "intro.fi": "", "intro.sv": "", "intro.en": "",
    "questions[0].id": "overall", "questions[0].type": "rating",
    "questions[0].scale.from": "1", "questions[0].scale.to": "5",
    "questions[0].text.fi": "Kokonaisarvio", "questions[0].text.sv": "Helhetsbetyg",
    "questions[0].text.en": "Overall",
    "questions[0].low.fi": "Huono", "questions[0].low.sv": "", "questions[0].low.en": "Poor",
    "questions[0].high.fi": "Erinomainen", "questions[0].high.sv": "Utmärkt",
    "questions[0].high.en": "Excellent",
    "questions[1].id": "reason", "questions[1].type": "choice", "questions[1].required": "1",
    "questions[1].text.fi": "Miksi?", "questions[1].text.sv": "Varför?",
    "questions[1].text.en": "Why?",
    "questions[1].options[0].id": "price", "questions[1].options[0].text.fi": "Hinta",
    "questions[1].options[0].text.sv": "Pris", "questions[1].options[0].text.en": "Price",
    "questions[1].options[1].id": "range", "questions[1].options[1].text.fi": "Valikoima",
    "questions[1].options[1].text.sv": "Sortiment", "questions[1].options[1].text.en": "Range",
    "questions[2].id": "comment", "questions[2].type": "text",
    "questions[2].text.fi": "Kommentti", "questions[2].text.sv": "Kommentar",
    "questions[2].text.en": "Comment",
    "thanks.fi": "Kiitos", "thanks.sv": "Tack", "thanks.en": "Thanks",
    "email.subject.fi": "Kysely", "email.subject.sv": "Enkät", "email.subject.en": "Survey",
    "email.body.fi": "Vastaa {link}", "email.body.sv": "Svara {link}",
    "email.body.en": "Answer {link}",
}


def fields_of(draft: forms.SurveyDraft) -> dict[str, str]:
    """The fields the builder page renders for a draft (what the browser sends back)."""
    out = {"id": draft.id, "metric": draft.metric, "default_language": draft.default_language,
           "original": draft.original, "main": "" if draft.main is None else str(draft.main)}
    for key, texts in draft.texts.items():
        out |= {f"{key}.{lang}": v for lang, v in texts.items()}
    for i, q in enumerate(draft.questions):
        k = f"questions[{i}]"
        out |= {f"{k}.id": q.id, f"{k}.type": q.type, f"{k}.scale.from": q.scale_from,
                f"{k}.scale.to": q.scale_to}
        if q.required:
            out[f"{k}.required"] = "1"
        for part in ("text", "low", "high"):
            out |= {f"{k}.{part}.{lang}": v for lang, v in getattr(q, part).items()}
        for j, o in enumerate(q.options):
            out[f"{k}.options[{j}].id"] = o.id
            out |= {f"{k}.options[{j}].text.{lang}": v for lang, v in o.text.items()}
    return out


def built(fields: dict[str, str]) -> tuple[str, definitions.Survey, list[str]]:
    draft, problems = forms.read_form(fields)
    assert problems == []
    return forms.build(draft)


def test_the_form_gives_the_survey_the_yaml_gives() -> None:
    source, survey, warnings = built(VISIT_FORM)
    expected, expected_warnings = parse(VISIT_YAML)
    assert survey == expected
    assert warnings == expected_warnings == ["questions[0].low: no 'sv' text; English is "
                                             "shown instead"]
    assert parse(source)[0] == expected  # the YAML stored reads back the same


def test_stored_from_the_form_and_from_yaml_alike(con) -> None:
    source, _, _ = built(VISIT_FORM)
    from_form = store.save_survey(con, source, now=NOW)
    from_yaml = store.save_survey(con, VISIT_YAML, now=NOW)  # replaces it, same id
    assert from_form.survey == from_yaml.survey and from_form.warnings == from_yaml.warnings
    assert from_form.public_id == from_yaml.public_id  # the public link is kept
    stored = store.get_survey(con, "store_visit")
    assert stored is not None and stored.survey == from_form.survey


@pytest.mark.parametrize("name", definitions.BUILTIN)
def test_a_stored_survey_fills_the_form_and_comes_back_unchanged(name: str) -> None:
    survey = parse(builtin_source(name))[0]
    draft = forms.from_survey(survey)
    assert draft.original == name and draft.main == 0
    assert built(fields_of(draft))[1] == survey


def test_the_visit_survey_round_trips_through_the_form() -> None:
    survey = parse(VISIT_YAML)[0]
    again = built(fields_of(forms.from_survey(survey)))[1]
    assert again == survey


def test_empty_ids_are_made_from_the_english_text() -> None:
    fields = {**VISIT_FORM, "questions[1].id": "", "questions[1].options[1].id": "",
              "questions[1].text.en": "Why this score?"}
    survey = built(fields)[1]
    assert survey.questions[1].id == "why_this_score"
    assert survey.questions[1].option_ids() == ("price", "range")
    assert forms.slug("Miksi tämä arvosana?", "q1") == "miksi_tama_arvosana"
    assert forms.slug("???", "q3") == "q3"


def test_the_buttons_add_remove_and_move_questions() -> None:
    draft, _ = forms.read_form(VISIT_FORM)
    ids = [q.id for q in draft.questions]
    assert ids == ["overall", "reason", "comment"] and draft.main == 0
    moved = forms.apply(draft, "down:0")
    assert [q.id for q in moved.questions] == ["reason", "overall", "comment"]
    assert moved.main == 1  # the main question moved with it
    assert [q.id for q in forms.apply(moved, "up:1").questions] == ids
    assert forms.apply(draft, "up:0") is draft  # nothing above the first
    fewer = forms.apply(draft, "remove:1")
    assert [q.id for q in fewer.questions] == ["overall", "comment"] and fewer.main == 0
    assert forms.apply(draft, "remove:0").main is None
    more = forms.apply(draft, "add:choice")
    assert more.questions[-1].type == "choice" and len(more.questions[-1].options) == 2
    assert forms.apply(draft, "add:essay") == draft
    assert len(forms.apply(draft, "add_option:1").questions[1].options) == 3
    assert [o.id for o in forms.apply(draft, "remove_option:1:0").questions[1].options] == \
        ["range"]
    assert forms.apply(draft, "add_option:0") == draft  # a rating has no options
    assert forms.apply(draft, "remove:99") is draft and forms.apply(draft, "x") is draft
    assert len(draft.questions) == 3  # the draft itself is never changed


def test_limits_on_lengths_and_counts() -> None:
    fields = {**VISIT_FORM, "title.en": "x" * (forms.MAX_SHORT + 1),
              "email.body.en": "{link} " + "y" * forms.MAX_SHORT}
    _, problems = forms.read_form(fields)
    assert problems == [FieldProblem("title.en", "too_long", {"max": forms.MAX_SHORT})]
    many = dict(VISIT_FORM)
    for i in range(3, forms.MAX_QUESTIONS + 2):
        many[f"questions[{i}].type"] = "text"
    draft, problems = forms.read_form(many)
    assert len(draft.questions) == forms.MAX_QUESTIONS
    assert problems == [FieldProblem("questions", "too_many", {"max": forms.MAX_QUESTIONS})]
    full = draft
    assert len(forms.apply(full, "add:text").questions) == forms.MAX_QUESTIONS


@pytest.mark.parametrize(("change", "key", "code", "params"), [
    ({"title.en": " "}, "title.en", "missing_en", {}),
    ({"email.body.fi": "Vastaa tästä"}, "email.body.fi", "no_link", {}),
    ({"questions[0].scale.from": "a"}, "questions[0].scale", "scale", {}),
    ({"questions[0].scale.from": "5", "questions[0].scale.to": "1"}, "questions[0].scale",
     "scale", {}),
    ({"metric": "csat", "questions[0].scale.to": "7"}, "questions[0].scale", "metric_scale",
     {"metric": "csat", "low": 1, "high": 5}),
    ({"questions[1].options[1].text.en": "", "questions[1].options[1].text.fi": "",
      "questions[1].options[1].text.sv": ""}, "questions[1].options[1].text.en",
     "missing_en", {}),
    ({"questions[2].id": "overall"}, "questions[2].id", "id_twice", {}),
    ({"id": "Store visit"}, "id", "id", {}),
    ({"main": "2"}, "questions[2].main", "main_not_rating", {}),
])
def test_a_refusal_names_the_field(change: dict[str, str], key: str, code: str,
                                   params: dict[str, Any]) -> None:
    with pytest.raises(DefinitionError) as caught:
        built({**VISIT_FORM, **change})
    assert (caught.value.key, caught.value.code, caught.value.params) == (key, code, params)


def test_a_choice_with_one_option_and_a_survey_without_a_rating() -> None:
    draft, _ = forms.read_form(VISIT_FORM)
    with pytest.raises(DefinitionError) as caught:
        forms.build(forms.apply(draft, "remove_option:1:1"))
    assert (caught.value.key, caught.value.code) == ("questions[1].options", "options")
    with pytest.raises(DefinitionError) as caught:
        forms.build(forms.apply(draft, "remove:0"))
    assert (caught.value.key, caught.value.code) == ("questions", "no_rating")


def test_the_trigger_form_gives_the_mapping_of_a_triggers_file() -> None:
    fields = {"id": "", "survey": "nps", "after": "event:page_view", "days": "7",
              "quiet_days": "90", "reminder_days": "", "expire_days": "30",
              "catch_up_days": "", "touchpoint": " web "}
    item = forms.trigger_item(fields, taken={"nps-event-page_view"})
    assert item == {"id": "nps-event-page_view_2", "survey": "nps", "after": "event:page_view",
                    "days": 7, "quiet_days": 90, "expire_days": 30, "touchpoint": "web"}
    bad = forms.trigger_item({**fields, "id": "t1", "days": "seven", "quiet_days": "1.5"},
                             taken=set())
    assert bad["days"] == "seven" and bad["quiet_days"] == "1.5"  # the check names them
    assert forms.trigger_item({**fields, "days": ""}, set())["days"] is None
