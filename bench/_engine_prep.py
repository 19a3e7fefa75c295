"""bench/engine.py's set-up: the demo generated and ingested batch by batch, the lake kept
current by the after-commit hook as in production, each batch's ingest and mirror timed apart.

The figures are saved beside the workspace (``bench-mirror.json``), so that a later run with
``--workspace`` reuses both the warehouse and what its mirror cost.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cxlens.demo import generate
from cxlens.ingest.load import ingest
from cxlens.warehouse import lake
from cxlens.warehouse.store import open_warehouse

FIGURES = "bench-mirror.json"


def ingested(ws: Path) -> bool:
    """Whether ``ws`` already holds a warehouse this bench (or anything else) loaded."""
    return (ws / "warehouse.duckdb").exists()


def prepare(ws: Path, size: str, seed: int = 7, load: float | None = None,
            ) -> dict[str, Any]:
    """Generate the ``size`` demo into ``ws/demo-files`` and ingest it into the workspace
    ``ws`` file by file; return (and save) each batch's ingest and mirror seconds (``load``:
    the 1-minute load when it started, recorded with them)."""
    t0 = time.perf_counter()
    manifest = generate(ws / "demo-files", size=size, seed=seed)
    generated = time.perf_counter() - t0
    lake_dir = lake.lake_path(ws)
    # The after-commit hook mirrors each batch (the lake exists from the first sync on);
    # its syncs are timed apart from the ingest around them, in seconds and in the CPU
    # seconds of this process (all its threads: DuckDB's too), which other work on the
    # machine inflates far less than the seconds.
    syncs: list[tuple[lake.SyncResult, float]] = []
    real_sync = lake.sync

    def timed_sync(*a: Any, **kw: Any) -> lake.SyncResult:
        c0 = time.process_time()
        result = real_sync(*a, **kw)
        syncs.append((result, time.process_time() - c0))
        return result

    rows = []
    lake.sync = timed_sync  # type: ignore[assignment]
    try:
        with open_warehouse(ws) as con:
            real_sync(con, lake_dir)  # the empty warehouse: the lake exists from here on
            for f in manifest.files:
                syncs.clear()
                t1, c1 = time.perf_counter(), time.process_time()
                r = ingest(con, f.path, f.kind, preset=f.preset)
                total, cpu = time.perf_counter() - t1, time.process_time() - c1
                ((s, s_cpu),) = syncs
                rows.append({"file": f.path.name, "kind": f.kind, "loaded": r.loaded,
                             "ingest_s": total - s.seconds, "mirror_s": s.seconds,
                             "ingest_cpu": cpu - s_cpu, "mirror_cpu": s_cpu,
                             "full": s.full})
                print(f"  {f.path.name}: {r.loaded:,} rows, ingest {total - s.seconds:.1f} s, "
                      f"mirror {s.seconds:.1f} s", flush=True)
            lake.sync = real_sync  # type: ignore[assignment]
            t1 = time.perf_counter()
            real_sync(con, lake_dir, full=True)
            full_sync = time.perf_counter() - t1
    finally:
        lake.sync = real_sync  # type: ignore[assignment]
    figures = {"size": size, "seed": seed, "load": load, "generate_s": generated,
               "batches": rows,
               "full_sync_s": full_sync, "measured": time.strftime("%Y-%m-%d %H:%M")}
    (ws / FIGURES).write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return figures


def saved(ws: Path) -> dict[str, Any] | None:
    """The mirror figures saved when this bench built ``ws`` (None for another workspace)."""
    try:
        return json.loads((ws / FIGURES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
