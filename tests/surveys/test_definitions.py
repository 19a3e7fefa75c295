"""Survey definitions: the built-ins are valid; bad ones fail with the key path; a missing
translation falls back to English and warns the owner."""

from __future__ import annotations

import pytest
from survey_data import NOW, builtin_source

from cxlens.errors import UserError
from cxlens.surveys import definitions
from cxlens.surveys.definitions import DefinitionError, parse, text

CUSTOM = """
id: store_visit
metric: rating
default_language: sv
title: {fi: Käynti, sv: Besök, en: Visit}
questions:
  - id: overall
    type: rating
    scale: [1, 5]
    text: {fi: Kokonaisarvio, sv: Helhetsbetyg, en: Overall}
  - id: staff
    type: rating
    scale: [1, 5]
    text: {fi: Henkilökunta, sv: Personal, en: Staff}
  - id: reason
    type: choice
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


@pytest.mark.parametrize("name", definitions.BUILTIN)
def test_builtin_surveys_are_complete_in_three_languages(name: str) -> None:
    survey, warnings = parse(builtin_source(name), name)
    assert warnings == []
    assert survey.id == name and survey.metric == name
    assert survey.main.scale == {"nps": (0, 10), "enps": (0, 10), "csat": (1, 5),
                                 "ces": (1, 7)}[name]
    for lang in ("fi", "sv", "en"):
        assert text(survey.main.text, lang) and "{link}" in text(survey.email_body, lang)


def test_custom_survey_with_rating_choice_and_text() -> None:
    survey, warnings = parse(CUSTOM, "visit.yml")
    assert warnings == []
    assert survey.main.id == "overall"  # the first rating question
    assert [q.type for q in survey.questions] == ["rating", "rating", "choice", "text"]
    assert survey.questions[2].option_ids() == ("price", "range")
    assert survey.comment is not None and survey.comment.id == "comment"


@pytest.mark.parametrize(("change", "key"), [
    (("scale: [1, 5]\n    text: {fi: Kokonaisarvio", "scale: [5, 1]\n    text: {fi: Kokonaisarvio"),
     "questions[0].scale"),
    (("type: choice", "type: dropdown"), "questions[2].type"),
    (("metric: rating", "metric: happiness"), "metric"),
    (('en: "Answer {link}"', 'en: "Answer here"'), "email.body.en"),
    (("{fi: Henkilökunta, sv: Personal, en: Staff}", "{fi: Henkilökunta, sv: Personal}"),
     "questions[1].text.en"),
    (("- {id: range, text: {fi: Valikoima, sv: Sortiment, en: Range}}", ""),
     "questions[2].options"),
    (("id: staff", "id: overall"), "questions[1].id"),
    (("default_language: sv", "default_language: de"), "default_language"),
])
def test_invalid_definitions_name_the_file_and_key_path(change: tuple[str, str],
                                                         key: str) -> None:
    source = CUSTOM.replace(*change)
    assert source != CUSTOM
    with pytest.raises(DefinitionError) as info:
        parse(source, "visit.yml")
    assert info.value.key == key
    assert info.value.file == "visit.yml"
    assert str(info.value).startswith(f"visit.yml: {key}: ")
    assert info.value.hint


def test_nps_on_a_wrong_scale_is_refused() -> None:
    source = builtin_source("nps").replace("scale: [0, 10]", "scale: [1, 10]")
    with pytest.raises(DefinitionError, match=r"questions\[0\].scale: nps is measured on 0–10"):
        parse(source, "nps.yml")


def test_not_yaml_names_the_line() -> None:
    with pytest.raises(UserError) as info:
        parse("id: x\nquestions: [\n  - a: b\n", "bad.yml")
    assert info.value.file == "bad.yml" and info.value.line is not None


def test_missing_translation_falls_back_to_english_and_warns() -> None:
    source = CUSTOM.replace("{fi: Henkilökunta, sv: Personal, en: Staff}",
                            "{fi: Henkilökunta, en: Staff}")
    survey, warnings = parse(source, "visit.yml")
    assert warnings == ["questions[1].text: no 'sv' text; English is shown instead"]
    assert text(survey.questions[1].text, "sv") == "Staff"
    assert text(survey.questions[1].text, "fi") == "Henkilökunta"


def test_stored_definition_keeps_its_warnings_and_public_id(con) -> None:
    from cxlens.surveys import store

    source = CUSTOM.replace('sv: "Varför?", ', "")
    first = store.save_survey(con, source, "visit.yml", now=NOW)
    assert first.warnings == ["questions[2].text: no 'sv' text; English is shown instead"]
    again = store.save_survey(con, CUSTOM, "visit.yml", now=NOW)
    assert again.public_id == first.public_id and again.warnings == []
    assert store.get_survey(con, "store_visit").survey.main.id == "overall"


def test_missing_texts_per_language_match_the_warnings() -> None:
    source = CUSTOM.replace("title: {fi: Käynti, sv: Besök, en: Visit}", "title: Visit")
    survey, warnings = parse(source)
    missing = definitions.missing_texts(survey)
    assert missing["en"] == []
    assert missing["fi"] == missing["sv"] == ["title"]
    assert warnings == ["title: no 'fi' text; English is shown instead",
                        "title: no 'sv' text; English is shown instead"]
    assert definitions.missing_texts(definitions.builtin("nps")) == {"fi": [], "sv": [],
                                                                      "en": []}


def test_built_in_only_when_word_for_word() -> None:
    assert definitions.is_builtin(definitions.builtin("ces"))
    edited, _ = parse(builtin_source("ces").replace("Kiitos", "Kiitos paljon"))
    assert edited.id == "ces" and not definitions.is_builtin(edited)
    assert not definitions.is_builtin(parse(CUSTOM)[0])


@pytest.mark.parametrize(("key", "line"), [
    ("id", 2), ("questions[1].scale", 13), ("questions[2].options[1].text.sv", 19),
    ("questions[0].nothing", 7), ("intro", 2), ("questions[9]", 6), ("", 2),
])
def test_line_of_a_key_path(key: str, line: int) -> None:
    """The line of the key (or of its nearest parent that exists) in the YAML text."""
    assert definitions.line_of(CUSTOM, key) == line
    assert definitions.line_of("a: [unclosed", "a") is None
