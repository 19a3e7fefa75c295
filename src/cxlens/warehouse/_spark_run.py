"""How :class:`~cxlens.warehouse.spark.SparkEngine` runs one query: shared CTEs computed once,
everything under a job tag with a time limit.

**Shared CTEs.** Spark inlines every deterministic CTE at each place it is referenced: a
CTE used three times is computed three times, and a chain of shared CTEs multiplies. The
business moments' units (``analytics/journeys/_units.py``) reference the journey log, via
``cust``, ``met``, ``tr``, ``mm`` and ``units``, so often that Spark planned survival's
query on the S demo with the log (a window over every event and order) 38 times, 152 table
scans and 25 broadcasts; on a 1 GB driver it took 91 s and, after other queries, ran a task
out of memory (then local mode waits forever). DuckDB computes a CTE referenced more than
once a single time. :func:`split` gives Spark the same: every top-level CTE referenced more
than once becomes a query of its own, whose result is cached (memory, spilling to disk) and
read by the rest under a temporary view of a unique name. The answer is the same (the SQL
is deterministic); only the amount of work changes.

**A time limit.** ``$CXLENS_SPARK_TIMEOUT`` seconds (default :data:`DEFAULT_TIMEOUT`, ``0``
for none) for each query: past it, its jobs are cancelled (again and again until its thread
gives up: a job started after the first cancel is cancelled too) and the caller gets a
message naming the setting, not a wait without end (a task out of memory in local mode is
never reported back). The session then answers the next query at once.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlglot
from sqlglot import exp

from cxlens.errors import EngineUnavailable, UserError

TIMEOUT_ENV = "CXLENS_SPARK_TIMEOUT"
DEFAULT_TIMEOUT = 1800.0
"""Seconds a query may run on Spark before it is cancelled (30 minutes)."""

T = TypeVar("T")


def _references(node: exp.Expression, names: set[str]) -> list[str]:
    """The CTE names ``node`` reads as tables (with repeats)."""
    return [t.name.lower() for t in node.find_all(exp.Table)
            if not t.args.get("db") and not t.args.get("catalog") and t.name.lower() in names]


def _rename(node: exp.Expression, views: dict[str, str]) -> exp.Expression:
    """``node`` with its references to materialised CTEs read from their views (aliased by
    the CTE's name, so qualified columns still resolve)."""
    node = node.copy()
    for t in list(node.find_all(exp.Table)):
        name = t.name.lower()
        if name in views and not t.args.get("db") and not t.args.get("catalog"):
            if not t.alias:
                t.set("alias", exp.TableAlias(this=exp.to_identifier(t.name)))
            t.set("this", exp.to_identifier(views[name]))
    return node


def split(sql: str, prefix: str) -> tuple[list[tuple[str, str]], str]:
    """``([(view, query), …], rest)``: the DuckDB-dialect ``sql`` as queries, in order, each
    computing one top-level CTE referenced more than once (to be registered as ``view``),
    and the query that reads them. ``([], sql)`` when nothing is shared, for a recursive
    ``WITH`` or a nested ``WITH`` (whose names could shadow the outer ones)."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return [], sql  # to_spark_sql reports it
    with_ = tree.args.get("with_") if isinstance(tree, exp.Query) else None
    if with_ is None or with_.args.get("recursive"):
        return [], sql
    ctes = list(with_.expressions)
    if any(c.this.find(exp.With) for c in ctes):
        return [], sql
    body = tree.copy()
    body.set("with_", None)
    if body.find(exp.With):
        return [], sql
    names = {c.alias.lower() for c in ctes}
    deps = {c.alias.lower(): _references(c.this, names) for c in ctes}
    used: dict[str, int] = {}
    for refs in [*deps.values(), _references(body, names)]:
        for r in refs:
            used[r] = used.get(r, 0) + 1
    shared = [c.alias.lower() for c in ctes if used.get(c.alias.lower(), 0) > 1]
    if not shared:
        return [], sql
    views = {n: f"{prefix}_{i}" for i, n in enumerate(shared)}

    def query(top: exp.Expression) -> str:
        """``top`` after the unshared CTEs it needs (transitively, in their order)."""
        need: set[str] = set()
        todo = [r for r in _references(top, names) if r not in views]
        while todo:
            n = todo.pop()
            if n not in need:
                need.add(n)
                todo.extend(r for r in deps[n] if r not in views)
        parts = [f"{exp.to_identifier(c.alias).sql('duckdb')} AS "
                 f"({_rename(c.this, views).sql('duckdb')})"
                 for c in ctes if c.alias.lower() in need]
        text = _rename(top, views).sql("duckdb")
        return f"WITH {', '.join(parts)}\n{text}" if parts else text

    by = {c.alias.lower(): c for c in ctes}
    steps = [(views[n], query(by[n].this)) for n in shared]
    return steps, query(body)


def timeout_seconds() -> float | None:
    """``$CXLENS_SPARK_TIMEOUT`` in seconds (``None``: no limit)."""
    raw = os.environ.get(TIMEOUT_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"${TIMEOUT_ENV}={raw!r} is not a number of seconds",
                        hint="write it in seconds, e.g. 600; 0 for no limit") from None
    if value < 0:
        raise UserError(f"${TIMEOUT_ENV}={raw!r} is negative",
                        hint="write it in seconds, e.g. 600; 0 for no limit")
    return value or None


def _interrupt_on_cancel(spark: Any) -> None:
    """Cancelled jobs of this thread interrupt their running tasks (a classic session):
    without it a task only stops where it next checks its flag, which a tight loop such as
    a large join may not do for minutes, holding the cores the next query waits for."""
    with contextlib.suppress(Exception):  # Spark Connect has no SparkContext: the server's
        spark.sparkContext.setLocalProperty("spark.job.interruptOnCancel", "true")


def _context(spark: Any) -> Any:
    """A classic session's SparkContext (``None`` for Spark Connect or a stand-in)."""
    try:
        sc = spark.sparkContext
    except Exception:  # Spark Connect: no SparkContext
        return None
    return sc if hasattr(sc, "cancelJobsWithTag") else None


@dataclass(frozen=True)
class _Tagging:
    """How one query's jobs are tagged (in the query's own thread) and cancelled (from any
    thread).

    A classic session uses SparkContext job tags: ``SparkSession.interruptTag`` there looks
    the tag up among the *calling thread's* tags, so called from the waiting thread it found
    none and cancelled nothing (issue 11: the cancelled query ran on and held every core),
    whereas ``SparkContext.cancelJobsWithTag`` cancels every active job with the tag. Spark
    Connect's server matches a session's operations by the tag's text from any thread."""

    add: Callable[[str], Any]
    remove: Callable[[str], Any]
    cancel: Callable[[str], Any]

    @classmethod
    def of(cls, spark: Any) -> _Tagging | None:
        sc = _context(spark)
        if sc is not None:
            return cls(sc.addJobTag, sc.removeJobTag, sc.cancelJobsWithTag)
        if hasattr(spark, "addTag"):
            return cls(spark.addTag, spark.removeTag, spark.interruptTag)
        return None


CANCEL_EVERY = 0.25
"""Seconds between the cancels of a timed-out query's tag while its thread still runs."""
CANCEL_FOR = 300.0
"""Seconds a timed-out query's tag is cancelled again and again before it is given up."""


def _cancel(tagging: _Tagging, tag: str, done: threading.Event) -> None:
    """Cancel the jobs tagged ``tag`` now and again every :data:`CANCEL_EVERY` s until the
    query's thread ends (at most :data:`CANCEL_FOR` s), in a daemon thread.

    A cancel reaches only the jobs that run at that moment. A query past its time may still
    be being planned, or be between two jobs (a broadcast, a shared CTE's checkpoint, then
    the main job); the job it starts a moment later was never cancelled. So the tag is
    cancelled again until the thread has given up. A dead session cannot cancel: the
    message stands.
    """
    def again() -> None:
        deadline = time.monotonic() + CANCEL_FOR
        while True:
            with contextlib.suppress(Exception):
                tagging.cancel(tag)
            if done.wait(CANCEL_EVERY) or time.monotonic() > deadline:
                return

    threading.Thread(target=again, name=f"cxlens-cancel-{tag}", daemon=True).start()


def with_time_limit(spark: Any, work: Callable[[], T], seconds: float | None) -> T:
    """``work()`` with its Spark jobs tagged; past ``seconds`` they are cancelled and
    :class:`EngineUnavailable` says so and names ``$CXLENS_SPARK_TIMEOUT``.

    ``work`` runs in a thread of its own (PySpark pins it to a JVM thread, so the tag is
    its jobs' alone) that this one waits for: a job whose task died out of memory in local
    mode never answers, and only a caller that stops waiting can report it. A daemon
    thread, so such a stuck thread never keeps the process from exiting.
    """
    tagging = _Tagging.of(spark)
    if seconds is None or tagging is None:
        return work()
    tag = f"cxlens-{uuid.uuid4().hex[:12]}"
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            _interrupt_on_cancel(spark)
            tagging.add(tag)
            try:
                box["value"] = work()
            finally:
                tagging.remove(tag)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"cxlens-spark-{tag}", daemon=True).start()
    if not done.wait(seconds):
        _cancel(tagging, tag, done)
        raise EngineUnavailable(
            f"the Spark query did not finish within {seconds:g} s and was cancelled",
            hint=f"allow it longer (${TIMEOUT_ENV}=3600, 0 for no limit); if Spark ran out "
                 "of memory (local mode then waits forever), give it more: "
                 "$CXLENS_SPARK_MEMORY=4g, or use the DuckDB engine")
    if "error" in box:
        raise box["error"]
    return box["value"]
