"""Journeys (issue 11): the process map against a bare DuckDB query and pm4py, and paths.

    PYTHONPATH=src .venv/bin/python bench/journeys.py --workspace DIR [--label M]
        [--repeat 5] [--from-anchor add_to_cart] [--to-anchor first_purchase]
        [--max-wait 120] [--no-write]

On a loaded workspace (opened read-only; e.g. a copy of the M demo's), in one run:

* **(a)** one bare hand-written DuckDB query, ``lag()`` over ``v_events`` partitioned by
  customer and grouped by (previous, current) event type: the practical limit;
  **(a′)** the same bare query over the journey log's rows (events, tickets, orders and
  answers in the log's order), to tell what the larger log costs from what the map's extra
  outputs (customers per edge, exact median and 90th percentile) cost;
* **(b)** :func:`~cxlens.analytics.journeys.process_map`, target at most 1.5 × (a);
* **(c)** ``pm4py.discover_dfg`` on the same log as a polars LazyFrame and as a pandas
  DataFrame (built beforehand from :func:`journey_log`, not timed), with the same counts as
  (b); target: cxlens at least 5 × faster than the faster of the two;
* **(d)** :func:`~cxlens.analytics.journeys.paths` from and to a touchpoint, target ≤ 5 s
  each; also :func:`journey_log` and :func:`outcomes` for information.

With ``--moments`` it measures part **(e)** instead, in a section of its own:
:func:`~cxlens.analytics.journeys.moments` for one outcome (``--outcome``, ``--within``)
over every touchpoint type and the 10 most common sequences, target ≤ 60 s, with the
seconds spent in the engine's queries beside the total. No peer computes business moments
(pm4py mines processes, lifetimes and PyMC-Marketing model value), so the comparison is
the same call on another copy of cxlens' source (``--base-src``, e.g. the previous main's
``src``), run in the same way::

    PYTHONPATH=src .venv/bin/python bench/journeys.py --moments --workspace DIR --label M
        [--outcome purchase] [--within 90] [--repeat 1] [--base-src DIR]

Each measurement runs in a fresh child process, which gives its peak RSS (target < 4 GB);
inside it the call runs ``--repeat`` times: the table shows the best and the median wall
time, and the median CPU seconds (all threads), which other work on the shared cores
disturbs less than the wall clock. Writes its section of docs/benchmarks.md (one per
``--label``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from common import markers, not_quiet, wait_quiet, write_section

BARE_EVENTS = """SELECT prev, event_type, count(*) AS n FROM (
    SELECT event_type,
           lag(event_type) OVER (PARTITION BY customer_id ORDER BY ts, _batch, _line) AS prev
    FROM v_events WHERE customer_id IS NOT NULL
) GROUP BY ALL"""

TARGET_MAP = 1.5  # (b) / (a)
TARGET_PM4PY = 5.0  # the faster pm4py / (b)
TARGET_PATHS_S = 5.0
TARGET_RSS_GB = 4.0
TARGET_MOMENTS_S = 60.0


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


# ----------------------------------------------------------------------------- child side

def _calls(eng: Any, args: argparse.Namespace) -> dict[str, Callable[[], Any]]:
    """The measurements: name → a call returning something small to report."""
    from cxlens.analytics import journeys as jr
    from cxlens.analytics.journeys._log import WINDOW, log_sql

    log, params = log_sql(jr.Selection())
    bare_log = (f"{log}\nSELECT prev, touchpoint, count(*) AS n FROM (\n"
                f"    SELECT touchpoint, lag(touchpoint) OVER ({WINDOW}) AS prev FROM log\n"
                f") GROUP BY ALL")

    def dfg(m: jr.ProcessMap) -> dict[str, Any]:
        return {"edges": len(m.edges), "dfg": [[e.source, e.target, e.transitions]
                                               for e in m.edges]}

    def described(p: jr.Paths) -> dict[str, Any]:
        return {"reached": p.reached, "paths": len(p.rows),
                "top": " → ".join(p.rows[0].steps) if p.rows else None,
                "top_share": p.rows[0].share if p.rows else None}

    return {
        "a": lambda: {"rows": eng.query(BARE_EVENTS).num_rows},
        "a2": lambda: {"rows": eng.query(bare_log, params).num_rows},
        "b": lambda: dfg(jr.process_map(eng)),
        "d_from": lambda: described(jr.paths(eng, args.from_anchor, "from")),
        "d_to": lambda: described(jr.paths(eng, args.to_anchor, "to")),
        "log": lambda: {"rows": jr.journey_log(eng).num_rows},
        "outcomes": lambda: {"rows": jr.outcomes(eng).num_rows},
    }


def _moments_call(eng: Any, args: argparse.Namespace) -> Callable[[], Any]:
    """moments() over every touchpoint and the common sequences; the engine's queries timed
    on the way (wall and CPU seconds inside ``Engine.query``)."""
    from cxlens.analytics import journeys as jr

    spent = {"wall": 0.0, "cpu": 0.0, "queries": 0}
    query = eng.query

    def timed(sql: str, params: Any = None) -> Any:
        c0, t0 = _cpu(), time.perf_counter()
        try:
            return query(sql, params)
        finally:
            spent["wall"] += time.perf_counter() - t0
            spent["cpu"] += _cpu() - c0
            spent["queries"] += 1

    eng.query = timed

    def call() -> dict[str, Any]:
        spent.update(wall=0.0, cpu=0.0, queries=0)
        m = jr.moments(eng, args.outcome, args.within)
        est = [r for r in m.rows if r.effect is not None]
        return {"moments": len(m.rows), "estimated": len(est),
                "top": est[0].touchpoint if est else None,
                "top_effect": est[0].effect if est else None,
                "effects": {r.touchpoint: [r.naive, r.effect, r.low, r.high] for r in m.rows},
                "sql_wall": spent["wall"], "sql_cpu": spent["cpu"],
                "queries": spent["queries"], "reason": m.reason}

    return call


def _pm4py_call(eng: Any, flavour: str) -> Callable[[], Any]:
    """discover_dfg on the journey log as pm4py reads it (case, activity, timestamp)."""
    import pm4py

    from cxlens.analytics import journeys as jr

    if flavour == "polars_full":
        import polars as pl

        from cxlens.analytics.journeys._log import ORDER, log_sql

        log, params = log_sql(jr.Selection())
        sql = (f"{log}\nSELECT customer_id AS \"case:concept:name\", touchpoint AS "
               f"\"concept:name\", ts AS \"time:timestamp\" FROM log "
               f"ORDER BY customer_id, {ORDER}")

        def full() -> dict[str, Any]:
            frame = pl.from_arrow(eng.query(sql, params)).lazy()
            graph, _, _ = pm4py.discover_dfg(frame)
            return {"edges": len(graph), "dfg": [[a, b, int(n)] for (a, b), n in graph.items()]}

        return full
    df = jr.journey_log(eng).select(["customer_id", "touchpoint", "ts"]).to_pandas()
    df.columns = ["case:concept:name", "concept:name", "time:timestamp"]
    if getattr(df["time:timestamp"].dt, "tz", None) is not None:
        df["time:timestamp"] = df["time:timestamp"].dt.tz_convert("UTC").dt.tz_localize(None)
    if flavour == "polars":
        import polars as pl

        frame: Any = pl.from_pandas(df).lazy()
    else:
        frame = df

    def call() -> dict[str, Any]:
        graph, _, _ = pm4py.discover_dfg(frame)
        return {"edges": len(graph), "dfg": [[a, b, int(n)] for (a, b), n in graph.items()]}

    return call


def child(args: argparse.Namespace) -> None:
    from cxlens.warehouse.store import open_engine

    with open_engine(Path(args.workspace)) as eng:
        if args.child.startswith("c_"):
            call = _pm4py_call(eng, args.child[2:])
        elif args.child.startswith("e"):
            call = _moments_call(eng, args)
        else:
            call = _calls(eng, args)[args.child]
        walls, cpus, result = [], [], None
        for _ in range(args.repeat):
            c0, t0 = _cpu(), time.perf_counter()
            result = call()
            walls.append(time.perf_counter() - t0)
            cpus.append(_cpu() - c0)
    Path(args.child_out).write_text(json.dumps({"walls": walls, "cpus": cpus,
                                                "result": result}), encoding="utf-8")


# ---------------------------------------------------------------------------- parent side

LABELS = {
    "a": "(a) bare DuckDB: `lag()` over `v_events` by customer, grouped",
    "a2": "(a′) the same bare query over the journey log's rows",
    "b": "(b) cxlens `process_map()`",
    "c_polars": "(c) `pm4py.discover_dfg`, polars LazyFrame",
    "c_pandas": "(c) `pm4py.discover_dfg`, pandas DataFrame",
    "c_polars_full": "(c′) the log read from the warehouse into polars + `discover_dfg`",
    "d_from": "(d) `paths(from {from_anchor})`",
    "d_to": "(d) `paths(to {to_anchor})`",
    "log": "`journey_log()` (sessions, 30 min)",
    "outcomes": "`outcomes()` per customer",
    "e": "(e) cxlens `moments()`, this branch",
    "e_base": "(e) the same call, `--base-src` code",
}


def measure(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """One measurement in a fresh child process; its times, peak RSS and the load."""
    load = wait_quiet(args.max_wait)
    with tempfile.TemporaryDirectory(prefix="cxlens-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, __file__, "--child", name, "--child-out", str(out),
               "--workspace", args.workspace, "--repeat", str(args.repeat),
               "--from-anchor", args.from_anchor, "--to-anchor", args.to_anchor,
               "--outcome", args.outcome, "--within", str(args.within)]
        env = dict(os.environ)
        if name == "e_base":
            env["PYTHONPATH"] = args.base_src
        # the child's stdout is pm4py's licence banner on import; results come in the file
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"measurement {name} failed")
        res = json.loads(out.read_text(encoding="utf-8"))
    res.update(name=name, load=load, load_after=round(os.getloadavg()[0], 2),
               best=min(res["walls"]), median=statistics.median(res["walls"]),
               cpu=statistics.median(res["cpus"]),
               peak_gb=usage.ru_maxrss / 1024 / 1024)
    print(f"  {name}: best {res['best']:.3f} s, median {res['median']:.3f} s, "
          f"CPU {res['cpu']:.3f} s, peak {res['peak_gb']:.2f} GB (load {load})", flush=True)
    return res


def _sizes(workspace: str) -> str:
    from cxlens.warehouse.store import open_engine

    with open_engine(Path(workspace)) as eng:
        n = eng.query("SELECT (SELECT count(*) FROM v_events) AS e, "
                      "(SELECT count(*) FROM v_orders) AS o, "
                      "(SELECT count(*) FROM v_feedback) AS f, "
                      "(SELECT count(*) FROM customers) AS c").to_pylist()[0]
    return (f"{n['e']:,} events, {n['o']:,} orders, {n['f']:,} answers, "
            f"{n['c']:,} customers")


def _same(left: dict[str, Any], right: dict[str, Any]) -> bool:
    return ({(a, b): n for a, b, n in left["dfg"]} == {(a, b): n for a, b, n in right["dfg"]})


def report(args: argparse.Namespace, rows: dict[str, dict[str, Any]], sizes: str,
           start_load: float) -> str:
    begin, end = (f"<!-- bench/journeys.py --label {args.label}: begin (generated, do not "
                  "edit by hand) -->", f"<!-- bench/journeys.py --label {args.label}: end -->")
    a, b = rows["a"], rows["b"]
    lines = [begin, f"## Journeys, {args.label} demo: process map, pm4py and paths "
                    f"({date.today().isoformat()})", "",
             f"`PYTHONPATH=src .venv/bin/python bench/journeys.py --workspace "
             f"{args.workspace} --label {args.label} --repeat {args.repeat}` — {sizes}; "
             f"{platform.machine()}, {os.cpu_count()} cores, 1-minute load {start_load} at the "
             f"start. Each row a fresh process; the call run {args.repeat} times in it "
             f"(pm4py: its input frame built first, not timed).", "",
             "| measurement | result | best s | median s | CPU s (median) | peak RSS | load |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in rows.items():
        res = r["result"]
        what = (f"{res['edges']} edges" if "edges" in res else
                f"{res['rows']:,} rows" if "rows" in res else
                f"{res['reached']:,} customers, {res['paths']} rows")
        label = LABELS[name].format(from_anchor=args.from_anchor, to_anchor=args.to_anchor)
        lines.append(f"| {label} | {what} | {r['best']:.3f} | {r['median']:.3f} | "
                     f"{r['cpu']:.3f} | {r['peak_gb']:.2f} GB | {r['load']} |")
    ratio_wall, ratio_cpu = b["best"] / a["best"], b["cpu"] / a["cpu"]
    pm = [rows[k] for k in ("c_polars", "c_pandas") if k in rows]
    lines += ["", "Targets:", "",
              f"- (b) / (a): **{ratio_wall:.2f}×** best wall time, **{ratio_cpu:.2f}×** CPU "
              f"(target ≤ {TARGET_MAP}×) — "
              + ("**met**" if max(ratio_wall, ratio_cpu) <= TARGET_MAP else
                 "met on one measure only" if min(ratio_wall, ratio_cpu) <= TARGET_MAP
                 else "**not met**")
              + f"; against (a′), the same log: {b['best'] / rows['a2']['best']:.2f}× wall, "
                f"{b['cpu'] / rows['a2']['cpu']:.2f}× CPU."]
    if pm:
        fastest = min(pm, key=lambda r: r["cpu"])
        same = all(_same(r["result"], b["result"]) for r in pm)
        speed, speed_cpu = fastest["best"] / b["best"], fastest["cpu"] / b["cpu"]
        lines.append(f"- (c) the faster pm4py ({fastest['name'][2:]}, by CPU) / (b): "
                     f"**{speed:.1f}×** best wall time, **{speed_cpu:.1f}×** CPU "
                     f"(target ≥ {TARGET_PM4PY}×) — "
                     + ("**met**" if min(speed, speed_cpu) >= TARGET_PM4PY else "**not met**")
                     + f"; the same directly-follows counts as cxlens: "
                       f"{'yes' if same else '**no**'}.")
        if "c_polars_full" in rows:
            full = rows["c_polars_full"]
            lines.append(f"- (c′) pm4py with its input read from the warehouse / (b): "
                         f"**{full['best'] / b['best']:.1f}×** best wall time, "
                         f"**{full['cpu'] / b['cpu']:.1f}×** CPU (same counts: "
                         f"{'yes' if _same(full['result'], b['result']) else '**no**'}).")
    worst = max(rows["d_from"]["best"], rows["d_to"]["best"])
    lines.append(f"- (d) paths: slowest {worst:.2f} s (target ≤ {TARGET_PATHS_S} s) — "
                 + ("**met**" if worst <= TARGET_PATHS_S else "**not met**") + ".")
    ours = max((r for n, r in rows.items() if not n.startswith("c")),
               key=lambda r: r["peak_gb"])
    peak = ours["peak_gb"]
    lines.append(f"- Peak RSS of cxlens: {peak:.2f} GB ({ours['name']}; target < "
                 f"{TARGET_RSS_GB} GB) — " + ("**met**" if peak < TARGET_RSS_GB else "**not met**")
                 + (f"; pm4py's: {max(r['peak_gb'] for r in pm):.2f} GB." if pm else "."))
    top = rows["d_from"]["result"]
    lines += ["", f"Most common path from {args.from_anchor}: {top['top']} "
                  f"({100 * (top['top_share'] or 0):.1f} % of the {top['reached']:,} "
                  f"customers who met it)."]
    highest = max(max(r["load"], r["load_after"]) for r in rows.values())
    lines += not_quiet(start_load, f"the times are upper bounds and the ratios less steady "
                                   f"(highest load during the run {highest})")
    lines.append(end)
    return "\n".join(lines)


def _close(left: dict[str, list[Any]], right: dict[str, list[Any]]) -> bool:
    """The same moments with the same numbers to 1e-6 relative (None where the other is)."""
    if set(left) != set(right):
        return False
    return all((u is None) == (v is None) and (u is None or abs(u - v) <= 1e-6 * max(1, abs(u)))
               for k in left for u, v in zip(left[k], right[k], strict=True))


def _agree(left: dict[str, list[Any]], right: dict[str, list[Any]], cols: slice) -> str:
    """How the columns ``cols`` of every moment's [naive, effect, low, high] agree."""
    a = {k: v[cols] for k, v in left.items()}
    b = {k: v[cols] for k, v in right.items()}
    return "identical" if a == b else "equal to 1e-6" if _close(a, b) else "**different**"


def moments_report(args: argparse.Namespace, rows: dict[str, dict[str, Any]], sizes: str,
                   start_load: float) -> str:
    """The (e) section: moments on this branch's code and, if measured, on ``--base-src``."""
    begin, end = markers(f"journeys.py --moments --label {args.label}")
    e = rows["e"]
    res = e["result"]
    base = (f" --base-src {args.base_src}" if "e_base" in rows else "")
    lines = [begin, f"## Journeys, {args.label} demo: business moments ({date.today()})", "",
             f"`PYTHONPATH=src .venv/bin/python bench/journeys.py --moments --workspace "
             f"{args.workspace} --label {args.label} --outcome {args.outcome} --within "
             f"{args.within} --repeat {args.repeat}{base}` — {sizes}; {platform.machine()}, "
             f"{os.cpu_count()} cores, 1-minute load {start_load} at the start. "
             f"`moments(outcome={args.outcome!r}, within={args.within})`: every touchpoint "
             f"met by 30 customers and the 10 most common sequences, 500 bootstrap "
             f"replicates each. Each row a fresh process. No peer computes business moments "
             f"(pm4py mines processes; lifetimes and PyMC-Marketing model value): the "
             f"comparison is the same call on other code.", "",
             "| measurement | moments (estimated) | best s | median s | CPU s (median) | "
             "of which SQL: wall s, CPU s | peak RSS | load |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in rows.items():
        x = r["result"]
        lines.append(f"| {LABELS[name]} | {x['moments']} ({x['estimated']}) | {r['best']:.1f} | "
                     f"{r['median']:.1f} | {r['cpu']:.1f} | {x['sql_wall']:.1f}, "
                     f"{x['sql_cpu']:.1f} | {r['peak_gb']:.2f} GB | {r['load']} |")
    ok = e["best"] <= TARGET_MOMENTS_S
    verdict = (("**met**" if ok else "**not met**") if args.label == "L"
               else "the issue sets it on L")
    lines += ["", "Targets:", "",
              f"- (e) moments: {e['best']:.1f} s best wall time, {e['cpu']:.1f} CPU-s (target "
              f"≤ {TARGET_MOMENTS_S:.0f} s) — {verdict}.",
              f"- Peak RSS: {e['peak_gb']:.2f} GB (target < {TARGET_RSS_GB} GB) — "
              + ("**met**" if e["peak_gb"] < TARGET_RSS_GB else "**not met**") + "."]
    if "e_base" in rows:
        b = rows["e_base"]
        left, right = b["result"]["effects"], res["effects"]
        lines.append(f"- Against the base code: **{b['best'] / e['best']:.1f}×** best wall time, "
                     f"**{b['cpu'] / e['cpu']:.1f}×** CPU; naive and effect of every moment: "
                     f"{_agree(left, right, slice(0, 2))}; intervals: "
                     f"{_agree(left, right, slice(2, 4))}.")
    if res["top"]:
        lines += ["", f"Top moment: {res['top']} ({res['top_effect']:+.1f} on the result's "
                      f"scale; {res['estimated']} of {res['moments']} moments estimated, the rest "
                      f"say why not)."]
    highest = max(max(r["load"], r["load_after"]) for r in rows.values())
    lines += not_quiet(start_load, f"the times are upper bounds (highest load during the run "
                                   f"{highest}); the CPU seconds are the steadier measure")
    lines.append(end)
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workspace", required=True)
    ap.add_argument("--label", default="M")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--from-anchor", default="add_to_cart")
    ap.add_argument("--to-anchor", default="first_purchase")
    ap.add_argument("--max-wait", type=float, default=120.0)
    ap.add_argument("--skip-pm4py", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--moments", action="store_true", help="part (e) only, its own section")
    ap.add_argument("--outcome", default="purchase")
    ap.add_argument("--within", type=int, default=90)
    ap.add_argument("--base-src", help="(e) also on this cxlens source folder")
    ap.add_argument("--child")
    ap.add_argument("--child-out")
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    sizes = _sizes(args.workspace)
    print(f"journeys bench on {args.workspace}: {sizes}", flush=True)
    start_load = wait_quiet(args.max_wait)
    if args.moments:
        rows = {name: measure(name, args)
                for name in ["e", *(["e_base"] if args.base_src else [])]}
        section = moments_report(args, rows, sizes, start_load)
        print(section)
        if not args.no_write:
            write_section(f"journeys.py --moments --label {args.label}", section)
        return
    names = ["a", "a2", "b",
             *([] if args.skip_pm4py else ["c_polars", "c_pandas", "c_polars_full"]),
             "d_from", "d_to", "log", "outcomes"]
    rows = {name: measure(name, args) for name in names}
    section = report(args, rows, sizes, start_load)
    print(section)
    if not args.no_write:
        write_section(f"journeys.py --label {args.label}", section)


if __name__ == "__main__":
    main()
