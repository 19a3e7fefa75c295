"""A workspace's survey set-up over the API: the triggers (list, replace, change one,
delete one) and the survey definitions (list). Under ``/api/w/{slug}/surveys``, included
by :mod:`cxlens.web.api.survey_runs` (whose ``run`` runs them).

The routes call the functions the Surveys page and ``cxlens survey triggers`` call —
:func:`cxlens.surveys.triggers.check`, :func:`~cxlens.surveys.triggers.put`,
:func:`~cxlens.surveys.triggers.remove` — inside ``warehouse.write``, so a trigger refused
on the page is refused here with the same key path (``triggers[2].days``) and ``code``.
Reading needs the ``read`` scope, changing ``write`` (analysts, owners, write tokens).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from cxlens.errors import UserError
from cxlens.surveys import definitions, store, triggers
from cxlens.surveys.triggers import Trigger, TriggerError
from cxlens.warehouse.store import db_path
from cxlens.web.deps import TokenScope, WorkspaceAccess

router = APIRouter(tags=["surveys"])
Reader = TokenScope("read")
Writer = TokenScope("write")
TriggerId = Annotated[str, Path(min_length=1, max_length=40,
                                description="The trigger's id (a-z 0-9 _ -).")]
MAX_TRIGGERS = 100


class TriggerIn(BaseModel):
    """One trigger as in a triggers file; the ranges are checked by ``triggers.check``."""

    model_config = ConfigDict(extra="forbid")

    survey: str = Field(max_length=40, description="The survey's id.")
    after: str = Field(max_length=120, description="purchase | first_purchase | "
                       "support_ticket | store_visit | event:<type> | step:<trigger id>")
    days: int = Field(description="Invite this many days after the event (0–3650).")
    quiet_days: int | None = Field(None, description="Quiet period in days (default 30).")
    reminder_days: int | None = Field(None, description="One reminder after N days.")
    expire_days: int | None = Field(None, description="The link works N days (default 30).")
    catch_up_days: int | None = Field(None, description="Events due in the last N days "
                                      "are still invited (default 3).")
    touchpoint: str | None = Field(None, max_length=100)


class TriggerFull(TriggerIn):
    id: str = Field(max_length=40)


class TriggersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    triggers: list[TriggerFull] = Field(max_length=MAX_TRIGGERS,
                                        description="Every trigger, in the order they run.")


class TriggerOut(BaseModel):
    id: str
    survey: str
    after: str
    days: int
    quiet_days: int
    reminder_days: int | None
    expire_days: int
    catch_up_days: int
    touchpoint: str | None


class TriggersOut(BaseModel):
    ok: bool = True
    triggers: list[TriggerOut]


class DefinitionOut(BaseModel):
    id: str
    metric: str
    title: dict[str, str]
    builtin: bool
    public_id: str
    warnings: list[str]
    missing: dict[str, list[str]] = Field(description="Per language, the texts shown in "
                                          "English instead.")


class DefinitionsOut(BaseModel):
    ok: bool = True
    surveys: list[DefinitionOut]


def _out(steps: list[Trigger]) -> TriggersOut:
    return TriggersOut(triggers=[TriggerOut(**vars(t)) for t in steps])


def _item(body: BaseModel) -> dict[str, Any]:
    return {k: v for k, v in body.model_dump().items() if v is not None}


def _write(access: WorkspaceAccess, fn: Any) -> TriggersOut:
    try:
        return _out(access.warehouse.write(fn))
    except TriggerError as exc:
        if exc.code == "chained":
            raise HTTPException(409, f"{exc.message}; {exc.hint}") from None
        raise


def _known(access: WorkspaceAccess, trigger_id: str) -> bool:
    with access.warehouse.read() as cur:
        return trigger_id in {t.id for t in triggers.load(cur)}


@router.get("/triggers")
def list_triggers(access: Reader) -> TriggersOut:
    """The workspace's triggers in the order they run."""
    if not db_path(access.workspace.path).exists():
        return TriggersOut(triggers=[])
    with access.warehouse.read() as cur:
        return _out(triggers.load(cur))


@router.put("/triggers")
def replace_triggers(body: TriggersIn, access: Writer) -> TriggersOut:
    """Replace every trigger (as ``cxlens survey triggers FILE.yml`` does)."""
    items = [_item(t) for t in body.triggers]

    def write(cur: Any) -> list[Trigger]:
        steps = triggers.check(items)
        triggers.save(cur, steps)
        return steps

    return _write(access, write)


@router.put("/triggers/{trigger_id}")
def put_trigger(trigger_id: TriggerId, body: TriggerIn, access: Writer) -> TriggersOut:
    """Change the trigger of this id in its place, or add it at the end."""
    if not definitions.ID.match(trigger_id):
        raise HTTPException(422, f"{trigger_id!r} is not a valid trigger id; use 1–40 of "
                                 "a-z 0-9 _ -")
    item = {**_item(body), "id": trigger_id}
    exists = db_path(access.workspace.path).exists() and _known(access, trigger_id)
    return _write(access, lambda cur: triggers.put(
        cur, item, replace=trigger_id if exists else None))


@router.delete("/triggers/{trigger_id}")
def delete_trigger(trigger_id: TriggerId, access: Writer) -> TriggersOut:
    """Delete one trigger (409 when a chain step follows it); its invitations stay."""
    if not db_path(access.workspace.path).exists() or not _known(access, trigger_id):
        raise HTTPException(404, f"no trigger {trigger_id!r} in this workspace")
    try:
        return _write(access, lambda cur: triggers.remove(cur, trigger_id))
    except TriggerError:
        raise
    except UserError as exc:  # deleted meanwhile
        raise HTTPException(404, exc.message) from None


@router.get("/definitions")
def list_definitions(access: Reader) -> DefinitionsOut:
    """The stored surveys: id, metric, title, built-in or custom, public link id, the
    warnings and the texts that fall back to English."""
    if not db_path(access.workspace.path).exists():
        return DefinitionsOut(surveys=[])
    with access.warehouse.read() as cur:
        stored = store.list_surveys(cur)
    return DefinitionsOut(surveys=[DefinitionOut(
        id=s.survey.id, metric=s.survey.metric, title=s.survey.title,
        builtin=definitions.is_builtin(s.survey), public_id=s.public_id, warnings=s.warnings,
        missing=definitions.missing_texts(s.survey)) for s in stored])
