"""The S demo goes through the real ingest path and cxlens recovers what was planted."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxlens.demo import generate
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_warehouse, summary


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("demo")
    manifest = generate(root / "files", size="S", seed=11)
    results = []
    with open_warehouse(root / "ws") as con:
        for f in manifest.files:
            results.append(ingest(con, f.path, f.kind, preset=f.preset))
    return root / "ws", manifest, results


def test_every_batch_accounts_for_every_row(loaded) -> None:
    ws, _, results = loaded
    for r in results:
        assert r.balanced, r
    with open_warehouse(ws, read_only=True) as con:
        bad = con.execute(
            "SELECT batch_id FROM batches WHERE rows_in <> loaded + quarantined + duplicates"
        ).fetchall()
    assert bad == []


def test_planted_bad_rows_are_quarantined_or_counted_as_duplicates(loaded) -> None:
    _, manifest, results = loaded
    planted = manifest.truths["bad_rows"]
    by_file = {Path(r.file).name: r for r in results}
    for name, n in planted["quarantine"].items():
        assert by_file[name].quarantined == n, name
    for name, n in planted["duplicates"].items():
        assert by_file[name].duplicates == n, name
    assert sum(r.quarantined for r in results) == planted["total_quarantine"]


def test_identity_resolution_recovers_the_planted_people(loaded) -> None:
    ws, manifest, _ = loaded
    truth = manifest.truths["identity"]
    with open_warehouse(ws, read_only=True) as con:
        n = con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
        # Store receipts without a loyalty card are anonymous; every other row is linked.
        unlinked = con.execute(
            "SELECT count(*) FROM v_orders WHERE customer_id IS NULL AND _idkey IS NOT NULL"
        ).fetchall()[0][0]
    assert n == truth["expected_customers_after_resolution"]
    assert unlinked == 0


def test_reingesting_the_demo_loads_nothing_new(loaded, tmp_path: Path) -> None:
    ws, manifest, _ = loaded
    with open_warehouse(ws) as con:
        before = summary(con)
        again = [ingest(con, f.path, f.kind, preset=f.preset) for f in manifest.files[:6]]
        after = summary(con)
    assert all(r.loaded == 0 and r.balanced for r in again)
    assert {k: v for k, v in after.items() if k != "batches"} == {
        k: v for k, v in before.items() if k != "batches"
    }
