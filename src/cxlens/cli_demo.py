"""``cxlens demo``: write the demo company's exports, or write and load them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cxlens.cli_common import AsJson, Workspace, emit_json, out, progress_bar
from cxlens.config import DEFAULT_WORKSPACE
from cxlens.errors import UserError

demo_app = typer.Typer(help="The demo company: generate its exports and load them.",
                       no_args_is_help=True)
DemoDay = Annotated[str | None, typer.Option(
    "--today", help="The demo company's today, YYYY-MM-DD: its data end the day before "
    "(default: today, UTC). The same day gives the same files; another day moves every date.")]


def _demo_day(value: str | None) -> date:
    """The demo's today, read here at the edge: the given day or the clock's."""
    from cxlens import clock

    if value is None:
        return clock.system().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--today {value!r} is not a date", hint="write YYYY-MM-DD") from None


@demo_app.command("generate")
def demo_generate(
    size: Annotated[str, typer.Option(help="S (tests), M (~1 M events), L (~10 M events).")] = "S",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 7,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the export files.")] = Path(
        "demo-data"),
    today: DemoDay = None,
    as_json: AsJson = False,
) -> None:
    """Write the demo company's exports (HubSpot, Shopify, GA4 …) into a folder."""
    manifest = _generate(size, seed, out_dir, as_json, _demo_day(today))
    if as_json:
        emit_json({"files": [{"path": str(f.path), "kind": f.kind, "preset": f.preset}
                             for f in manifest.files]})
    else:
        for f in manifest.files:
            out.print(f"  {f.path}  ({f.kind}, preset {f.preset})")


def _generate(size: str, seed: int, out_dir: Path, quiet: bool, today: date) -> Any:
    from cxlens.demo import generate

    size = size.upper()
    if size not in ("S", "M", "L"):
        raise UserError(f"unknown size {size!r}", hint="use S, M or L")
    with progress_bar(not quiet) as bar:
        task = bar.add_task("generating", total=1.0)
        return generate(out_dir, size=size, seed=seed, today=today,
                        progress=lambda step, frac: bar.update(task, description=step,
                                                               completed=frac))


@demo_app.command("run")
def demo_run(
    size: Annotated[str, typer.Option(help="S, M or L.")] = "M",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the export files.")] = Path(
        "demo-data"),
    surveys: Annotated[bool, typer.Option(
        help="Also run a survey programme: invitations, answers, follow-ups.")] = True,
    workspace: Workspace = DEFAULT_WORKSPACE,
    today: DemoDay = None,
    as_json: AsJson = False,
) -> None:
    """Generate the demo company and ingest every file through the real ingest path.

    Its data end the day before ``--today`` (default: the real today), and its survey
    programme runs on that day, so the demo always looks current."""
    import time

    from cxlens.demo import survey_loop
    from cxlens.ingest.load import ingest as run_ingest
    from cxlens.warehouse.store import open_warehouse, summary

    t0 = time.perf_counter()
    day = _demo_day(today)
    manifest = _generate(size, seed, out_dir, as_json, day)
    results = []
    with open_warehouse(workspace) as con:
        for f in manifest.files:
            with progress_bar(not as_json) as bar:
                task = bar.add_task(f.path.name, total=1.0)
                r = run_ingest(con, f.path, f.kind, preset=f.preset,
                               progress=lambda s, x, t=task, b=bar: b.update(t, completed=x))
            results.append(r)
        loop = survey_loop.run(con, workspace, seed, day) if surveys else None
        s = summary(con)
    took = time.perf_counter() - t0
    if as_json:
        emit_json({"batches": [r.as_dict() for r in results], "summary": s,
                   "surveys": loop.as_dict() if loop else None,
                   "workspace": str(workspace), "seconds": round(took, 1)})
        return
    t = Table("file", "kind", title="rows in = loaded + quarantined + duplicates",
              title_justify="left")
    for col in ("rows in", "loaded", "quarantined", "duplicates"):
        t.add_column(col, justify="right")
    for r in results:
        t.add_row(Path(r.file).name, r.kind, f"{r.rows_in:,}", f"{r.loaded:,}",
                  f"{r.quarantined:,}", f"{r.duplicates:,}")
    out.print(t)
    if loop:
        out.print(f"surveys: {loop.invitations:,} invitations sent, {loop.opened:,} opened, "
                  f"{loop.answered:,} answered, {loop.opted_out:,} opted out, "
                  f"{loop.followups:,} follow-ups")
    out.print(f"\n[bold]demo loaded[/] into {workspace.resolve()} in {took:.0f} s")
    for k, v in s.items():
        out.print(f"  {k:<22} {v:>12,}")
    out.print("\nfrom a shell (when no server holds the workspace):")
    out.print("      .venv/bin/cxlens status -w " + str(workspace))
    out.print("      .venv/bin/cxlens quarantine list -w " + str(workspace))
    out.print("      .venv/bin/cxlens sql \"SELECT channel, count(*) FROM v_events GROUP BY 1\" "
              f"-w {workspace}")
