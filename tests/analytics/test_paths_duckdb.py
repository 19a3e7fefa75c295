"""Paths on DuckDB with an anchor take their own query (one window, fixed-width rows); it
must give exactly what the portable query (Spark's) gives on the same warehouse; the process
map's hashed touchpoints exactly what its text version gives."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import pytest

from cxlens.analytics import journeys as j
from cxlens.warehouse.store import open_engine

paths_mod = importlib.import_module("cxlens.analytics.journeys.paths")
ANCHORS = ("add_to_cart", "first_purchase", "repeat_purchase", "page_view",
           "answer:detractor", "support_ticket", "no_such_touchpoint")


@dataclass
class Portable:
    """The DuckDB engine under another name: :func:`paths` then runs the portable query."""

    inner: Any
    name: str = "portable"

    def query(self, sql: str, params: Any = None) -> Any:
        return self.inner.query(sql, params)


@pytest.fixture(scope="module")
def duck(demo):
    with open_engine(demo[0]) as e:
        yield e


@pytest.mark.parametrize("direction", ["from", "to"])
@pytest.mark.parametrize("steps", [1, 4, 7])
def test_the_duckdb_query_equals_the_portable_one(duck, direction, steps) -> None:
    for anchor in ANCHORS:
        fast = j.paths(duck, anchor, direction, steps=steps, top=15)
        slow = j.paths(Portable(duck), anchor, direction, steps=steps, top=15)
        assert fast.as_dict() == slow.as_dict(), (anchor, direction, steps)
    assert j.paths(duck, "add_to_cart", direction, steps=steps).rows


def test_selections_too(duck) -> None:
    sels = [j.Selection(segment="B2B"), j.Selection(channel="web"),
            j.Selection(start=duck.query("SELECT min(ts)::DATE + 30 AS d FROM v_events")
                        .to_pylist()[0]["d"]),
            j.Selection(segment="nobody")]
    for sel in sels:
        for direction in ("from", "to"):
            fast = j.paths(duck, "add_to_cart", direction, sel)
            assert fast.as_dict() == j.paths(Portable(duck), "add_to_cart", direction,
                                             sel).as_dict(), (sel, direction)


def test_a_hash_clash_falls_back_to_the_portable_query(duck, monkeypatch) -> None:
    want = j.paths(Portable(duck), "add_to_cart", "from").as_dict()
    monkeypatch.setattr(paths_mod, "_NAMES", "names AS (\n    SELECT DISTINCT touchpoint, "
                        "CAST(1 AS UBIGINT) AS code FROM log\n)")
    assert j.paths(duck, "add_to_cart", "from").as_dict() == want


def test_the_process_map_by_hashes_equals_it_by_text(duck, monkeypatch) -> None:
    pm = importlib.import_module("cxlens.analytics.journeys.process_map")
    fast = j.process_map(duck).as_dict()
    monkeypatch.setattr(pm, "_MAP_DUCKDB", pm._MAP_DUCKDB_TEXT)
    assert fast == j.process_map(duck).as_dict()
    monkeypatch.setattr(pm, "_MAP_DUCKDB", pm._MAP_DUCKDB.replace(
        "hash(touchpoint) AS code", "CAST(1 AS UBIGINT) AS code"))
    assert fast == j.process_map(duck).as_dict()  # a clash: the text version
