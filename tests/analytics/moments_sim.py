"""A simulated warehouse with known business moments (for the moments tests).

Each customer has a hidden purchase intent ``z ~ N(0, 1)`` that nobody records. It drives
how often they visit (``page_view``: the trace intent leaves in the data), how likely they
buy on any day, and how soon they open a newsletter (``newsletter_open``: the **decoy**,
without any effect of its own). Two moments have real effects on the daily purchase
probability in the 90 days after them: ``demo_booked`` multiplies it by ``LIFT`` (helps),
``price_shock`` by ``DROP`` (harms); ``brochure`` does nothing and does not depend on intent
(a null). Times are whole days plus a customer-specific second, so no two touchpoints of a
customer share a time unless they should.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from cxlens.warehouse.engine import DuckDBEngine

DAYS = 400
LIFT = 3.0
DROP = 0.3
START = np.datetime64("2025-01-01T00:00:00")


def simulate(n: int = 3000, seed: int = 1,
             truth: dict[str, list] | None = None) -> dict[str, pa.Table]:
    """Tables ``v_events``, ``v_orders``, ``v_feedback`` and ``customers`` as the journey log
    reads them. ``truth``, when given, receives per moment the (customer, day met, true
    effect) of everyone who met it: the effect is the difference, in that customer's
    probability to buy within 90 days after, between meeting the moment and not."""
    rng = np.random.default_rng(seed)
    ev: dict[str, list] = {"customer_id": [], "ts": [], "event_type": [], "channel": []}
    od: dict[str, list] = {"customer_id": [], "ts": [], "amount": []}
    for c in range(n):
        cid = f"c{c:05d}"
        z = rng.standard_normal()
        start = int(rng.integers(0, 150))
        days = np.arange(start, DAYS)
        visit = rng.random(len(days)) < min(0.9, 0.05 * np.exp(0.9 * z))
        visit[0] = True  # known from their first day
        mult = np.ones(len(days))
        base = 0.004 * np.exp(0.9 * z)
        met: list[tuple[str, int, float]] = []

        def moment(name: str, p: float, effect: float, *, cid: str = cid,
                   days: np.ndarray = days, mult: np.ndarray = mult,
                   met: list = met) -> None:
            if rng.random() < p and len(days) > 20:
                d = int(rng.integers(days[0] + 10, DAYS))
                ev["customer_id"].append(cid)
                ev["ts"].append(d * 86400 + 3600)
                ev["event_type"].append(name)
                ev["channel"].append("web")
                mult[(days > d) & (days <= d + 90)] *= effect
                met.append((name, d, effect))

        moment("demo_booked", 0.35, LIFT)
        moment("price_shock", 0.35, DROP)
        moment("brochure", 0.35, 1.0)
        # the decoy: opened early by the keen, late or never by the rest
        rate = 0.004 * np.exp(1.5 * z)
        d_open = start + 10 + int(rng.geometric(min(0.9, rate)))
        if d_open < DAYS:
            ev["customer_id"].append(cid)
            ev["ts"].append(d_open * 86400 + 1800)
            ev["event_type"].append("newsletter_open")
            ev["channel"].append("email")
        if truth is not None:
            for name, d, effect in met:
                win = (days > d) & (days <= d + 90)
                p1 = 1 - np.prod(1 - np.minimum(0.5, base * mult[win]))
                p0 = 1 - np.prod(1 - np.minimum(0.5, base * mult[win] / effect))
                truth.setdefault(name, []).append((cid, d, float(p1 - p0)))
        buy = rng.random(len(days)) < np.minimum(0.5, base * mult)
        for d in days[visit]:
            ev["customer_id"].append(cid)
            ev["ts"].append(int(d) * 86400 + 600)
            ev["event_type"].append("page_view")
            ev["channel"].append("web")
        for d in days[buy]:
            od["customer_id"].append(cid)
            od["ts"].append(int(d) * 86400 + 900)  # before a moment of the same day
            od["amount"].append(float(rng.integers(20, 120)))
    ts = START + np.array(ev["ts"], dtype="timedelta64[s]")
    events = pa.table({"customer_id": ev["customer_id"], "ts": pa.array(ts),
                       "event_type": ev["event_type"], "channel": ev["channel"],
                       "store_id": pa.nulls(len(ts), pa.string()),
                       "_batch": pa.array([1] * len(ts), pa.int32()),
                       "_line": pa.array(range(len(ts)), pa.int64())})
    ots = START + np.array(od["ts"], dtype="timedelta64[s]")
    k = len(ots)
    orders = pa.table({"customer_id": od["customer_id"], "ts": pa.array(ots),
                       "channel": ["web"] * k, "store_id": pa.nulls(k, pa.string()),
                       "amount": pa.array(od["amount"], pa.float64()),
                       "currency": ["EUR"] * k, "status": ["paid"] * k,
                       "_batch": pa.array([2] * k, pa.int32()),
                       "_line": pa.array(range(k), pa.int64())})
    feedback = pa.table({"customer_id": pa.array([], pa.string()),
                         "ts": pa.array([], pa.timestamp("s")),
                         "metric": pa.array([], pa.string()), "score": pa.array([], pa.int64()),
                         "scale_max": pa.array([], pa.int64()),
                         "channel": pa.array([], pa.string()),
                         "store_id": pa.array([], pa.string()),
                         "_batch": pa.array([], pa.int32()), "_line": pa.array([], pa.int64())})
    customers = pa.table({"customer_id": [f"c{c:05d}" for c in range(n)],
                          "segment": ["B2C"] * n})
    return {"v_events": events, "v_orders": orders, "v_feedback": feedback,
            "customers": customers}


def engine(tables: dict[str, pa.Table]) -> DuckDBEngine:
    """An in-memory DuckDB engine holding ``tables`` (amounts as DECIMAL, like the views)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, t in tables.items():
        con.register(f"_{name}", t)
        if name == "v_orders":
            con.execute(f"CREATE TABLE {name} AS SELECT * REPLACE "
                        f"(CAST(amount AS DECIMAL(18, 2)) AS amount) FROM _{name}")
        else:
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
        con.unregister(f"_{name}")
    return DuckDBEngine(con)
