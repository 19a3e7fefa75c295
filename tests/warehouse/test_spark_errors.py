"""A Spark driver out of memory is a clear message with what to change, not Py4J's stack.

An out-of-memory JVM cannot be brought about reliably in a test on this machine, so the
session here is a stand-in whose ``sql`` raises what PySpark raises then (its text carries
``java.lang.OutOfMemoryError``); everything else about Spark is tested on a real session.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cxlens.errors import EngineUnavailable, UserError
from cxlens.warehouse import spark as sp


def _session(error: Exception) -> SimpleNamespace:
    def sql(*args, **kwargs):
        raise error

    return SimpleNamespace(conf=SimpleNamespace(get=lambda key: "UTC"), sql=sql)


def test_out_of_memory_says_what_to_change() -> None:
    eng = sp.SparkEngine(_session(RuntimeError(
        "An error occurred while calling o123.collectToPython.\n"
        ": java.lang.OutOfMemoryError: Java heap space\n\tat java.base/...")))
    with pytest.raises(EngineUnavailable) as caught:
        eng.query("SELECT 1 AS x")
    assert "ran out of memory" in caught.value.message
    assert "CXLENS_SPARK_MEMORY=4g" in caught.value.hint
    assert "collectToPython" not in str(caught.value)


def test_other_errors_pass_as_they_are() -> None:
    eng = sp.SparkEngine(_session(ValueError("[TABLE_OR_VIEW_NOT_FOUND] nope")))
    with pytest.raises(ValueError, match="TABLE_OR_VIEW_NOT_FOUND"):
        eng.query("SELECT 1 AS x")


def test_a_bad_memory_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setenv(sp.MEMORY_ENV, "lots")
    with pytest.raises(UserError, match="not an amount of memory"):
        sp.local_session("cxlens-test-memory")
