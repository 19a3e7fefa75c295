"""``cxlens lake``: the Parquet mirror of the warehouse that Spark reads (docs/engine.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cxlens.cli_common import AsJson, EngineName, Workspace, emit_json, engine_for, err, out
from cxlens.config import DEFAULT_WORKSPACE
from cxlens.errors import UserError

lake_app = typer.Typer(help="The lake: the warehouse mirrored as Parquet for Spark "
                       "(docs/engine.md).", no_args_is_help=True)


@lake_app.command()
def sync(workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False,
         full: Annotated[bool, typer.Option("--full", help="Rewrite every table.")] = False,
         ) -> None:
    """Write the warehouse's current state to the lake (from then on every batch and
    rollback keeps it current)."""
    from cxlens.warehouse import lake
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace, read_only=True) as con:
        result = lake.sync(con, lake.lake_path(workspace), full=full)
    if as_json:
        emit_json(result.as_dict())
        return
    err.print(f"lake version {result.version} at {result.lake} "
              f"({len(result.written)} tables, {result.seconds:.1f} s)")


@lake_app.command()
def query(
    sql: Annotated[str | None, typer.Argument(help="One read-only SELECT (DuckDB dialect).")]
    = None,
    reference: Annotated[str | None, typer.Option(
        "--reference", help="Run a reference query of analytics/queries.py instead "
        "(orders_per_customer, event_gaps, event_paths, sessions, cohort_retention).")] = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = "spark",
    as_json: AsJson = False,
    limit: Annotated[int, typer.Option(min=0, help="At most this many rows.")] = 1000,
) -> None:
    """Run one read-only query on an engine (default: Spark on the lake)."""
    from cxlens.warehouse import lake

    params = None
    if reference is not None:
        from cxlens.analytics.queries import QUERIES

        if reference not in QUERIES:
            raise UserError(f"no reference query {reference!r}",
                            hint=f"choose one of {', '.join(sorted(QUERIES))}")
        sql, params = lake.on_views(QUERIES[reference]), lake.REFERENCE_PARAMS.get(reference)
    if not sql:
        raise UserError("give a query or --reference NAME")
    with engine_for(workspace, engine) as eng:
        if reference is None:
            _no_files(eng)
        try:
            table = eng.query(sql, params)
        except Exception as exc:  # the engines' own errors: DuckDB's and Spark's
            if reference is not None or not _query_error(exc):
                raise
            raise UserError(f"the query failed: {str(exc).strip().splitlines()[0]}",
                            hint="query the lake's tables and views (v_orders, v_events …)"
                            ) from None
    rows = table.slice(0, limit).to_pylist()
    if as_json:
        emit_json({"engine": eng.name, "rows": rows, "total": table.num_rows})
        return
    t = Table(*table.column_names)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r.values()])
    out.print(t)


def _no_files(eng: object) -> None:
    """A query typed by the user reads the warehouse or the lake, never other files: as
    with ``cxlens sql``, DuckDB's external access is locked off, and Spark's SQL on files
    (``SELECT * FROM text.`/etc/passwd```) is turned off."""
    if getattr(eng, "name", "") == "duckdb":
        from cxlens.warehouse.readonly import lock_down

        lock_down(eng.con)  # type: ignore[attr-defined]
    else:
        eng.spark.conf.set("spark.sql.runSQLOnFiles", "false")  # type: ignore[attr-defined]


def _query_error(exc: Exception) -> bool:
    """Is ``exc`` the engine refusing the query (a user error), rather than a bug?"""
    import duckdb

    from cxlens.warehouse.engine import ReadOnlyError

    if isinstance(exc, duckdb.Error | ReadOnlyError | ValueError):
        return True
    try:
        from pyspark.errors import PySparkException
    except ImportError:
        return False
    return isinstance(exc, PySparkException)

