"""Kept results computed on a worker thread, for pages whose analysis takes longer than a
request should wait.

:class:`Soon` wraps a :class:`~cxlens.web.kept.Kept`: :meth:`Soon.get` starts the
computation (one per question, however many pages ask) on a daemon thread and waits up to
``wait`` seconds for it; when it is not done the caller gets ``None`` and shows "still
computing", reloading until the kept result is there. The Moments and Attribution pages use
it. A daemon thread, not a pool: a server that stops does not wait for it.

At most :data:`MAX_RUNNING` computations run at once, over every :class:`Soon` of the server
(one per core here). A question asked while that many run is not queued: it gets ``None`` and
asks again on its page's next reload, so only questions someone still waits for take a core,
however many distinct questions a visitor sends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Generic, TypeVar

from cxlens.warehouse.engine import Engine
from cxlens.web.kept import Kept
from cxlens.web.warehouses import Warehouse

T = TypeVar("T")
MAX_RUNNING = 2
_RUNNING: list[Future[Any]] = []  # every Soon's computations not yet done
_RUNNING_LOCK = threading.Lock()


class Soon(Generic[T]):
    """A :class:`Kept` whose misses are computed in the background (module docstring)."""

    def __init__(self, kept: Kept, name: str) -> None:
        self.kept = kept
        self.name = name
        self._running: dict[tuple[Hashable, ...], Future[T]] = {}
        self._lock = threading.Lock()

    def get(self, warehouse: Warehouse, engine_choice: str | None,
            call: tuple[Hashable, ...], compute: Callable[[Engine], T],
            wait: float | None) -> T | None:
        """``compute``'s result for ``call`` if kept or done within ``wait`` seconds
        (``None``: however long), else ``None`` while it goes on. Raises what ``compute``
        raised (a failure is not kept: the next request tries again)."""
        key = (str(warehouse.path), engine_choice, *call)
        with self._lock, _RUNNING_LOCK:
            fut = self._running.get(key)
            busy = fut is None and sum(not f.done() for f in _RUNNING) >= MAX_RUNNING
            fresh = fut is None and not busy
            if fresh:
                fut = self._running[key] = Future()
                _RUNNING[:] = [f for f in _RUNNING if not f.done()] + [fut]
        if busy:
            if wait is None:
                return self.kept.get(warehouse, engine_choice, call, compute)
            return self.kept.peek(warehouse, engine_choice, call)
        assert fut is not None
        if fresh:
            fut.add_done_callback(lambda done: self._forget(key, done))
            self._start(fut, lambda: self.kept.get(warehouse, engine_choice, call, compute))
        try:
            return fut.result(timeout=wait)
        except FutureTimeout:
            return None

    def _forget(self, key: tuple[Hashable, ...], done: Future[Any]) -> None:
        with self._lock:
            if self._running.get(key) is done:
                del self._running[key]

    def _start(self, fut: Future[T], compute: Callable[[], T]) -> None:
        def run() -> None:
            if not fut.set_running_or_notify_cancel():
                return
            try:
                fut.set_result(compute())
            except Exception as exc:  # handed to the request that waits
                fut.set_exception(exc)
        threading.Thread(target=run, name=f"cxlens-{self.name}", daemon=True).start()

    def clear(self) -> None:
        """Forget every kept result (tests)."""
        self.kept.clear()
