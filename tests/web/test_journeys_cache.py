"""``web/journeys_cache``: the journeys results are kept while the warehouse's batches stay
the same, computed again after a new batch or a rollback, kept apart per call and per
workspace, bounded, and not kept when they fail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cxlens.analytics import journeys as jr
from cxlens.ingest.batches import rollback
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_warehouse
from cxlens.web import journeys_cache as cache
from cxlens.web.warehouses import Warehouse

ALL = jr.Selection()


def _events(prefix: str, customers: int, start: int = 0) -> str:
    """Each customer views a page, adds to the cart, and every other one views again."""
    rows = ["event_id,ts,event_type,channel,store_id,email"]
    for i in range(start, start + customers):
        day = f"2026-01-{1 + i % 28:02d}"
        rows.append(f"{prefix}{i}a,{day} 10:00:00,page_view,web,S{i % 3},c{i}@x.fi")
        rows.append(f"{prefix}{i}b,{day} 10:01:00,add_to_cart,web,S{i % 3},c{i}@x.fi")
        if i % 2:
            rows.append(f"{prefix}{i}c,{day} 10:02:00,page_view,app,S{i % 3},c{i}@x.fi")
    return "\n".join(rows) + "\n"


def _load(con, path: Path, body: str):
    path.write_text(body, encoding="utf-8")
    result = ingest(con, path, "events")
    assert result.balanced
    return result


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    with open_warehouse(tmp_path / "ws") as con:
        _load(con, tmp_path / "first.csv", _events("A", 30))
    cache.clear()
    wh = Warehouse(tmp_path / "ws")
    yield wh
    wh.close()
    cache.clear()


def counted() -> tuple[list[int], object]:
    """A computation that counts its calls and reads the engine it is given."""
    calls: list[int] = []

    def compute(eng):
        calls.append(1)
        return eng.query("SELECT count(*) AS n FROM v_events").to_pylist()[0]["n"]
    return calls, compute


def test_kept_until_a_new_batch_and_after_a_rollback(warehouse: Warehouse,
                                                     tmp_path: Path) -> None:
    first = cache.process_map(warehouse, "duckdb", ALL)
    assert cache.process_map(warehouse, "duckdb", ALL) is first
    assert cache.touchpoints(warehouse, "duckdb", ALL) is cache.touchpoints(
        warehouse, "duckdb", ALL)
    assert first.customers == 30
    result = warehouse.write(lambda cur: ingest(cur, _write(tmp_path / "more.csv"), "events"))
    assert result.balanced
    second = cache.process_map(warehouse, "duckdb", ALL)
    assert second is not first and second.customers == 40
    assert cache.process_map(warehouse, "duckdb", ALL) is second
    warehouse.write(lambda cur: rollback(cur, result.batch_id))
    third = cache.process_map(warehouse, "duckdb", ALL)
    assert third is not second and third == first


def _write(path: Path) -> Path:
    path.write_text(_events("B", 10, start=100), encoding="utf-8")
    return path


def test_a_batch_loaded_beside_the_server_is_seen(warehouse: Warehouse,
                                                  tmp_path: Path) -> None:
    """The CLI may load a batch into the workspace while the server runs: the key is the
    warehouse's batches, not the server's own count of writes."""
    before = cache.paths(warehouse, "duckdb", "add_to_cart", "to", ALL, 3, 10)
    with warehouse.read() as cur:  # another connection's write, not warehouse.write
        assert ingest(cur, _write(tmp_path / "cli.csv"), "events").balanced
    after = cache.paths(warehouse, "duckdb", "add_to_cart", "to", ALL, 3, 10)
    assert (before.reached, after.reached) == (30, 40)


def test_calls_and_workspaces_are_kept_apart(warehouse: Warehouse, tmp_path: Path) -> None:
    calls, compute = counted()
    assert cache.kept(warehouse, "duckdb", ("n",), compute) == 75
    assert cache.kept(warehouse, "duckdb", ("n",), compute) == 75
    assert len(calls) == 1
    cache.kept(warehouse, "duckdb", ("n", "other"), compute)
    assert len(calls) == 2
    store = cache.paths(warehouse, "duckdb", None, "from", jr.Selection(store="S1"), 2, 10)
    every = cache.paths(warehouse, "duckdb", None, "from", ALL, 2, 10)
    assert (store.customers, every.customers) == (10, 30)
    with open_warehouse(tmp_path / "ws2") as con:
        _load(con, tmp_path / "b.csv", _events("C", 4))
    twin = Warehouse(tmp_path / "ws2")
    try:
        assert cache.kept(twin, "duckdb", ("n",), compute) == 10
    finally:
        twin.close()
    assert len(calls) == 3


def test_options_and_store_names_read_only(warehouse: Warehouse) -> None:
    options = cache.options(warehouse, "duckdb", 200)
    assert options["store"] == ("S0", "S1", "S2") and options["channel"] == ("app", "web")
    with pytest.raises(TypeError):
        options["store"] = ()  # type: ignore[index]
    assert cache.options(warehouse, "duckdb", 200) is options
    assert cache.options(warehouse, "duckdb", 2)["store"] == ("S0", "S1")
    assert dict(cache.store_names(warehouse, "duckdb")) == {}


def test_bounded_least_recently_used_out(warehouse: Warehouse,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache.KEPT, "size", 2)
    calls, compute = counted()
    for call in (("a",), ("b",), ("a",), ("c",)):  # "a" used again, so "b" goes first
        cache.kept(warehouse, "duckdb", call, compute)
    assert len(calls) == 3
    cache.kept(warehouse, "duckdb", ("a",), compute)
    assert len(calls) == 3
    cache.kept(warehouse, "duckdb", ("b",), compute)
    assert len(calls) == 4


def test_a_failure_is_not_kept(warehouse: Warehouse) -> None:
    calls: list[int] = []

    def broken(eng):
        calls.append(1)
        raise ValueError("no")
    for _ in range(2):
        with pytest.raises(ValueError):
            cache.kept(warehouse, "duckdb", ("broken",), broken)
    assert len(calls) == 2
