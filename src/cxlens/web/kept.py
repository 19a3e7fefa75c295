"""Results the server keeps while a workspace's batches stay as they are.

Some analyses take seconds (the value model ~20 s on the M demo, the journeys several
seconds each), and a reader who comes back, or changes one control, should not wait for
them again. A :class:`Kept` holds results under everything they depend on:

* the warehouse (its path: one workspace's result never answers for another);
* its **data version** (:func:`data_version`): the last batch and how many batches are
  loaded and known — a new batch, a rollback or a retry changes it, also one made by the
  CLI beside the server, and only batches change the rows the analytics read;
* the engine, and the call: which analysis and its arguments.

The first request after a change computes; two requests for the same missing result wait
for one computation (a lock per key) rather than computing twice. Failures are not kept.
Each cache is bounded (least recently used out). Results are shared between requests: they
must be immutable (frozen dataclasses, tuples, read-only mappings).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cxlens.warehouse.engine import Engine
from cxlens.web.warehouses import Warehouse, engine_name

T = TypeVar("T")

# The data version of a warehouse: a batch committed, rolled back or retried changes it.
_VERSION = """SELECT coalesce(max(batch_id), 0) AS last,
       count(*) FILTER (WHERE status = 'loaded') AS loaded, count(*) AS batches
FROM batches WHERE finished_at IS NOT NULL"""


def data_version(warehouse: Warehouse) -> tuple[int, int, int]:
    """The warehouse's last committed batch, and how many batches are loaded and known."""
    with warehouse.read() as cur:
        row = cur.execute(_VERSION).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


class Kept:
    """One bounded cache of results (see the module's docstring)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._results: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._turns: dict[tuple[Hashable, ...], threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, warehouse: Warehouse, engine_choice: str | None,
            call: tuple[Hashable, ...], compute: Callable[[Engine], T]) -> T:
        """``compute(engine)`` for ``call``: the kept result while the warehouse's data
        version is the same, else computed now and kept. The engine is opened only when
        something must be computed (on Spark that syncs the lake)."""
        key = (str(warehouse.path), data_version(warehouse), engine_name(engine_choice), *call)
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]  # type: ignore[no-any-return]
            turn = self._turns.setdefault(key, threading.Lock())
        with turn:
            with self._lock:  # another request may have computed it while this one waited
                if key in self._results:
                    return self._results[key]  # type: ignore[no-any-return]
            try:
                with warehouse.engine(engine_choice) as eng:
                    result = compute(eng)
            finally:
                with self._lock:
                    self._turns.pop(key, None)
            with self._lock:
                self._results[key] = result
                while len(self._results) > self.size:
                    self._results.popitem(last=False)
        return result

    def peek(self, warehouse: Warehouse, engine_choice: str | None,
             call: tuple[Hashable, ...]) -> Any | None:
        """The kept result for ``call`` at the warehouse's data version, or ``None``;
        never computes."""
        key = (str(warehouse.path), data_version(warehouse), engine_name(engine_choice), *call)
        with self._lock:
            return self._results.get(key)

    def clear(self) -> None:
        """Forget every kept result (tests)."""
        with self._lock:
            self._results.clear()
