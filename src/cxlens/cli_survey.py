"""``cxlens survey``: define, trigger, deliver and follow up surveys from a shell."""

from __future__ import annotations

import smtplib
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cxlens import clock
from cxlens.cli_common import AsJson, Workspace, emit_json, err, hand_over, out, server_for
from cxlens.config import DEFAULT_WORKSPACE
from cxlens.errors import UserError

# ---------------------------------------------------------------------------- surveys

survey_app = typer.Typer(help="Surveys: define, trigger, deliver, follow up (docs/surveys.md).",
                         no_args_is_help=True)
Today = Annotated[str | None, typer.Option(
    "--today", help="The day to plan for, YYYY-MM-DD (default: today, UTC).")]
BaseUrl = Annotated[str, typer.Option(
    "--base-url", envvar="CXLENS_PUBLIC_URL", show_default="$CXLENS_PUBLIC_URL",
    help="Public address of the cxlens server, the start of every survey link.")]


def _now(value: str | None) -> datetime:
    """The command's moment: the clock (UTC), on the day of ``--today`` when one is given.
    The command reads the clock here, at the edge, and passes the time down."""
    if value is None:
        return clock.system()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--today {value!r} is not a date", hint="write YYYY-MM-DD") from None
    return clock.on_day(day)


def _need_base_url(base_url: str) -> str:
    if not base_url.startswith(("http://", "https://")):
        raise UserError("the survey links need the server's public address",
                        hint="pass --base-url https://cx.example.fi or set CXLENS_PUBLIC_URL")
    return base_url


@survey_app.command("add")
def survey_add(
    file: Annotated[Path | None, typer.Argument(help="A survey definition (YAML).")] = None,
    builtin: Annotated[list[str] | None, typer.Option(
        "--builtin", help="A standard survey: nps, csat, ces or enps (repeatable).")] = None,
    workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False,
) -> None:
    """Store a survey definition in the workspace (replacing one with the same id)."""
    from importlib import resources

    from cxlens.surveys import definitions, store
    from cxlens.warehouse.store import open_warehouse

    sources: list[tuple[str, str]] = []
    for name in builtin or []:
        definitions.builtin(name)  # a clear error for an unknown name
        sources.append((resources.files("cxlens.surveys").joinpath(
            f"builtin/{name}.yml").read_text(encoding="utf-8"), f"builtin/{name}.yml"))
    if file is not None:
        sources.append((definitions.load(file)[0].source, str(file)))
    if not sources:
        raise UserError("nothing to add", hint="give a YAML file or --builtin nps")
    slug = workspace.resolve().name
    with open_warehouse(workspace) as con:
        now = clock.system()
        saved = [store.save_survey(con, text, origin, now=now) for text, origin in sources]
    rows = [{"survey": s.survey.id, "metric": s.survey.metric,
             "public_link": f"/s/public/{slug}.{s.public_id}", "warnings": s.warnings}
            for s in saved]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        out.print(f"survey {r['survey']} ({r['metric']}) stored; public link {r['public_link']}")
        for w in r["warnings"]:
            err.print(f"[yellow]warning:[/] {w}")


@survey_app.command("list")
def survey_list(workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """The workspace's surveys, triggers and invitations by state."""
    from cxlens.surveys import invitations, store, triggers
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace, read_only=True) as con:
        surveys = store.list_surveys(con)
        steps = triggers.load(con)
        states = invitations.counts(con) if store.ready(con) else {}
    if as_json:
        emit_json({"surveys": [{"id": s.survey.id, "metric": s.survey.metric,
                                "public_id": s.public_id, "warnings": s.warnings}
                               for s in surveys],
                   "triggers": [vars(t) for t in steps], "invitations": states})
        return
    for s in surveys:
        out.print(f"{s.survey.id:<16} {s.survey.metric:<6} public id {s.public_id}"
                  + (f"  [yellow]{len(s.warnings)} warning(s)[/]" if s.warnings else ""))
    for t in steps:
        out.print(f"  trigger {t.id}: {t.survey} {t.days} d after {t.after}, quiet "
                  f"{t.quiet_days} d, reminder {t.reminder_days or '—'}")
    out.print("invitations: " + (", ".join(f"{k} {v:,}" for k, v in sorted(states.items()))
                                 or "none"))


@survey_app.command("triggers")
def survey_triggers(
    file: Annotated[Path | None, typer.Argument(
        help="YAML with a 'triggers:' list; without it, the triggers are listed.")] = None,
    workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False,
) -> None:
    """List the workspace's triggers, or replace them with FILE's (survey S N days after
    event E; chains). The Surveys page and the API change the same stored triggers."""
    from cxlens.surveys import triggers

    steps = triggers.read_file(file) if file is not None else None  # checked before
    server = server_for(workspace, "set the triggers" if steps is not None
                        else "list the triggers", as_json)
    if server is not None:
        body = None if steps is None else {"triggers": [triggers.as_data(t) for t in steps]}
        rows = hand_over(server, "GET" if body is None else "PUT", "/surveys/triggers",
                         body)["triggers"]
    else:
        from cxlens.warehouse.store import open_warehouse

        with open_warehouse(workspace, read_only=steps is None) as con:
            if steps is not None:
                triggers.save(con, steps)
            rows = [vars(t) for t in triggers.load(con)]
    if as_json:
        emit_json({"triggers": rows})
        return
    if steps is not None:
        out.print(f"{len(steps)} trigger(s) set")
        return
    for t in rows:
        out.print(f"{t['id']:<24} {t['survey']:<12} {t['days']:>4} d after {t['after']}, "
                  f"quiet {t['quiet_days']} d, reminder {t['reminder_days'] or '—'}, "
                  f"link {t['expire_days']} d")
    if not rows:
        out.print("no triggers")


@survey_app.command("run")
def survey_run(workspace: Workspace = DEFAULT_WORKSPACE, today: Today = None,
               dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only.")] = False,
               as_json: AsJson = False) -> None:
    """Create the invitations due today and open follow-ups for the detractor answers
    imported in the last two weeks (idempotent: a second run creates nothing new)."""
    now = _now(today)
    day = now.date()
    server = server_for(workspace, "run the triggers", as_json)
    if server is not None:
        result = hand_over(server, "POST", "/surveys/run",
                           {"today": day.isoformat(), "dry_run": dry_run})
    else:
        from cxlens.surveys import triggers
        from cxlens.warehouse.store import open_warehouse

        with open_warehouse(workspace) as con:
            result = triggers.run(con, workspace, day, dry_run=dry_run, now=now).as_dict()
    if as_json:
        emit_json(result)
        return
    for trigger_id, n in result["created"].items():
        skipped = result.get("skipped", {}).get(trigger_id, {})
        out.print(f"  {trigger_id:<24} {n:>6,} invitation(s); due {skipped.get('due', 0):,}, "
                  f"already invited {skipped.get('already', 0):,}, quiet period "
                  f"{skipped.get('quiet', 0):,}, opted out {skipped.get('opted_out', 0):,}")
    out.print(f"{'would create' if dry_run else 'created'} {result['total']:,}; expired "
              f"{result['expired']:,}; reminders due {result['reminders_due']:,}; "
              f"follow-ups of imported answers {result.get('imported_followups', 0):,}")


@survey_app.command("send")
def survey_send(
    workspace: Workspace = DEFAULT_WORKSPACE, base_url: BaseUrl = "", today: Today = None,
    smtp_host: Annotated[str | None, typer.Option(help="Else $CXLENS_SMTP_HOST.")] = None,
    smtp_port: Annotated[int | None, typer.Option(help="Else $CXLENS_SMTP_PORT or 587.")] = None,
    sender: Annotated[str | None, typer.Option("--from", help="Else $CXLENS_SMTP_FROM.")] = None,
    as_json: AsJson = False,
) -> None:
    """E-mail the new invitations and the due reminders (password: $CXLENS_SMTP_PASSWORD)."""
    from cxlens.surveys import delivery

    settings = delivery.SmtpSettings.from_env(host=smtp_host, port=smtp_port, sender=sender)
    url = _need_base_url(base_url)
    now = _now(today)
    server = server_for(workspace, "send the e-mail", as_json)
    if server is not None:  # the settings travel over loopback with the local token
        smtp = {"host": settings.host, "port": settings.port, "user": settings.user,
                "password": settings.password, "sender": settings.sender,
                "starttls": settings.starttls, "timeout": settings.timeout}
        result = hand_over(server, "POST", "/surveys/send",
                           {"today": now.date().isoformat(), "base_url": url, "smtp": smtp})
    else:
        from cxlens.warehouse.store import open_warehouse

        with open_warehouse(workspace) as con:
            try:
                result = delivery.send(con, workspace, settings, url, now).as_dict()
            except (smtplib.SMTPException, OSError) as exc:  # as the hand-over's 502 says
                raise UserError(f"the SMTP server {settings.host}:{settings.port} failed: "
                                f"{exc}", hint="check --smtp-host/--smtp-port and the "
                                "server; what was sent before is marked sent") from None
    if as_json:
        emit_json(result)
        return
    out.print(f"sent {result['sent']:,}, reminders {result['reminders']:,}, without e-mail "
              f"{result['skipped_no_email']:,}, failed {len(result['failed']):,}")


@survey_app.command("links")
def survey_links(
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    workspace: Workspace = DEFAULT_WORKSPACE, base_url: BaseUrl = "", today: Today = None,
) -> None:
    """Write the personal links of new invitations and due reminders as CSV for another
    mailer (they count as sent)."""
    url = _need_base_url(base_url)
    now = _now(today)
    server = server_for(workspace, "write the links", False)
    if server is not None:
        n = hand_over(server, "POST", "/surveys/links",
                      {"today": now.date().isoformat(), "base_url": url,
                       "out": str(out_file.resolve())})["written"]
    else:
        from cxlens.surveys import delivery
        from cxlens.warehouse.store import open_warehouse

        with open_warehouse(workspace) as con:
            n = delivery.links_csv(con, workspace, url, now, out_file)
    out.print(f"{n:,} link(s) written to {out_file}")


@survey_app.command("optout")
def survey_optout(
    identifier: Annotated[str, typer.Argument(help="E-mail, phone, CRM id … of the customer.")],
    workspace: Workspace = DEFAULT_WORKSPACE,
) -> None:
    """Record that a customer wants no surveys (honoured by every trigger and link)."""
    from cxlens.surveys import store
    from cxlens.warehouse.store import open_warehouse

    value = identifier.strip().lower() if "@" in identifier else identifier.strip()
    with open_warehouse(workspace) as con:
        store.ensure(con)
        rows = con.execute("SELECT customer_id, identity_key FROM identities WHERE value = ? "
                           "ORDER BY identity_key LIMIT 1", [value]).fetchall()
        if not rows:
            raise UserError(f"no customer with the identifier {identifier!r}",
                            hint="use an e-mail address, phone number or id the data holds")
        n = store.opt_out(con, customer_id=rows[0][0], identity_key=rows[0][1], source="cli",
                          now=clock.system())
        con.execute("UPDATE survey_invitations SET state = 'opted_out' WHERE customer_id = ? "
                    "AND state IN ('created', 'sent', 'opened')", [rows[0][0]])
    out.print(f"customer {rows[0][0]} opted out ({n} identifier(s) recorded)")


@survey_app.command("followups")
def survey_followups(
    status: Annotated[str | None, typer.Option(help="open, contacted or resolved")] = None,
    workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False,
) -> None:
    """Follow-up items of detractor answers, open ones first."""
    from cxlens.surveys import followups
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace, read_only=True) as con:
        items = followups.list_followups(con, status)
    if as_json:
        emit_json([f.as_dict() for f in items])
        return
    table = Table("id", "status", "survey", "score", "customer", "owner", "comment")
    for f in items:
        table.add_row(str(f.followup_id), f.status, f.survey_id, f"{float(f.score):g}",
                      f.identity_key or "", f.owner or "", (f.comment or "")[:60])
    out.print(table)
