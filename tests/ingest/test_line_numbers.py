"""Line numbers of a file DuckDB reads in parallel chunks are the file's own.

The loader writes a CSV's rows in one order-preserving INSERT and numbers them afterwards
from the order they were written (``load._number_lines``). This file is larger than
DuckDB's read buffer, so it is read in several chunks on several threads: every number
must still be the line the row stands on, for the quarantine and for the kept rows.
"""

from __future__ import annotations

from pathlib import Path

from cxlens.ingest.load import ingest
from helpers import assert_balanced

ROWS = 220_000
BAD = {3, 77_777, 150_001, ROWS + 1}  # lines (the header is line 1) with a broken date
BROKEN = 123_456  # a line with too many columns: rejected by the reader, shifts the rest


def _write(path: Path) -> None:
    pad = "x" * 150  # wide rows: the file is ~40 MB, several read buffers
    with path.open("w", encoding="utf-8") as fh:
        fh.write("order_id,ts,amount,email,note\n")
        for line in range(2, ROWS + 2):
            if line == BROKEN:
                fh.write(f"O{line},2025-01-01 10:00:00,1.00,a{line}@x.fi,{pad},extra,more\n")
                continue
            ts = "not a date" if line in BAD else "2025-01-01 10:00:00"
            fh.write(f"O{line},{ts},1.00,a{line % 5000}@x.fi,{pad}\n")


def test_lines_survive_a_parallel_read(con, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    _write(path)
    assert path.stat().st_size > 35_000_000
    r = ingest(con, path, "orders")
    assert_balanced(con, r)
    assert r.quarantined == len(BAD) + 1
    lines = [x for (x,) in con.execute(
        "SELECT line FROM quarantine ORDER BY line").fetchall()]
    assert lines == sorted({*BAD, BROKEN})
    # Every kept row stands on the line its id names.
    wrong = con.execute("SELECT count(*) FROM orders WHERE order_id <> 'O' || _line"
                        ).fetchall()[0][0]
    assert wrong == 0
    assert con.execute("SELECT count(*) FROM orders").fetchall()[0][0] == ROWS - len(BAD) - 1
