"""Groups by the names people use: stores and teams named from the HR list, on both engines."""

from __future__ import annotations

import pytest

from cxlens.analytics.group_names import group_names
from cxlens.demo import company as co
from cxlens.warehouse.store import open_engine
from helpers import assert_same


def test_stores_and_teams_have_their_names(demo) -> None:
    ws, _ = demo
    with open_engine(ws) as eng:
        stores = group_names(eng, "store_id")
        teams = group_names(eng, "team_id")
        assert group_names(eng, "channel") == {}  # words already, translated by the outputs
        assert group_names(eng, "store_id; DROP TABLE x") == {}  # only known dimensions
    assert stores == {s.store_id: s.name for s in co.STORES} | {
        t[2]: t[1] for t in co.TEAMS if t[2] not in {s.store_id for s in co.STORES}}
    assert teams == {t[0]: t[1] for t in co.TEAMS}


@pytest.mark.spark
def test_group_names_parity(engines) -> None:
    duck, spark = engines
    for dim in ("store_id", "team_id"):
        assert_same(group_names(duck, dim), group_names(spark, dim))
