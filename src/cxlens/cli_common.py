"""What every ``cxlens`` command module shares: the consoles, the common options, JSON output.

Kept apart from :mod:`cxlens.cli` so that command groups in their own modules
(``cli_collect``, ``cli_survey``, ``cli_experience``) can use them without an import cycle.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cxlens.errors import UserError

out = Console()
err = Console(stderr=True)

Workspace = Annotated[Path, typer.Option(
    "--workspace", "-w", envvar="CXLENS_WORKSPACE",
    show_default="$CXLENS_WORKSPACE or ./cxlens-data",
    help="Folder of the workspace (one per company or client).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str, indent=2) + "\n")


def progress_bar(enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]{task.description:<22}"), BarColumn(),
                    TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                    console=err, disable=not enabled, transient=True)


Home = Annotated[Path | None, typer.Option(
    "--home", envvar="CXLENS_HOME", show_default="$CXLENS_HOME or ./cxlens-home",
    help="The server's home folder (app database, workspaces/<slug>/ warehouses).")]


def server_for(workspace: Path, what: str, quiet: bool) -> Any:
    """The running server that holds the workspace, if any: it then does the work, as the
    warehouse's only writer (docs/web.md, "Concurrency")."""
    from cxlens.web.server import running_server

    server = running_server(workspace)
    if server is not None and not quiet:
        err.print(f"a cxlens server (pid {server.pid}) holds this workspace: asking it to "
                  f"{what} at {server.url}")
    return server


def hand_over(server: Any, method: str, path: str,
              body: dict[str, Any] | None = None) -> dict[str, Any]:
    """``method /api/w/{slug}{path}`` on the server with the local token, without ``ok``."""
    from cxlens.web.server import call_api

    data = call_api(server, method, path, body)
    data.pop("ok", None)
    return data


# The engine analytics commands read through (docs/engine.md). Default: Spark when
# $CXLENS_SPARK names a master, else DuckDB on the warehouse file.
EngineName = Annotated[str | None, typer.Option(
    "--engine", help="duckdb (the warehouse file) or spark (the lake, on the master "
    "$CXLENS_SPARK names, default local[2]).", show_default="spark if $CXLENS_SPARK is set, "
    "else duckdb")]


@contextmanager
def engine_for(workspace: Path, engine: str | None = None) -> Iterator[Any]:
    """The :class:`~cxlens.warehouse.engine.Engine` a command reads through: DuckDB on the
    warehouse, read-only; or Spark on the workspace's lake (brought up to date first), its
    session stopped when the command ends if the command started it."""
    import os

    name = (engine or ("spark" if os.environ.get("CXLENS_SPARK") else "duckdb")).lower()
    if name == "duckdb":
        from cxlens.warehouse.store import open_engine

        with open_engine(workspace) as eng:
            yield eng
        return
    if name != "spark":
        from cxlens.errors import UserError

        raise UserError(f"unknown engine {engine!r}", hint="use --engine duckdb or spark")
    from cxlens.warehouse.spark import engine_for as spark_engine_for
    from cxlens.warehouse.spark import require_pyspark

    require_pyspark()
    from pyspark.sql import SparkSession

    # A session this process already runs (a host program, the tests' shared one) is not
    # this command's to stop; one the command started is stopped with it.
    before = SparkSession.getActiveSession()
    eng = spark_engine_for(workspace)
    try:
        yield eng
    finally:
        if before is None:
            eng.spark.stop()


def parse_day(text: str | None, what: str) -> date | None:
    """An option's YYYY-MM-DD day, or a UserError naming the option."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{what} {text!r} is not a date", hint="write YYYY-MM-DD") from None


CurrencyOpt = Annotated[str | None, typer.Option(
    "--currency", help="The reporting currency money is summed in.",
    show_default="the workspace's (cxlens workspace currency), else EUR")]
RatesOpt = Annotated[list[str] | None, typer.Option(
    "--rate", help="Another currency's value in the reporting currency, CUR=RATE "
                   "(repeatable); money in a currency without a rate is refused.",
    show_default="the workspace's rates")]


def money_option(workspace: Path, currency: str | None, rate: list[str] | None) -> Any:
    """The :class:`~cxlens.money.Money` a command sums in: the workspace's settings,
    ``--currency`` and ``--rate`` overriding them (:func:`cxlens.money.resolve`)."""
    from cxlens.money import money_for

    return money_for(workspace, currency, parse_rates(rate or []))


def money_kw(workspace: Path, currency: str | None, rate: list[str] | None) -> dict[str, Any]:
    """``currency=…, rates=…`` for an analytics call (see :func:`money_option`)."""
    m = money_option(workspace, currency, rate)
    return {"currency": m.currency, "rates": dict(m.rates)}


def parse_rates(items: list[str]) -> dict[str, float]:
    """``--rate CUR=RATE`` items as a mapping: one CUR in the chosen currency
    (:func:`cxlens.money.parse_rate_items`, the one parser of rates)."""
    from cxlens.money import parse_rate_items

    return parse_rate_items(items, "--rate")
