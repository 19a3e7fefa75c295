"""The server's writer takes turns: interactive writes before background flush chunks, each
class in arrival order, and background work never starved.

The order of turns is checked by recording who ran, with threads parked on events, never by
timing: a thread is known to be queued once the writer's queue holds it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cxlens.web.warehouses import MAX_PASSED, Turns, Warehouse


def queued(turns: Turns, background: int, interactive: int) -> None:
    """Wait until the writer's queues hold that many waiters (threads start in any order)."""
    deadline = time.monotonic() + 30
    while (len(turns._queues[True]), len(turns._queues[False])) != (background, interactive):
        assert time.monotonic() < deadline, "the waiters did not queue"
        time.sleep(0.005)


def waiter(turns: Turns, name: str, order: list[str], background: bool) -> threading.Thread:
    def run() -> None:
        with turns.turn(background):
            order.append(name)

    t = threading.Thread(target=run, name=name)
    t.start()
    return t


def holding(turns: Turns, background: bool = True) -> tuple[threading.Event,
                                                              Callable[[], None]]:
    """A thread that holds the writer until released: (held, release)."""
    held, release = threading.Event(), threading.Event()

    def run() -> None:
        with turns.turn(background):
            held.set()
            release.wait(30)

    t = threading.Thread(target=run)
    t.start()
    assert held.wait(30)

    def let_go() -> None:
        release.set()
        t.join(30)

    return held, let_go


def test_an_interactive_write_goes_before_queued_flush_chunks() -> None:
    """The finding: a flush re-taking the writer chunk after chunk kept a survey answer (or
    an ingest) waiting until the traffic stopped. Now the answer is next."""
    turns = Turns()
    order: list[str] = []
    _, release = holding(turns)  # a flush chunk in progress
    threads = [waiter(turns, "chunk-2", order, True)]
    queued(turns, 1, 0)
    threads.append(waiter(turns, "chunk-3", order, True))
    queued(turns, 2, 0)
    threads.append(waiter(turns, "answer", order, False))
    queued(turns, 2, 1)
    release()
    for t in threads:
        t.join(30)
    assert order == ["answer", "chunk-2", "chunk-3"]


def test_interactive_writes_keep_their_arrival_order() -> None:
    turns = Turns()
    order: list[str] = []
    _, release = holding(turns, background=False)
    threads = []
    for i, name in enumerate(["ingest", "rollback", "answer"]):
        threads.append(waiter(turns, name, order, False))
        queued(turns, 0, i + 1)
    release()
    for t in threads:
        t.join(30)
    assert order == ["ingest", "rollback", "answer"]


def test_background_work_is_not_starved_by_interactive_writes() -> None:
    turns = Turns()
    order: list[str] = []
    _, release = holding(turns, background=False)
    threads = [waiter(turns, "chunk", order, True)]
    queued(turns, 1, 0)
    n = MAX_PASSED + 2
    for i in range(n):
        threads.append(waiter(turns, f"w{i}", order, False))
        queued(turns, 1, i + 1)
    release()
    for t in threads:
        t.join(30)
    assert order.index("chunk") == MAX_PASSED
    assert len(order) == n + 1


def test_warehouse_write_runs_one_at_a_time_and_returns(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "ws")
    inside = 0
    most = 0
    lock = threading.Lock()

    def step(cur) -> int:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        cur.execute("CREATE TABLE IF NOT EXISTS t (i INTEGER)")
        cur.execute("INSERT INTO t VALUES (1)")
        with lock:
            inside -= 1
        return 7

    threads = [threading.Thread(target=lambda b=b: wh.write(step, background=b))
               for b in (True, False) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert most == 1
    assert wh.write(lambda cur: cur.execute("SELECT count(*) FROM t").fetchall()[0][0]) == 8
    assert wh.write(step) == 7
    assert len(wh.writer.waits["background"]) == 4
    wh.close()


@pytest.mark.parametrize("background", [False, True])
def test_an_error_in_a_write_frees_the_writer(tmp_path: Path, background: bool) -> None:
    wh = Warehouse(tmp_path / "ws")

    def boom(cur) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        wh.write(boom, background=background)
    assert wh.write(lambda cur: 1) == 1
    wh.close()
