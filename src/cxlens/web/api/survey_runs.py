"""The survey routines through the server's writer: ``POST /api/w/{slug}/surveys/run``,
``/surveys/send`` and ``/surveys/links``.

While ``cxlens serve`` runs it is the only process that may write the workspace's
warehouse, so ``cxlens survey run|send|links`` hand their work to these endpoints (with the
server's local token, like ``cxlens ingest``) instead of opening the file. The routes call
the same functions as the CLI does locally (:func:`cxlens.surveys.triggers.run`,
:func:`cxlens.surveys.delivery.send`, :func:`~cxlens.surveys.delivery.links_csv`) inside
``warehouse.write``, one at a time with every other write of the workspace.

``run`` needs the ``write`` scope: creating invitations is what a scheduler or an analyst
does. ``send`` and ``links`` are accepted only with the local token: ``send`` carries SMTP
settings and a password from the caller's environment, and taking those from any token
holder would let them make the server connect anywhere; ``links`` writes a file on the
server's machine.
"""

from __future__ import annotations

import smtplib
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from cxlens.clock import on_day
from cxlens.surveys import delivery, triggers
from cxlens.web.api import survey_setup
from cxlens.web.deps import ServerClock, TokenScope, WorkspaceAccess
from cxlens.web.params import Day

router = APIRouter(prefix="/api/w/{slug}/surveys", tags=["surveys"])
router.include_router(survey_setup.router)  # the triggers and definitions themselves
Writer = TokenScope("write")
PublicUrl = Annotated[str, Field(min_length=8, max_length=500, pattern=r"^https?://",
                                 description="The server's public address, the start of "
                                             "every survey link.")]


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    today: Day | None = Field(None, description="The day to plan for (default: today, UTC).")
    dry_run: bool = Field(False, description="Plan only: nothing is stored.")


class RunOut(BaseModel):
    ok: bool = True
    today: date
    dry_run: bool
    created: dict[str, int] = Field(description="Invitations per trigger")
    skipped: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Per trigger, customers due (due) and of those not "
        "invited: already (by this trigger: a repeated run), quiet (quiet period), opted_out")
    total: int
    expired: int
    reminders_due: int
    planned: list[dict[str, Any]]
    imported_followups: int = Field(0, description="Follow-ups opened for detractor answers "
                                    "loaded from other tools in the last 14 days")


class SmtpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(587, ge=1, le=65535)
    user: str | None = Field(None, max_length=255)
    password: SecretStr | None = Field(None, max_length=1000)
    sender: str = Field(min_length=3, max_length=255, pattern="@")
    starttls: bool = True
    timeout: float = Field(30.0, gt=0, le=600)


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    today: Day | None = None
    base_url: PublicUrl
    smtp: SmtpIn


class SendOut(BaseModel):
    ok: bool = True
    sent: int
    reminders: int
    skipped_no_email: int
    failed: list[dict[str, Any]]


class LinksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    today: Day | None = None
    base_url: PublicUrl
    out: str = Field(min_length=1, max_length=4096,
                     description="Absolute path of the CSV to write on this machine.")


class LinksOut(BaseModel):
    ok: bool = True
    written: int
    out: str


def _now(day: date | None, clock: ServerClock) -> datetime:
    """The moment of the routine: the server's clock, moved to ``day`` when one is given."""
    return on_day(day, clock)


def _local_only(access: WorkspaceAccess, what: str) -> None:
    if not access.local:
        raise HTTPException(403, f"{what} only for cxlens on this machine (the server's "
                                 "local token); run the cxlens command instead")


@router.post("/run")
def run(body: RunIn, access: Writer, clock: ServerClock) -> RunOut:
    """Create the invitations due (idempotent: a second run the same day creates nothing)."""
    path, now = access.workspace.path, _now(body.today, clock)
    result = access.warehouse.write(
        lambda cur: triggers.run(cur, path, now.date(), dry_run=body.dry_run, now=now))
    return RunOut(**result.as_dict())


@router.post("/send")
def send(body: SendIn, access: Writer, clock: ServerClock) -> SendOut:
    """E-mail the new invitations and the due reminders (local token only)."""
    _local_only(access, "survey e-mail is sent")
    s = body.smtp
    smtp = delivery.SmtpSettings(
        host=s.host, port=s.port, user=s.user, sender=s.sender, starttls=s.starttls,
        password=s.password.get_secret_value() if s.password else None, timeout=s.timeout)
    path, now = access.workspace.path, _now(body.today, clock)
    try:
        result = access.warehouse.write(
            lambda cur: delivery.send(cur, path, smtp, body.base_url, now))
    except (smtplib.SMTPException, OSError) as exc:
        raise HTTPException(502, f"the SMTP server {s.host}:{s.port} failed: {exc}; what "
                                 "was sent before is marked sent") from None
    return SendOut(**result.as_dict())


@router.post("/links")
def links(body: LinksIn, access: Writer, clock: ServerClock) -> LinksOut:
    """Write the personal links of new invitations and due reminders as CSV (local token
    only: the file is written on the server's machine); they count as sent."""
    _local_only(access, "survey links are written")
    out = Path(body.out)
    if not out.is_absolute():
        raise HTTPException(422, "out must be an absolute path")
    if not out.parent.is_dir():
        raise HTTPException(422, f"the folder {out.parent} does not exist")
    path, now = access.workspace.path, _now(body.today, clock)
    try:
        n = access.warehouse.write(
            lambda cur: delivery.links_csv(cur, path, body.base_url, now, out))
    except OSError as exc:
        raise HTTPException(400, f"cannot write {out}: {exc.strerror or exc}") from None
    return LinksOut(written=n, out=str(out))
