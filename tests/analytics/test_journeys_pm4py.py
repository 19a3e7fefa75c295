"""The process map's directly-follows counts equal pm4py's ``discover_dfg`` on the same log.

pm4py is a test dependency only (AGPL: never imported by ``src/``). The log it reads is
:func:`journey_log` of the S demo, in the journey log's order; pm4py sorts by case and time
with a stable sort, so touchpoints of the same second keep that order on both sides. Both
pm4py's pandas and polars paths are checked, as ``bench/journeys.py`` times both.
"""

from __future__ import annotations

import pytest

from cxlens.analytics import journeys as j
from cxlens.warehouse.store import open_engine

pm4py = pytest.importorskip("pm4py")


def _frame(eng):
    """The journey log as pm4py's columns: case, activity, timestamp (naive UTC)."""
    log = j.journey_log(eng).to_pandas()
    df = log.rename(columns={"customer_id": "case:concept:name",
                             "touchpoint": "concept:name", "ts": "time:timestamp"})
    ts = df["time:timestamp"]
    if getattr(ts.dt, "tz", None) is not None:
        df["time:timestamp"] = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return df[["case:concept:name", "concept:name", "time:timestamp"]]


def _ours(m: j.ProcessMap) -> tuple[dict, dict, dict]:
    return ({(e.source, e.target): e.transitions for e in m.edges},
            {n.touchpoint: n.starts for n in m.nodes if n.starts},
            {n.touchpoint: n.ends for n in m.nodes if n.ends})


def test_directly_follows_counts_equal_pm4py_on_the_s_demo(demo) -> None:
    ws, _ = demo
    with open_engine(ws) as eng:
        df = _frame(eng)
        ours = _ours(j.process_map(eng))
    assert len(df) > 10_000 and len(ours[0]) > 20
    dfg, starts, ends = pm4py.discover_dfg(df)
    assert dict(dfg) == ours[0]
    assert dict(starts) == ours[1] and dict(ends) == ours[2]


def test_polars_input_gives_the_same_counts(demo) -> None:
    pl = pytest.importorskip("polars")
    ws, _ = demo
    with open_engine(ws) as eng:
        df = _frame(eng)
        ours = _ours(j.process_map(eng))
    dfg, _, _ = pm4py.discover_dfg(pl.from_pandas(df).lazy())
    assert dict(dfg) == ours[0]
