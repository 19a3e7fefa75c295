"""The Surveys page: the workspace's survey definitions (built-in and custom) with their
languages, what happened to the invitations of each survey and its response rate with a
95 % interval, the triggers and chains with a form to add, change and delete them and a
"Run now" button, the CSV of personal links for another mailer, and — under "Advanced" — a
form to add or change a definition as YAML. The survey builder (a form, no YAML) is
:mod:`cxlens.web.pages.survey_builder`, whose routes this router includes.

Routes are thin. The numbers come from :func:`cxlens.analytics.surveys.survey_activity`
(pages never compute statistics); definitions are checked and stored by
:mod:`cxlens.surveys.store`, triggers by :func:`cxlens.surveys.triggers.put` and
:func:`~cxlens.surveys.triggers.remove`, run by :func:`~cxlens.surveys.triggers.run` and the
links written by :func:`cxlens.surveys.delivery.links_csv`, all through the workspace's
single writer, so the page, the API and ``cxlens survey …`` behave the same. Viewers read;
analysts and owners change.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens.analytics.experience import MIN_SAMPLE
from cxlens.analytics.surveys import survey_activity
from cxlens.errors import UserError
from cxlens.surveys import definitions, delivery, forms, store, triggers
from cxlens.surveys.definitions import BUILTIN, LANGS, DefinitionError
from cxlens.surveys.triggers import EVENTS, RunResult, Trigger, TriggerError
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import db_path
from cxlens.web import charts
from cxlens.web.deps import ServerClock, Settings, WorkspaceAccess, WorkspaceRole
from cxlens.web.i18n import translate
from cxlens.web.nav import EXPERIENCE, NavItem, register
from cxlens.web.pages import see_other, survey_builder
from cxlens.web.pages.survey_builder import FormFields, message
from cxlens.web.templating import lang_of, render

router = APIRouter(include_in_schema=False)
router.include_router(survey_builder.router)
register(NavItem("surveys", "nav.surveys", "/w/{slug}/surveys", "viewer", order=15,
                 group=EXPERIENCE))
Viewer = WorkspaceRole("viewer")
Analyst = WorkspaceRole("analyst")
MAX_DEFINITION = 100_000  # characters of YAML; the built-ins are about 2,000


@dataclass(frozen=True)
class DefinitionRow:
    """One stored survey as the page lists it."""

    id: str
    title: str
    metric: str
    builtin: bool
    missing: dict[str, int]  # per language: texts that fall back to English
    warnings: list[str]
    public_link: str


@dataclass(frozen=True)
class FormError:
    """A definition that was refused: the message, where, and how to fix it."""

    message: str
    line: int | None
    hint: str | None
    excerpt: str | None  # the text of that line


def _definitions(cur: Any, slug: str, lang: str) -> list[DefinitionRow]:
    out = []
    for s in store.list_surveys(cur):
        missing = definitions.missing_texts(s.survey)
        out.append(DefinitionRow(
            s.survey.id, definitions.text(s.survey.title, lang), s.survey.metric,
            definitions.is_builtin(s.survey), {k: len(missing[k]) for k in LANGS},
            s.warnings, f"/s/public/{slug}.{s.public_id}"))
    return out


def _built(access: WorkspaceAccess, lang: str) -> dict[str, Any]:
    """Everything the page shows that is read from the warehouse."""
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    with access.warehouse.read() as cur:
        rows = _definitions(cur, access.workspace.slug, lang)
        summary = survey_activity(DuckDBEngine(cur))
        steps = triggers.load(cur)
        event_types = [e for e in triggers.event_types(cur) if e not in EVENTS]
    chart = charts.response_rate_chart("rates", t("srv.rates_title"), t, summary.surveys,
                                       MIN_SAMPLE)
    stored = {r.id for r in rows}
    return {"surveys": rows, "summary": summary, "triggers": steps, "charts": [chart],
            "missing_builtins": [b for b in BUILTIN if b not in stored],
            "waiting": summary.waiting, "event_types": event_types}


def _page(request: Request, access: WorkspaceAccess, status: int = 200,
          **extra: Any) -> Response:
    base, guessed = request.app.state.settings.link_base()
    ctx: dict[str, Any] = {"access": access, "surveys": [], "charts": [], "triggers": [],
                           "link_base": base, "link_base_guessed": guessed,
                           "summary": None, "missing_builtins": list(BUILTIN), "waiting": 0,
                           "can_write": access.can("write"), "langs": LANGS,
                           "max_definition": MAX_DEFINITION, "event_types": [],
                           "business_events": EVENTS, "today": request.app.state.clock().date(),
                           "trigger_form": None, "trigger_errors": {},
                           "max_touchpoint": triggers.MAX_TOUCHPOINT, **extra}
    if db_path(access.workspace.path).exists():
        ctx.update(_built(access, lang_of(request)))
    if ctx["trigger_form"] is None:
        ctx["trigger_form"] = TriggerForm()
    ctx["step_choices"] = _step_choices(ctx["triggers"], ctx["trigger_form"].original)
    return render(request, "surveys.html", ctx, status=status)


@router.get("/w/{slug}/surveys")
def surveys_page(request: Request, access: Viewer,
                 edit: Annotated[str | None, Query(max_length=40)] = None,
                 saved: Annotated[str | None, Query(max_length=40)] = None,
                 trigger: Annotated[str | None, Query(max_length=40)] = None,
                 trigger_saved: Annotated[str | None, Query(max_length=40)] = None,
                 trigger_deleted: Annotated[str | None, Query(max_length=40)] = None,
                 ) -> Response:
    """``?edit=<id>`` puts that survey's YAML in the advanced form; ``?trigger=<id>`` that
    trigger in the trigger form; ``?saved=``, ``?trigger_saved=`` and ``?trigger_deleted=``
    confirm a change."""
    definition = ""
    form = None
    if (edit or trigger) and access.can("write") and db_path(access.workspace.path).exists():
        with access.warehouse.read() as cur:
            found = store.get_survey(cur, edit) if edit else None
            steps = triggers.load(cur) if trigger else []
        definition = found.survey.source if found else ""
        step = next((t for t in steps if t.id == trigger), None)
        form = TriggerForm.of(step) if step else None
    # Only an id can be confirmed: a crafted ?saved= must not put a sentence on the page.
    def ok(value: str | None) -> str | None:
        return value if value and definitions.ID.match(value) else None

    return _page(request, access, definition=definition, saved=ok(saved),
                 trigger_form=form, trigger_saved=ok(trigger_saved),
                 trigger_deleted=ok(trigger_deleted))


def _form_error(exc: UserError, source: str) -> FormError:
    line = exc.line
    if line is None and isinstance(exc, DefinitionError):
        line = definitions.line_of(source, exc.key)
    lines = source.splitlines()
    excerpt = lines[line - 1] if line is not None and 0 < line <= len(lines) else None
    return FormError(exc.message, line, exc.hint, excerpt)


@router.post("/w/{slug}/surveys")
def save_definition(request: Request, access: Analyst, clock: ServerClock,
                    definition: Annotated[str, Form(max_length=MAX_DEFINITION)] = ""
                    ) -> Response:
    """Check a definition and store it (one with the same id is replaced, its public link
    kept); a refused one comes back on the form with the line and how to fix it."""
    source = definition.replace("\r\n", "\n")
    try:
        definitions.parse(source)  # refuse before taking the writer
        now = clock()
        saved = access.warehouse.write(lambda cur: store.save_survey(cur, source, now=now))
    except UserError as exc:
        return _page(request, access, status=422, definition=source,
                     form_error=_form_error(exc, source))
    return see_other(f"/w/{access.workspace.slug}/surveys?saved={saved.survey.id}")


@router.post("/w/{slug}/surveys/builtin")
def add_builtin(request: Request, access: Analyst, clock: ServerClock,
                name: Annotated[str, Form(max_length=40)]) -> Response:
    """Store one of the shipped surveys (nps, csat, ces, enps) as it is."""
    if name not in BUILTIN:
        return _page(request, access, status=422,
                     error=f"no built-in survey {name!r}; use one of {', '.join(BUILTIN)}")
    source = definitions.builtin_source(name)
    now = clock()
    access.warehouse.write(lambda cur: store.save_survey(cur, source, f"builtin/{name}.yml",
                                                         now=now))
    return see_other(f"/w/{access.workspace.slug}/surveys?saved={name}")


@router.post("/w/{slug}/surveys/links.csv")
def links(request: Request, access: Analyst, settings: Settings,
          clock: ServerClock) -> Response:
    """The personal links of the invitations not yet sent and of the reminders due, as CSV
    for another mailer. A POST because they count as sent once handed out (as with
    ``cxlens survey links``): the next download does not repeat them."""
    base = settings.link_base()[0]  # never the request's Host header
    now = clock()

    def write(cur: Any) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "links.csv"
            delivery.links_csv(cur, access.workspace.path, base, now, out)
            return out.read_text(encoding="utf-8")

    body = access.warehouse.write(write)
    name = f"{access.workspace.slug}-survey-links-{now.date().isoformat()}.csv"
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


@router.get("/w/{slug}/surveys/{key}.csv")
def chart_csv(request: Request, key: str, access: Viewer) -> Response:
    """The numbers of a chart of the page as CSV (the same rows as its table)."""
    if not db_path(access.workspace.path).exists():
        raise HTTPException(404, "no data yet")
    chart = next((c for c in _built(access, lang_of(request))["charts"] if c.key == key), None)
    if chart is None:
        raise HTTPException(404, "no such chart")
    name = f"{access.workspace.slug}-surveys-{key}.csv"
    return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ------------------------------------------------------------------------------ triggers

@dataclass(frozen=True)
class TriggerForm:
    """The trigger form's values as typed (text), and the id of the trigger being changed
    ("" for a new one)."""

    original: str = ""
    id: str = ""
    survey: str = ""
    after: str = "purchase"
    days: str = "7"
    quiet_days: str = "30"
    reminder_days: str = ""
    expire_days: str = "30"
    catch_up_days: str = "3"
    touchpoint: str = ""

    @classmethod
    def of(cls, t: Trigger) -> TriggerForm:
        def text(v: int | None) -> str:
            return "" if v is None else str(v)

        return cls(t.id, t.id, t.survey, t.after, str(t.days), str(t.quiet_days),
                   text(t.reminder_days), str(t.expire_days), str(t.catch_up_days),
                   t.touchpoint or "")

    @classmethod
    def posted(cls, fields: dict[str, str]) -> TriggerForm:
        names = cls.__dataclass_fields__
        return cls(**{k: str(fields.get(k, ""))[:200] for k in names})


def _step_choices(steps: list[Trigger], original: str) -> list[str]:
    """The triggers a chain step may follow: for a new trigger all of them, for one being
    changed those before it (steps run in order)."""
    ids = [t.id for t in steps]
    return ids[:ids.index(original)] if original in ids else ids


def _trigger_refusal(lang: str, exc: UserError) -> dict[str, str]:
    """The refusal by the form's field: ``triggers[3].days`` → ``days``."""
    if isinstance(exc, TriggerError):
        field = exc.key.rsplit(".", 1)[1] if "." in exc.key else ""
        text = exc.message.split(": ", 1)[-1]
        fallback = f"{text} ({exc.hint})" if exc.hint else text
        return {field: message(lang, exc.code, exc.params, fallback)}
    return {"": f"{exc.message} ({exc.hint})" if exc.hint else exc.message}


@router.post("/w/{slug}/surveys/triggers")
def save_trigger(request: Request, access: Analyst, fields: FormFields) -> Response:
    """Add a trigger, or change the one named ``original`` (its id stays), checked by the
    same rules as a triggers file (:func:`cxlens.surveys.triggers.put`)."""
    form = TriggerForm.posted(fields)
    original = form.original.strip() or None
    if not db_path(access.workspace.path).exists():
        return _page(request, access, status=422, trigger_form=form,
                     trigger_errors={"": translate(lang_of(request), "srv.run.no_data")})

    def write(cur: Any) -> str:
        taken = {t.id for t in triggers.load(cur)}
        item = forms.trigger_item(fields, taken)
        triggers.put(cur, item, replace=original)
        return original or str(item["id"])

    try:
        saved = access.warehouse.write(write)
    except UserError as exc:
        return _page(request, access, status=422, trigger_form=form,
                     trigger_errors=_trigger_refusal(lang_of(request), exc))
    return see_other(f"/w/{access.workspace.slug}/surveys?trigger_saved={saved}#triggers")


@router.post("/w/{slug}/surveys/triggers/{trigger_id}/delete")
def delete_trigger(request: Request, access: Analyst, trigger_id: str) -> Response:
    """Delete a trigger (not the start of a chain); the invitations it made stay."""
    if not definitions.ID.match(trigger_id) or not db_path(access.workspace.path).exists():
        raise HTTPException(404, "no such trigger")
    try:
        access.warehouse.write(lambda cur: triggers.remove(cur, trigger_id))
    except TriggerError as exc:
        return _page(request, access, status=409,
                     trigger_errors=_trigger_refusal(lang_of(request), exc))
    except UserError:
        raise HTTPException(404, "no such trigger") from None
    return see_other(f"/w/{access.workspace.slug}/surveys?trigger_deleted={trigger_id}"
                     "#triggers")


@router.post("/w/{slug}/surveys/run")
def run_triggers(request: Request, access: Analyst, clock: ServerClock,
                 fields: FormFields) -> Response:
    """Run the triggers for the server's today and show what they made (per trigger:
    invited, already invited, quiet period, opted out). The same function as ``cxlens
    survey run`` and ``POST /api/w/{slug}/surveys/run``; a second run makes nothing new."""
    dry = fields.get("dry_run") == "1"
    if not db_path(access.workspace.path).exists():
        return _page(request, access, status=422,
                     error=translate(lang_of(request), "srv.run.no_data"))
    now = clock()
    path = access.workspace.path
    result: RunResult = access.warehouse.write(
        lambda cur: triggers.run(cur, path, now.date(), dry_run=dry, now=now))
    return _page(request, access, run=result)
