"""Read-only SQL for power users: one SELECT, on a connection opened read-only."""

from __future__ import annotations

import duckdb
import sqlglot
from sqlglot import exp

from cxlens.errors import UserError

_ALLOWED = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.With)


def run_readonly(con: duckdb.DuckDBPyConnection, query: str,
                 limit: int = 1000) -> tuple[list[str], list[tuple]]:
    """Run one SELECT. The connection is read-only too; the parse check gives a clear message."""
    try:
        statements = sqlglot.parse(query, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise UserError(f"cannot parse the query: {exc.errors[0]['description']}",
                        hint="write one SELECT in DuckDB's SQL dialect") from None
    statements = [s for s in statements if s is not None]
    if len(statements) != 1 or not isinstance(statements[0], _ALLOWED):
        raise UserError("only one read-only SELECT is allowed",
                        hint="use SELECT … FROM v_orders, v_events, customers …")
    try:
        rel = con.sql(query)
        cols = list(rel.columns)
        rows = rel.limit(limit).fetchall()
    except duckdb.Error as exc:
        raise UserError(f"the query failed: {str(exc).splitlines()[0]}",
                        hint="SELECT table_name FROM information_schema.tables "
                             "lists the tables") from None
    return cols, rows
