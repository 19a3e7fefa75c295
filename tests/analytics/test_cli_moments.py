"""`cxlens journeys moments|survival|customers` on the S demo: sensible rankings, tables,
CSV and JSON, and clear messages for bad input (exit code 2, no traceback)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.errors import UserError

runner = CliRunner()


def _run(ws, *args: str, code: int = 0) -> str:
    """The command's stdout (and stderr) when it exits with ``code``; a UserError's message
    (``main()`` prints it and exits with 2; the runner shows the exception)."""
    r = runner.invoke(app, ["journeys", *args, "-w", str(ws)])
    if isinstance(r.exception, UserError):
        assert code == 2, r.exception
        return str(r.exception) + "\n" + str(r.exception.hint or "")
    assert r.exit_code == code, r.output
    return r.output


def _stdout(ws, *args: str) -> str:
    r = runner.invoke(app, ["journeys", *args, "-w", str(ws)])
    assert r.exit_code == 0, r.output
    return r.stdout


def test_moments_on_the_demo(demo) -> None:
    ws, _ = demo
    body = json.loads(_run(ws, "moments", "--outcome", "repurchase", "--pairs", "2", "--json"))
    assert body["scale"] == "percentage points" and body["reason"] is None
    rows = body["moments"]
    estimated = [r for r in rows if r["effect"] is not None]
    assert estimated and all(r["low"] <= r["effect"] <= r["high"] for r in estimated)
    assert [r["effect"] for r in estimated] == sorted((r["effect"] for r in estimated),
                                                      reverse=True)
    assert all(r["reason"] for r in rows if r["effect"] is None)
    assert all(r["reason_code"] for r in rows if r["effect"] is None)
    assert all(r["reason_code"] is None for r in estimated) and body["reason_code"] is None
    assert sum(r["sequence"] for r in rows) <= 2
    table = _run(ws, "moments", "--outcome", "revenue", "--pairs", "0")
    assert "effect" in table and "EUR" in table


def test_survival_and_customers_on_the_demo(demo) -> None:
    ws, _ = demo
    s = json.loads(_run(ws, "survival", "--moment", "support_ticket", "--within", "60",
                        "--json"))
    assert [c["group"] for c in s["curves"]] == ["met", "comparison"]
    assert all(len(c["steps"]) == 61 for c in s["curves"])
    assert all(x["low"] <= x["survival"] <= x["high"] for c in s["curves"] for x in c["steps"])
    assert all("median_low" in c and "median_high" in c for c in s["curves"])
    assert s["reason_code"] is None
    text = _run(ws, "survival", "--moment", "support_ticket")
    assert "at risk" in text and "(95 %" in text
    text = _stdout(ws, "customers", "--moment", "support_ticket", "--limit", "5", "--csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert 0 < len(rows) <= 5 and set(rows[0]) == {"customer_id", "met_at", "days_since",
                                                   "open"}


def test_bad_input_is_a_message(demo) -> None:
    ws, _ = demo
    assert "not one of" in _run(ws, "moments", "--outcome", "sales", code=2)
    assert "churn is an absence" in _run(ws, "survival", "--moment", "x", "--outcome",
                                         "churn", code=2)
    assert "not a date" in _run(ws, "moments", "--as-of", "1.1.2026", code=2)
    assert "--within" in _run(ws, "moments", "--within", "0", code=2)
    assert "no touchpoints" in _run(ws, "moments", "--segment", "nobody")
    body = json.loads(_run(ws, "moments", "--segment", "nobody", "--json"))
    assert body["reason_code"] == "no_touchpoints"
    assert "met 'no_such'" in _run(ws, "customers", "--moment", "no_such")
    assert "not both" in _run(ws, "customers", "--moment", "x", "--csv", "--json", code=2)


@pytest.mark.spark
def test_a_spark_query_past_its_time_is_exit_code_2(demo, tmp_path) -> None:
    """On a real local Spark (its own JVM, as a user runs the command), a time limit far
    below what the query needs: a message naming ``CXLENS_SPARK_TIMEOUT``, exit code 2, no
    traceback, and the process ends though Spark's job was stuck mid-way."""
    import os
    import shutil
    import subprocess
    import sys

    src, _ = demo
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy2(src / "warehouse.duckdb", ws / "warehouse.duckdb")
    r = subprocess.run([sys.executable, "-m", "cxlens.cli", "journeys", "survival", "--moment",
                        "support_ticket", "--engine", "spark", "-w", str(ws)],
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, "CXLENS_SPARK": "local[1]",
                            "CXLENS_SPARK_TIMEOUT": "0.05"})
    assert r.returncode == 2, r.stderr
    assert "did not finish within 0.05 s" in r.stderr and "CXLENS_SPARK_TIMEOUT" in r.stderr
    assert "Traceback" not in r.stderr
