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


def test_retention_commands_print_the_apis_json(demo) -> None:
    from cxlens.analytics.value._predict import Horizon
    from cxlens.analytics.value.channels import clv_by_channel
    from cxlens.analytics.value.cohorts import cohorts
    from cxlens.analytics.value.customers import customer_values
    from cxlens.analytics.value.distribution import clv_distribution
    from cxlens.analytics.value.rfm import rfm
    from cxlens.web.api.value import (
        ClvDistributionOut,
        CohortsOut,
        CustomerValuesOut,
        RfmOut,
        WorthsOut,
        result_out,
    )

    ws, _ = demo
    with time_machine.travel(DEFAULT_TODAY, tick=False):
        got = {name: runner.invoke(app, ["value", *args, "-w", str(ws), "--json"])
               for name, args in (("cohorts", ["cohorts", "--by", "channel"]),
                                  ("rfm", ["rfm"]),
                                  ("customers", ["customers", "--top", "7"]),
                                  ("distribution", ["distribution", "--bins", "10"]),
                                  ("channels", ["channels", "--months", "6"]))}
        csv_out = runner.invoke(app, ["value", "customers", "--at-risk", "--csv", "-w",
                                      str(ws)])
        tables = [runner.invoke(app, ["value", c, "-w", str(ws)]).output
                  for c in ("cohorts", "rfm", "customers", "channels", "distribution")]
    for r in got.values():
        assert r.exit_code == 0, r.output
    with open_engine(ws) as eng:
        v = fit_value(eng, DEFAULT_TODAY)
        expected = {
            "cohorts": result_out(CohortsOut, cohorts(eng, DEFAULT_TODAY, by="channel")),
            "rfm": result_out(RfmOut, rfm(eng, DEFAULT_TODAY)),
            "customers": result_out(CustomerValuesOut, customer_values(eng, v, top=7)),
            "distribution": result_out(ClvDistributionOut, clv_distribution(eng, v, bins=10)),
            "channels": result_out(WorthsOut, clv_by_channel(eng, v, horizon=Horizon(6))),
        }
        risk = customer_values(eng, v, at_risk=True)
    for name, model in expected.items():
        assert json.loads(got[name].output) == model.model_dump(mode="json"), name
    lines = csv_out.output.splitlines()
    assert lines[0].startswith("customer_id,channel,first_purchase,last_purchase,orders")
    assert len(lines) == 1 + len(risk.rows) and lines[1].split(",")[0] == risk.rows[0].customer_id
    assert "retention" not in tables[0] and "% of customers who bought" in tables[0]
    assert "champions" in tables[1] and "P(alive)" in tables[2] and "new customer" in tables[3]
    assert "the top 10% hold" in tables[4] and "their CLV (EUR)" in tables[4]


def test_retention_commands_refuse_clearly(demo) -> None:
    ws, _ = demo
    for args, text in ((["cohorts", "--by", "week"], "not a grouping"),
                       (["cohorts", "--channel", "fax"], "choose one of"),
                       (["rfm", "--months", "0"], "between 1 and 60"),
                       (["customers", "--json", "--csv"], "exclude each other"),
                       (["customers", "--discount", "3"], "discount rate"),
                       (["channels", "--by", "store"], "not a grouping"),
                       (["distribution", "--bins", "1"], "out of range")):
        with time_machine.travel(DEFAULT_TODAY, tick=False):
            r = runner.invoke(app, ["value", *args, "-w", str(ws)])
        assert isinstance(r.exception, UserError) and text in str(r.exception), args
