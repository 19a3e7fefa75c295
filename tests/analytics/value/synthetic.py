"""Orders simulated from known BG/NBD and Gamma-Gamma parameters, as a ``v_orders`` table:
the planted truths the value models must recover."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa

START = date(2024, 1, 1)


def simulate(n: int, seed: int, *, r: float = 0.5, alpha: float = 8.0, a: float = 0.8,
             b: float = 3.0, p: float = 5.0, q: float = 4.0, gamma: float = 60.0,
             weeks: int = 104, birth_weeks: int = 26) -> dict[str, np.ndarray]:
    """Per order: customer index, day since START, amount. Time in weeks as in the models."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(a, b, n)
    nu = rng.gamma(q, 1 / gamma, n)
    birth = rng.uniform(0, birth_weeks, n)
    who, when = [np.arange(n)], [birth]
    t = birth.copy()
    alive = np.ones(n, bool)
    while alive.any():
        t = t + rng.exponential(1.0, n) / lam
        alive &= t < weeks
        idx = np.flatnonzero(alive)
        who.append(idx)
        when.append(t[idx])
        alive &= rng.random(n) >= drop
    who_a, when_a = np.concatenate(who), np.concatenate(when)
    amount = np.round(rng.gamma(p, 1.0, who_a.size) / nu[who_a], 2)
    return {"customer": who_a, "day": np.floor(when_a * 7).astype(int), "amount": amount}


def orders_table(sim: dict[str, np.ndarray], *, currency: str = "EUR",
                 status: list[str | None] | None = None) -> pa.Table:
    n = sim["customer"].size
    base = datetime(START.year, START.month, START.day, 12)
    return pa.table({
        "customer_id": pa.array([f"c{i}" for i in sim["customer"]], pa.string()),
        "ts": pa.array([base + timedelta(days=int(d)) for d in sim["day"]],
                       pa.timestamp("us")),
        "amount": pa.array([Decimal(f"{v:.2f}") for v in sim["amount"]],
                           pa.decimal128(18, 2)),
        "currency": pa.array([currency] * n if isinstance(currency, str) else currency,
                             pa.string()),
        "status": pa.array(status or [None] * n, pa.string()),
        "_batch": pa.array([1] * n, pa.int32()),
        "_line": pa.array(np.arange(1, n + 1), pa.int64()),
    })
