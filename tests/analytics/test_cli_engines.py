"""Every analytics command of the CLI on Spark (`--engine spark`, the lake) gives the JSON it
gives on DuckDB (issue 8): numbers to 1e-9 relative, the same rows in the same order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxlens.cli import app
from helpers import assert_same

pytestmark = pytest.mark.spark

COMMANDS = [
    ["experience", "score", "nps", "--by", "country", "--period", "quarter"],
    ["experience", "score", "csat", "--weight-by", "country", "--filter", "channel:web",
     "--filter", "channel:store"],
    ["experience", "changes", "nps", "--by", "store_id", "--period", "month",
     "--as-of", "2026-06-15"],
    ["experience", "drivers", "csat", "--method", "shapley", "--n-boot", "100", "--seed", "7"],
    ["experience", "people", "--min-answers", "10"],
    ["experience", "value", "--days", "60", "--days", "120", "--n-boot", "300", "--seed", "5"],
    ["overview", "--days", "365", "--grain", "month", "--as-of", "2026-06-30"],
]


@pytest.fixture(scope="module")
def ws(demo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the S demo's warehouse: the Spark runs write its lake next to it."""
    src, _ = demo
    dst = tmp_path_factory.mktemp("cli_engines") / "ws"
    dst.mkdir()
    shutil.copy2(src / "warehouse.duckdb", dst / "warehouse.duckdb")
    return dst


def run(ws: Path, args: list[str], engine: str) -> object:
    r = CliRunner().invoke(app, [*args, "-w", str(ws), "--engine", engine, "--json"])
    assert r.exit_code == 0, (args, engine, r.output, r.exception)
    return json.loads(r.output)


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a[:3]))
def test_cli_json_on_spark_equals_duckdb(ws: Path, spark, args: list[str]) -> None:
    duck = run(ws, args, "duckdb")
    assert duck  # a result with content, not an empty answer on both
    assert_same(run(ws, args, "spark"), duck)


def test_customer_show_on_spark_equals_duckdb(ws: Path, spark) -> None:
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(ws, read_only=True) as con:
        email = con.execute("SELECT email FROM customers WHERE email IS NOT NULL "
                            "ORDER BY customer_id LIMIT 1").fetchone()[0]
    args = ["customer", "show", email, "--limit", "20"]
    duck = run(ws, args, "duckdb")
    assert duck["timeline"]
    assert_same(run(ws, args, "spark"), duck)
