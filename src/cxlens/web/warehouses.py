"""The warehouses while serving: one read-write DuckDB connection per workspace, one writer.

A DuckDB file takes one writing process. The server is that process for every workspace it
serves: the first request that needs a workspace's warehouse opens it read-write (creating
and migrating it) and keeps the connection until shutdown. Reads get their own cursor
(``con.cursor()``: a connection of their own to the same database, so they run in parallel
and see committed data). Writes — file ingest, rollbacks, survey answers, collection
flushes — go one at a time through the workspace's writer, so two batches never
interleave. Routes are plain ``def`` functions, which FastAPI runs in its thread pool; a
waiting writer blocks only its own worker thread. ``cxlens ingest`` hands its file to the
server instead of opening the file itself (see :mod:`cxlens.web.server`).

**The writer takes turns** (:class:`Turns`). A plain lock let one long holder — a flush that
kept looping while ``/v1/batch`` traffic arrived — starve every other write for minutes.
Now a write is either *interactive* (``write(fn)``: ingest, rollback, a survey answer, any
route) or *background* (``write(fn, background=True)``: one chunk of a collection flush,
bounded in messages and time by :func:`cxlens.ingest.inbox.flush`). When the writer comes
free, the longest-waiting interactive write goes first; background chunks go in arrival
order when no interactive write waits, and after :data:`MAX_PASSED` interactive turns in a
row while a chunk waits, the chunk gets the next turn, so collection is never starved
either. An interactive write therefore waits at most for the write in progress — one flush
chunk (~0.5 s) or another interactive write — plus the interactive writes queued before it.

**The engine** (docs/engine.md, "The dashboard on Spark"). Analytics read through
:meth:`Warehouse.engine`: DuckDB on a read cursor, or — when the workspace's setting or
``$CXLENS_SPARK`` chooses it — Spark on the workspace's lake. The server starts one Spark
session (:class:`SharedSpark`) when the first request needs it and keeps it until shutdown;
before each Spark read the lake is checked against the warehouse and, when behind, synced
as a write (in the writer's turn, so it never races a batch's own sync).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from cxlens.errors import EngineUnavailable, UserError
from cxlens.warehouse.engine import DuckDBEngine, Engine
from cxlens.warehouse.store import open_warehouse

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

T = TypeVar("T")

MAX_PASSED = 4  # interactive turns in a row while a background chunk waits, at most
SLOW_WAIT = 5.0  # seconds: a write that waited longer for its turn is logged

log = logging.getLogger("cxlens.writer")


class Turns:
    """A lock that grants turns fairly: interactive first, each class in arrival order.

    Unlike ``threading.Lock`` (which wakes an arbitrary waiter, so a thread that releases
    and at once re-acquires — a flush going from chunk to chunk — may win every time), each
    waiter joins a queue and is woken by name. ``waits`` keeps the recent waits in seconds
    per class (the server's logs and ``bench/collect.py`` read them).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._busy = False
        self._queues: dict[bool, deque[object]] = {False: deque(), True: deque()}
        self._passed = 0  # interactive turns granted while a background one waited
        self.waits: dict[str, deque[float]] = {"interactive": deque(maxlen=10_000),
                                               "background": deque(maxlen=10_000)}

    def _next(self) -> object | None:
        fg, bg = self._queues[False], self._queues[True]
        if bg and (not fg or self._passed >= MAX_PASSED):
            return bg[0]
        return fg[0] if fg else None

    @contextmanager
    def turn(self, background: bool = False) -> Iterator[None]:
        """Wait for this caller's turn, hold the writer inside the block, then pass it on."""
        me = object()
        queue = self._queues[background]
        start = time.monotonic()
        with self._cond:
            queue.append(me)
            try:
                while self._busy or self._next() is not me:
                    self._cond.wait()
            except BaseException:  # interrupted while waiting: leave the queue
                queue.remove(me)
                self._cond.notify_all()
                raise
            queue.popleft()
            self._busy = True
            if background:
                self._passed = 0
            elif self._queues[True]:
                self._passed += 1
            waited = time.monotonic() - start
            self.waits["background" if background else "interactive"].append(waited)
        if waited > SLOW_WAIT and not background:
            log.warning("a write waited %.1f s for the warehouse's writer", waited)
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


SPARK_ENV = "CXLENS_SPARK"  # the same variable as warehouse.spark.SPARK_ENV


def engine_name(choice: str | None) -> str:
    """The engine a workspace computes on: its setting, else Spark when ``$CXLENS_SPARK``
    names one, else DuckDB."""
    return choice or ("spark" if os.environ.get(SPARK_ENV) else "duckdb")


def _unavailable(exc: UserError) -> EngineUnavailable:
    return EngineUnavailable(exc.message, hint=exc.hint or "see docs/engine.md, or choose "
                             "the DuckDB engine in the workspace's settings")


def _is_connect(session: SparkSession) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")


def _stopped(session: SparkSession) -> bool:
    """Whether a classic session's SparkContext has stopped (a Connect client reconnects
    by itself)."""
    if _is_connect(session):
        return False
    jsc = session.sparkContext._jsc  # None once stopped from Python
    return jsc is None or bool(jsc.sc().isStopped())


class SharedSpark:
    """The server's one Spark session, started by the first request that computes on Spark.

    Starting Spark costs seconds and a JVM holds one SparkContext, so the server keeps one
    for its whole life (stopped at shutdown). Each request gets a child session
    (``newSession``): the same executors, but temporary views of its own, so requests
    reading two workspaces' lakes — or two versions of one — never see each other's
    ``v_<kind>``. A Spark Connect client has no child sessions: there requests take turns.
    A start that fails (a master that does not answer) is tried again by the next request,
    and so is a session whose SparkContext has stopped (its cluster went away).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turns = threading.Lock()
        self._root: SparkSession | None = None

    def _started(self) -> SparkSession:
        from cxlens.warehouse.spark import session_for

        with self._lock:
            if self._root is not None and _stopped(self._root):
                self._root = None
            if self._root is None:
                spec = os.environ.get(SPARK_ENV) or "local[2]"
                try:
                    self._root = session_for(spec, "cxlens-server")
                except UserError as exc:
                    raise _unavailable(exc) from None
            return self._root

    @contextmanager
    def session(self) -> Iterator[SparkSession]:
        """A session for one request; its temporary views are dropped afterwards."""
        root = self._started()
        if _is_connect(root):
            with self._turns:
                yield root
            return
        session = root.newSession()
        try:
            yield session
        finally:
            for t in session.catalog.listTables():
                if t.isTemporary:
                    session.catalog.dropTempView(t.name)

    def stop(self) -> None:
        with self._lock:
            if self._root is not None:
                self._root.stop()
                self._root = None


class Warehouse:
    """One workspace's warehouse inside the server."""

    def __init__(self, path: Path, spark: SharedSpark | None = None) -> None:
        self.path = Path(path)
        self.spark = spark or SharedSpark()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._stack = ExitStack()
        self._open_lock = threading.Lock()
        self.writer = Turns()
        self.appender = threading.Lock()
        # Counts the writes this server made (batches, rollbacks, survey answers, follow-up
        # changes): a result computed at one count is still right while it stays the same.
        # Appends to the collection inbox are not counted: they reach the tables only
        # through a flush, which is a write.
        self.writes = 0

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

    @contextmanager
    def engine(self, choice: str | None = None) -> Iterator[Engine]:
        """The :class:`Engine` analytics functions read through: a read cursor, or Spark on
        the workspace's lake when ``choice`` (the workspace's setting) or, without one,
        ``$CXLENS_SPARK`` says so (:func:`engine_name`).

        On Spark the lake is brought up to date first and the engine reads the version
        current then. Spark that cannot start, PySpark missing or a lake that cannot be
        written raise :class:`EngineUnavailable` (a 503 with the reason), within seconds.
        """
        if engine_name(choice) == "duckdb":
            with self.read() as cur:
                yield DuckDBEngine(cur)
            return
        from cxlens.warehouse.spark import lake_engine, require_pyspark

        with ExitStack() as stack:
            try:
                require_pyspark()
                lake = self._current_lake()
                eng = lake_engine(stack.enter_context(self.spark.session()), lake)
            except EngineUnavailable:
                raise
            except UserError as exc:  # the set-up's trouble; the analytics' errors pass
                raise _unavailable(exc) from None
            yield eng

    def _current_lake(self) -> Path:
        """The workspace's lake, synced first when it is behind the warehouse. The check
        reads; the sync runs as a write, so it takes turns with batches (whose commit
        syncs the lake too) and two requests never write one version at once."""
        from cxlens.warehouse import lake as lk
        from cxlens.warehouse.spark import lake_behind

        lake = lk.lake_path(self.path)
        with self.read() as cur:
            behind = lake_behind(cur, lake)
        if behind:
            def sync(cur: duckdb.DuckDBPyConnection) -> Any:
                return lk.sync(cur, lake) if lake_behind(cur, lake) else None

            self.write(sync)
        return lake

    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], T], *,
              background: bool = False) -> T:
        """Run ``fn(cursor)`` as the only writer of this warehouse; returns its result.

        ``background`` marks one bounded step of background work (a flush chunk): it yields
        to interactive writes that are waiting (see :class:`Turns`). Keep background steps
        short — the wait of every interactive write is bounded by them.
        """
        con = self._connection()
        with self.writer.turn(background):
            cur = con.cursor()
            try:
                return fn(cur)
            finally:
                self.writes += 1
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
        with self.writer.turn(), self.appender, self._open_lock:
            self._stack.close()
            self._con = None


class Warehouses:
    """Every workspace's :class:`Warehouse`, opened lazily, closed at shutdown."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: dict[Path, Warehouse] = {}
        self.spark = SharedSpark()  # one for every workspace of the server

    def get(self, path: Path) -> Warehouse:
        path = Path(path).resolve()
        with self._lock:
            if path not in self._by_path:
                self._by_path[path] = Warehouse(path, self.spark)
            return self._by_path[path]

    def close(self) -> None:
        with self._lock:
            for wh in self._by_path.values():
                wh.close()
            self._by_path.clear()
        self.spark.stop()
