"""Read-only SQL for power users: one SELECT, on a connection opened read-only and shut in.

Read-only is not enough: DuckDB's table functions read any file the process can
(``read_csv('/etc/passwd')``, ``glob('/root/*')``), and a URL makes it try to install and
load the httpfs extension from the internet. :func:`lock_down` turns external access and
extension auto-install/auto-load off and locks the configuration, so the query sees the
warehouse's own tables and nothing else; a query that tries gets a clear message.
"""

from __future__ import annotations

import duckdb
import sqlglot
from sqlglot import exp

from cxlens.errors import UserError

_ALLOWED = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.With)


LOCKDOWN = ("SET enable_external_access = false",
            "SET autoinstall_known_extensions = false",
            "SET autoload_known_extensions = false",
            "SET lock_configuration = true")


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """No files, URLs or extensions beyond the open warehouse, for the rest of ``con``'s life
    (the configuration is locked: the query cannot turn it back on)."""
    for statement in LOCKDOWN:
        con.execute(statement)


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
    if limit < 0:
        raise UserError(f"--limit must be 0 or more, not {limit}", hint="e.g. --limit 100")
    lock_down(con)
    try:
        rel = con.sql(query)
        cols = list(rel.columns)
        rows = rel.limit(limit).fetchall()
    except duckdb.PermissionException:
        raise UserError("the query may read only the warehouse's tables: files, URLs and "
                        "extensions are off in `cxlens sql`",
                        hint="load a file with `cxlens ingest FILE`, then query its table"
                        ) from None
    except duckdb.Error as exc:
        raise UserError(f"the query failed: {str(exc).splitlines()[0]}",
                        hint="SELECT table_name FROM information_schema.tables "
                             "lists the tables") from None
    return cols, rows
