"""The open-comment results are the same on DuckDB and on Spark over the lake.

A copy of the analysed S demo (the session's ``text_demo`` stays as it is) gets its lake,
which mirrors ``comment_analysis`` and ``text_models`` (docs/engine.md, "The lake"); Spark
reads that lake through ``lake_engine`` in a child session of its own, as the server does,
and the CLI reads it with ``--engine spark``. Every report the CLI and the API give — the
theme report (alone and by group), a theme's comments, the sentiment report, the impacts —
and the aggregates under them must equal DuckDB's on the warehouse.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cxlens.cli import app
from cxlens.text.impact import impacts
from cxlens.text.report import sentiment_report, theme_comments, theme_report
from cxlens.text.themes import comments, trend, volumes
from cxlens.warehouse import lake
from cxlens.warehouse.engine import DuckDBEngine
from helpers import assert_same

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def ws(text_demo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the analysed demo with its lake written (never the session's own)."""
    src, _ = text_demo
    dst = tmp_path_factory.mktemp("text_parity") / "ws"
    dst.mkdir()
    shutil.copy2(src / "warehouse.duckdb", dst / "warehouse.duckdb")
    con = duckdb.connect(str(dst / "warehouse.duckdb"), read_only=True)
    try:
        lake.sync(con, lake.lake_path(dst))
    finally:
        con.close()
    return dst


@pytest.fixture(scope="module")
def both(ws, spark):
    from cxlens.warehouse.spark import lake_engine

    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    try:
        yield DuckDBEngine(con), lake_engine(spark.newSession(), lake.lake_path(ws))
    finally:
        con.close()


@pytest.mark.parametrize("ask", [
    lambda e: volumes(e, metric="nps"),
    lambda e: volumes(e, by="store"),
    lambda e: volumes(e, by="language"),
    lambda e: trend(e),
    lambda e: comments(e, "delivery", limit=10),
], ids=["volumes", "by-store", "by-language", "trend", "comments"])
def test_aggregates_are_equal(both, ask) -> None:
    duck, spark = both
    assert ask(duck).equals(ask(spark))


@pytest.mark.parametrize("ask", [
    lambda e: theme_report(e, metric="nps"),
    lambda e: theme_report(e, metric="csat", by="touchpoint"),
    lambda e: theme_comments(e, "delivery", limit=25),
    lambda e: theme_comments(e, "price", language="fi", metric="nps"),
    lambda e: sentiment_report(e),
    lambda e: [i.to_json() for i in impacts(e, metric="nps")],
], ids=["themes", "themes-by-touchpoint", "comments", "comments-fi", "sentiment", "impacts"])
def test_reports_are_equal(both, ask) -> None:
    duck, spark = both
    want = ask(duck)
    assert want
    assert_same(ask(spark), want)


def test_the_spark_engine_reads_the_mirrored_tables(both) -> None:
    """Spark's answers come from the lake's copy of the analysis, not from an empty table."""
    _, spark = both
    assert {"comment_analysis", "text_models"} <= set(spark.tables())
    n = spark.query("SELECT CAST(count(*) AS BIGINT) AS n FROM comment_analysis")
    assert n.column("n")[0].as_py() > 100


@pytest.mark.parametrize("args", [
    ["text", "themes", "--metric", "nps", "--by", "store"],
    ["text", "comments", "--theme", "delivery", "--limit", "20"],
    ["text", "sentiment"],
], ids=["themes", "comments", "sentiment"])
def test_cli_json_on_spark_equals_duckdb(ws: Path, spark, args: list[str]) -> None:
    def run(engine: str) -> object:
        r = CliRunner().invoke(app, [*args, "-w", str(ws), "--engine", engine, "--json"])
        assert r.exit_code == 0, (args, engine, r.output, r.exception)
        return json.loads(r.output)

    duck = run("duckdb")
    assert duck
    assert_same(run("spark"), duck)


def test_rising_themes_are_equal(both) -> None:
    from datetime import date

    from cxlens.text.alerts import rising_themes

    duck, spark = both
    for period in ("month", "week"):
        got = rising_themes(duck, period, date(2026, 11, 20))
        assert got.tests > 0 and got.comments > 0
        assert got == rising_themes(spark, period, date(2026, 11, 20))
