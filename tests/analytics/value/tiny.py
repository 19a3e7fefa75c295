"""Tiny hand-made order sets as a ``v_orders`` table on an in-memory DuckDB, for
known-answer tests of cohorts, RFM and the per-customer values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pyarrow as pa

from cxlens.warehouse.engine import DuckDBEngine

# (customer, day, amount, channel[, currency[, status]])
Row = tuple


def orders(rows: list[Row]) -> pa.Table:
    def col(i: int, default: object) -> list:
        return [r[i] if len(r) > i else default for r in rows]

    return pa.table({
        "order_id": pa.array([f"o{i}" for i in range(len(rows))], pa.string()),
        "customer_id": pa.array(col(0, None), pa.string()),
        "ts": pa.array([datetime(d.year, d.month, d.day, 10) for d in col(1, None)],
                       pa.timestamp("us")),
        "amount": pa.array([Decimal(str(a)) for a in col(2, 0)], pa.decimal128(18, 4)),
        "channel": pa.array(col(3, None), pa.string()),
        "currency": pa.array(col(4, "EUR"), pa.string()),
        "status": pa.array(col(5, None), pa.string()),
        "_batch": pa.array([1] * len(rows), pa.int32()),
        "_line": pa.array(range(1, len(rows) + 1), pa.int64()),
    })


def engine(rows: list[Row]) -> DuckDBEngine:
    eng = DuckDBEngine(duckdb.connect())
    eng.register("v_orders", orders(rows))
    return eng


# Five customers; the data end 2026-04-03 (the last purchase), so April is partial.
SHOP = [
    ("A", date(2026, 1, 5), 10, "web"), ("A", date(2026, 1, 20), 20, "store"),
    ("A", date(2026, 3, 2), 30, "web"),
    ("B", date(2026, 1, 10), 50, "store"), ("B", date(2026, 2, 15), 5, "web"),
    ("C", date(2026, 2, 1), 100, "web"),
    ("D", date(2026, 3, 31), 7, "web"),
    ("E", date(2026, 4, 3), 1, "web"),
    # not purchases: a refunded order, a refund row, an order of nobody
    ("C", date(2026, 3, 5), 70, "web", "EUR", "refunded"),
    ("C", date(2026, 3, 6), -70, "web"),
    (None, date(2026, 3, 7), 9, "web"),
]
SHOP_TODAY = date(2026, 4, 11)
