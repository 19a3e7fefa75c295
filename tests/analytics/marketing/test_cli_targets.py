"""``cxlens marketing targets`` on the S demo: the API's JSON, the CSV in the API's columns
(formula-safe), the table, and a UserError (exit code 2 from ``main()``) for bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.errors import UserError
from cxlens.warehouse.store import open_warehouse
from cxlens.web.api.targets import TARGET_CSV_COLUMNS, TargetsOut

runner = CliRunner()


def _run(ws: Path, *args: str) -> str:
    r = runner.invoke(app, ["marketing", "targets", "-w", str(ws), *args])
    assert r.exit_code == 0, r.output
    return r.output


def test_lookalikes_as_json_csv_and_a_table(demo) -> None:
    ws, _ = demo
    body = json.loads(_run(ws, "--segment", "lookalike", "--top", "15", "--json"))
    TargetsOut.model_validate(body)  # the API's model
    assert body["ok"] and body["segment"] == "lookalike" and len(body["rows"]) == 15
    assert body["lookalike"]["auc"]["value"] > 0.5 and body["score"] == "p_best"
    rows = list(csv.reader(io.StringIO(_run(ws, "--segment", "lookalike", "--top", "15",
                                            "--csv"))))
    assert rows[0] == list(TARGET_CSV_COLUMNS)
    assert [r[0] for r in rows[1:]] == [c["customer_id"] for c in body["rows"]]
    assert rows[1][2] == body["rows"][0]["email"]
    table = _run(ws, "--segment", "lookalike", "--top", "5")
    assert "look-alikes of the best customers" in table and "held-out AUC" in table


def test_the_value_list(demo) -> None:
    ws, _ = demo
    body = json.loads(_run(ws, "--segment", "value", "--top", "10", "--top-share", "0.1",
                           "--json"))
    assert body["score"] == "clv" and body["rows"] and body["top_share"] == 0.1
    clvs = [c["clv"] for c in body["rows"]]
    assert clvs == sorted(clvs, reverse=True) and body["model"] in ("bgnbd", "paretonbd")


@pytest.mark.parametrize(("args", "msg"), [
    (["--segment", "vip"], "is not a segment"),
    (["--json", "--csv"], "exclude each other"),
    (["--currency", "euro"], "is not a currency code"),
    (["--rate", "SEK"], "is not CUR=RATE"),
])
def test_bad_options_are_a_user_error(demo, args, msg) -> None:
    ws, _ = demo
    r = runner.invoke(app, ["marketing", "targets", "-w", str(ws), *args])
    assert isinstance(r.exception, UserError) and msg in str(r.exception)


def test_a_workspace_without_orders_says_so(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "ws"):
        pass
    r = runner.invoke(app, ["marketing", "targets", "-w", str(tmp_path / "ws"),
                            "--segment", "lookalike"])
    assert isinstance(r.exception, UserError) and "no purchases" in str(r.exception)
