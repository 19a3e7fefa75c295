"""The ``cxlens`` command: bring data in, look at it, and drive everything from scripts.

Every command takes ``--workspace`` (default ``$CXLENS_WORKSPACE``, else ``./cxlens-data``)
and ``--json`` for machine-readable output. User errors print a message with where and how
to fix, and exit with a non-zero code; they never print a traceback. Larger command groups
live in modules of their own (``cli_collect``, ``cli_survey``, ``cli_experience``) and share
the options of :mod:`cxlens.cli_common`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cxlens import __version__
from cxlens.cli_admin import admin_app
from cxlens.cli_collect import collect_app
from cxlens.cli_common import (
    AsJson,
    EngineName,
    Home,
    Workspace,
    emit_json,
    engine_for,
    err,
    hand_over,
    money_option,
    out,
    progress_bar,
    server_for,
)
from cxlens.cli_demo import demo_app
from cxlens.cli_experience import experience_app
from cxlens.cli_journeys import journeys_app
from cxlens.cli_lake import lake_app
from cxlens.cli_marketing import marketing_app
from cxlens.cli_survey import survey_app
from cxlens.cli_text import text_app
from cxlens.cli_value import value_app
from cxlens.cli_workspace import workspace_app
from cxlens.config import DEFAULT_WORKSPACE
from cxlens.errors import MappingUnsure, UserError
from cxlens.schema import KINDS

app = typer.Typer(
    help="cxlens: one customer view from many sources, with honest statistics.\n\n"
    "Start with `cxlens demo run` to load a demo company, or `cxlens ingest FILE --kind orders`.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
quarantine_app = typer.Typer(help="Rows that failed validation (list, show, retry), and "
                             "field warnings.", no_args_is_help=True)
customer_app = typer.Typer(help="Look up one customer.", no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(customer_app, name="customer")
app.add_typer(demo_app, name="demo")
app.add_typer(admin_app, name="admin")
app.add_typer(experience_app, name="experience")
app.add_typer(journeys_app, name="journeys")
app.add_typer(marketing_app, name="marketing")
app.add_typer(collect_app, name="collect")
app.add_typer(survey_app, name="survey")
app.add_typer(lake_app, name="lake")
app.add_typer(value_app, name="value")
app.add_typer(text_app, name="text")
app.add_typer(workspace_app, name="workspace")


# ----------------------------------------------------------------------------- ingest


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV, Excel, JSON/NDJSON or Parquet export.")],
    kind: Annotated[str | None, typer.Option(
        "--kind", "-k", help=f"What the file holds: {'|'.join(KINDS)}.")] = None,
    preset: Annotated[str | None, typer.Option(
        help="A known export format (see `cxlens presets`).")] = None,
    mapping: Annotated[Path | None, typer.Option(help="A mapping YAML (docs/mapping.md).")] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet to read.")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter; sniffed if absent.")] = None,
    encoding: Annotated[str | None, typer.Option(help="File encoding; sniffed if absent.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before loading.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Validate and count, load nothing.")] = False,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Load one export file as one batch (validated, deduplicated, identities linked).

    Without --preset or --mapping, a matching preset is detected from the header, or a
    mapping is proposed (English, Finnish and Swedish column names) and shown first.
    """
    from cxlens.ingest.load import Plan
    from cxlens.ingest.load import ingest as run_ingest
    from cxlens.sources.readers import ReadOptions
    from cxlens.warehouse.store import open_warehouse

    if kind is not None and kind not in KINDS:
        raise UserError(f"unknown kind {kind!r}", hint=f"use one of: {', '.join(KINDS)}")
    interactive = sys.stdin.isatty() and not yes and not as_json

    def confirm(p: Plan) -> bool:
        if not as_json:
            show_plan(p)
        if not interactive or p.how in ("preset", "mapping"):
            return True
        return typer.confirm("Load with this mapping?", default=True)

    from cxlens.web.server import running_server

    server = running_server(workspace)
    if server is not None:  # the server holds the warehouse: it does the work (docs/web.md)
        result = _ingest_via_server(server, file, kind, preset, mapping, sheet, delimiter,
                                    encoding, dry_run, as_json)
        if as_json:
            emit_json(result.as_dict())
        else:
            show_result(result)
        return
    with open_warehouse(workspace) as con, progress_bar(not as_json) as bar:
        task = bar.add_task("starting", total=1.0)
        result = run_ingest(
            con, file, kind, preset=preset, mapping_file=mapping,
            read=ReadOptions(delimiter=delimiter, encoding=encoding, sheet=sheet),
            progress=lambda step, frac: bar.update(task, description=step, completed=frac),
            confirm=confirm, dry_run=dry_run,
        )
    if as_json:
        emit_json(result.as_dict())
        return
    show_result(result)


def show_plan(p: Any) -> None:
    m = p.mapping
    t = Table(title=f"{p.staged.source_name} → {m.kind} ({p.how}: {m.label})",
              title_justify="left")
    t.add_column("field")
    t.add_column("from")
    t.add_column("match", justify="right")
    scores = {x.field: x.score for x in p.proposal.matches} if p.proposal else {}
    for f, r in m.columns.items():
        src = repr(r.column) if r.column else f"= {r.value!r}"
        t.add_row(f, src, f"{scores[f]:.0f}" if f in scores else "")
    err.print(t)
    used = {r.column for r in m.columns.values() if r.column}
    rest = [c for c in p.staged.columns if c not in used]
    if rest:  # repeated headers appear here with their suffix (Company name_2), mappable
        err.print("not mapped (kept as properties): " + escape(", ".join(rest)))
    read = [f"encoding {p.staged.encoding}" if p.staged.encoding else "",
            f"delimiter {p.staged.delimiter!r}" if p.staged.delimiter else "",
            f"sheet {p.staged.sheet!r}" if p.staged.sheet else ""]
    if any(read):
        err.print("read with " + ", ".join(x for x in read if x))
    for f in getattr(p, "formats", []):  # how each number and date column is read
        err.print("format: " + escape(f))


def show_result(r: Any) -> None:
    if r.batch_id is None and not r.dry_run:
        out.print("nothing loaded")
        return
    head = "dry run (nothing loaded)" if r.dry_run else f"batch {r.batch_id}"
    out.print(f"[bold]{head}[/]: {r.file} → {r.kind}")
    out.print(f"  rows in      {r.rows_in:>12,}")
    changed = f"  ({r.changed:,} changed)" if r.changed else ""
    out.print(f"  loaded       {r.loaded:>12,}{changed}")
    out.print(f"  quarantined  {r.quarantined:>12,}")
    out.print(f"  duplicates   {r.duplicates:>12,}")
    if r.skipped:
        out.print(f"  skipped      {r.skipped:>12,}  (totals, notes, footers: not data)")
    if r.customers is not None:
        out.print(f"  customers    {r.customers:>12,} in the workspace")
    for note in r.notes:
        out.print(f"  [dim]note: {note}[/]")
    if r.field_warnings:
        out.print(f"  field warnings {sum(r.field_warnings.values()):>10,}  (records kept; "
                  "these values were set empty)")
        for col, n in r.field_warnings.items():
            out.print(f"    {col}: {n:,}")
        out.print("  first ones (`cxlens quarantine warnings` for all):")
        for w in r.field_warning_sample[:5]:
            out.print(f"    line {w['line']}: {w['column']}: {w['reason']} "
                      f"(value {w['value']!r})")
    for s in r.skipped_sample[:5]:
        out.print(f"    line {s['line']}: left out, {s['reason']} (value {s['value']!r})")
    if r.quarantine_sample:
        out.print("  quarantined rows (first ones; `cxlens quarantine list` for all):")
        for q in r.quarantine_sample[:5]:
            out.print(f"    line {q['line']}: {q['reason']}" +
                      (f" (value {q['value']!r})" if q.get("value") is not None else ""))


@app.command()
def presets(as_json: AsJson = False) -> None:
    """List the export formats cxlens knows."""
    from cxlens.ingest.mapping import all_presets

    items = [{"name": m.name, "kind": m.kind, "description": m.description} for m in all_presets()]
    if as_json:
        emit_json(items)
        return
    t = Table("preset", "kind", "description")
    for i in items:
        t.add_row(str(i["name"]), str(i["kind"]), str(i["description"] or ""))
    out.print(t)


# ---------------------------------------------------------------------------- batches


@app.command()
def batches(workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """List the batches loaded into the workspace, with their row counts."""
    from cxlens.warehouse.store import open_warehouse

    keys = ["batch", "kind", "file", "started", "rows_in", "loaded", "changed", "quarantined",
            "duplicates", "skipped", "status"]
    server = server_for(workspace, "list the batches", as_json)
    if server is not None:
        listed = hand_over(server, "GET", "/batches")["batches"]
        rows = [list(b.values()) for b in listed]  # the same columns, in the same order
    else:
        with open_warehouse(workspace, read_only=True) as con:
            rows = con.execute(
                "SELECT batch_id, kind, source_file, started_at, rows_in, loaded, changed, "
                "quarantined, duplicates, skipped, status FROM batches ORDER BY batch_id"
            ).fetchall()
    items = [dict(zip(keys, r, strict=True)) for r in rows]
    if as_json:
        emit_json(items)
        return
    t = Table(*keys)
    for i in items:
        t.add_row(*[f"{v:,}" if isinstance(v, int) and k != "batch" else str(v)
                    for k, v in i.items()])
    out.print(t)


@app.command()
def rollback(
    batch: Annotated[int, typer.Argument(help="Batch number from `cxlens batches`.")],
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Remove one batch: its rows go, the versions it replaced come back."""
    from cxlens.ingest.batches import rollback as do_rollback
    from cxlens.warehouse.store import open_warehouse

    server = server_for(workspace, f"roll back batch {batch}", as_json)
    if server is not None:
        info = hand_over(server, "POST", f"/batches/{batch}/rollback")
    else:
        with open_warehouse(workspace) as con:
            info = do_rollback(con, batch)
    if as_json:
        emit_json(info)
    else:
        out.print(f"batch {batch} rolled back: {info['removed']:,} rows removed, "
                  f"{info['restored']:,} older versions restored")


# ------------------------------------------------------------------------- quarantine


@quarantine_app.command("list")
def quarantine_list(
    batch: Annotated[int | None, typer.Option(help="Only this batch.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="At most this many rows.")] = 50,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Rows that failed validation, with file, line, column and reason."""
    from cxlens.ingest.batches import quarantined
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace, read_only=True) as con:
        rows = quarantined(con, batch=batch, limit=limit)
    if as_json:
        emit_json(rows)
        return
    t = Table("batch", "file", "line", "column", "value", "reason")
    for r in rows:
        t.add_row(str(r["batch"]), Path(str(r["file"])).name, str(r["line"]),
                  str(r["column"] or ""), str(r["value"] or ""), str(r["reason"]))
    out.print(t)


@quarantine_app.command("warnings")
def quarantine_warnings(
    batch: Annotated[int | None, typer.Option(help="Only this batch.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="At most this many rows.")] = 50,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Optional values that were invalid and set empty; their records were loaded."""
    from cxlens.ingest.batches import field_warnings
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace, read_only=True) as con:
        rows = field_warnings(con, batch=batch, limit=limit)
    if as_json:
        emit_json(rows)
        return
    t = Table("batch", "file", "line", "column", "value", "reason")
    for r in rows:
        t.add_row(str(r["batch"]), Path(str(r["file"])).name, str(r["line"]),
                  str(r["column"]), str(r["value"] or ""), str(r["reason"]))
    out.print(t)


@quarantine_app.command("show")
def quarantine_show(
    batch: Annotated[int, typer.Argument()],
    line: Annotated[int, typer.Argument()],
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """One quarantined row in full: its reason and every original value."""
    from cxlens.ingest.batches import quarantined
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace, read_only=True) as con:
        rows = quarantined(con, batch=batch, line=line, limit=1)
    if not rows:
        raise UserError(f"no quarantined row at batch {batch} line {line}",
                        hint="see `cxlens quarantine list`")
    r = rows[0]
    if as_json:
        emit_json(r)
        return
    out.print(f"[bold]{r['file']}[/], line {r['line']}: {r['reason']}")
    for k, v in json.loads(str(r["raw"])).items():
        out.print(f"  {k}: {v!r}")


@quarantine_app.command("retry")
def quarantine_retry(
    batch: Annotated[int, typer.Argument(help="Batch whose quarantined rows to retry.")],
    mapping: Annotated[Path | None, typer.Option(help="A corrected mapping YAML.")] = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Validate a batch's quarantined rows again (e.g. with a corrected mapping)."""
    from cxlens.ingest.batches import retry
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace) as con:
        result = retry(con, batch, mapping)
    if as_json:
        emit_json(result.as_dict())
    else:
        show_result(result)


# -------------------------------------------------------------------------- customers


@customer_app.command("show")
def customer_show(
    identifier: Annotated[str, typer.Argument(
        help="Any identifier: e-mail, phone, CRM id, loyalty number, cookie id or customer id.")],
    limit: Annotated[int, typer.Option(min=0, help="Timeline entries to show.")] = 50,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """The unified profile of one customer and their timeline across all sources."""
    from cxlens.analytics.profile import profile

    with engine_for(workspace, engine) as eng:
        p = profile(eng, identifier, limit=limit)
    if as_json:
        emit_json(p)
        return
    c = p["customer"]
    out.print(f"[bold]{c['customer_id']}[/] {c.get('name') or ''}")
    for k in ("email", "phone", "language", "country", "city", "segment", "first_seen",
              "last_seen"):
        if c.get(k) is not None:
            out.print(f"  {k:<11} {c[k]}")
    out.print("  identifiers " + ", ".join(p["identifiers"]))
    s = p["summary"]
    out.print(f"  orders      {s['orders']:,} for {s['revenue']:,.2f} {s['currency']}  "
              f"events {s['events']:,}  feedback {s['feedback']:,}")
    if s["other_currency_orders"]:
        out.print(f"  [dim]{s['other_currency_orders']:,} order(s) in other currencies are "
                  "not in that sum (no conversion)[/]")
    t = Table("when", "source", "what", "detail", title="timeline (newest first)",
              title_justify="left")
    for e in p["timeline"]:
        t.add_row(str(e["ts"]), str(e["source"] or ""), str(e["what"]), str(e["detail"] or ""))
    out.print(t)


@customer_app.command("search")
def customer_search(
    text: Annotated[str, typer.Argument(
        help="Part of a name, an e-mail address, a phone number or an identifier "
             "(at least 3 characters).")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Matches to list.")] = 50,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Customers whose name, e-mail, phone or an identifier holds TEXT, latest seen first
    (the Customers page's search)."""
    from cxlens.analytics.profile import MIN_SEARCH, search_customers

    if len(text.strip()) < MIN_SEARCH:
        raise UserError(f"type at least {MIN_SEARCH} characters to search",
                        hint="or give a whole identifier to `cxlens customer show`")
    with engine_for(workspace, engine) as eng:
        found = search_customers(eng, text, limit=limit)
    if as_json:
        emit_json(found)
        return
    t = Table("customer", "name", "email", "phone", "city", "last seen",
              title=f"{len(found):,} match(es)", title_justify="left")
    for r in found:
        t.add_row(*(escape(str(r[k] or "")) for k in ("customer_id", "name", "email", "phone",
                                                      "city", "last_seen")))
    out.print(t)


# --------------------------------------------------------------------------- overview


@app.command()
def overview(
    days: Annotated[int, typer.Option(help="The period: 30, 90 or 365 days.")] = 90,
    grain: Annotated[str, typer.Option(help="Trend buckets: day, week or month.")] = "week",
    as_of: Annotated[str | None, typer.Option(
        help="Last day of the period, YYYY-MM-DD (default: yesterday, or the last day "
             "with data if the data stop earlier, as on the page).")] = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """The Overview page's numbers: totals, NPS and trends.

    Totals against the period before, the NPS with its interval, and the trends (orders,
    revenue, new and active customers; NPS per month over a year), as the page shows them.
    """
    from dataclasses import asdict
    from datetime import date, timedelta

    from cxlens import clock
    from cxlens.analytics import overview as ov

    if days not in (30, 90, 365):
        raise UserError(f"--days must be 30, 90 or 365, not {days}")
    if grain not in ov.GRAINS:
        raise UserError(f"--grain must be one of {', '.join(ov.GRAINS)}, not {grain!r}")
    try:
        chosen = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise UserError(f"--as-of {as_of!r} is not a date", hint="write YYYY-MM-DD") from None
    with engine_for(workspace, engine) as eng:
        end = ov.chosen_end(eng, chosen, clock.system().date())
        period = ov.period_ending(end.end, days)
        # as on the page: the NPS trend covers a year even when the period is shorter
        nps_period = period if days >= 365 else ov.period_ending(
            period.end - timedelta(days=1), 365)
        money = money_option(workspace, None, None)  # the workspace's currency and rates
        totals = ov.totals(eng, period, money.currency, money.rates)
        nps = ov.nps(eng, period)
        trends = ov.trends(eng, period, grain, money.currency, money.rates)
        nps_trend = ov.nps_trend(eng, nps_period, "month")
    if as_json:
        emit_json({
            "start": period.start, "end": period.end, "days": days, "grain": grain,
            "data_until": end.data_until if end.stale else None,
            "totals": [{"name": c.name, "current": c.current, "previous": c.previous,
                        "delta": c.delta, "pct": c.pct} for c in totals],
            "nps": nps.as_dict(), "min_nps": ov.MIN_NPS_SAMPLE,
            "trends": [asdict(r) for r in trends],
            "nps_trend": [r.as_dict() for r in nps_trend]})
        return
    out.print(f"[bold]{period.start} … {period.end - timedelta(days=1)}[/] "
              f"(against the {days} days before)")
    if end.stale:
        out.print(f"  the data end on {end.data_until}: the period ends on the last day with "
                  "data")
    for c in totals:
        pct = "—" if c.pct is None else f"{c.pct:+.1f} %"
        out.print(f"  {c.name:<11} {c.current:>14,.0f}  {pct:>9}")
    if nps.score is None:
        out.print("  NPS         no answers")
    else:
        out.print(f"  NPS         {nps.score:>14.1f}  [{nps.low:.1f}, {nps.high:.1f}], "
                  f"n {nps.n:,}" + ("  (too small)" if nps.too_small else ""))
    t = Table(grain, "orders", "revenue", "new customers", "active customers",
              title="trends", title_justify="left")
    for r in trends:
        t.add_row(str(r.bucket) + ("" if r.complete else f" ({r.days} d, partial)"),
                  f"{r.orders:,}", f"{r.revenue:,.2f}", f"{r.new_customers:,}",
                  f"{r.active_customers:,}")
    out.print(t)


@app.command()
def insights(
    days: Annotated[int, typer.Option(help="The period: 30, 90 or 365 days.")] = 90,
    as_of: Annotated[str | None, typer.Option(
        help="Last day of the period, YYYY-MM-DD (default: yesterday, or the last day "
             "with data if the data stop earlier, as on the page).")] = None,
    lang: Annotated[str, typer.Option(help="Language of the sentences: en, fi or sv.")] = "en",
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """What stands out, strongest first: the Overview's first section.

    Groups significantly better or worse than the rest, significant changes since the period
    before, the driver that matters most and scores low, the worth of a detractor turned
    promoter, open follow-ups. ``--json`` is ``GET /api/w/{slug}/insights``.
    """
    from datetime import date, timedelta

    from cxlens import clock
    from cxlens.surveys import followups
    from cxlens.warehouse.store import open_warehouse
    from cxlens.web.api.insights import insights_out

    if days not in (30, 90, 365):
        raise UserError(f"--days must be 30, 90 or 365, not {days}")
    if lang not in ("en", "fi", "sv"):
        raise UserError(f"--lang must be en, fi or sv, not {lang!r}")
    try:
        chosen = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise UserError(f"--as-of {as_of!r} is not a date", hint="write YYYY-MM-DD") from None
    with open_warehouse(workspace, read_only=True) as con:
        open_items = followups.counts(con)["open"]
    with engine_for(workspace, engine) as eng:
        found = insights_out(eng, workspace.name, days, chosen, clock.system().date(), lang,
                             open_items)
    if as_json:
        emit_json(found.model_dump(mode="json"))
        return
    end = found.end - timedelta(days=1)
    out.print(f"[bold]{found.start} … {end}[/]")
    if found.data_until:
        out.print(f"  the data end on {found.data_until}: the period ends there")
    if not found.insights and not found.open_followups:
        out.print("  nothing stands out from the noise of the samples")
    for n, i in enumerate(found.insights, start=1):
        out.print(f"{n}. {escape(i.text)}", highlight=False)
    if found.open_followups:
        out.print(f"{len(found.insights) + 1}. {found.open_followups:,} follow-ups of unhappy "
                  "customers are open.")


# -------------------------------------------------------------------------------- sql


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One read-only SELECT (DuckDB dialect).")],
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
    limit: Annotated[int, typer.Option(min=0, help="At most this many rows.")] = 1000,
) -> None:
    """Run a read-only query on the warehouse (tables: v_orders, v_events, customers …)."""
    from cxlens.warehouse.readonly import run_readonly
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace, read_only=True) as con:
        cols, rows = run_readonly(con, query, limit=limit)
    if as_json:
        emit_json([dict(zip(cols, r, strict=True)) for r in rows])
        return
    t = Table(*cols)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    out.print(t)


@app.command()
def status(workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """What the workspace holds: rows per table, customers, open quarantine."""
    from cxlens.warehouse.store import open_warehouse, summary

    server = server_for(workspace, "count the rows", as_json)
    if server is not None:
        s = hand_over(server, "GET", "/summary")["counts"]
    else:
        with open_warehouse(workspace, read_only=True) as con:
            s = summary(con)
    if as_json:
        emit_json(s)
        return
    out.print(f"[bold]workspace[/] {workspace.resolve()}")
    for k, v in s.items():
        out.print(f"  {k:<22} {v:>12,}")


# ------------------------------------------------------------------------------ serve

def _ingest_via_server(server: Any, file: Path, kind: str | None, preset: str | None,
                       mapping: Path | None, sheet: str | None, delimiter: str | None,
                       encoding: str | None, dry_run: bool, quiet: bool) -> Any:
    from dataclasses import fields

    from cxlens.ingest.load import BatchResult
    from cxlens.web.server import ingest_via_server

    if not file.exists():
        raise UserError("file not found", file=str(file), hint="check the path")
    if not quiet:
        err.print(f"a cxlens server (pid {server.pid}) holds this workspace: "
                  f"handing the file to {server.url}")
    data = ingest_via_server(server, file, kind, preset=preset, mapping=mapping, sheet=sheet,
                             delimiter=delimiter, encoding=encoding, dry_run=dry_run)
    names = {f.name for f in fields(BatchResult)}
    return BatchResult(**{k: v for k, v in data.items() if k in names})


@app.command()
def serve(
    home: Home = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on [default 127.0.0.1].")]
    = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [default 8000].")] = None,
) -> None:
    """Run the web app and API (one process; it holds every workspace's warehouse)."""
    from cxlens.web.server import serve as run_server
    from cxlens.web.settings import WebSettings

    settings = WebSettings.load(home=home, host=host, port=port)
    err.print(f"cxlens serving {settings.home} at http://{settings.host}:{settings.port} "
              "(Ctrl-C stops)")
    run_server(settings)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Show the version.")] = False,
) -> None:
    if version:
        out.print(f"cxlens {__version__}")
        raise typer.Exit()


def main() -> None:
    """Entry point: user errors become a message and an exit code, never a traceback.

    Files it creates are private (0600, folders 0700): warehouses, the app database and
    exports hold customer data (``store.PRIVATE_UMASK``)."""
    from cxlens.warehouse.store import private_umask

    private_umask()
    try:
        app(standalone_mode=False)
    except UserError as exc:
        if "--json" in sys.argv:
            emit_json({"ok": False, **exc.as_dict(),
                       **({"proposal": exc.proposal_path} if isinstance(exc, MappingUnsure)
                          else {})})
        else:
            # escape: a message or hint may hold brackets ("pip install 'cxlens[spark]'", a
            # file name) that rich would otherwise take for markup and drop
            where = escape(exc.where + ": ") if exc.where else ""
            err.print(f"[bold red]error:[/] {where}{escape(exc.message)}")
            if exc.hint:
                err.print(f"[yellow]how to fix:[/] {escape(exc.hint)}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted: nothing of the unfinished batch was kept")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except Exception as exc:  # usage errors arrive here in non-standalone mode
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
