"""The process map: the directly-follows graph of touchpoint types.

An edge ``a → b`` counts every time a customer's touchpoint ``b`` came right after ``a``
in the journey log's order (repeats included: ``page_view → page_view`` is a self-loop), as
process mining's directly-follows graph does (pm4py's ``discover_dfg`` gives the same
counts; tests/analytics/test_journeys_pm4py.py). Per edge: transitions, distinct customers,
and the exact median and 90th percentile of the seconds between the two. Per touchpoint:
how often it happened, how many journeys started and ended with it.

One query does the work: ``lag()`` over the log (one sort of it), then one aggregation
per edge. On DuckDB that aggregation gives the transitions, the distinct customers and the
exact quantiles (``quantile_cont``, linear interpolation) in one pass: 327 rows back on the
L demo. ``quantile_cont`` has no exact twin on Spark (docs/engine.md), so there the query
groups by edge *and by the seconds between* — a histogram, one row per edge and distinct
gap (3 M rows on L) — from which the same quantiles are read in NumPy, and counts the
distinct customers per edge apart; the parity test holds the two paths equal (to 1e-9:
the interpolation's last bit). On DuckDB the one aggregation measured 11.5 CPU-s on the L
demo against 13.4 for the histogram (no 3 M-row histogram to build, send and read back, no
``tr`` materialised for two aggregations): docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.analytics._quantiles import weighted_quantiles
from cxlens.analytics.journeys._log import WINDOW, Selection, log_sql
from cxlens.warehouse.engine import Engine

QUANTILES = (0.5, 0.9)


@dataclass(frozen=True)
class Edge:
    """``source → target``: ``transitions`` directly-follows pairs by ``customers`` people;
    the median and 90th percentile of the seconds between (linear interpolation between
    order statistics, as numpy's default and DuckDB's ``median``)."""

    source: str
    target: str
    transitions: int
    customers: int
    median_s: float
    p90_s: float


@dataclass(frozen=True)
class Node:
    """A touchpoint: how often it happened, and how many journeys started or ended with it."""

    touchpoint: str
    count: int
    starts: int
    ends: int


@dataclass(frozen=True)
class ProcessMap:
    """The map of a selection. Nodes: most frequent first; edges: most transitions first
    (ties by name). ``reason`` says why a map is empty."""

    customers: int
    touchpoints: int
    nodes: list[Node]
    edges: list[Edge]
    selection: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def edges_table(self) -> pa.Table:
        """The edges as an Arrow table (for CSV downloads and charts)."""
        cols = ("source", "target", "transitions", "customers", "median_s", "p90_s")
        return pa.table({c: [getattr(e, c) for e in self.edges] for c in cols},
                        schema=pa.schema([("source", pa.string()), ("target", pa.string()),
                                          ("transitions", pa.int64()),
                                          ("customers", pa.int64()),
                                          ("median_s", pa.float64()), ("p90_s", pa.float64())]))


_TRANSITIONS = f"""{{log}},
tr AS (
    SELECT customer_id, touchpoint AS dst, lag(touchpoint) OVER w AS src,
           ts_s - lag(ts_s) OVER w AS dt
    FROM log
    WINDOW w AS ({WINDOW})
)"""

# DuckDB: one row per edge (src NULL: a journey's first touchpoint, with its count). The
# touchpoints go through the window as ``hash(touchpoint)``, a fixed-width number (text in
# a window's rows costs: ~12 % of the map's CPU on the L demo, docs/benchmarks.md), and
# back to text on the edges through ``names``; ``clash`` counts hashes shared by two names
# (never seen; :func:`process_map` then runs the text version, ``_MAP_DUCKDB_TEXT``).
_QS = ", ".join(str(q) for q in QUANTILES)
_MAP_DUCKDB = f"""{{log}},
names AS (
    SELECT touchpoint, hash(touchpoint) AS code FROM (SELECT DISTINCT touchpoint FROM log) AS t
),
tr AS (
    SELECT customer_id, hash(touchpoint) AS dst, lag(hash(touchpoint)) OVER w AS src,
           ts_s - lag(ts_s) OVER w AS dt
    FROM log
    WINDOW w AS ({WINDOW})
),
e AS (
    SELECT src, dst, count(*) AS n, count(DISTINCT customer_id) AS customers,
           quantile_cont(dt, [{_QS}]) AS q
    FROM tr GROUP BY src, dst
)
SELECT a.touchpoint AS src, b.touchpoint AS dst, n, customers, q,
       (SELECT count(*) - count(DISTINCT code) FROM names) AS clash
FROM e LEFT JOIN names AS a ON a.code = e.src JOIN names AS b ON b.code = e.dst
"""
_MAP_DUCKDB_TEXT = _TRANSITIONS + f"""
SELECT src, dst, count(*) AS n, count(DISTINCT customer_id) AS customers,
       quantile_cont(dt, [{_QS}]) AS q, 0 AS clash
FROM tr GROUP BY src, dst
"""

# Portable: part 0 the histogram (src NULL: a journey's first touchpoint, with its count);
# part 1 distinct customers per edge.
_MAP = _TRANSITIONS + """
SELECT 0 AS part, src, dst, dt, count(*) AS n FROM tr GROUP BY src, dst, dt
UNION ALL
SELECT 1 AS part, src, dst, CAST(NULL AS BIGINT) AS dt, count(DISTINCT customer_id) AS n
FROM tr WHERE src IS NOT NULL GROUP BY src, dst
"""

# (source, target, transitions, customers, median, p90) per edge; source None: the starts.
_EdgeRow = tuple[str | None, str, int, int, float | None, float | None]


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a text column and the names they stand for."""
    enc = pc.dictionary_encode(column).combine_chunks()
    return (enc.indices.to_numpy(zero_copy_only=False).astype(np.int64),
            enc.dictionary.to_pylist())


def _edges_duckdb(engine: Engine, sql: str, params: dict[str, Any]) -> list[_EdgeRow]:
    """The edges with their quantiles computed by DuckDB (``quantile_cont``)."""
    rows = engine.query(_MAP_DUCKDB.format(log=sql), params).to_pylist()
    if any(r["clash"] for r in rows):
        rows = engine.query(_MAP_DUCKDB_TEXT.format(log=sql), params).to_pylist()
    return [(r["src"], r["dst"], int(r["n"]), int(r["customers"]),
             *((None, None) if r["src"] is None else (float(r["q"][0]), float(r["q"][1]))))
            for r in rows]


def _edges_portable(engine: Engine, sql: str, params: dict[str, Any]) -> list[_EdgeRow]:
    """The edges with their quantiles read in NumPy from the engine's histogram."""
    t = engine.query(_MAP.format(log=sql), params)
    hist = t.filter(pc.equal(t["part"], 0))
    dist = t.filter(pc.equal(t["part"], 1))
    customers_of = {(r["src"], r["dst"]): int(r["n"]) for r in dist.to_pylist()}
    first = hist.filter(pc.is_null(hist["src"]))
    out: list[_EdgeRow] = [(None, r["dst"], int(r["n"]), int(r["n"]), None, None)
                           for r in first.select(["dst", "n"]).to_pylist()]
    pairs = hist.filter(pc.is_valid(hist["src"]))
    if not pairs.num_rows:
        return out
    a_codes, a_names = _codes(pairs["src"])
    b_codes, b_names = _codes(pairs["dst"])
    code = a_codes * len(b_names) + b_codes
    dt = pairs["dt"].to_numpy(zero_copy_only=False).astype(np.float64)
    n = pairs["n"].to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.lexsort((dt, code))
    code, dt, n = code[order], dt[order], n[order]
    cuts = np.flatnonzero(np.diff(code)) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(code)], strict=True):
        a, b = a_names[code[lo] // len(b_names)], b_names[code[lo] % len(b_names)]
        med, p90 = weighted_quantiles(dt[lo:hi], n[lo:hi], QUANTILES)
        out.append((a, b, int(n[lo:hi].sum()), customers_of[(a, b)], med, p90))
    return out


def process_map(engine: Engine, sel: Selection | None = None) -> ProcessMap:
    """The directly-follows graph of the selected journeys (see the module's docstring)."""
    sel = sel or Selection()
    log, params = log_sql(sel)
    read = _edges_duckdb if engine.name == "duckdb" else _edges_portable
    starts: dict[str, int] = {}
    into: dict[str, int] = {}
    out_of: dict[str, int] = {}
    edges = []
    for a, b, total, customers_of, med, p90 in read(engine, log, params):
        if a is None:
            starts[b] = total
            continue
        edges.append(Edge(a, b, total, customers_of, float(med), float(p90)))
        out_of[a] = out_of.get(a, 0) + total
        into[b] = into.get(b, 0) + total
    names = set(starts) | set(into) | set(out_of)
    nodes = []
    for name in names:
        count = starts.get(name, 0) + into.get(name, 0)
        nodes.append(Node(name, count, starts.get(name, 0), count - out_of.get(name, 0)))
    nodes.sort(key=lambda x: (-x.count, x.touchpoint))
    edges.sort(key=lambda e: (-e.transitions, e.source, e.target))
    customers = sum(starts.values())
    reason = None if customers else "no touchpoints in the selection"
    return ProcessMap(customers, sum(x.count for x in nodes), nodes, edges,
                      {k: v for k, v in sel.as_dict().items() if v is not None}, reason)


__all__ = ["Edge", "Node", "ProcessMap", "process_map"]
