"""The warehouses while serving: one read-write DuckDB connection per workspace, one writer.

A DuckDB file takes one writing process. The server is that process for every workspace it
serves: the first request that needs a workspace's warehouse opens it read-write (creating
and migrating it) and keeps the connection until shutdown. Reads get their own cursor
(``con.cursor()``: a connection of their own to the same database, so they run in parallel
and see committed data). Writes — file ingest, collected events, rollbacks — go one at a time
through the workspace's writer lock, so two batches never interleave. Routes are plain
``def`` functions, which FastAPI runs in its thread pool; a waiting writer blocks only its
own worker thread. ``cxlens ingest`` hands its file to the server instead of opening the
file itself (see :mod:`cxlens.web.server`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from cxlens.warehouse.store import open_warehouse

T = TypeVar("T")


class Warehouse:
    """One workspace's warehouse inside the server."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._stack = ExitStack()
        self._open_lock = threading.Lock()
        self.writer = threading.Lock()
        self.appender = threading.Lock()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._open_lock:
            if self._con is None:
                self._con = self._stack.enter_context(open_warehouse(self.path))
            return self._con

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for reading; closed afterwards."""
        cur = self._connection().cursor()
        try:
            yield cur
        finally:
            cur.close()

    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``fn(cursor)`` as the only writer of this warehouse; returns its result."""
        con = self._connection()
        with self.writer:
            cur = con.cursor()
            try:
                return fn(cur)
            finally:
                cur.close()

    def append(self, fn: Callable[[duckdb.DuckDBPyConnection], T], attempts: int = 3) -> T:
        """Run ``fn(cursor)``, an insert-only write, beside the writer rather than behind it.

        Collected events only add rows to the inbox, which no other write inserts into, so
        they need not wait for a flush or a file ingest (that kept accepted events waiting
        up to a second). DuckDB's optimistic concurrency may still refuse a commit that
        races another; ``fn`` is all-or-nothing, so it is simply run again.
        """
        con = self._connection()
        with self.appender:
            for attempt in range(attempts):
                cur = con.cursor()
                try:
                    return fn(cur)
                except duckdb.TransactionException:
                    if attempt == attempts - 1:
                        raise
                finally:
                    cur.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self.writer, self.appender, self._open_lock:
            self._stack.close()
            self._con = None


class Warehouses:
    """Every workspace's :class:`Warehouse`, opened lazily, closed at shutdown."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: dict[Path, Warehouse] = {}

    def get(self, path: Path) -> Warehouse:
        path = Path(path).resolve()
        with self._lock:
            if path not in self._by_path:
                self._by_path[path] = Warehouse(path)
            return self._by_path[path]

    def close(self) -> None:
        with self._lock:
            for wh in self._by_path.values():
                wh.close()
            self._by_path.clear()
