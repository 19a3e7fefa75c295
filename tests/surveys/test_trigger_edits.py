"""Triggers changed one at a time (the page's form and the API call ``put`` and ``remove``)
and what a run reports per step: created, already invited, quiet period, opted out — on the
four-customer warehouse of survey_data."""

from __future__ import annotations

from pathlib import Path

import pytest
from survey_data import NOW, TODAY

from cxlens.errors import UserError
from cxlens.surveys import store, triggers
from cxlens.surveys.triggers import StepCounts, TriggerError


def test_a_second_run_reports_everyone_as_already_invited(con, workspace: Path) -> None:
    first = triggers.run(con, workspace, TODAY, now=NOW)
    assert first.created == {"nps-purchase": 3}
    assert first.skipped == {"nps-purchase": StepCounts(due=3)}
    again = triggers.run(con, workspace, TODAY, now=NOW)
    assert again.created == {"nps-purchase": 0} and again.total == 0
    assert again.skipped == {"nps-purchase": StepCounts(due=3, already=3)}
    as_json = again.as_dict()
    assert as_json["skipped"] == {"nps-purchase": {"due": 3, "already": 3, "quiet": 0,
                                                   "opted_out": 0}}


def test_quiet_period_and_opt_out_are_counted_per_step(con, workspace: Path) -> None:
    triggers.put(con, {"id": "csat-visit", "survey": "csat", "after": "event:page_view",
                       "days": 2, "quiet_days": 30})
    store.opt_out(con, customer_id=None, identity_key="email:bert@example.se", source="test",
                  now=NOW)
    result = triggers.run(con, workspace, TODAY, now=NOW)
    assert result.created == {"nps-purchase": 2, "csat-visit": 0}
    assert result.skipped["nps-purchase"] == StepCounts(due=3, opted_out=1)
    # anna's page view is due today, but the NPS step invited her a moment ago
    assert result.skipped["csat-visit"] == StepCounts(due=1, quiet=1)


def test_put_adds_at_the_end_and_replaces_in_place(con) -> None:
    steps = triggers.put(con, {"id": "ces-ticket", "survey": "ces", "after": "support_ticket",
                               "days": 1, "touchpoint": " support "})
    assert [t.id for t in steps] == ["nps-purchase", "ces-ticket"]
    assert steps[1].touchpoint == "support" and steps[1].quiet_days == 30
    steps = triggers.put(con, {"id": "ignored", "survey": "nps", "after": "first_purchase",
                               "days": 5, "reminder_days": 2}, replace="nps-purchase")
    assert [t.id for t in steps] == ["nps-purchase", "ces-ticket"]  # the id stays
    assert triggers.load(con)[0] == triggers.Trigger("nps-purchase", "nps", "first_purchase",
                                                     5, reminder_days=2)
    with pytest.raises(UserError, match="no trigger 'nope'"):
        triggers.put(con, {"id": "x", "survey": "nps", "after": "purchase", "days": 1},
                     replace="nope")


@pytest.mark.parametrize(("item", "key", "code"), [
    ({"id": "nps-purchase", "survey": "nps", "after": "purchase", "days": 1},
     "triggers[1].id", "id_twice"),
    ({"id": "Bad Id", "survey": "nps", "after": "purchase", "days": 1}, "triggers[1].id", "id"),
    ({"id": "t2", "survey": "nope", "after": "purchase", "days": 1}, "triggers[1].survey",
     "survey"),
    ({"id": "t2", "survey": "nps", "after": "lunch", "days": 1}, "triggers[1].after", "after"),
    ({"id": "t2", "survey": "nps", "after": "step:t9", "days": 1}, "triggers[1].after", "step"),
    ({"id": "t2", "survey": "nps", "after": "purchase", "days": "7"}, "triggers[1].days",
     "days"),
    ({"id": "t2", "survey": "nps", "after": "purchase", "days": 1, "reminder_days": 0},
     "triggers[1].reminder_days", "days"),
    ({"id": "t2", "survey": "nps", "after": "purchase", "days": 1, "touchpoint": "x" * 101},
     "triggers[1].touchpoint", "touchpoint"),
])
def test_a_refused_trigger_names_its_key_and_kind(con, item: dict, key: str,
                                                  code: str) -> None:
    with pytest.raises(TriggerError) as caught:
        triggers.put(con, item)
    assert (caught.value.key, caught.value.code) == (key, code)
    assert [t.id for t in triggers.load(con)] == ["nps-purchase"]  # nothing stored


def test_remove_refuses_the_start_of_a_chain(con) -> None:
    triggers.put(con, {"id": "ces-60", "survey": "ces", "after": "step:nps-purchase",
                       "days": 60})
    with pytest.raises(TriggerError) as caught:
        triggers.remove(con, "nps-purchase")
    assert caught.value.code == "chained" and caught.value.params == {"step": "ces-60"}
    assert [t.id for t in triggers.remove(con, "ces-60")] == ["nps-purchase"]
    assert triggers.remove(con, "nps-purchase") == [] and triggers.load(con) == []
    with pytest.raises(UserError, match="no trigger"):
        triggers.remove(con, "nps-purchase")


def test_the_event_types_present_most_frequent_first(con) -> None:
    assert triggers.event_types(con) == ["page_view", "support_ticket"]
