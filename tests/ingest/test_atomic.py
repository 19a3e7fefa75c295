"""A batch is all or nothing: a killed process or an exception inside the transaction leaves
the warehouse exactly as it was, and the next ingest works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from cxlens.ingest import identity
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_warehouse
from helpers import assert_balanced, snapshot

ROWS = 400_000
SMALL = ("order_id;ts;amount;email;phone\n"
         "A1;2026-01-05 10:00:00;10.50;anna@example.fi;040 123 4567\n"
         "A2;2026-01-06 11:00:00;20.00;bo@example.se;\n"
         "A3;2026-01-07;oops;cecilia@example.fi;\n")

# Ingests argv[2] into workspace argv[1], printing each progress step as it starts.
RUNNER = """
import sys
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_warehouse
with open_warehouse(sys.argv[1]) as con:
    ingest(con, sys.argv[2], "orders", progress=lambda step, f: print(step, flush=True))
print("exit", flush=True)
"""


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("big") / "big.csv"
    duckdb.sql(
        "COPY (SELECT 'B' || i AS order_id, TIMESTAMP '2025-01-01' + INTERVAL (i % 100000) "
        "MINUTE AS ts, (i % 997) / 10 AS amount, 'u' || (i % 50000) || '@example.fi' AS email, "
        f"NULL AS phone FROM range({ROWS}) t(i)) TO '{p}' (HEADER, DELIMITER ';')"
    )
    return p


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace that already holds one batch (with a quarantined row and identities)."""
    ws = tmp_path / "ws"
    small = tmp_path / "small.csv"
    small.write_text(SMALL, encoding="utf-8")
    with open_warehouse(ws) as con:
        r = ingest(con, small, "orders")
        assert (r.loaded, r.quarantined) == (2, 1)
    return ws


def state(ws: Path) -> dict:
    with open_warehouse(ws) as con:
        return snapshot(con)


@pytest.mark.parametrize("kill_at", ["loading", "resolving identities"])
def test_sigkill_mid_batch_leaves_warehouse_as_before(workspace, big_csv, kill_at):
    before = state(workspace)
    db = workspace / "warehouse.duckdb"
    size0 = db.stat().st_size
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(workspace), str(big_csv)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            seen.append(line.strip())
            if seen[-1] == kill_at:
                break
            assert time.monotonic() < deadline, seen
        assert seen and seen[-1] == kill_at, (seen, proc.stderr.read() if proc.stderr else "")
        if kill_at == "loading":
            # The transaction begins right after this step is announced: kill as soon as the
            # bulk INSERT has started writing row groups into the file (or after 0.3 s).
            until = time.monotonic() + 0.3
            while db.stat().st_size < size0 + 1_000_000 and time.monotonic() < until:
                time.sleep(0.005)
        assert proc.poll() is None, "the ingest finished before it could be killed"
        if kill_at == "resolving identities":
            # The bulk INSERT has already written its row groups into the file (uncommitted).
            assert db.stat().st_size > size0 + 5_000_000
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert "done" not in seen
    assert state(workspace) == before

    with open_warehouse(workspace) as con:
        assert con.execute("SELECT count(*) FROM batches").fetchall() == [(1,)]
        if kill_at == "resolving identities":
            r = ingest(con, big_csv, "orders")
            assert (r.rows_in, r.loaded, r.quarantined) == (ROWS, ROWS, 0)
            assert_balanced(con, r)
            assert r.batch_id == 2
            assert con.execute("SELECT count(*) FROM v_orders").fetchall() == [(ROWS + 2,)]
        else:
            small = workspace.parent / "small.csv"
            r = ingest(con, small, "orders")
            assert (r.loaded, r.duplicates) == (0, 3)
            assert_balanced(con, r)


def test_exception_inside_transaction_leaves_everything(workspace, tmp_path, monkeypatch):
    before = state(workspace)
    newer = tmp_path / "newer.csv"
    newer.write_text("order_id;ts;amount;email\n"
                     "A1;2026-01-05 10:00:00;11.00;anna@example.fi\n"   # changed
                     "A9;2026-01-09 10:00:00;9.00;new@example.fi\n"
                     "A8;bad date;9.00;new@example.fi\n", encoding="utf-8")

    def boom(con):
        raise RuntimeError("boom inside the transaction")

    monkeypatch.setattr(identity, "resolve", boom)
    with open_warehouse(workspace) as con:
        with pytest.raises(RuntimeError, match="boom"):
            ingest(con, newer, "orders")
        assert snapshot(con) == before
    monkeypatch.undo()
    with open_warehouse(workspace) as con:
        assert snapshot(con) == before
        r = ingest(con, newer, "orders")
        assert (r.loaded, r.changed, r.quarantined) == (2, 1, 1)
        assert_balanced(con, r)
        assert r.batch_id == 2
