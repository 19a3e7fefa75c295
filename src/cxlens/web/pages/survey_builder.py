"""The survey builder: a custom survey made and edited with a form, no YAML.

``GET /w/{slug}/surveys/new`` and ``GET /w/{slug}/surveys/{id}/edit`` show the form; every
button posts it to ``POST /w/{slug}/surveys/build``: "add a question", "move up" and the
like come back as the same form changed (so it works without JavaScript), "Check and save"
builds the definition with :mod:`cxlens.surveys.forms` — the same one a YAML file gives,
checked by the same :func:`cxlens.surveys.definitions.parse` — and stores it through the
workspace's single writer. A refusal comes back with the message by the field that caused
it, in the reader's language, and a list of all of them at the top. Built-in surveys are
read-only. Analysts and owners only (viewers read the Surveys page).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from cxlens.errors import UserError
from cxlens.surveys import definitions, forms, store
from cxlens.surveys.definitions import LANGS, DefinitionError
from cxlens.surveys.forms import FieldProblem, SurveyDraft
from cxlens.warehouse.store import db_path
from cxlens.web.deps import ServerClock, WorkspaceAccess, WorkspaceRole
from cxlens.web.i18n import translate
from cxlens.web.pages import see_other
from cxlens.web.templating import lang_of, render

router = APIRouter(include_in_schema=False)
Analyst = WorkspaceRole("analyst")
PLACEHOLDER = "{link}"


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as text fields (a file part is ignored; a repeated name keeps its
    last value). Read once: the CSRF guard has parsed it already."""
    form = await request.form()
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


def message(lang: str, code: str, params: dict[str, object], fallback: str) -> str:
    """A refusal in the reader's language (``srv.err.<code>``); the English sentence of
    the check when the code has no text of its own."""
    key = f"srv.err.{code}"
    if translate("en", key) == key:
        return fallback
    return translate(lang, key, placeholder=PLACEHOLDER, **params)


def anchor(key: str) -> str:
    """The HTML id of the field (or group) named ``key``: ``f-questions-1-text-en``."""
    return "f-" + re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


_PART = re.compile(r"(questions|options)\[(\d+)\]|([a-z_]+)")


def label(lang: str, key: str) -> str:
    """Where a refusal is, in words: "Question 2 · Option 1 · FI"."""
    def t(k: str, **v: object) -> str:
        return translate(lang, k, **v)

    parts: list[str] = []
    if key.startswith("email."):
        key = key.replace("email.", "email_", 1)
    for group, n, name in _PART.findall(key):
        if group == "questions":
            parts.append(t("srv.form.question_n", n=int(n) + 1))
        elif group == "options":
            parts.append(t("srv.form.option_n", n=int(n) + 1))
        elif name in LANGS:
            parts.append(name.upper())
        elif translate("en", f"srv.form.f.{name}") != f"srv.form.f.{name}":
            parts.append(t(f"srv.form.f.{name}"))
    return " · ".join(parts)


def _problems(lang: str, found: list[FieldProblem]) -> list[tuple[str, str]]:
    return [(p.key, message(lang, p.code, p.params, p.code)) for p in found]


def _refusal(lang: str, exc: UserError) -> list[tuple[str, str]]:
    if isinstance(exc, DefinitionError):
        text = exc.message.removeprefix(f"{exc.key}: ")
        fallback = f"{text} ({exc.hint})" if exc.hint else text
        return [(exc.key, message(lang, exc.code, exc.params, fallback))]
    return [("", f"{exc.message} ({exc.hint})" if exc.hint else exc.message)]


def _render(request: Request, access: WorkspaceAccess, draft: SurveyDraft,
            problems: list[tuple[str, str]] | None = None, status: int = 200) -> Response:
    lang = lang_of(request)
    problems = problems or []
    summary = [{"anchor": anchor(k) if k else "builder", "where": label(lang, k), "text": text}
               for k, text in problems]
    ctx: dict[str, Any] = {
        "access": access, "draft": draft, "errors": dict(problems), "summary": summary,
        "anchor": anchor, "langs": LANGS, "metrics": forms.METRICS,
        "types": definitions.QUESTION_TYPES, "limits": {
            "questions": forms.MAX_QUESTIONS, "options": forms.MAX_OPTIONS,
            "short": forms.MAX_SHORT, "long": forms.MAX_LONG},
        "long_texts": forms.LONG_TEXTS, "placeholder": PLACEHOLDER}
    return render(request, "surveys_builder.html", ctx, status=status)


def _stored(access: WorkspaceAccess, survey_id: str) -> store.StoredSurvey | None:
    if not db_path(access.workspace.path).exists():
        return None
    with access.warehouse.read() as cur:
        return store.get_survey(cur, survey_id)


@router.get("/w/{slug}/surveys/new")
def new_survey(request: Request, access: Analyst) -> Response:
    """An empty builder: an NPS question on the metric's scale and an open comment."""
    return _render(request, access, forms.new_draft())


@router.get("/w/{slug}/surveys/{survey_id}/edit")
def edit_survey(request: Request, access: Analyst, survey_id: str) -> Response:
    """The builder filled from a stored custom survey (built-in ones are read-only)."""
    found = _stored(access, survey_id) if definitions.ID.match(survey_id) else None
    if found is None:
        raise HTTPException(404, "no such survey")
    if definitions.is_builtin(found.survey):
        lang = lang_of(request)
        raise HTTPException(409, message(lang, "builtin", {}, "built-in surveys are "
                                                               "read-only"))
    return _render(request, access, forms.from_survey(found.survey))


@router.post("/w/{slug}/surveys/build")
def build_survey(request: Request, access: Analyst, clock: ServerClock,
                 fields: FormFields) -> Response:
    """A button of the builder: change the form and show it again, or check and save."""
    lang = lang_of(request)
    draft, found = forms.read_form(fields)
    action = fields.get("action", "save")
    if action != "save":
        return _render(request, access, forms.apply(draft, action))
    problems = _problems(lang, found)
    problems += _id_problems(lang, access, draft)
    if problems:
        return _render(request, access, draft, problems, status=422)
    try:
        source, _, _ = forms.build(draft)
        now = clock()
        saved = access.warehouse.write(lambda cur: store.save_survey(cur, source, now=now))
    except UserError as exc:
        return _render(request, access, draft, _refusal(lang, exc), status=422)
    return see_other(f"/w/{access.workspace.slug}/surveys?saved={saved.survey.id}")


def _id_problems(lang: str, access: WorkspaceAccess, draft: SurveyDraft
                 ) -> list[tuple[str, str]]:
    """A new survey may not take a stored survey's id (it would replace it), and a
    built-in one is never replaced from the form."""
    if not definitions.ID.match(draft.id):
        return []  # the definition check says so, by the field
    found = _stored(access, draft.id)
    if found is None:
        return []
    if definitions.is_builtin(found.survey):
        return [("id", message(lang, "builtin", {}, "built-in surveys are read-only"))]
    if draft.original != draft.id:
        return [("id", message(lang, "id_taken", {}, "a survey with this id exists"))]
    return []
