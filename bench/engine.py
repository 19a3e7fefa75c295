"""Spark for real (issue 8): the lake mirror's cost per batch against the batch's ingest, and
the reference queries and the dashboard's analytics on DuckDB and on Spark local, side by side
in one run, with the parity of every result.

    PYTHONPATH=src .venv/bin/python bench/engine.py [--size S|M|L] [--workspace DIR]
        [--today YYYY-MM-DD] [--skip-mirror] [--skip-reference] [--skip-analytics]
        [--spark-conf k=v ...] [--no-write]

1. **The lake.** Without ``--workspace`` (or with a ``DIR`` that holds no warehouse yet) the
   demo of ``--size`` (seed 7) is generated and ingested file by file into a workspace with a
   lake, each batch mirrored by the after-commit hook as in production, the mirror timed
   apart from the ingest (bench/_engine_prep.py); then a full rewrite for comparison. The
   figures are saved in the workspace, so a later ``--workspace DIR`` reuses both the
   warehouse and them (generating and ingesting the L demo takes a long while).
2. **Reference queries** (analytics/queries.py) on the views.
3. **Analytics**: every function the Overview and Experience pages call, with the pages'
   default arguments (Overview: 90 days by week, the NPS trend over a year by month;
   Experience: NPS by touchpoint over 24 months, the value link), and the Drivers and People
   pages' (24 months). "Today" is ``--today`` (default: the demo's as-of date), never the
   calendar.

Each query and function runs on DuckDB (the warehouse file) and on Spark ``local[2]`` (the
lake; first run, which includes reading the Parquet footers, and a second run), and the two
results are compared as the parity tests compare them (tests/helpers.py ``assert_same``:
same rows in the same order, numbers to 1e-9 relative, dataclasses field by field). A
function that fails on an engine is recorded with its error, and the run goes on.

Writes its section of docs/benchmarks.md, one per size (the command, the machine, the load).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from _engine_prep import ingested, prepare, saved
from common import QUIET_LOAD, ROOT, markers, not_quiet, wait_quiet, write_section
from cxlens import clock
from cxlens.analytics import drivers as drv
from cxlens.analytics import experience as exp
from cxlens.analytics import overview as ov
from cxlens.analytics import people as ppl
from cxlens.analytics import weighting as wgt
from cxlens.analytics.queries import QUERIES
from cxlens.demo.calendar import DEFAULT_TODAY as TODAY
from cxlens.warehouse import lake
from cxlens.warehouse.engine import Engine
from cxlens.warehouse.store import open_engine

Call = Callable[[Engine], Any]


def page_calls(today: date) -> list[tuple[str, str, Call]]:
    """(page, call as shown, function of an engine): what each page computes by default,
    as web/pages/overview.py and web/pages/experience.py call it."""
    from cxlens.web.pages.experience import DEFAULT_MONTHS, Window

    period = ov.period_ending(today, 90)  # the Overview's defaults: 90 days, weeks
    nps_period = ov.period_ending(period.end - timedelta(days=1), 365)
    w = Window(DEFAULT_MONTHS, None, clock.fixed(today)())  # Experience: 24 months to today
    window = {"start": w.start, "end": w.end, "weights": None}
    return [
        ("Overview", "totals(90 days)", lambda e: ov.totals(e, period)),
        ("Overview", "nps(90 days)", lambda e: ov.nps(e, period)),
        ("Overview", "trends(90 days, week)", lambda e: ov.trends(e, period, "week")),
        ("Overview", "nps_trend(365 days, month)",
         lambda e: ov.nps_trend(e, nps_period, "month")),
        ("Experience", "weight_keys(nps)", lambda e: wgt.weight_keys(e, "nps")),
        ("Experience", "score(nps, month)",
         lambda e: exp.score(e, "nps", period="month", **window)),
        ("Experience", "score(nps, by touchpoint)",
         lambda e: exp.score(e, "nps", by="touchpoint", **window)),
        ("Experience", "compare_segments(nps, touchpoint)",
         lambda e: exp.compare_segments(e, "nps", by="touchpoint", **window)),
        ("Experience", "score(nps)", lambda e: exp.score(e, "nps", **window)[0]),
        # the demo's NPS answers carry no touchpoint: one more grouping the page offers
        ("Experience", "score(nps, by store_id)",
         lambda e: exp.score(e, "nps", by="store_id", **window)),
        ("Experience", "compare_segments(nps, store_id)",
         lambda e: exp.compare_segments(e, "nps", by="store_id", **window)),
        ("Experience", "value_by_group(90, 180 days)",
         lambda e: exp.value_by_group(e, as_of=None, now=w.now)),
        ("Drivers", "key_drivers(csat, johnson)",
         lambda e: drv.key_drivers(e, start=w.start, end=w.end, method="johnson")),
        ("People", "team_link", lambda e: ppl.team_link(e, w.start, w.end)),
    ]


def reference_calls() -> list[tuple[str, str, Call]]:
    def run(name: str) -> Call:
        sql, params = lake.on_views(QUERIES[name]), lake.REFERENCE_PARAMS.get(name)
        return lambda e: e.query(sql, params)
    return [("reference", name, run(name)) for name in QUERIES]


def table_difference(a: pa.Table, b: pa.Table) -> str | None:
    """Where two Arrow tables differ, by the parity tests' rule (the same schema and rows in
    the same order, floats to 1e-9 relative or 1e-12 absolute, NaN equal to NaN), computed
    in Arrow: ``assert_same`` on Python lists takes 15 GB for the L demo's 10 M events."""
    if a.schema != b.schema:
        return f"schema {a.schema} != {b.schema}"
    if a.num_rows != b.num_rows:
        return f"{a.num_rows:,} != {b.num_rows:,} rows"
    for name in a.column_names:
        x, y = a[name], b[name]
        if pa.types.is_floating(x.type):
            x, y = x.combine_chunks(), y.combine_chunks()
            tol = pc.max_element_wise(
                pc.multiply(pc.max_element_wise(pc.abs(x), pc.abs(y)), 1e-9), 1e-12)
            ok = pc.or_(pc.or_(pc.less_equal(pc.abs(pc.subtract(x, y)), tol).fill_null(False),
                               pc.equal(x, y).fill_null(False)),  # inf = inf
                        pc.or_(pc.and_(pc.is_nan(x), pc.is_nan(y)).fill_null(False),
                               pc.and_(pc.is_null(x), pc.is_null(y))))
            if not pc.all(ok).as_py():
                row = pc.index(ok, False).as_py()
                return f"column {name!r} row {row}: {x[row]} != {y[row]}"
        elif not x.equals(y):
            row: Any = "?"
            if not pa.types.is_nested(x.type):
                ne = pc.or_(pc.not_equal(x, y).fill_null(False),
                            pc.xor(pc.is_null(x), pc.is_null(y)))
                row = pc.index(ne, True).as_py()
            return f"column {name!r} differs (row {row})"
    return None


def parity(left: Any, right: Any) -> str:
    """'yes', or where the two results first differ (by the parity tests' own rule)."""
    if isinstance(left, pa.Table) and isinstance(right, pa.Table):
        diff = table_difference(left, right)
        return "yes" if diff is None else f"**NO** ({diff[:120]})"
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    from helpers import assert_same

    try:
        assert_same(left, right)
    except AssertionError as exc:
        return f"**NO** ({str(exc)[:120]})"
    return "yes"


def size_of(result: Any) -> str:
    if isinstance(result, pa.Table):
        return f"{result.num_rows:,} rows"
    if isinstance(result, list):
        return f"{len(result):,} item{'' if len(result) == 1 else 's'}"
    return type(result).__name__


def timed(fn: Call, eng: Engine) -> tuple[Any, float | None, str | None]:
    t0 = time.perf_counter()
    try:
        result = fn(eng)
    except Exception as exc:  # a failure is a figure too: record it and go on
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return None, None, f"{type(exc).__name__}: {first[:160]}"
    return result, time.perf_counter() - t0, None


def measure(calls: list[tuple[str, str, Call]], duck: Engine, spark: Engine,
            rows: list[dict[str, Any]], after: Callable[[], None]) -> None:
    """Run each call on both engines, appending a row to ``rows`` and calling ``after``
    (which writes the figures so far: an L run takes long, and may be stopped)."""
    for group, name, fn in calls:
        a, d, d_err = timed(fn, duck)
        b, s1, s1_err = timed(fn, spark)
        _, s2, s2_err = timed(fn, spark) if s1_err is None else (None, None, None)
        ok = parity(a, b) if d_err is None and s1_err is None else "—"
        row = {"group": group, "name": name, "size": "" if a is None else size_of(a),
               "duck": d, "spark1": s1, "spark2": s2, "same": ok,
               "error": d_err or s1_err or s2_err, "load": round(os.getloadavg()[0], 2)}
        print(f"  {group:10} {name:36} duck {_s(d)}  spark {_s(s1)} / {_s(s2)}  {ok}"
              f"{'  ' + row['error'] if row['error'] else ''}", flush=True)
        rows.append(row)
        del a, b
        after()


def _s(x: float | None) -> str:
    return "failed" if x is None else f"{x:.2f}"


def spark_engine(ws: Path, conf: dict[str, str]) -> tuple[Any, Engine, str]:
    """A local[2] session with ``conf`` reading the workspace's lake (brought up to date)."""
    from cxlens.warehouse.spark import ensure_lake, lake_engine, local_session

    lake_dir = lake.lake_path(ws)
    ensure_lake(ws, lake_dir)
    t0 = time.perf_counter()
    session = local_session("cxlens-bench", extra_conf=conf)
    started = time.perf_counter() - t0
    heap = session.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory()
    return session, lake_engine(session, lake_dir), (
        f"session start {started:.1f} s, driver heap {heap / 2**30:.1f} GiB")


def lake_size(ws: Path) -> str:
    pointer = lake.current(lake.lake_path(ws))
    if pointer is None:
        return "no lake"
    files = [f for name in pointer["tables"]
             for f in lake.table_dir(lake.lake_path(ws), pointer, name).rglob("*.parquet")]
    mb = sum(f.stat().st_size for f in files) / 2**20
    return f"{len(files):,} Parquet files, {mb:,.0f} MB"


def mirror_lines(figures: dict[str, Any]) -> list[str]:
    rows = figures["batches"]
    ingest_s = sum(r["ingest_s"] for r in rows)
    mirror_s = sum(r["mirror_s"] for r in rows)
    load = figures.get("load")
    lines = [
        f"### The lake mirror per batch (measured {figures['measured']}, "
        + (f"1-minute load {load} at its start)" if load is not None else "load not recorded)"),
        "",
        "Each file one batch; the after-commit hook mirrors the batch's own rows (its "
        "`_seg=<batch>` segments, a file per month written from its rows sorted by "
        "folder), the segments holding rows it superseded, the identities and customers "
        "it touched (their own segment and deletions, found in the warehouse by "
        "`identities.resolved_in`; whole after a batch resolved from scratch) and "
        "`batches`.", "",
        "| file | kind | rows loaded | ingest s | mirror s | mirror / ingest "
        "| ingest CPU s | mirror CPU s | CPU: mirror / ingest |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    cpu = all("mirror_cpu" in r and "ingest_cpu" in r for r in rows)  # older figures lack it

    def cpu_cols(ingest: float | None, mirror: float | None, bold: str = "") -> str:
        if ingest is None or mirror is None:
            return " — | — | — |"
        return (f" {bold}{ingest:.2f}{bold} | {bold}{mirror:.2f}{bold} | "
                f"{bold}{mirror / ingest:.0%}{bold} |")

    for r in rows:
        lines.append(f"| {r['file']} | {r['kind']} | {r['loaded']:,} | {r['ingest_s']:.2f} | "
                     f"{r['mirror_s']:.2f}{' (full)' if r['full'] else ''} | "
                     f"{r['mirror_s'] / r['ingest_s']:.0%} |"
                     + cpu_cols(r.get("ingest_cpu"), r.get("mirror_cpu")))
    ingest_cpu = sum(r["ingest_cpu"] for r in rows) if cpu else None
    mirror_cpu = sum(r["mirror_cpu"] for r in rows) if cpu else None
    verdict = "met" if mirror_s < 0.2 * ingest_s else "**not met**"
    lines += [f"| **all** | | | **{ingest_s:.1f}** | **{mirror_s:.1f}** | "
              f"**{mirror_s / ingest_s:.0%}** |" + cpu_cols(ingest_cpu, mirror_cpu, "**"), "",
              f"Target: mirroring costs under 20 % of the ingest — {verdict} "
              f"({mirror_s / ingest_s:.0%} over all batches"
              + (f"; {mirror_cpu / ingest_cpu:.0%} in CPU seconds, which other work on the "
                 "machine inflates less" if ingest_cpu and mirror_cpu is not None else "")
              + "). A full rewrite "
              f"(`cxlens lake sync --full`) of the same warehouse: "
              f"{figures['full_sync_s']:.1f} s.", ""]
    return lines


def result_lines(title: str, rows: list[dict[str, Any]], first: str) -> list[str]:
    lines = [title, "", f"| {first} | result | DuckDB s | Spark s (1st) | Spark s (2nd) | "
             "same result | load |", "| --- | --- | ---: | ---: | ---: | --- | ---: |"]
    for r in rows:
        name = r["name"] if first == "query" else f"{r['group']}: `{r['name']}`"
        same = r["same"] if r["error"] is None else f"failed: {r['error']}"
        lines.append(f"| {name} | {r['size']} | {_s(r['duck'])} | {_s(r['spark1'])} | "
                     f"{_s(r['spark2'])} | {same} | {r['load']} |")
    timed_rows = [r for r in rows if r["duck"] is not None and r["spark2"] is not None]
    if timed_rows:
        lines += ["", f"Together: DuckDB {sum(r['duck'] for r in timed_rows):.1f} s, Spark "
                      f"{sum(r['spark1'] for r in timed_rows):.1f} s first, "
                      f"{sum(r['spark2'] for r in timed_rows):.1f} s second; "
                      f"{sum(r['same'] == 'yes' for r in rows)} of {len(rows)} equal."]
    return [*lines, ""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="M", choices=["S", "M", "L"])
    ap.add_argument("--workspace", type=Path,
                    help="reuse this workspace and its lake (built here if it has no warehouse)")
    ap.add_argument("--today", type=date.fromisoformat, default=TODAY,
                    help=f"the pages' today (default: the demo's as-of date, {TODAY})")
    ap.add_argument("--skip-mirror", action="store_true")
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--skip-analytics", action="store_true")
    ap.add_argument("--spark-conf", action="append", default=[], metavar="K=V",
                    help="a Spark setting, e.g. spark.driver.memory=4g (repeatable)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    conf = dict(kv.split("=", 1) for kv in args.spark_conf)
    os.environ.pop(lake.LAKE_ENV, None)
    os.environ.pop("CXLENS_SPARK", None)

    load = wait_quiet(120)
    ws = args.workspace or Path(tempfile.mkdtemp(prefix="cxlens-bench-engine-")) / "ws"
    figures = saved(ws) if ingested(ws) else None
    if not ingested(ws):
        print(f"generating and ingesting the {args.size} demo into {ws} …", flush=True)
        figures = prepare(ws, args.size, load=load)
    with open_engine(ws) as duck:
        counts = {r["k"]: r["n"] for r in duck.query(
            "SELECT 'events' AS k, count(*) AS n FROM v_events UNION ALL "
            "SELECT 'orders' AS k, count(*) AS n FROM v_orders UNION ALL "
            "SELECT 'feedback' AS k, count(*) AS n FROM v_feedback").to_pylist()}
    size = figures["size"] if figures else args.size

    ref_rows: list[dict[str, Any]] = []
    ana_rows: list[dict[str, Any]] = []
    spark_note = ""
    command = "PYTHONPATH=src .venv/bin/python bench/engine.py " + " ".join(sys.argv[1:])

    def report(done: bool = False) -> None:
        """Write the section with the figures so far (and print it at the end)."""
        lines = [
            f"## Spark for real, {size} demo: the lake, the reference queries and the "
            f"analytics ({time.strftime('%Y-%m-%d')})", "",
            f"`{command.strip()}` — the {size} demo (seed 7: {counts['events']:,} events, "
            f"{counts['orders']:,} orders, {counts['feedback']:,} answers), today "
            f"{args.today}, {platform.machine()}, {os.cpu_count()} cores, 1-minute load "
            f"{load} at the start (each row below: the load when it ended). Lake: "
            f"{lake_size(ws)}.", ""]
        if not done:
            lines += ["*Partial: written while the run went on.*", ""]
        if spark_note:
            lines += [f"Spark `local[2]` on the lake ({spark_note}"
                      + (", settings " + ", ".join(f"`{k}={v}`" for k, v in conf.items())
                         if conf else "") + "); DuckDB on the warehouse file.", ""]
        if not args.skip_mirror and figures:
            lines += mirror_lines(figures)
        if ana_rows:
            lines += result_lines("### The pages' analytics: DuckDB (warehouse) vs Spark "
                                  "local[2] (lake)", ana_rows, "page: function")
        if ref_rows:
            lines += result_lines("### Reference queries: DuckDB (warehouse) vs Spark "
                                  "local[2] (lake)", ref_rows, "query")
        busiest = max([load] + [r["load"] for r in ref_rows + ana_rows])
        if load >= QUIET_LOAD:
            lines += not_quiet(load, f"the times are upper bounds (highest load during the "
                                     f"run {busiest:.2f})")
        elif busiest >= QUIET_LOAD:
            lines += ["", f"**The load rose to {busiest:.2f} during the run** (other work on "
                          "the same 2 cores): the times are upper bounds."]
        script = f"engine.py --size {size}"
        begin, end = markers(script)
        lines = [x for i, x in enumerate(lines) if x or (i and lines[i - 1])]  # no 2 blanks
        section = "\n".join([begin, *lines, end])
        if done:
            print(section)
        if not args.no_write:
            write_section(script, section)

    if not (args.skip_reference and args.skip_analytics):
        session, sp, spark_note = spark_engine(ws, conf)
        try:
            with open_engine(ws) as duck:
                if not args.skip_analytics:
                    print(f"analytics (today {args.today}):", flush=True)
                    measure(page_calls(args.today), duck, sp, ana_rows, report)
                if not args.skip_reference:
                    print("reference queries:", flush=True)
                    measure(reference_calls(), duck, sp, ref_rows, report)
        finally:
            session.stop()
    report(done=True)


if __name__ == "__main__":
    main()
