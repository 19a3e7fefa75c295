"""Delivery: e-mail over SMTP in the customer's language, or a CSV of personal links.

SMTP settings come from keywords or the environment (the password only from the
environment or a keyword, never a file of ours):

    CXLENS_SMTP_HOST      server host (required to send)
    CXLENS_SMTP_PORT      port, default 587
    CXLENS_SMTP_USER      user name for AUTH (optional)
    CXLENS_SMTP_PASSWORD  password for AUTH (optional)
    CXLENS_SMTP_FROM      the From address (required to send)
    CXLENS_SMTP_STARTTLS  1/true to upgrade with STARTTLS (default on for port 587)
    CXLENS_PUBLIC_URL     the base of the links, e.g. https://cx.example.fi

Each message is multipart/alternative: the survey's plain text and an HTML version of the
same text (escaped, the link as the only markup). :func:`send` delivers the new invitations
(created → sent) and the reminders that are due (``reminded_at`` set), one SMTP session.
Invitations without an e-mail address stay ``created`` for :func:`links_csv`.
"""

from __future__ import annotations

import html
import os
import smtplib
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any

import duckdb

from cxlens.csv_out import write_rows
from cxlens.errors import UserError
from cxlens.surveys import invitations, store, triggers
from cxlens.surveys.definitions import Survey, text
from cxlens.surveys.invitations import Invitation

REMINDER_PREFIX = {"fi": "Muistutus: ", "sv": "Påminnelse: ", "en": "Reminder: "}
OPT_OUT = {"fi": "Etkö halua enää kyselyjä? Voit kieltäytyä niistä linkin sivulla.",
           "sv": "Vill du inte få fler enkäter? Du kan avböja dem på länkens sida.",
           "en": "No more surveys? You can opt out on the link's page."}


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = ""
    starttls: bool = True
    timeout: float = 30.0

    @classmethod
    def from_env(cls, **overrides: Any) -> SmtpSettings:
        env = os.environ
        port = int(overrides.get("port") or env.get("CXLENS_SMTP_PORT") or 587)
        values = {
            "host": overrides.get("host") or env.get("CXLENS_SMTP_HOST") or "",
            "port": port,
            "user": overrides.get("user") or env.get("CXLENS_SMTP_USER") or None,
            "password": overrides.get("password") or env.get("CXLENS_SMTP_PASSWORD") or None,
            "sender": overrides.get("sender") or env.get("CXLENS_SMTP_FROM") or "",
            "starttls": overrides["starttls"] if overrides.get("starttls") is not None
            else _flag(env.get("CXLENS_SMTP_STARTTLS"), port == 587),
        }
        if not values["host"]:
            raise UserError("no SMTP server is set", hint="set CXLENS_SMTP_HOST (and "
                            "CXLENS_SMTP_PORT, CXLENS_SMTP_FROM) or use --smtp-host")
        if not values["sender"] or "@" not in str(values["sender"]):
            raise UserError("no From address is set for survey e-mail",
                            hint="set CXLENS_SMTP_FROM=surveys@example.fi or use --from")
        return cls(**values)


def compose(survey: Survey, inv: Invitation, link: str, sender: str,
            reminder: bool = False) -> EmailMessage:
    """The multipart e-mail of one invitation, in its language."""
    lang = inv.language
    subject = text(survey.email_subject, lang)
    if reminder:
        subject = REMINDER_PREFIX.get(lang, REMINDER_PREFIX["en"]) + subject
    body = text(survey.email_body, lang)
    plain = body.replace("{link}", link) + "\n\n-- \n" + OPT_OUT.get(lang, OPT_OUT["en"]) + "\n"
    before, _, after = body.partition("{link}")
    anchor = f'<a href="{html.escape(link, quote=True)}">{html.escape(link)}</a>'
    html_body = (f'<!doctype html><html lang="{html.escape(lang)}"><body>'
                 f'<p style="white-space:pre-line">{html.escape(before)}{anchor}'
                 f"{html.escape(after)}</p><p><small>"
                 f"{html.escape(OPT_OUT.get(lang, OPT_OUT['en']))}</small></p></body></html>")
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = formataddr(("", inv.email or ""))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg["Content-Language"] = lang
    msg.set_content(plain)
    msg.add_alternative(html_body, subtype="html")
    return msg


@dataclass
class SendResult:
    sent: int = 0
    reminders: int = 0
    skipped_no_email: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "reminders": self.reminders,
                "skipped_no_email": self.skipped_no_email, "failed": self.failed}


def _due(con: duckdb.DuckDBPyConnection, today: date) -> list[tuple[Invitation, bool]]:
    """New invitations and due reminders: (invitation, is_reminder)."""
    new = invitations.select(
        con, f"state = 'created' AND expires_at > now()::TIMESTAMP AND NOT "
        f"{store.opted_out_sql('si.customer_id', 'si.identity_key')}")
    due = triggers.reminders_due(con, today)
    rem = [i for i in (invitations.by_id(con, n) for n in due) if i is not None]
    return [(i, False) for i in new] + [(i, True) for i in rem]


def send(con: duckdb.DuckDBPyConnection, workspace: Path, smtp: SmtpSettings, base_url: str,
         today: date) -> SendResult:
    """Send the new invitations and the due reminders by e-mail."""
    store.ensure(con)
    key, slug = invitations.workspace_key(workspace), invitations.slug_of(workspace)
    result = SendResult()
    work = _due(con, today)
    if not work:
        return result
    surveys: dict[str, Survey] = {}
    client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        if smtp.starttls:
            client.starttls()
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
        for inv, reminder in work:
            if not inv.email:
                result.skipped_no_email += 1
                continue
            if inv.survey_id not in surveys:
                surveys[inv.survey_id] = store.require_survey(con, inv.survey_id).survey
            msg = compose(surveys[inv.survey_id], inv, inv.link(key, slug, base_url),
                          smtp.sender, reminder)
            try:
                client.send_message(msg)
            except smtplib.SMTPRecipientsRefused as exc:
                result.failed.append({"invitation_id": inv.invitation_id, "error": str(exc)})
                continue
            if reminder:
                con.execute("UPDATE survey_invitations SET reminded_at = now()::TIMESTAMP "
                            "WHERE invitation_id = ?", [inv.invitation_id])
                result.reminders += 1
            else:
                invitations.set_state(con, inv.invitation_id, "sent", "sent_at")
                result.sent += 1
    finally:
        try:
            client.quit()
        except smtplib.SMTPException:
            client.close()
    return result


LINK_COLUMNS = ("invitation_id", "kind", "survey_id", "customer_id", "email", "language",
                "touchpoint", "record_id", "subject", "link", "expires_at")


def links_csv(con: duckdb.DuckDBPyConnection, workspace: Path, base_url: str, today: date,
              out: Path) -> int:
    """Write the personal links of new invitations and due reminders for another mailer.

    The rows are marked as sent (reminded) as they are written, as if mailed: the mailer
    that takes the file is now responsible for them. Returns the rows written.
    """
    store.ensure(con)
    key, slug = invitations.workspace_key(workspace), invitations.slug_of(workspace)
    work = _due(con, today)
    surveys: dict[str, Survey] = {}
    rows = []
    for inv, reminder in work:
        if inv.survey_id not in surveys:
            surveys[inv.survey_id] = store.require_survey(con, inv.survey_id).survey
        subject = text(surveys[inv.survey_id].email_subject, inv.language)
        if reminder:
            subject = REMINDER_PREFIX.get(inv.language, "") + subject
        rows.append([inv.invitation_id, "reminder" if reminder else "invitation",
                     inv.survey_id, inv.customer_id, inv.email, inv.language,
                     inv.touchpoint, inv.record_id, subject,
                     inv.link(key, slug, base_url), inv.expires_at.isoformat()])
    with open(out, "w", newline="", encoding="utf-8") as fh:
        write_rows(fh, LINK_COLUMNS, rows)
    for inv, reminder in work:
        if reminder:
            con.execute("UPDATE survey_invitations SET reminded_at = now()::TIMESTAMP "
                        "WHERE invitation_id = ?", [inv.invitation_id])
        else:
            invitations.set_state(con, inv.invitation_id, "sent", "sent_at")
    return len(work)
