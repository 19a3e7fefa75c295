"""``cxlens survey …`` in-process: add, triggers, run (idempotent, dry run), links, opt-out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from survey_data import NPS_TRIGGER, build_warehouse
from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.errors import UserError


def cx(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_survey_commands_end_to_end(tmp_path: Path) -> None:
    ws = tmp_path / "acme"
    build_warehouse(ws, trigger_yaml=None)
    w = ("--workspace", str(ws))
    added = json.loads(cx("survey", "add", "--builtin", "csat", *w, "--json"))
    assert added[0]["survey"] == "csat" and added[0]["public_link"].startswith("/s/public/acme.")
    rules = tmp_path / "triggers.yml"
    rules.write_text(NPS_TRIGGER, encoding="utf-8")
    cx("survey", "triggers", str(rules), *w)
    dry = json.loads(cx("survey", "run", *w, "--today", "2026-11-28", "--dry-run", "--json"))
    assert dry["total"] == 3 and dry["dry_run"]
    assert json.loads(cx("survey", "run", *w, "--today", "2026-11-28", "--json"))["total"] == 3
    assert json.loads(cx("survey", "run", *w, "--today", "2026-11-28", "--json"))["total"] == 0
    assert "opted out" in cx("survey", "optout", "Bert@Example.se", *w)
    out = tmp_path / "links.csv"
    cx("survey", "links", "--out", str(out), "--base-url", "https://cx.example.fi", *w,
       "--today", "2026-11-28")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["email"] for r in rows] == ["anna@example.fi", "carl@example.com"]
    listed = json.loads(cx("survey", "list", *w, "--json"))
    assert listed["invitations"] == {"sent": 2, "opted_out": 1}
    assert json.loads(cx("survey", "followups", *w, "--json")) == []


def test_send_to_an_smtp_server_that_does_not_answer(tmp_path: Path) -> None:
    from served import free_port

    ws = tmp_path / "acme"
    build_warehouse(ws)
    cx("survey", "run", "--workspace", str(ws), "--today", "2026-11-28")  # three invitations
    result = CliRunner().invoke(app, [
        "survey", "send", "--workspace", str(ws), "--today", "2026-11-28",
        "--base-url", "https://cx.example.fi", "--smtp-host", "127.0.0.1",
        "--smtp-port", str(free_port()), "--from", "kysely@acme.fi"],
        env={"CXLENS_SMTP_STARTTLS": "0"})
    # A UserError: `cxlens` prints its message and hint and exits with 2, no traceback.
    assert isinstance(result.exception, UserError), result.output
    assert "the SMTP server 127.0.0.1:" in result.exception.message
    listed = json.loads(cx("survey", "list", "--workspace", str(ws), "--json"))
    assert "sent" not in listed["invitations"]  # nothing was marked sent
