"""Surveys and triggers from the flat fields of an HTML form: the builder that needs no YAML.

A CX lead fills in titles, questions and e-mail texts on the Surveys page; the browser sends
flat fields named after the definition's key paths (``title.fi``,
``questions[1].options[0].text.sv``, ``questions[0].scale.from``). :func:`read_form` turns
them into a :class:`SurveyDraft` (the form as typed, strings kept so that a refused form
comes back as it was), :func:`apply` performs the form's buttons (add, remove and move
questions and options) without JavaScript, and :func:`build` makes the same definition a
YAML file would hold and checks it with :func:`cxlens.surveys.definitions.parse` — so a
survey built in the form and one written in YAML are stored identically, and both are
refused for the same reasons. An error's key path is the name of the field that caused it.

:func:`from_survey` fills the form from a stored survey (to edit it), and
:func:`trigger_item` reads the trigger form into the mapping :func:`triggers.check` takes.

No web imports: the functions work on any ``Mapping[str, str]``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from cxlens.surveys.definitions import (
    FALLBACK,
    ID,
    LANGS,
    QUESTION_TYPES,
    Survey,
    Text,
    parse,
)

MAX_QUESTIONS = 15  # a survey people finish is short; also keeps a form under 1,000 fields
MAX_OPTIONS = 12
MAX_SHORT = 300  # characters of a title, question, option, label or subject
MAX_LONG = 3000  # characters of an intro, thank-you text or e-mail body
METRICS = ("nps", "csat", "ces", "enps", "rating")  # rating: no standard metric
LONG_TEXTS = ("intro", "thanks", "email.body")
SURVEY_TEXTS = ("title", "intro", "thanks", "email.subject", "email.body")

_Q = re.compile(r"^questions\[(\d{1,3})\]\.(.+)$")
_O = re.compile(r"^options\[(\d{1,3})\]\.(.+)$")


@dataclass(frozen=True)
class FieldProblem:
    """A field the form cannot use before the definition is even checked: ``key`` is its
    name, ``code`` the kind (``too_long``, ``too_many``) and ``params`` its values."""

    key: str
    code: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class OptionDraft:
    id: str = ""
    text: dict[str, str] = field(default_factory=dict)


@dataclass
class QuestionDraft:
    id: str = ""
    type: str = "rating"
    text: dict[str, str] = field(default_factory=dict)
    scale_from: str = ""  # empty on the main question: the metric's scale
    scale_to: str = ""
    low: dict[str, str] = field(default_factory=dict)
    high: dict[str, str] = field(default_factory=dict)
    required: bool = False
    options: list[OptionDraft] = field(default_factory=list)


@dataclass
class SurveyDraft:
    """The builder form as typed. ``texts`` holds the survey's own texts by key path
    (``title``, ``email.body`` …) and language; ``main`` is the index of the main
    question; ``original`` the id of the survey being edited ("" for a new one)."""

    id: str = ""
    metric: str = "nps"
    default_language: str = "fi"
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    questions: list[QuestionDraft] = field(default_factory=list)
    main: int | None = 0
    original: str = ""

    def text(self, key: str, lang: str) -> str:
        return self.texts.get(key, {}).get(lang, "")


def new_draft() -> SurveyDraft:
    """A blank form: an NPS question (the main one, on the metric's scale) and a comment."""
    return SurveyDraft(questions=[QuestionDraft(id="score", type="rating"),
                                  QuestionDraft(id="comment", type="text")])


# ------------------------------------------------------------------------ reading the form

def _texts(fields: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {lang: str(fields.get(f"{prefix}.{lang}", "")) for lang in LANGS}


def read_form(fields: Mapping[str, str]) -> tuple[SurveyDraft, list[FieldProblem]]:
    """The draft the fields describe (questions and options in the order of their
    numbers, renumbered from 0) and the fields that are too long or too many."""
    problems: list[FieldProblem] = []
    draft = SurveyDraft(
        id=str(fields.get("id", "")).strip(), metric=str(fields.get("metric", "")),
        default_language=str(fields.get("default_language", "")),
        texts={k: _texts(fields, k) for k in SURVEY_TEXTS},
        original=str(fields.get("original", "")).strip())
    by_q: dict[int, dict[str, str]] = {}
    for name, value in fields.items():
        m = _Q.match(name)
        if m:
            by_q.setdefault(int(m.group(1)), {})[m.group(2)] = str(value)
    numbers = sorted(by_q)
    if len(numbers) > MAX_QUESTIONS:
        problems.append(FieldProblem("questions", "too_many", {"max": MAX_QUESTIONS}))
        numbers = numbers[:MAX_QUESTIONS]
    main = str(fields.get("main", ""))
    draft.main = None
    for i, n in enumerate(numbers):
        draft.questions.append(_read_question(by_q[n], f"questions[{i}]", problems))
        if main == str(n):
            draft.main = i
    for key, value in _all_texts(draft):
        limit = MAX_LONG if key.rsplit(".", 1)[0] in LONG_TEXTS else MAX_SHORT
        if len(value) > limit:
            problems.append(FieldProblem(key, "too_long", {"max": limit}))
    return draft, problems


def _read_question(f: dict[str, str], key: str, problems: list[FieldProblem]) -> QuestionDraft:
    q = QuestionDraft(
        id=f.get("id", "").strip(), type=f.get("type", "rating"),
        text={lang: f.get(f"text.{lang}", "") for lang in LANGS},
        scale_from=f.get("scale.from", "").strip(), scale_to=f.get("scale.to", "").strip(),
        low={lang: f.get(f"low.{lang}", "") for lang in LANGS},
        high={lang: f.get(f"high.{lang}", "") for lang in LANGS},
        required=f.get("required", "") in ("1", "on", "true"))
    by_o: dict[int, dict[str, str]] = {}
    for name, value in f.items():
        m = _O.match(name)
        if m:
            by_o.setdefault(int(m.group(1)), {})[m.group(2)] = value
    numbers = sorted(by_o)
    if len(numbers) > MAX_OPTIONS:
        problems.append(FieldProblem(f"{key}.options", "too_many", {"max": MAX_OPTIONS}))
        numbers = numbers[:MAX_OPTIONS]
    q.options = [OptionDraft(by_o[n].get("id", "").strip(),
                             {lang: by_o[n].get(f"text.{lang}", "") for lang in LANGS})
                 for n in numbers]
    return q


def _all_texts(draft: SurveyDraft) -> list[tuple[str, str]]:
    """Every text of the draft as (field name, value)."""
    out = [(f"{k}.{lang}", v) for k, t in draft.texts.items() for lang, v in t.items()]
    for i, q in enumerate(draft.questions):
        for part in ("text", "low", "high"):
            out += [(f"questions[{i}].{part}.{lang}", v)
                    for lang, v in getattr(q, part).items()]
        for j, o in enumerate(q.options):
            out += [(f"questions[{i}].options[{j}].text.{lang}", v) for lang, v in o.text.items()]
    return out


# ----------------------------------------------------------------------------- the buttons

_ACTION = re.compile(r"^(add|remove|up|down|add_option|remove_option):([a-z0-9:]{1,20})$")


def apply(draft: SurveyDraft, action: str) -> SurveyDraft:
    """Perform a button of the form on the draft (a new draft; an unknown or impossible
    action changes nothing): ``add:<type>``, ``remove:<i>``, ``up:<i>``, ``down:<i>``,
    ``add_option:<i>``, ``remove_option:<i>:<j>``. The main question follows its move."""
    m = _ACTION.match(action)
    if not m:
        return draft
    verb, arg = m.groups()
    qs = [replace(q, options=list(q.options)) for q in draft.questions]
    main = draft.main
    if verb == "add":
        if arg in QUESTION_TYPES and len(qs) < MAX_QUESTIONS:
            q = QuestionDraft(type=arg)
            if arg == "rating":
                q.scale_from, q.scale_to = "1", "5"
            if arg == "choice":
                q.options = [OptionDraft(), OptionDraft()]
            qs.append(q)
        return replace(draft, questions=qs)
    parts = [int(p) for p in arg.split(":") if p.isdigit()]
    if not parts or not 0 <= parts[0] < len(qs):
        return draft
    i = parts[0]
    if verb == "remove":
        del qs[i]
        main = None if main == i else (main - 1 if main is not None and main > i else main)
    elif verb in ("up", "down"):
        j = i - 1 if verb == "up" else i + 1
        if not 0 <= j < len(qs):
            return draft
        qs[i], qs[j] = qs[j], qs[i]
        main = j if main == i else (i if main == j else main)
    elif verb == "add_option":
        if qs[i].type == "choice" and len(qs[i].options) < MAX_OPTIONS:
            qs[i].options.append(OptionDraft())
    elif verb == "remove_option" and len(parts) == 2 and 0 <= parts[1] < len(qs[i].options):
        del qs[i].options[parts[1]]
    return replace(draft, questions=qs, main=main)


# ------------------------------------------------------------------- the definition it makes

def slug(text: str, fallback: str) -> str:
    """An id from a text ("Miksi tämä arvosana?" → ``miksi_tama_arvosana``), else
    ``fallback``: for questions and options whose id was left empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:40].rstrip("_")
    return out if out and ID.match(out) else fallback


def _unique(wanted: str, taken: set[str]) -> str:
    out, n = wanted, 2
    while out in taken:
        suffix = f"_{n}"
        out, n = wanted[:40 - len(suffix)] + suffix, n + 1
    taken.add(out)
    return out


def _text(t: Mapping[str, str]) -> Text:
    return {lang: t[lang].strip() for lang in LANGS if t.get(lang, "").strip()}


def _number(value: str) -> int | str:
    return int(value) if re.fullmatch(r"-?\d{1,6}", value) else value


def to_definition(draft: SurveyDraft) -> dict[str, Any]:
    """The definition as a YAML file would hold it (empty texts left out; an empty
    question or option id made from its English text)."""
    d: dict[str, Any] = {"id": draft.id, "metric": draft.metric,
                         "default_language": draft.default_language,
                         "title": _text(draft.texts.get("title", {}))}
    if _text(draft.texts.get("intro", {})):
        d["intro"] = _text(draft.texts["intro"])
    taken = {q.id for q in draft.questions if q.id}
    questions = []
    for i, q in enumerate(draft.questions):
        qd: dict[str, Any] = {
            "id": q.id or _unique(slug(q.text.get(FALLBACK, ""), f"q{i + 1}"), taken),
            "type": q.type}
        if q.type == "rating" and (q.scale_from or q.scale_to):
            qd["scale"] = [_number(q.scale_from), _number(q.scale_to)]
        if draft.main == i:
            qd["main"] = True
        if q.required and draft.main != i:
            qd["required"] = True
        qd["text"] = _text(q.text)
        for part in ("low", "high"):
            if q.type == "rating" and _text(getattr(q, part)):
                qd[part] = _text(getattr(q, part))
        if q.type == "choice":
            ids = {o.id for o in q.options if o.id}
            qd["options"] = [{"id": o.id or _unique(slug(o.text.get(FALLBACK, ""),
                                                         f"o{j + 1}"), ids),
                              "text": _text(o.text)} for j, o in enumerate(q.options)]
        questions.append(qd)
    d["questions"] = questions
    d["thanks"] = _text(draft.texts.get("thanks", {}))
    d["email"] = {"subject": _text(draft.texts.get("email.subject", {})),
                  "body": _text(draft.texts.get("email.body", {}))}
    return d


def to_yaml(definition: dict[str, Any]) -> str:
    """The YAML text stored for the survey (and shown under "Advanced"): texts in flow
    style, one key a line, letters as they are."""
    return yaml.safe_dump(definition, allow_unicode=True, sort_keys=False, width=100,
                          default_flow_style=None)


def build(draft: SurveyDraft) -> tuple[str, Survey, list[str]]:
    """The YAML source, the checked survey and its warnings (missing translations), or a
    :class:`~cxlens.surveys.definitions.DefinitionError` whose ``key`` names the field."""
    source = to_yaml(to_definition(draft))
    survey, warnings = parse(source)
    return source, survey, warnings


def from_survey(survey: Survey) -> SurveyDraft:
    """The form filled from a stored survey, to edit it."""
    def t(value: Text | None) -> dict[str, str]:
        return {lang: (value or {}).get(lang, "") for lang in LANGS}

    questions = []
    for q in survey.questions:
        lo, hi = (str(q.scale[0]), str(q.scale[1])) if q.scale else ("", "")
        questions.append(QuestionDraft(
            q.id, q.type, t(q.text), lo, hi, t(q.low), t(q.high), q.required and not q.main,
            [OptionDraft(o.id, t(o.text)) for o in q.options]))
    texts = {"title": t(survey.title), "intro": t(survey.intro), "thanks": t(survey.thanks),
             "email.subject": t(survey.email_subject), "email.body": t(survey.email_body)}
    main = next((i for i, q in enumerate(survey.questions) if q.main), None)
    return SurveyDraft(survey.id, survey.metric, survey.default_language, texts, questions,
                       main, original=survey.id)


# ------------------------------------------------------------------------------- triggers

TRIGGER_DAYS = ("days", "quiet_days", "reminder_days", "expire_days", "catch_up_days")


def trigger_item(fields: Mapping[str, str], taken: set[str]) -> dict[str, Any]:
    """The trigger form as the mapping of a triggers file, for :func:`triggers.check`:
    whole numbers as numbers (anything else is kept, so the check names the field), empty
    optional fields left out, and an empty id made from the survey and the event, unique
    among ``taken``."""
    item: dict[str, Any] = {k: str(fields.get(k, "")).strip()
                            for k in ("id", "survey", "after", "touchpoint")}
    for k in TRIGGER_DAYS:
        value = str(fields.get(k, "")).strip()
        if value or k == "days":
            item[k] = _number(value) if value else None
    if not item["touchpoint"]:
        del item["touchpoint"]
    if not item["id"]:
        base = re.sub(r"[^a-z0-9_-]+", "-", f"{item['survey']}-{item['after']}".lower())
        base = base.strip("-_")[:36] or "trigger"
        item["id"] = _unique(base if ID.match(base) else "trigger", set(taken))
    return item
