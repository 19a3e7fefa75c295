"""How the Spark engine runs a query: shared CTEs computed once, a time limit, clear errors.

``split`` is pure SQL work (no Spark); the time limit is tested on a real local session
with a query that runs for minutes, cancelled after 1.5 s with a message naming the setting,
after which the same session answers a small query at once.
"""

from __future__ import annotations

import threading
import time

import pytest

from cxlens.errors import EngineUnavailable, UserError
from cxlens.warehouse import _spark_run as run


def test_split_computes_each_shared_cte_once() -> None:
    sql = ("WITH a AS (SELECT $x AS v), b AS (SELECT v FROM a), "
           "c AS (SELECT a.v FROM a JOIN b ON a.v = b.v) SELECT * FROM c, c AS d")
    steps, rest = run.split(sql, "p")
    assert [v for v, _ in steps] == ["p_0", "p_1"]  # a (used twice), c (used twice)
    assert steps[0][1] == "SELECT $x AS v"
    # b is used once: it stays a CTE inside c's query, reading a's view under a's name
    assert steps[1][1] == ("WITH b AS (SELECT v FROM p_0 AS a)\n"
                           "SELECT a.v FROM p_0 AS a JOIN b ON a.v = b.v")
    assert rest == "SELECT * FROM p_1 AS c, p_1 AS d"


@pytest.mark.parametrize("sql", [
    "SELECT 1 AS x",
    "WITH a AS (SELECT 1 AS v) SELECT v FROM a",  # used once: Spark inlines it, fine
    "WITH RECURSIVE a AS (SELECT 1 AS v) SELECT * FROM a, a AS b",
    "WITH a AS (SELECT 1 AS v) SELECT * FROM a, (WITH a AS (SELECT 2 AS v) SELECT * FROM a) b",
    "SELEC nonsense",
])
def test_split_leaves_other_queries_whole(sql: str) -> None:
    assert run.split(sql, "p") == ([], sql)


def test_the_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(run.TIMEOUT_ENV, raising=False)
    assert run.timeout_seconds() == run.DEFAULT_TIMEOUT
    monkeypatch.setenv(run.TIMEOUT_ENV, "0")
    assert run.timeout_seconds() is None
    monkeypatch.setenv(run.TIMEOUT_ENV, "2.5")
    assert run.timeout_seconds() == 2.5
    for bad in ("soon", "-1"):
        monkeypatch.setenv(run.TIMEOUT_ENV, bad)
        with pytest.raises(UserError, match=run.TIMEOUT_ENV):
            run.timeout_seconds()


def test_lost_executor_and_task_oom_are_the_memory_message() -> None:
    from types import SimpleNamespace

    from cxlens.warehouse.spark import SparkEngine

    for text in ("Job aborted due to stage failure: ExecutorLostFailure (executor 1 exited "
                 "caused by one of the running tasks) Reason: Container killed",
                 "org.apache.spark.memory.SparkOutOfMemoryError: Unable to acquire 65536 "
                 "bytes of memory"):
        def sql(*args, text=text, **kwargs):
            raise RuntimeError(text)

        eng = SparkEngine(SimpleNamespace(conf=SimpleNamespace(get=lambda key: "UTC"),
                                          sql=sql))
        with pytest.raises(EngineUnavailable, match="ran out of memory") as caught:
            eng.query("SELECT 1 AS x")
        assert "CXLENS_SPARK_MEMORY" in caught.value.hint


@pytest.mark.spark
def test_a_query_past_its_time_is_cancelled(spark, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa

    from cxlens.warehouse.spark import SparkEngine

    eng = SparkEngine(spark.newSession())
    eng.register("slow_nums", pa.table({"v": pa.array(range(5000), pa.int64())}))
    monkeypatch.setenv(run.TIMEOUT_ENV, "1.5")
    # 125 billion combinations: minutes on any machine
    slow = ("SELECT count(*) AS n FROM slow_nums AS a CROSS JOIN slow_nums AS b "
            "CROSS JOIN slow_nums AS c WHERE (a.v * 31 + b.v * 17 + c.v) % 1000003 = 7")
    started = time.monotonic()
    with pytest.raises(EngineUnavailable) as caught:
        eng.query(slow)
    assert time.monotonic() - started < 30
    assert "did not finish within 1.5 s" in caught.value.message
    assert run.TIMEOUT_ENV in caught.value.hint and "Traceback" not in str(caught.value)
    # The cancelled query's thread ends (its job really was cancelled: before the fix the
    # cancel reached no job and the cross join held both cores for minutes), and the
    # session answers the next query at once.
    deadline = time.monotonic() + 60
    while _query_threads() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _query_threads(), "the cancelled query still runs"
    monkeypatch.setenv(run.TIMEOUT_ENV, "60")
    started = time.monotonic()
    assert eng.query("SELECT count(*) AS n FROM slow_nums").to_pylist() == [{"n": 5000}]
    assert time.monotonic() - started < 30
    assert not spark.sparkContext.statusTracker().getActiveJobsIds()


def _query_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("cxlens-spark-")]


def test_a_job_started_after_the_cancel_is_cancelled_too() -> None:
    """A query past its time may not have started its job yet (still planning, or between
    a shared CTE's job and the next): the tag is cancelled again until the query's thread
    ends, on the SparkContext (a classic session's ``interruptTag`` sees only the calling
    thread's tags)."""
    from types import SimpleNamespace

    cancels: list[str] = []
    added: list[str] = []
    started = threading.Event()

    def work() -> str:
        # the "job" starts only after the first cancel, and ends when cancelled again
        # (or gives up after 20 s, so a broken time limit fails instead of hanging)
        give_up = time.monotonic() + 20
        while not cancels and time.monotonic() < give_up:
            time.sleep(0.01)
        seen = len(cancels)
        started.set()
        while len(cancels) == seen and time.monotonic() < give_up:
            time.sleep(0.01)
        raise RuntimeError("job cancelled")

    sc = SimpleNamespace(addJobTag=added.append, removeJobTag=lambda tag: None,
                         cancelJobsWithTag=cancels.append,
                         setLocalProperty=lambda key, value: None)
    session = SimpleNamespace(sparkContext=sc)
    with pytest.raises(EngineUnavailable, match=r"did not finish within 0\.1 s"):
        run.with_time_limit(session, work, 0.1)
    assert started.wait(10)
    deadline = time.monotonic() + 10
    while _query_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _query_threads() and len(cancels) >= 2 and set(cancels) == set(added)


@pytest.mark.spark
def test_shared_ctes_give_the_same_rows(spark) -> None:
    import pyarrow as pa

    from cxlens.warehouse.spark import SparkEngine

    eng = SparkEngine(spark.newSession())
    eng.register("nums", pa.table({"v": pa.array(range(50), pa.int64())}))
    sql = ("WITH a AS (SELECT v FROM nums), "
           "b AS (SELECT v, v * v AS sq FROM a WHERE v % 2 = 0) "
           "SELECT b.v AS v, b.sq AS sq, c.v AS w FROM b JOIN a AS c ON c.v = b.v + 1 "
           "JOIN b AS d ON d.v = b.v ORDER BY v")
    rows = eng.query(sql, {}).to_pylist()
    assert rows[:2] == [{"v": 0, "sq": 0, "w": 1}, {"v": 2, "sq": 4, "w": 3}]
    assert len(rows) == 25
    assert not [t for t in eng.tables() if t.startswith("cxlens_cte_")]  # views dropped
