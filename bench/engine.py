"""Spark for real: the lake mirror's cost per batch against the batch's ingest, and the
reference queries on DuckDB and on Spark local (the lake) side by side, with parity.

    PYTHONPATH=src .venv/bin/python bench/engine.py [--size M|L] [--no-write]

Each demo file is ingested as one batch with the lake kept current, exactly as the
after-commit hook does it (``lake.sync(con, lake, kind=, batch=)``), timed apart from the
ingest. Then a full ``cxlens lake sync`` for comparison, then every reference query of
analytics/queries.py on the views: DuckDB on the warehouse file, Spark ``local[2]`` on the
lake (first run, which includes reading the Parquet footers, and a second run), and whether
the two results are equal (rows sorted, floats to 1e-9). Writes its section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from common import not_quiet, wait_quiet, write_section
from cxlens.analytics.queries import QUERIES
from cxlens.demo import generate
from cxlens.ingest.load import ingest
from cxlens.warehouse import lake
from cxlens.warehouse.store import open_engine, open_warehouse


def same(a: pa.Table, b: pa.Table) -> bool:
    if a.schema != b.schema or a.num_rows != b.num_rows:
        return False
    keys = [(f.name, "ascending") for f in a.schema if not pa.types.is_nested(f.type)]
    a, b = a.sort_by(keys), b.sort_by(keys)
    for name in a.column_names:
        x, y = a[name].to_pylist(), b[name].to_pylist()
        if pa.types.is_floating(a.schema.field(name).type):
            if any(not (p is None and q is None) and (p is None or q is None
                   or not math.isclose(p, q, rel_tol=1e-9)) for p, q in zip(x, y, strict=True)):
                return False
        elif x != y:
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="M", choices=["S", "M", "L"])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    os.environ.pop(lake.LAKE_ENV, None)
    os.environ.pop("CXLENS_SPARK", None)
    load = wait_quiet(120)
    root = Path(tempfile.mkdtemp(prefix="cxlens-bench-engine-"))
    manifest = generate(root / "files", size=args.size, seed=7)
    ws = root / "ws"
    lake_dir = lake.lake_path(ws)
    rows = []
    # The after-commit hook mirrors each batch (the lake exists from the first sync on);
    # its syncs are timed apart from the ingest around them.
    syncs: list[lake.SyncResult] = []
    real_sync = lake.sync

    def timed_sync(*a: Any, **kw: Any) -> lake.SyncResult:
        result = real_sync(*a, **kw)
        syncs.append(result)
        return result

    lake.sync = timed_sync  # type: ignore[assignment]
    with open_warehouse(ws) as con:
        lake.sync(con, lake_dir)  # the empty warehouse: the lake exists from here on
        for f in manifest.files:
            syncs.clear()
            t0 = time.perf_counter()
            r = ingest(con, f.path, f.kind, preset=f.preset)
            total = time.perf_counter() - t0
            (s,) = syncs
            rows.append((f.path.name, f.kind, r.loaded, total - s.seconds, s.seconds, s.full))
        lake.sync = real_sync  # type: ignore[assignment]
        t0 = time.perf_counter()
        lake.sync(con, lake_dir, full=True)
        full_sync = time.perf_counter() - t0
        counts = dict(con.execute("SELECT 'events', count(*) FROM v_events UNION ALL "
                                  "SELECT 'orders', count(*) FROM v_orders").fetchall())

    from cxlens.warehouse.spark import lake_engine, local_session

    spark = local_session("cxlens-bench")
    sp = lake_engine(spark, lake_dir)
    qrows = []
    with open_engine(ws) as duck:
        for name, sql in QUERIES.items():
            sql, params = lake.on_views(sql), lake.REFERENCE_PARAMS.get(name)
            t0 = time.perf_counter()
            a = duck.query(sql, params)
            t1 = time.perf_counter()
            b = sp.query(sql, params)
            t2 = time.perf_counter()
            sp.query(sql, params)
            t3 = time.perf_counter()
            qrows.append((name, a.num_rows, t1 - t0, t2 - t1, t3 - t2, same(a, b)))
    spark.stop()

    ingest_s = sum(r[3] for r in rows)
    mirror_s = sum(r[4] for r in rows)
    lines = [
        f"## Spark for real: the lake and the reference queries ({time.strftime('%Y-%m-%d')})",
        "",
        f"`PYTHONPATH=src .venv/bin/python bench/engine.py --size {args.size}` — the "
        f"{args.size} demo (seed 7: {counts['events']:,} events, {counts['orders']:,} "
        f"orders), {platform.machine()}, {os.cpu_count()} cores, 1-minute load {load} at "
        "the start.",
        "",
        "### The lake mirror per batch (incremental: the batch's kind and months, plus "
        "`identities`, `customers`, `batches`)",
        "",
        "| file | kind | rows loaded | ingest s | mirror s | mirror / ingest |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, kind, loaded, ing, mir, full in rows:
        lines.append(f"| {name} | {kind} | {loaded:,} | {ing:.2f} | {mir:.2f}"
                     f"{' (full)' if full else ''} | {mir / ing:.0%} |")
    lines += [f"| **all** | | | **{ingest_s:.1f}** | **{mirror_s:.1f}** | "
              f"**{mirror_s / ingest_s:.0%}** |", "",
              f"A full rewrite (`cxlens lake sync --full`) of the same warehouse: "
              f"{full_sync:.1f} s.", "",
              "### Reference queries: DuckDB (warehouse) vs Spark local[2] (lake)", "",
              "| query | rows | DuckDB s | Spark s (1st) | Spark s (2nd) | same result |",
              "| --- | ---: | ---: | ---: | ---: | --- |"]
    for name, n, d, s1, s2, ok in qrows:
        lines.append(f"| {name} | {n:,} | {d:.2f} | {s1:.2f} | {s2:.2f} | "
                     f"{'yes' if ok else '**NO**'} |")
    lines += not_quiet(load, "the times are upper bounds")
    begin_end = ("<!-- bench/engine.py: begin (generated, do not edit by hand) -->",
                 "<!-- bench/engine.py: end -->")
    section = "\n".join([begin_end[0], *lines, begin_end[1]])
    print(section)
    if not args.no_write:
        write_section("engine.py", section)


if __name__ == "__main__":
    main()
