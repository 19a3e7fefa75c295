"""The server's background flush: collected messages become ingest batches within seconds.

One asyncio task per server. It wakes every :data:`~cxlens.ingest.inbox.FLUSH_EVERY_SECONDS`,
or at once when a workspace has :data:`~cxlens.ingest.inbox.FLUSH_WHEN_PENDING` or more
messages appended since its last flush, and calls :func:`cxlens.ingest.inbox.flush` for each
workspace that received messages — in a worker thread, through the workspace's single writer
(``Warehouse.write``), so a flush never runs beside an ingest or another flush of the same
workspace. A flush takes the writer one bounded chunk at a time, as a *background* turn
(about half a second of work each): an ingest, a rollback or a survey answer that arrives
meanwhile goes before the next chunk, so steady collection never holds other writes back
for longer than a chunk. On shutdown it stops and flushes once more, before the warehouses
close.

The flusher learns of workspaces from the collect routes (:meth:`Flusher.notify`) and,
once at start, from the inboxes themselves (:meth:`Flusher.recover`): messages left pending
by a server that stopped abruptly are loaded within seconds of the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from pathlib import Path

from cxlens.ingest import inbox
from cxlens.ingest.load import BatchResult
from cxlens.web.warehouses import Warehouse, Warehouses

log = logging.getLogger("cxlens.collect")


def flush_warehouse(warehouse: Warehouse, label: str | None = None) -> list[BatchResult]:
    """Flush one workspace's inbox, one background writer turn per chunk; logs the counts.

    Only the messages in the inbox when it begins are flushed, so it ends under steady
    traffic; the rest are the next flush's.
    """
    start = time.monotonic()
    results = inbox.flush(None, turn=lambda step: warehouse.write(step, background=True))
    events = [r for r in results if r.kind == "events"]
    if events:
        log.info("collect flush %s: %d message(s) in %d chunk(s), batches %s-%s, loaded %d, "
                 "quarantined %d, duplicates %d, customers batches %d, %.1f s",
                 label or warehouse.path.name, sum(r.rows_in for r in events), len(events),
                 results[0].batch_id, results[-1].batch_id, sum(r.loaded for r in events),
                 sum(r.quarantined for r in events), sum(r.duplicates for r in events),
                 len(results) - len(events), time.monotonic() - start)
    return results


class Flusher:
    """Flushes every workspace with new messages, on a timer or when many are waiting."""

    def __init__(self, pool: Warehouses, every: float = inbox.FLUSH_EVERY_SECONDS,
                 when_pending: int = inbox.FLUSH_WHEN_PENDING) -> None:
        self.pool = pool
        self.every = every
        self.when_pending = when_pending
        self._lock = threading.Lock()
        self._new: dict[Path, int] = {}  # messages appended since the last flush began
        self._known: dict[Path, Warehouse] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.flushes = 0  # flushes that loaded something (for tests and logs)

    # -------------------------------------------------------------- called by routes

    def notify(self, warehouse: Warehouse, stored: int) -> None:
        """``stored`` messages were appended to ``warehouse`` (thread-safe)."""
        with self._lock:
            self._known[warehouse.path] = warehouse
            n = self._new[warehouse.path] = self._new.get(warehouse.path, 0) + max(stored, 0)
        if n >= self.when_pending:
            self._poke()

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(wake.set)

    def recover(self, workspaces_dir: Path) -> int:
        """Notify every workspace whose inbox holds pending messages (a server that stopped
        abruptly left them); returns how many workspaces had some. Run once at start."""
        found = 0
        for db in sorted(workspaces_dir.glob("*/warehouse.duckdb")):
            warehouse = self.pool.get(db.parent)
            try:
                with warehouse.read() as cur:
                    pending = cur.execute(
                        "SELECT count(*) FROM inbox WHERE status = 'pending'").fetchall()[0][0]
            except Exception:  # an unreadable warehouse must not stop the server
                log.exception("could not look for pending messages in %s", db.parent)
                continue
            if pending:
                log.info("collect: %d message(s) pending in %s since the last run",
                         pending, db.parent.name)
                self.notify(warehouse, int(pending))
                found += 1
        if found:
            self._poke()
        return found

    # -------------------------------------------------------------- the task

    def start(self) -> None:
        """Start the task on the running event loop (the server's lifespan)."""
        if not log.hasHandlers():  # under `cxlens serve`: print beside Uvicorn's lines
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
            log.addHandler(handler)
            log.setLevel(logging.INFO)
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="cxlens-flusher")

    async def stop(self) -> None:
        """Stop the task, then flush whatever is still pending (the final flush)."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await asyncio.to_thread(self.flush_due, True)

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.every)
            self._wake.clear()
            if self._stopping:
                break
            await asyncio.to_thread(self.flush_due)

    def flush_due(self, everything: bool = False) -> int:
        """Flush each workspace with new messages (all known ones if ``everything``)."""
        with self._lock:
            due = [(p, wh) for p, wh in self._known.items()
                   if everything or self._new.get(p, 0) > 0]
            for p, _ in due:
                self._new[p] = 0
        loaded = 0
        for path, warehouse in due:
            try:
                results = flush_warehouse(warehouse)
            except Exception:  # keep collecting; the messages stay pending for the next try
                log.exception("collect flush of %s failed; the messages stay pending", path)
                with self._lock:
                    self._new[path] = self._new.get(path, 0) + 1
                continue
            if results:
                self.flushes += 1
                loaded += sum(r.rows_in for r in results if r.kind == "events")
        return loaded
