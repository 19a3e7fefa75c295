"""``cxlens journeys``: paths, the process map, business moments, time to outcome and the
customers behind a moment, from a shell or a script.

Only presentation lives here: every number comes from :mod:`cxlens.analytics.journeys`, and
``--json`` prints the same JSON as ``GET /api/w/<slug>/journeys/<command>``
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
                           "touchpoint, the process map, the business moments, time to "
                           "outcome and the customers behind a moment.", no_args_is_help=True)

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


OUTCOME_HELP = "purchase, repurchase, revenue, promoter or churn."
Within = Annotated[int, typer.Option(min=1, max=3650, help="The horizon: days after the "
                                                          "moment.")]
AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="The data end, YYYY-MM-DD (default: --end, or the day after the last "
                    "touchpoint).")]


def _outcome(text: str, allowed: tuple[str, ...]) -> str:
    if text not in allowed:
        raise UserError(f"--outcome {text!r} is not one of {', '.join(allowed)}",
                        hint="churn is an absence and revenue an amount: time to outcome "
                             "takes purchase, repurchase or promoter" if text in
                        ("churn", "revenue") else None)
    return text


def _num(x: float | None, scale: str) -> str:
    if x is None:
        return "–"
    return f"{x:+.1f} pp" if scale == "percentage points" else f"{x:+,.2f}"


@journeys_app.command("moments")
def moments_cmd(
    outcome: Annotated[str, typer.Option(help=OUTCOME_HELP)] = "purchase",
    within: Within = 90,
    pairs: Annotated[int, typer.Option(min=0, max=50, help="Two-step sequences (A → B) to "
                                                           "rank beside the touchpoints.")] = 10,
    min_customers: Annotated[int, typer.Option(
        min=1, help="Leave out touchpoints met by fewer customers.")] = 30,
    as_of: AsOf = None,
    start: Start = None,
    end: End = None,
    segment: Segment = None,
    channel: Channel = None,
    store: Store = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Business moments: touchpoints and common two-step sequences ranked by their adjusted
    effect on an outcome within --within days (doubly robust, 95 % bootstrap interval),
    beside the naive difference. With --json the same JSON as GET
    /api/w/<slug>/journeys/moments, the covariate balance included."""
    from cxlens.analytics.journeys import OUTCOMES, moments
    from cxlens.web.api.journeys import moments_out

    outcome = _outcome(outcome, OUTCOMES)
    sel = _selection(start, end, segment, channel, store)
    with engine_for(workspace, engine) as eng:
        m = moments(eng, outcome, within, sel, as_of=parse_day(as_of, "--as-of"), pairs=pairs,
                    min_customers=min_customers)
    if as_json:
        emit_json(moments_out(m).model_dump(mode="json"))
        return
    if m.reason:
        err.print(f"no moments: {m.reason}")
        return
    unit = "pp" if m.scale == "percentage points" else m.scale
    t = Table("#", "moment", "met", "compared", f"naive ({unit})", f"effect ({unit})",
              "95 % interval", "balance", title=(
                  f"Moments for {outcome} within {within} days (index times to "
                  f"{m.last_index}, data to {m.end}); effect: {m.estimator}"),
              title_justify="left")
    for i, r in enumerate(m.rows, 1):
        if r.effect is None:
            t.add_row(str(i), r.touchpoint, f"{r.customers:,}", f"{r.comparison:,}",
                      _num(r.naive, m.scale), "–", r.reason or "", "")
            continue
        t.add_row(str(i), r.touchpoint, f"{r.customers:,}", f"{r.comparison:,}",
                  _num(r.naive, m.scale), _num(r.effect, m.scale),
                  f"{_num(r.low, m.scale)} … {_num(r.high, m.scale)}",
                  "ok" if r.balanced else f"max |SMD| {r.max_smd_after:.2f}")
    out.print(t)


@journeys_app.command("survival")
def survival_cmd(
    moment: Annotated[str, typer.Option(help="A touchpoint, or a sequence 'A → B'.")],
    outcome: Annotated[str, typer.Option(help="purchase, repurchase or promoter.")] =
    "purchase",
    within: Within = 90,
    every: Annotated[int, typer.Option(min=1, help="Print every N-th day (--json: all).")] = 7,
    as_of: AsOf = None,
    start: Start = None,
    end: End = None,
    segment: Segment = None,
    channel: Channel = None,
    store: Store = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Time to outcome after a moment: the share still without the outcome day by day
    (Kaplan–Meier), for those who met it and the propensity-weighted comparison, with the
    numbers at risk. With --json the same JSON as GET /api/w/<slug>/journeys/survival."""
    from cxlens.analytics.journeys import survival
    from cxlens.analytics.journeys.survival import EVENTS, Curve, Step
    from cxlens.web.api.journeys import survival_out

    outcome = _outcome(outcome, EVENTS)
    sel = _selection(start, end, segment, channel, store)
    with engine_for(workspace, engine) as eng:
        s = survival(eng, moment, outcome, within, sel, as_of=parse_day(as_of, "--as-of"))
    if as_json:
        emit_json(survival_out(s).model_dump(mode="json"))
        return
    if s.reason:
        err.print(f"no curves: {s.reason}")
        return
    met, comp = s.curves

    def median(c: Curve) -> str:
        def day(v: int | None) -> str:
            return "–" if v is None else str(v)
        return f"{day(c.median_days)} (95 % {day(c.median_low)}–{day(c.median_high)})"

    def share(x: Step) -> str:
        return f"{100 * x.survival:.1f} % ({100 * x.low:.1f}–{100 * x.high:.1f})"

    t = Table("day", "met: at risk", "met: without (95 %)", "compared: at risk",
              "compared: without (95 %)", title=(
                  f"Time to {outcome} after {moment} (data to {s.end}); median days: met "
                  f"{median(met)}, compared {median(comp)}"),
              title_justify="left")
    for a, b in zip(met.steps, comp.steps, strict=True):
        if a.day % every == 0 or a.day == within:
            t.add_row(str(a.day), f"{a.at_risk:,}", share(a), f"{b.at_risk:,}", share(b))
    out.print(t)


@journeys_app.command("customers")
def customers_cmd(
    moment: Annotated[str, typer.Option(help="A touchpoint, or a sequence 'A → B'.")],
    outcome: Annotated[str, typer.Option(help=OUTCOME_HELP + " Listed: who has not had it "
                                              "(churn and revenue: no purchase).")] =
    "purchase",
    within: Within = 90,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Customers to list.")] = 1000,
    csv_out: Annotated[bool, typer.Option("--csv", help="Print CSV: customer_id, met_at, "
                                                        "days_since, open.")] = False,
    as_of: AsOf = None,
    start: Start = None,
    end: End = None,
    segment: Segment = None,
    channel: Channel = None,
    store: Store = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Actions: the customers who met a moment and have not (yet) had the outcome within
    --within days, the most recent first — to export (--csv) or hand to a follow-up. With
    --json the same JSON as GET /api/w/<slug>/journeys/customers."""
    import csv
    import sys

    from cxlens.analytics.journeys import OUTCOMES, customers
    from cxlens.web.api.journeys import customers_out

    if csv_out and as_json:
        raise UserError("give --csv or --json, not both")
    outcome = _outcome(outcome, OUTCOMES)
    sel = _selection(start, end, segment, channel, store)
    with engine_for(workspace, engine) as eng:
        a = customers(eng, moment, outcome, within, sel, as_of=parse_day(as_of, "--as-of"),
                      limit=limit)
    if as_json:
        emit_json(customers_out(a).model_dump(mode="json"))
        return
    if csv_out:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["customer_id", "met_at", "days_since", "open"])
        for c in a.customers:
            w.writerow([c.customer_id, c.met_at.isoformat(sep=" "), c.days_since,
                        "true" if c.open else "false"])
        if a.total > len(a.customers):
            err.print(f"{len(a.customers):,} of {a.total:,} listed (raise --limit for more)")
        return
    if a.reason:
        err.print(f"no customers: {a.reason}")
        return
    t = Table("customer", "met it (UTC)", "days since", "", title=(
        f"{a.total:,} of {a.met:,} who met {moment} had no {outcome} within {within} days "
        f"(data to {a.end}); {len(a.customers):,} listed"), title_justify="left")
    for c in a.customers:
        t.add_row(c.customer_id, c.met_at.isoformat(sep=" ", timespec="minutes"),
                  str(c.days_since), "horizon open" if c.open else "")
    out.print(t)
