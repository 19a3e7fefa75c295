"""``cxlens collect``: the inbox of events collected over HTTP, from a shell."""

from __future__ import annotations

from pathlib import Path

import typer

from cxlens.cli_common import AsJson, Workspace, emit_json, err, out
from cxlens.config import DEFAULT_WORKSPACE

# ---------------------------------------------------------------------------- collect

collect_app = typer.Typer(help="Events collected over HTTP (/v1/...): flush the inbox, "
                          "see its counts.", no_args_is_help=True)


def _collect_status_local(workspace: Path) -> dict[str, int]:
    from cxlens.ingest import inbox
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace, read_only=True) as con:
        c = inbox.counts(con)
    s = {k: c.get(k, 0) for k in ("pending", "processed", "quarantined")}
    return {**s, "total": sum(c.values())}


def show_collect_status(s: dict[str, int]) -> None:
    for k in ("pending", "processed", "quarantined", "total"):
        out.print(f"  {k:<12} {s.get(k, 0):>12,}")


@collect_app.command("flush")
def collect_flush(workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """Load the pending collected messages now, as ingest batches (the server does this by
    itself every few seconds; while it runs, this asks it to)."""
    from cxlens.web.server import running_server

    server = running_server(workspace)
    if server is not None:
        from cxlens.web.collect import call_server

        if not as_json:
            err.print(f"a cxlens server (pid {server.pid}) holds this workspace: "
                      f"asking it to flush at {server.url}")
        data = call_server(server, "POST", "/flush")
        batches, status_ = data["batches"], data["status"]
    else:
        from cxlens.ingest import inbox
        from cxlens.warehouse.store import open_warehouse

        with open_warehouse(workspace) as con:
            batches = [r.as_dict() for r in inbox.flush(con)]
        status_ = _collect_status_local(workspace)
    if as_json:
        emit_json({"batches": batches, "status": status_})
        return
    if not batches:
        out.print("nothing pending")
    for b in batches:
        out.print(f"batch {b['batch_id']} ({b['kind']}): {b['rows_in']:,} in, "
                  f"{b['loaded']:,} loaded, {b['quarantined']:,} quarantined, "
                  f"{b['duplicates']:,} duplicates")
    show_collect_status(status_)


@collect_app.command("status")
def collect_status(workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """Collected messages in the inbox: pending, processed, quarantined."""
    from cxlens.web.server import running_server

    server = running_server(workspace)
    if server is not None:
        from cxlens.web.collect import call_server

        s = call_server(server, "GET", "")
    else:
        s = _collect_status_local(workspace)
    if as_json:
        emit_json(s)
        return
    out.print(f"[bold]collected messages[/] {workspace.resolve()}")
    show_collect_status(s)
