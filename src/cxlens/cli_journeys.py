"""``cxlens journeys``: paths and the process map from a shell or a script.

Only presentation lives here: every number comes from :mod:`cxlens.analytics.journeys`, and
``--json`` prints the same JSON as ``GET /api/w/<slug>/journeys/paths|map``
(:mod:`cxlens.web.api.journeys`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cxlens.cli_common import (
    AsJson,
    EngineName,
    Workspace,
    emit_json,
    engine_for,
    err,
    out,
    parse_day,
)
from cxlens.config import DEFAULT_WORKSPACE
from cxlens.errors import UserError

journeys_app = typer.Typer(help="Customer journeys: the most common paths to and from a "
                           "touchpoint, and the process map.", no_args_is_help=True)

Start = Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")]
End = Annotated[str | None, typer.Option(help="Day after the last, YYYY-MM-DD.")]
Segment = Annotated[str | None, typer.Option(help="Only customers of this segment.")]
Channel = Annotated[str | None, typer.Option(
    help="Only customers with a touchpoint in this channel (web, store, email, support …).")]
Store = Annotated[str | None, typer.Option(help="Only customers with a touchpoint in this "
                                                "store.")]


def _selection(start: str | None, end: str | None, segment: str | None, channel: str | None,
               store: str | None) -> Any:
    from cxlens.analytics.journeys import Selection

    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    if first is not None and last is not None and first >= last:
        raise UserError("--start must be before --end (--end is the day after the last)")
    return Selection(first, last, segment, channel, store)


def _seconds(s: float) -> str:
    """A duration for people: 45 s, 12 min, 5.2 h, 3.1 d."""
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


@journeys_app.command("paths")
def paths_cmd(
    to: Annotated[str | None, typer.Option(
        "--to", help="Paths leading to this touchpoint or outcome (first_purchase, "
                     "answer:detractor …).")] = None,
    from_: Annotated[str | None, typer.Option(
        "--from", help="Paths following from this touchpoint or outcome.")] = None,
    steps: Annotated[int, typer.Option(min=1, max=10, help="Touchpoints per path, the "
                                                           "anchor included.")] = 4,
    top: Annotated[int, typer.Option(min=1, max=1000, help="Paths to list; the rest are "
                                                           "summed as 'other'.")] = 20,
    start: Start = None,
    end: End = None,
    segment: Segment = None,
    channel: Channel = None,
    store: Store = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """The most common paths to or from a touchpoint: repeats in a row collapsed (↻),
    drop-offs (the journey ended without an order) marked. Without --to or --from: how
    journeys start. With --json the same JSON as GET /api/w/<slug>/journeys/paths."""
    from cxlens.analytics.journeys import paths, touchpoints
    from cxlens.web.api.journeys import paths_out

    if to is not None and from_ is not None:
        raise UserError("give --to or --from, not both")
    anchor, direction = (to, "to") if to is not None else (from_, "from")
    sel = _selection(start, end, segment, channel, store)
    with engine_for(workspace, engine) as eng:
        p = paths(eng, anchor, direction, sel, steps=steps, top=top)  # type: ignore[arg-type]
        known = [t.touchpoint for t in touchpoints(eng, sel)] if p.reason and p.customers \
            else []
    if as_json:
        emit_json(paths_out(p).model_dump(mode="json"))
        return
    if p.reason:
        hint = f"  touchpoints there: {', '.join(known[:15])}" if known else ""
        err.print(f"no paths: {p.reason}{hint}")
        return
    what = f"{direction} {anchor}" if anchor else ("journeys' first steps" if direction == "from"
                                                   else "journeys' last steps")
    t = Table("#", "path", "customers", "share", "", title=(
        f"Paths {what}: {p.reached:,} of {p.customers:,} customers"), title_justify="left")
    for i, r in enumerate(p.rows, 1):
        if r.other:
            label, note = "(other paths)", ""
        else:
            label = " → ".join(s + (" ↻" if lp else "") for s, lp in
                               zip(r.steps, r.loops, strict=True))
            note = "drop-off" if r.dropped_off else ("end" if r.ended else "")
        t.add_row(str(i), label, f"{r.customers:,}", f"{100 * r.share:.1f} %", note)
    out.print(t)


@journeys_app.command("map")
def map_cmd(
    start: Start = None,
    end: End = None,
    segment: Segment = None,
    channel: Channel = None,
    store: Store = None,
    top: Annotated[int, typer.Option(min=1, help="Edges to print (--json prints all).")] = 30,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """The process map: which touchpoint directly follows which, how often, for how many
    customers, and the median and 90th-percentile time between. With --json the same JSON
    as GET /api/w/<slug>/journeys/map."""
    from cxlens.analytics.journeys import process_map
    from cxlens.web.api.journeys import map_out

    sel = _selection(start, end, segment, channel, store)
    with engine_for(workspace, engine) as eng:
        m = process_map(eng, sel)
    if as_json:
        emit_json(map_out(m).model_dump(mode="json"))
        return
    if m.reason:
        err.print(f"no map: {m.reason}")
        return
    t = Table("touchpoint", "count", "starts", "ends", title=(
        f"Touchpoints: {m.touchpoints:,} of {m.customers:,} customers"), title_justify="left")
    for n in m.nodes:
        t.add_row(n.touchpoint, f"{n.count:,}", f"{n.starts:,}", f"{n.ends:,}")
    out.print(t)
    e = Table("from", "to", "transitions", "customers", "median", "90 %", title=(
        f"Most common transitions ({min(top, len(m.edges))} of {len(m.edges)})"),
        title_justify="left")
    for x in m.edges[:top]:
        e.add_row(x.source, x.target, f"{x.transitions:,}", f"{x.customers:,}",
                  _seconds(x.median_s), _seconds(x.p90_s))
    out.print(e)
