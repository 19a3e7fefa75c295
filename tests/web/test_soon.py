"""Results computed on a worker thread (web/soon.py), as the Moments and Attribution pages
use them: a kept result never blocks, and at most MAX_RUNNING computations run at once over
every Soon of the server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from types import SimpleNamespace
from typing import Any

from cxlens.web import soon


class FakeKept:
    """The part of a Kept a Soon uses: ``get`` computes (here: calls ``compute(None)``),
    ``peek`` answers what is kept."""

    def __init__(self) -> None:
        self.kept: dict[tuple[Hashable, ...], Any] = {}

    def get(self, warehouse: Any, engine_choice: str | None, call: tuple[Hashable, ...],
            compute: Callable[[Any], Any]) -> Any:
        self.kept[call] = compute(None)
        return self.kept[call]

    def peek(self, warehouse: Any, engine_choice: str | None,
             call: tuple[Hashable, ...]) -> Any:
        return self.kept.get(call)


def _settle(s: soon.Soon, path: str) -> None:
    for _ in range(500):  # each computation forgets itself once done
        if not any(k[0] == path for k in s._running):
            return
        time.sleep(0.01)
    raise AssertionError("a computation did not forget itself")


def test_a_kept_result_never_blocks() -> None:
    """A result at hand settles its future at once, maybe before the bookkeeping is set up:
    that must not wait on the lock the asking request holds (a deadlock seen under load)."""
    s = soon.Soon(FakeKept(), "test")  # type: ignore[arg-type]
    wh = SimpleNamespace(path="/nowhere")
    got: list[object] = []

    def ask() -> None:
        for i in range(300):
            got.append(s.get(wh, None, ("q", i), lambda eng: "kept", 5.0))  # type: ignore[arg-type]
    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(60)
    assert not asker.is_alive() and got == ["kept"] * 300
    _settle(s, "/nowhere")


def test_questions_beyond_the_running_limit_wait_for_their_reload(monkeypatch) -> None:
    """A question asked while MAX_RUNNING computations run (over every Soon) starts nothing:
    its page says "still computing" and asks again on reload. A kept answer is still given,
    and a caller that waits however long (``wait=None``) computes at once."""
    monkeypatch.setattr(soon, "MAX_RUNNING", 2)
    release = threading.Event()

    def slow(eng: Any) -> str:
        release.wait(30)
        return "done"
    first, second = FakeKept(), FakeKept()
    a = soon.Soon(first, "a")  # type: ignore[arg-type]
    b = soon.Soon(second, "b")  # type: ignore[arg-type]
    wh = SimpleNamespace(path="/limit")
    second.kept[("kept",)] = "at hand"
    try:
        assert a.get(wh, None, ("q", 1), slow, 0.01) is None  # type: ignore[arg-type]
        assert b.get(wh, None, ("q", 2), slow, 0.01) is None  # type: ignore[arg-type]
        assert a.get(wh, None, ("q", 3), slow, 0.01) is None  # type: ignore[arg-type]
        assert [k[3] for k in a._running] == [1] and [k[3] for k in b._running] == [2]
        assert b.get(wh, None, ("kept",), slow, 0.01) == "at hand"  # type: ignore[arg-type]
        assert a.get(wh, None, ("now",), lambda eng: "now", None) == "now"  # type: ignore[arg-type]
    finally:
        release.set()
    _settle(a, "/limit")
    _settle(b, "/limit")
    assert a.get(wh, None, ("q", 3), slow, 5.0) == "done"  # type: ignore[arg-type]
