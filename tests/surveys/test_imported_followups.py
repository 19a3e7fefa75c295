"""Detractor answers loaded from other tools open follow-ups in the daily survey run: the
loop is closed for every unhappy customer someone can call (issue 10: the demo counted 1,338
detractors and showed no follow-up)."""

from __future__ import annotations

from pathlib import Path

import pytest
from survey_data import NOW, TODAY, build_warehouse

from cxlens.ingest.load import ingest
from cxlens.surveys import followups, triggers
from cxlens.warehouse.store import open_warehouse

# TODAY is 2026-11-28; the run looks back 14 days (from 2026-11-14)
FEEDBACK = """response_id,ts,metric,score,scale_max,email
r1,2026-11-25 10:00:00,nps,3,10,anna@example.fi
r2,2026-11-25 11:00:00,nps,9,10,bert@example.se
r3,2026-11-20 12:00:00,csat,2,5,carl@example.com
r4,2026-11-21 12:00:00,csat,2,10,carl@example.com
r5,2026-10-01 12:00:00,nps,1,10,dora@example.fi
r6,2026-11-26 12:00:00,nps,2,10,
r7,2026-11-27 09:00:00,ces,2,7,anna@example.fi
r8,2026-11-27 09:30:00,ces,6,7,bert@example.se
"""


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    build_warehouse(ws, trigger_yaml=None)
    path = tmp_path / "typeform.csv"
    path.write_text(FEEDBACK, encoding="utf-8")
    with open_warehouse(ws) as con:
        assert ingest(con, path, "feedback").loaded == 8
    return ws


def test_recent_detractors_of_known_customers_open_items_once(workspace: Path) -> None:
    with open_warehouse(workspace) as con:
        assert triggers.run(con, workspace, TODAY, dry_run=True).imported_followups == 3
        assert followups.list_followups(con) == []  # a dry run stores nothing
        assert triggers.run(con, workspace, TODAY).imported_followups == 3
        assert triggers.run(con, workspace, TODAY).imported_followups == 0  # idempotent
        items = {f.response_id: f for f in followups.list_followups(con)}
        counts = followups.counts(con, NOW)
    # r2 and r8 are no detractors, r4's scale is not the standard one, r5 is older than two
    # weeks, r6 has nobody to call back
    assert sorted(items) == ["r1", "r3", "r7"]
    assert {k: (f.metric, float(f.score), f.status) for k, f in items.items()} == {
        "r1": ("nps", 3.0, "open"), "r3": ("csat", 2.0, "open"), "r7": ("ces", 2.0, "open")}
    assert all(f.customer_id and f.invitation_id is None for f in items.values())
    # due two days after the answer, like a cxlens survey's item
    assert [f.overdue(NOW) for f in (items["r3"], items["r1"], items["r7"])] == \
        [True, True, False]
    assert counts["open"] == 3 and counts["overdue"] == 2


def test_an_item_worked_on_is_not_opened_again(workspace: Path) -> None:
    with open_warehouse(workspace) as con:
        triggers.run(con, workspace, TODAY)
        first = followups.list_followups(con)[0]
        followups.update(con, first.followup_id, now=NOW, status="resolved", owner="me@x.fi")
        assert triggers.run(con, workspace, TODAY).imported_followups == 0
        assert followups.get(con, first.followup_id).status == "resolved"
