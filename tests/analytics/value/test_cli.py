"""``cxlens value fit`` prints what ``fit_value`` computes: with --json the API's JSON."""

from __future__ import annotations

import json

import time_machine
from typer.testing import CliRunner

from cxlens.analytics.value.models import fit_value
from cxlens.cli import app
from cxlens.demo.calendar import DEFAULT_TODAY
from cxlens.errors import UserError
from cxlens.warehouse.store import open_engine
from cxlens.web.api.value import value_fit_out

runner = CliRunner()


def test_json_is_the_apis_and_the_table_names_the_parameters(demo) -> None:
    ws, _ = demo
    with time_machine.travel(DEFAULT_TODAY, tick=False):
        r = runner.invoke(app, ["value", "fit", "-w", str(ws), "--json"])
        table = runner.invoke(app, ["value", "fit", "-w", str(ws), "--model", "paretonbd"])
    assert r.exit_code == 0, r.output
    with open_engine(ws) as eng:
        expected = value_fit_out(fit_value(eng, DEFAULT_TODAY)).model_dump(mode="json")
    assert json.loads(r.output) == expected
    assert table.exit_code == 0, table.output
    assert "paretonbd (chosen by request)" in table.output and "beta" in table.output


def test_bad_options_are_clear(demo) -> None:
    ws, _ = demo
    for args, text in ((["--model", "lifetimes"], "not a model"),
                       (["--rate", "SEK"], "CUR=RATE"),
                       (["--end", "31.12.2026"], "not a date")):
        r = runner.invoke(app, ["value", "fit", "-w", str(ws), *args])
        # main() prints a UserError as a message with its exit code (tests/test_cli.py)
        assert isinstance(r.exception, UserError) and text in str(r.exception), args
