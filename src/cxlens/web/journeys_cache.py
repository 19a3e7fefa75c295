"""The journeys results of a workspace, kept while its batches stay as they are.

The Journeys page asks the analytics for the touchpoints, the paths and the process map of
one selection; on the M demo under load these take several seconds each (paths 2.9 s,
process map 3.8 s, touchpoints 1.9 s), and a reader changing only the direction or the
number of steps should not pay for the process map again. The page and the JSON API
(``/api/w/{slug}/journeys/...``) read through here, so one fills the other's cache.

A result is kept under everything it depends on:

* the warehouse (its path: one workspace's result never answers for another);
* its data version (:func:`cxlens.web.value_cache.data_version`: the last batch and how
  many are loaded) — a new batch, a rollback or a retry changes it, also one made by the CLI
  beside the server, and only batches change the rows the journeys read;
* the engine, and the call: which analysis and its arguments (the selection's period and
  filters, anchor, direction, steps, top). The journeys read no clock, so the day is not in
  the key; the page's window is, as the selection's dates.

Results are frozen dataclasses and tuples; the caller must not change them (the page copies
the filter options before adding a chosen value). Failures are not kept. The cache is
bounded (:data:`SIZE` results, least recently used out): a result is a few hundred rows.
Two requests for the same missing result wait for one computation (a lock per key).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from types import MappingProxyType
from typing import Any, TypeVar

from cxlens.analytics import journeys as jr
from cxlens.analytics.group_names import group_names
from cxlens.analytics.journeys.options import filter_options
from cxlens.warehouse.engine import Engine
from cxlens.web.value_cache import data_version
from cxlens.web.warehouses import Warehouse, engine_name

T = TypeVar("T")
SIZE = 128

_CACHE: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
_LOCKS: dict[tuple[Hashable, ...], threading.Lock] = {}
_lock = threading.Lock()


def kept(warehouse: Warehouse, engine_choice: str | None, call: tuple[Hashable, ...],
         compute: Callable[[Engine], T]) -> T:
    """``compute(engine)`` for ``call`` (the analysis and its arguments): the kept result
    while the warehouse's data version is the same, else computed now and kept. The engine
    is opened only when something must be computed (on Spark that syncs the lake)."""
    key = (str(warehouse.path), data_version(warehouse), engine_name(engine_choice), *call)
    with _lock:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]  # type: ignore[no-any-return]
        turn = _LOCKS.setdefault(key, threading.Lock())
    with turn:
        with _lock:  # another request may have computed it while this one waited
            if key in _CACHE:
                return _CACHE[key]  # type: ignore[no-any-return]
        try:
            with warehouse.engine(engine_choice) as eng:
                result = compute(eng)
        finally:
            with _lock:
                _LOCKS.pop(key, None)
        with _lock:
            _CACHE[key] = result
            while len(_CACHE) > SIZE:
                _CACHE.popitem(last=False)
    return result


def touchpoints(warehouse: Warehouse, engine_choice: str | None,
                sel: jr.Selection) -> tuple[jr.TouchpointCount, ...]:
    """:func:`cxlens.analytics.journeys.touchpoints`, kept."""
    return kept(warehouse, engine_choice, ("touchpoints", sel),
                lambda eng: tuple(jr.touchpoints(eng, sel)))


def paths(warehouse: Warehouse, engine_choice: str | None, anchor: str | None,
          direction: str, sel: jr.Selection, steps: int, top: int) -> jr.Paths:
    """:func:`cxlens.analytics.journeys.paths`, kept."""
    return kept(warehouse, engine_choice, ("paths", anchor, direction, sel, steps, top),
                lambda eng: jr.paths(eng, anchor, direction, sel,  # type: ignore[arg-type]
                                     steps=steps, top=top))


def process_map(warehouse: Warehouse, engine_choice: str | None,
                sel: jr.Selection) -> jr.ProcessMap:
    """:func:`cxlens.analytics.journeys.process_map`, kept."""
    return kept(warehouse, engine_choice, ("map", sel), lambda eng: jr.process_map(eng, sel))


def options(warehouse: Warehouse, engine_choice: str | None,
            limit: int) -> MappingProxyType[str, tuple[str, ...]]:
    """The filter form's values (:func:`~cxlens.analytics.journeys.options.filter_options`),
    kept, read-only."""
    def compute(eng: Engine) -> MappingProxyType[str, tuple[str, ...]]:
        found = filter_options(eng, limit)
        return MappingProxyType({dim: tuple(values) for dim, values in found.items()})
    return kept(warehouse, engine_choice, ("options", limit), compute)


def store_names(warehouse: Warehouse,
                engine_choice: str | None) -> MappingProxyType[str, str]:
    """Store code -> name (:func:`cxlens.analytics.group_names.group_names`), kept."""
    return kept(warehouse, engine_choice, ("store_names",),
                lambda eng: MappingProxyType(group_names(eng, "store_id")))


def clear() -> None:
    """Forget every kept result (tests)."""
    with _lock:
        _CACHE.clear()
