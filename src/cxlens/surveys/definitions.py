"""Survey definitions in YAML: NPS, CSAT, CES, eNPS and custom surveys, worded in fi/sv/en.

A definition is read with :func:`parse` (text) or :func:`load` (a file) and returns the
:class:`Survey` and a list of **warnings** for the owner (a missing Finnish or Swedish text
falls back to English; the warning names the key path). Errors are a :class:`DefinitionError`
naming the file and the key path (``questions[1].scale``) and how to fix it. The four
standard surveys ship as YAML files in ``cxlens/surveys/builtin/`` (:func:`builtin`).

The shape (every text is a mapping ``{fi: …, sv: …, en: …}``; English is required)::

    id: nps                    # 1–40 of a-z 0-9 _ -
    metric: nps                # nps | csat | ces | enps | rating: the feedback metric
    default_language: fi       # for customers without a known language
    title: {…}
    intro: {…}                 # optional
    questions:
      - id: score
        type: rating           # rating | choice | text
        scale: [0, 10]         # rating; the metric's scale when omitted
        main: true             # its answer is the feedback score (default: first rating)
        text: {…}
        low: {…}               # optional labels of the ends of the scale
        high: {…}
      - id: reason
        type: choice
        options: [{id: price, text: {…}}, …]
      - id: comment
        type: text             # the first text question is the feedback comment
        text: {…}
    thanks: {…}
    email: {subject: {…}, body: {…}}   # body must contain {link}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cxlens import safe_yaml
from cxlens.errors import UserError
from cxlens.schema import METRIC_SCALES

LANGS: tuple[str, ...] = ("fi", "sv", "en")
FALLBACK = "en"
QUESTION_TYPES: tuple[str, ...] = ("rating", "choice", "text")
BUILTIN: tuple[str, ...] = ("nps", "csat", "ces", "enps")
ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_TEXT_ANSWER = 2000

Text = dict[str, str]


class DefinitionError(UserError):
    """A survey definition that cannot be used; ``key`` is the path of the bad value.

    ``code`` names the kind of mistake and ``params`` its values (``{"low": 0, …}``), so a
    form can say it in the reader's language by the field at ``key``; ``message`` stays
    the English sentence the CLI and the YAML form show. The codes are listed in
    :data:`ERROR_CODES`.
    """

    def __init__(self, message: str, *, file: str | None, key: str, hint: str,
                 code: str = "invalid", params: dict[str, object] | None = None) -> None:
        super().__init__(f"{key}: {message}" if key else message, file=file, hint=hint)
        self.key = key
        self.code = code
        self.params = params or {}

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "key": self.key, "code": self.code}


# The kinds of mistake a definition can have (DefinitionError.code); "invalid" is the rest
# (a key the form never writes, text that is not a mapping …).
ERROR_CODES: tuple[str, ...] = (
    "id", "id_twice", "metric", "language", "missing", "missing_en", "empty", "scale",
    "options", "option_twice", "main_not_rating", "main_twice", "no_rating", "metric_scale",
    "no_link", "questions", "type", "invalid")


@dataclass(frozen=True)
class Option:
    id: str
    text: Text


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: Text
    scale: tuple[int, int] | None = None
    main: bool = False
    required: bool = False
    low: Text | None = None
    high: Text | None = None
    options: tuple[Option, ...] = ()

    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)


@dataclass(frozen=True)
class Survey:
    id: str
    metric: str
    default_language: str
    title: Text
    questions: tuple[Question, ...]
    thanks: Text
    email_subject: Text
    email_body: Text
    intro: Text | None = None
    source: str = field(default="", compare=False)  # the YAML text it was read from

    @property
    def main(self) -> Question:
        return next(q for q in self.questions if q.main)

    @property
    def comment(self) -> Question | None:
        return next((q for q in self.questions if q.type == "text"), None)

    @property
    def scale(self) -> tuple[int, int]:
        return self.main.scale or METRIC_SCALES[self.metric]

    def language(self, wanted: str | None) -> str:
        """The language to show: the wanted one if supported, else the survey's default."""
        return wanted if wanted in LANGS else self.default_language


def text(t: Text | None, lang: str) -> str:
    """The text in ``lang`` (English when missing: the definition was warned about it)."""
    if not t:
        return ""
    return t.get(lang) or t.get(FALLBACK) or ""


class _Reader:
    def __init__(self, file: str | None) -> None:
        self.file = file
        self.warnings: list[str] = []

    def fail(self, key: str, message: str, hint: str, code: str = "invalid",
             **params: object) -> DefinitionError:
        return DefinitionError(message, file=self.file, key=key, hint=hint, code=code,
                               params=params)

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {_kind(value)}",
                            "write key: value pairs under it")
        return value

    def ident(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not ID.match(value):
            raise self.fail(key, f"{value!r} is not a valid id",
                            "use 1–40 lower-case letters, digits, _ and -, e.g. nps_store",
                            "id")
        return value

    def text(self, value: Any, key: str, *, required: bool = True) -> Text | None:
        if value is None and not required:
            return None
        if value is None:
            raise self.fail(key, "is missing", f"add {key}: {{fi: …, sv: …, en: …}}",
                            "missing")
        if isinstance(value, str):
            value = {FALLBACK: value}
        value = self.mapping(value, key)
        unknown = [k for k in value if k not in LANGS]
        if unknown:
            raise self.fail(f"{key}.{unknown[0]}", "is not a supported language",
                            f"use {', '.join(LANGS)}")
        out: Text = {}
        for lang in LANGS:
            v = value.get(lang)
            if v is not None and (not isinstance(v, str) or not v.strip()):
                raise self.fail(f"{key}.{lang}", "must be a non-empty text",
                                "write the wording as text", "empty")
            if v is not None:
                out[lang] = v.strip()
        if FALLBACK not in out:
            raise self.fail(f"{key}.{FALLBACK}", "the English text is missing",
                            "English is the fallback for the other languages: add it",
                            "missing_en")
        for lang in LANGS:
            if lang not in out:
                self.warnings.append(f"{key}: no {lang!r} text; English is shown instead")
        return out


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def parse(source: str, file: str | None = None) -> tuple[Survey, list[str]]:
    """Read one definition from YAML text; returns the survey and the owner's warnings."""
    try:
        data = safe_yaml.load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=file,
                        line=mark.line + 1 if mark else None,
                        hint="check the indentation and the quotes") from None
    r = _Reader(file)
    d = r.mapping(data, "")
    allowed = {"id", "metric", "default_language", "title", "intro", "questions", "thanks",
               "email"}
    for k in d:
        if k not in allowed:
            raise r.fail(str(k), "is not a known key", f"use {', '.join(sorted(allowed))}")
    sid = r.ident(d.get("id"), "id")
    metric = d.get("metric")
    if metric not in METRIC_SCALES:
        raise r.fail("metric", f"{metric!r} is not a metric",
                     f"use one of {', '.join(METRIC_SCALES)}", "metric")
    default = d.get("default_language", FALLBACK)
    if default not in LANGS:
        raise r.fail("default_language", f"{default!r} is not supported",
                     f"use one of {', '.join(LANGS)}", "language")
    title = r.text(d.get("title"), "title")
    intro = r.text(d.get("intro"), "intro", required=False)
    qs = d.get("questions")
    if not isinstance(qs, list) or not qs:
        raise r.fail("questions", "expected a list of at least one question",
                     "add questions: - {id: score, type: rating, text: {…}}", "questions")
    questions = [_question(r, q, f"questions[{i}]", str(metric)) for i, q in enumerate(qs)]
    seen: set[str] = set()
    for i, q in enumerate(questions):
        if q.id in seen:
            raise r.fail(f"questions[{i}].id", f"{q.id!r} is used twice",
                         "give every question its own id", "id_twice")
        seen.add(q.id)
    questions = _choose_main(r, questions, str(metric))
    thanks = r.text(d.get("thanks"), "thanks")
    email = r.mapping(d.get("email"), "email")
    subject = r.text(email.get("subject"), "email.subject")
    body = r.text(email.get("body"), "email.body")
    assert subject is not None and body is not None and title is not None
    assert thanks is not None
    for lang, b in body.items():
        if "{link}" not in b:
            raise r.fail(f"email.body.{lang}", "does not contain {link}",
                         "put {link} where the personal survey link goes", "no_link")
    return Survey(sid, str(metric), str(default), title, tuple(questions), thanks, subject,
                  body, intro, source=source), r.warnings


def _question(r: _Reader, value: Any, key: str, metric: str) -> Question:
    q = r.mapping(value, key)
    allowed = {"id", "type", "text", "scale", "main", "required", "low", "high", "options"}
    for k in q:
        if k not in allowed:
            raise r.fail(f"{key}.{k}", "is not a known key", f"use {', '.join(sorted(allowed))}")
    qid = r.ident(q.get("id"), f"{key}.id")
    qtype = q.get("type")
    if qtype not in QUESTION_TYPES:
        raise r.fail(f"{key}.type", f"{qtype!r} is not a question type",
                     f"use one of {', '.join(QUESTION_TYPES)}", "type")
    qtext = r.text(q.get("text"), f"{key}.text")
    assert qtext is not None
    main = q.get("main", False)
    required = q.get("required", False)
    for name, flag in (("main", main), ("required", required)):
        if not isinstance(flag, bool):
            raise r.fail(f"{key}.{name}", f"expected true or false, got {flag!r}",
                         f"write {name}: true")
    scale = None
    options: tuple[Option, ...] = ()
    if qtype == "rating":
        raw = q.get("scale")
        if raw is None:
            scale = METRIC_SCALES[metric] if metric != "rating" else METRIC_SCALES["rating"]
        elif (not isinstance(raw, list) or len(raw) != 2
              or not all(isinstance(x, int) and not isinstance(x, bool) for x in raw)
              or not raw[0] < raw[1] or raw[1] - raw[0] > 20):
            raise r.fail(f"{key}.scale", f"{raw!r} is not a scale",
                         "write two whole numbers [low, high], low < high, at most 21 steps, "
                         "e.g. [0, 10]", "scale")
        else:
            scale = (raw[0], raw[1])
    elif "scale" in q:
        raise r.fail(f"{key}.scale", f"only rating questions have a scale, not {qtype}",
                     "remove it")
    if qtype == "choice":
        opts = q.get("options")
        if not isinstance(opts, list) or len(opts) < 2:
            raise r.fail(f"{key}.options", "a choice question needs at least two options",
                         "add options: - {id: price, text: {…}}", "options")
        parsed = []
        for j, o in enumerate(opts):
            ok = r.mapping(o, f"{key}.options[{j}]")
            t = r.text(ok.get("text"), f"{key}.options[{j}].text")
            assert t is not None
            parsed.append(Option(r.ident(ok.get("id"), f"{key}.options[{j}].id"), t))
        if len({o.id for o in parsed}) != len(parsed):
            raise r.fail(f"{key}.options", "two options have the same id",
                         "give every option its own id", "option_twice")
        options = tuple(parsed)
    if main and qtype != "rating":
        raise r.fail(f"{key}.main", "only a rating question can be the main question",
                     "mark the score question with main: true", "main_not_rating")
    low = r.text(q.get("low"), f"{key}.low", required=False)
    high = r.text(q.get("high"), f"{key}.high", required=False)
    return Question(qid, str(qtype), qtext, scale, bool(main), bool(required), low, high,
                    options)


def _choose_main(r: _Reader, questions: list[Question], metric: str) -> list[Question]:
    mains = [i for i, q in enumerate(questions) if q.main]
    if len(mains) > 1:
        raise r.fail(f"questions[{mains[1]}].main", "only one question can be the main one",
                     "keep main: true on the score question only", "main_twice")
    if not mains:
        ratings = [i for i, q in enumerate(questions) if q.type == "rating"]
        if not ratings:
            raise r.fail("questions", "a survey needs a rating question for its score",
                         "add a question with type: rating", "no_rating")
        mains = ratings[:1]
    i = mains[0]
    q = questions[i]
    lo, hi = q.scale or METRIC_SCALES[metric]
    std_lo, std_hi = METRIC_SCALES[metric]
    if metric != "rating" and (lo, hi) != (std_lo, std_hi):
        raise r.fail(f"questions[{i}].scale", f"{metric} is measured on {std_lo}–{std_hi}",
                     f"use scale: [{std_lo}, {std_hi}] or metric: rating", "metric_scale",
                     metric=metric, low=std_lo, high=std_hi)
    out = list(questions)
    out[i] = Question(q.id, q.type, q.text, (lo, hi), True, True, q.low, q.high, q.options)
    return out


def load(path: Path) -> tuple[Survey, list[str]]:
    """Read a definition file."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the survey definition: {exc}", file=str(path),
                        hint="give a UTF-8 YAML file") from None
    return parse(source, str(path))


def builtin_source(name: str) -> str:
    """The YAML text of a built-in survey, as shipped (``survey add --builtin`` stores it)."""
    if name not in BUILTIN:
        raise UserError(f"no built-in survey {name!r}", hint=f"use one of {', '.join(BUILTIN)}")
    return resources.files("cxlens.surveys").joinpath(f"builtin/{name}.yml").read_text(
        encoding="utf-8")


def builtin(name: str) -> Survey:
    """One of the standard surveys shipped with cxlens: nps, csat, ces, enps."""
    survey, _ = parse(builtin_source(name), f"builtin/{name}.yml")
    return survey


def is_builtin(survey: Survey) -> bool:
    """Is this the shipped definition, word for word? (A custom survey may reuse the id.)"""
    return survey.id in BUILTIN and survey.source == builtin_source(survey.id)


def missing_texts(survey: Survey) -> dict[str, list[str]]:
    """Per language, the key paths that have no text in it and fall back to English.

    The same facts as the warnings of :func:`parse`, as data, so a page can flag each
    language of a stored survey without parsing the warning sentences.
    """
    texts: list[tuple[str, Text | None]] = [("title", survey.title), ("intro", survey.intro)]
    for i, q in enumerate(survey.questions):
        key = f"questions[{i}]"
        texts += [(f"{key}.text", q.text), (f"{key}.low", q.low), (f"{key}.high", q.high)]
        texts += [(f"{key}.options[{j}].text", o.text) for j, o in enumerate(q.options)]
    texts += [("thanks", survey.thanks), ("email.subject", survey.email_subject),
              ("email.body", survey.email_body)]
    return {lang: [k for k, t in texts if t is not None and lang not in t] for lang in LANGS}


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def line_of(source: str, key: str) -> int | None:
    """The line (1-based) of a key path such as ``questions[1].scale`` in YAML ``source``.

    :class:`DefinitionError` names the key path; a form that shows the YAML wants the line
    too. A path that is missing (``title`` is missing) gives the line of its nearest parent
    that exists; text that is not YAML gives None.
    """
    try:
        node = safe_yaml.compose(source)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for name, index in _STEP.findall(key):
        if isinstance(node, yaml.MappingNode) and name:
            found = next(((k, v) for k, v in node.value
                          if isinstance(k, yaml.ScalarNode) and k.value == name), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and index:
            if int(index) >= len(node.value):
                break
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            break
    return line
