"""Triggers on the hand-built warehouse of conftest.py: who is invited when, quiet periods,
reminders, opt-outs, chains, and runs that are idempotent."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from survey_data import NOW, TODAY

from cxlens.errors import UserError
from cxlens.surveys import invitations, store, triggers


def invited(con, where: str = "true") -> list[tuple[str, str, str, str]]:
    return con.execute(
        "SELECT email, trigger_id, language, record_id FROM survey_invitations "
        f"WHERE {where} ORDER BY email, trigger_id").fetchall()


def test_purchase_trigger_invites_each_buyer_in_their_language(con, workspace: Path) -> None:
    result = triggers.run(con, workspace, TODAY)
    assert result.created == {"nps-purchase": 3}
    assert invited(con) == [
        ("anna@example.fi", "nps-purchase", "fi", "order:o1"),
        ("bert@example.se", "nps-purchase", "sv", "order:o2"),
        ("carl@example.com", "nps-purchase", "fi", "order:o3"),  # no language: the default
    ]  # dora's order is months old: not surveyed when the trigger starts
    row = con.execute("SELECT state, touchpoint, store_id, identity_key, customer_id IS NOT NULL, "
                      "length(token_hash) FROM survey_invitations WHERE record_id = 'order:o1'"
                      ).fetchall()[0]
    assert row == ("created", "purchase", "s1", "email:anna@example.fi", True, 64)


def test_runs_are_idempotent_and_dry_runs_change_nothing(con, workspace: Path) -> None:
    dry = triggers.run(con, workspace, TODAY, dry_run=True)
    assert dry.total == 3 and invited(con) == []
    assert triggers.run(con, workspace, TODAY).total == 3
    assert triggers.run(con, workspace, TODAY).total == 0
    assert triggers.run(con, workspace, TODAY + timedelta(days=1)).total == 0
    assert len(invited(con)) == 3


def test_quiet_period_across_surveys(con, workspace: Path) -> None:
    rules = """triggers:
  - {id: nps-purchase, survey: nps, after: purchase, days: 7, quiet_days: 30}
  - {id: csat-visit, survey: csat, after: "event:page_view", days: 2, quiet_days: 30}
  - {id: ces-ticket, survey: ces, after: support_ticket, days: 2, quiet_days: 30}
"""
    triggers.save(con, triggers.parse(rules))
    triggers.run(con, workspace, TODAY)
    # anna's page view is due today too, but she was invited by the NPS step already
    assert invited(con, "email = 'anna@example.fi'") == [
        ("anna@example.fi", "nps-purchase", "fi", "order:o1")]
    assert invited(con, "email = 'dora@example.fi'") == [
        ("dora@example.fi", "ces-ticket", "en", "event:t1")]
    # with no quiet period the second step invites her as well
    con.execute("DELETE FROM survey_invitations")
    triggers.save(con, triggers.parse(rules.replace("days: 2, quiet_days: 30}",
                                                    "days: 2, quiet_days: 0}", 1)))
    triggers.run(con, workspace, TODAY)
    assert [r[1] for r in invited(con, "email = 'anna@example.fi'")] == ["csat-visit",
                                                                        "nps-purchase"]


def test_a_new_purchase_inside_the_quiet_period_is_not_surveyed(con, workspace: Path) -> None:
    triggers.run(con, workspace, TODAY)
    con.execute("INSERT INTO orders (order_id, ts, amount, email, _idkey, _batch, _line) VALUES "
                "('o9', '2026-12-03 10:00', 5, 'anna@example.fi', 'email:anna@example.fi', 99, 2)")
    assert triggers.run(con, workspace, date(2026, 12, 10)).total == 0  # 12 days later
    con.execute("INSERT INTO orders (order_id, ts, amount, email, _idkey, _batch, _line) VALUES "
                "('o10', '2027-01-01 10:00', 5, 'anna@example.fi', 'email:anna@example.fi', 99, 3)")
    assert invited(con, "record_id = 'order:o10'") == []
    triggers.run(con, workspace, date(2027, 1, 8))  # 41 days after the first invitation
    assert invited(con, "record_id = 'order:o10'") == [
        ("anna@example.fi", "nps-purchase", "fi", "order:o10")]


def test_one_reminder_after_r_days_if_not_answered(con, workspace: Path) -> None:
    triggers.run(con, workspace, TODAY)
    con.execute("UPDATE survey_invitations SET state = 'sent', sent_at = TIMESTAMP "
                "'2026-11-28 08:00'")
    anna = con.execute("SELECT invitation_id FROM survey_invitations WHERE email = "
                       "'anna@example.fi'").fetchall()[0][0]
    con.execute("UPDATE survey_invitations SET state = 'answered' WHERE invitation_id = ?",
                [anna])
    assert triggers.reminders_due(con, date(2026, 11, 30)) == []
    due = triggers.reminders_due(con, date(2026, 12, 1))
    assert len(due) == 2 and anna not in due
    con.execute("UPDATE survey_invitations SET reminded_at = TIMESTAMP '2026-12-01 12:00'")
    assert triggers.reminders_due(con, date(2026, 12, 5)) == []  # only one reminder


def test_opted_out_customers_are_never_invited_nor_reminded(con, workspace: Path) -> None:
    cid = con.execute("SELECT customer_id FROM identities WHERE identity_key = "
                      "'email:bert@example.se'").fetchall()[0][0]
    store.opt_out(con, customer_id=cid, identity_key=None, source="test", now=NOW)
    assert store.is_opted_out(con, cid, None)
    triggers.run(con, workspace, TODAY)
    assert [r[0] for r in invited(con)] == ["anna@example.fi", "carl@example.com"]
    # an opt-out after the invitation stops its reminder
    con.execute("UPDATE survey_invitations SET state = 'sent', sent_at = TIMESTAMP "
                "'2026-11-28 08:00'")
    cid_anna = con.execute("SELECT customer_id FROM survey_invitations WHERE email = "
                           "'anna@example.fi'").fetchall()[0][0]
    store.opt_out(con, customer_id=cid_anna, identity_key="email:anna@example.fi",
                  source="test", now=NOW)
    due = [invitations.by_id(con, n) for n in triggers.reminders_due(con, date(2026, 12, 1))]
    assert [i.email for i in due] == ["carl@example.com"]


def test_chained_surveys_follow_the_lifecycle(con, workspace: Path) -> None:
    triggers.save(con, triggers.parse("""triggers:
  - {id: nps-first, survey: nps, after: first_purchase, days: 7, quiet_days: 30}
  - {id: ces-later, survey: ces, after: "step:nps-first", days: 60, quiet_days: 30}
"""))
    assert triggers.run(con, workspace, TODAY).created == {"nps-first": 3, "ces-later": 0}
    later = TODAY + timedelta(days=60)
    assert triggers.run(con, workspace, later - timedelta(days=1)).total == 0
    assert triggers.run(con, workspace, later).created == {"nps-first": 0, "ces-later": 3}
    assert triggers.run(con, workspace, later).total == 0
    rows = con.execute("SELECT email, survey_id, invited_on FROM survey_invitations WHERE "
                       "trigger_id = 'ces-later' ORDER BY email").fetchall()
    assert rows[0] == ("anna@example.fi", "ces", later) and len(rows) == 3


def test_expired_invitations_are_closed_by_the_run(con, workspace: Path) -> None:
    triggers.run(con, workspace, TODAY)
    # expire_days 30: the link works through 2026-12-28 and is closed on the 29th
    assert triggers.run(con, workspace, TODAY + timedelta(days=30)).expired == 0
    assert triggers.run(con, workspace, TODAY + timedelta(days=31)).expired == 3
    assert invitations.counts(con) == {"expired": 3}


@pytest.mark.parametrize(("yaml_text", "where"), [
    ("triggers:\n  - {id: a, survey: nps, after: purchase, days: -1}", "triggers[0].days"),
    ("triggers:\n  - {id: a, survey: nps, after: lunch, days: 1}", "triggers[0].after"),
    ("triggers:\n  - {id: a, survey: nps, after: 'step:b', days: 1}", "triggers[0].after"),
    ("triggers:\n  - {id: a, survey: nps, after: purchase, days: 1, quiet: 3}",
     "triggers[0].quiet"),
])
def test_bad_triggers_name_the_key(yaml_text: str, where: str) -> None:
    with pytest.raises(UserError) as info:
        triggers.parse(yaml_text, "t.yml")
    assert info.value.column == where and info.value.file == "t.yml"


def test_a_trigger_for_an_unknown_survey_is_refused(con) -> None:
    with pytest.raises(UserError, match="no survey 'gone'"):
        triggers.save(con, triggers.parse(
            "triggers:\n  - {id: a, survey: gone, after: purchase, days: 1}"))
