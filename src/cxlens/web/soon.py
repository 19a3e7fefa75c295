"""Kept results computed on a worker thread, for pages whose analysis takes longer than a
request should wait.

:class:`Soon` wraps a :class:`~cxlens.web.kept.Kept`: :meth:`Soon.get` starts the
computation (one per question, however many pages ask) on a daemon thread and waits up to
``wait`` seconds for it; when it is not done the caller gets ``None`` and shows "still
computing", reloading until the kept result is there. The Moments page does the same with its
own code (:func:`cxlens.web.pages.moments.moments_soon`); this is the general form, used by the
Attribution page. A daemon thread, not a pool: a server that stops does not wait for it.
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
        with self._lock:
            fut = self._running.get(key)
            fresh = fut is None
            if fut is None:
                fut = self._running[key] = Future()
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
