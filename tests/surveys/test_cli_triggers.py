"""``cxlens survey triggers`` lists and sets the triggers the Surveys page and the API
change, and ``survey run --json`` reports per step what the page's "Run now" shows."""

from __future__ import annotations

import json
from pathlib import Path

from survey_data import NOW, TODAY, build_warehouse
from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.errors import UserError
from cxlens.surveys import triggers
from cxlens.warehouse.store import open_warehouse


def cx(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_list_set_and_run_from_the_shell(tmp_path: Path) -> None:
    ws = tmp_path / "acme"
    build_warehouse(ws)
    w = ("--workspace", str(ws))
    with open_warehouse(ws) as con:  # as the page's form does
        triggers.put(con, {"id": "ces-ticket", "survey": "ces", "after": "support_ticket",
                           "days": 2, "touchpoint": "support"})
    listed = json.loads(cx("survey", "triggers", *w, "--json"))["triggers"]
    assert [t["id"] for t in listed] == ["nps-purchase", "ces-ticket"]
    assert listed[1] == {"id": "ces-ticket", "survey": "ces", "after": "support_ticket",
                         "days": 2, "quiet_days": 30, "reminder_days": None,
                         "expire_days": 30, "catch_up_days": 3, "touchpoint": "support"}
    assert "ces-ticket" in cx("survey", "triggers", *w)
    day = ("--today", TODAY.isoformat())
    first = json.loads(cx("survey", "run", *w, *day, "--json"))
    assert first["created"] == {"nps-purchase": 3, "ces-ticket": 1}
    again = json.loads(cx("survey", "run", *w, *day, "--json"))
    assert again["total"] == 0
    assert again["skipped"] == {
        "nps-purchase": {"due": 3, "already": 3, "quiet": 0, "opted_out": 0},
        "ces-ticket": {"due": 1, "already": 1, "quiet": 0, "opted_out": 0}}
    with open_warehouse(ws) as con:  # the same function the page and the API call
        assert triggers.run(con, ws, TODAY, dry_run=True, now=NOW).as_dict()["skipped"] == \
            again["skipped"]
    assert "already invited 3" in cx("survey", "run", *w, *day)
    rules = tmp_path / "triggers.yml"
    rules.write_text("triggers: []\n", encoding="utf-8")  # an empty list is valid
    assert "0 trigger(s) set" in cx("survey", "triggers", str(rules), *w)
    assert json.loads(cx("survey", "triggers", *w, "--json")) == {"triggers": []}
    assert "no triggers" in cx("survey", "triggers", *w)


def test_a_refused_file_names_the_key(tmp_path: Path) -> None:
    ws = tmp_path / "acme"
    build_warehouse(ws)
    rules = tmp_path / "triggers.yml"
    rules.write_text("triggers:\n  - {id: t1, survey: nope, after: purchase, days: 1}\n",
                     encoding="utf-8")
    result = CliRunner().invoke(app, ["survey", "triggers", str(rules), "--workspace", str(ws)])
    # A UserError: `cxlens` prints its message and hint and exits with 2, no traceback.
    assert isinstance(result.exception, UserError), result.output
    assert result.exception.message == "no survey 'nope' in this workspace"
    assert result.exception.column == "triggers[0].survey"
