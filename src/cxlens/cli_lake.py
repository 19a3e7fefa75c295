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
        table = eng.query(sql, params)
    rows = table.slice(0, limit).to_pylist()
    if as_json:
        emit_json({"engine": eng.name, "rows": rows, "total": table.num_rows})
        return
    t = Table(*table.column_names)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r.values()])
    out.print(t)
