"""CDNOW's raw transactions (the 1/10 sample of the BG/NBD and Gamma-Gamma papers) as a
``v_orders`` table, read from the ``lifetimes`` wheel (a test dependency: only its data)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

# The papers' calibration: 39 weeks from 1997-01-01; the holdout runs to 1998-06-30.
CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)


def sample_path() -> Path:
    lifetimes = pytest.importorskip("lifetimes")
    return Path(lifetimes.__file__).parent / "datasets" / "CDNOW_sample.txt"


def orders() -> pa.Table:
    """One row per line of CDNOW_sample.txt: master id, sample id, yyyymmdd, CDs, dollars."""
    ids, ts, amount, lines = [], [], [], []
    for i, line in enumerate(sample_path().read_text().splitlines(), start=1):
        _, cid, day, _, dollars = line.split()
        ids.append(cid)
        ts.append(datetime.strptime(day, "%Y%m%d"))
        amount.append(Decimal(dollars))
        lines.append(i)
    n = len(ids)
    return pa.table({
        "customer_id": pa.array(ids, pa.string()),
        "ts": pa.array(ts, pa.timestamp("us")),
        "amount": pa.array(amount, pa.decimal128(18, 2)),
        "currency": pa.array(["USD"] * n, pa.string()),
        "status": pa.array([None] * n, pa.string()),
        "_batch": pa.array([1] * n, pa.int32()),
        "_line": pa.array(lines, pa.int64()),
    })
