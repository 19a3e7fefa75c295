"""The demo company's survey programme, run through the real survey code after its files load.

The exports hold two years of answers collected elsewhere (Typeform, Google Forms); this
adds what cxlens itself does, so that the Surveys and Follow-ups pages of the demo have
something to show: the built-in NPS and CES surveys, a trigger "NPS two days after a
purchase" (90 quiet days), its invitations for the last week's purchases handed out as the
CSV of personal links would, some opened, some answered (scores and comments in the
customer's language, drawn with a seeded generator), two opt-outs, and the detractors'
follow-ups, one resolved; the detractors among the last two weeks' imported answers get
follow-ups too (the daily run opens them), one of them contacted. It all happens on the
demo company's own day (the day after its data end: the calendar's ``today``), not on the
calendar day it runs, so the demo gives the same results on any day.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import numpy as np

from cxlens.demo.calendar import DEFAULT_TODAY
from cxlens.surveys import answers, definitions, followups, invitations, store, triggers

TRIGGER_DAYS = 2
ANSWER_SHARE = 0.06  # of the invitations sent; at most MAX_ANSWERS (one batch per answer)
MAX_ANSWERS = 40
OPEN_SHARE = 0.10
# P(score) for 0..10: a typical retail NPS around +20.
SCORES = np.array([1, 1, 2, 3, 4, 5, 7, 12, 16, 21, 28], dtype=float) / 100
COMMENTS = {
    "fi": {"low": "Toimitus myöhästyi eikä kukaan vastannut viesteihin.",
           "mid": "Ihan ok, mutta hinnat voisivat olla paremmat.",
           "high": "Nopea toimitus ja ystävällinen palvelu, kiitos!"},
    "sv": {"low": "Leveransen var sen och ingen svarade på mina meddelanden.",
           "mid": "Helt okej, men priserna kunde vara bättre.",
           "high": "Snabb leverans och trevlig service, tack!"},
    "en": {"low": "The delivery was late and nobody answered my messages.",
           "mid": "Fine, but the prices could be better.",
           "high": "Fast delivery and friendly service, thank you!"},
}
OWNER = "demo@cxlens.example"


@dataclass
class LoopResult:
    invitations: int = 0
    sent: int = 0
    opened: int = 0
    answered: int = 0
    opted_out: int = 0
    followups: int = 0
    imported_followups: int = 0  # of them, opened for answers loaded from the exports

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _comment(language: str, score: int) -> str:
    texts = COMMENTS.get(language, COMMENTS["en"])
    return texts["low" if score <= 6 else "mid" if score <= 8 else "high"]


def run(con: duckdb.DuckDBPyConnection, workspace: Path, seed: int,
        today: date | None = None) -> LoopResult:
    """Stage the survey programme in a loaded demo workspace (see the module docstring)."""
    result = LoopResult()
    last = con.execute("SELECT max(ts)::DATE FROM v_orders").fetchall()[0][0]
    if last is None:
        return result
    today = today or DEFAULT_TODAY
    sent_at = datetime.combine(today, time(8, 0))
    # Invite for the last week's purchases, however long after the demo's data it runs.
    catch_up = max(7, (today - (last + timedelta(days=TRIGGER_DAYS))).days + 7)
    for name in ("nps", "ces"):
        store.save_survey(con, definitions.builtin_source(name), f"builtin/{name}.yml",
                          now=sent_at)
    triggers.save(con, triggers.parse(
        "triggers:\n"
        f"  - {{id: nps-after-purchase, survey: nps, after: purchase, days: {TRIGGER_DAYS},"
        f" quiet_days: 90, reminder_days: 3, expire_days: 30, catch_up_days: {catch_up},"
        " touchpoint: purchase}\n", "demo triggers"))
    result.imported_followups = triggers.run(con, workspace, today,
                                             now=sent_at).imported_followups
    created = invitations.select(con, "state = 'created'")
    result.invitations = len(created)
    for inv in created:
        invitations.set_state(con, inv.invitation_id, "sent", "sent_at", sent_at)
    result.sent = len(created)

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(created))
    n_answer = min(MAX_ANSWERS, round(ANSWER_SHARE * len(created)))
    n_open = round(OPEN_SHARE * len(created))
    survey = store.require_survey(con, "nps").survey
    for pos, i in enumerate(order[: n_answer + n_open + 2]):
        inv = invitations.by_id(con, created[int(i)].invitation_id)
        assert inv is not None
        if pos < 2:
            answers.opt_out(con, inv, sent_at + timedelta(minutes=10 + pos))
            result.opted_out += 1
            continue
        at = sent_at + timedelta(minutes=30 + 7 * pos)  # the answers of the morning
        invitations.mark_opened(con, inv, at)
        result.opened += 1
        if pos >= n_answer + 2:
            continue
        # The first answer is a detractor's, so the story of the follow-ups below (one
        # called back and resolved) is there on every seed, even with few answers.
        score = int(rng.choice(7, p=SCORES[:7] / SCORES[:7].sum()) if pos == 2
                    else rng.choice(11, p=SCORES))
        values, problems = answers.validate(
            survey, {"score": str(score), "comment": _comment(inv.language, score)}, final=True)
        assert not problems, problems
        answers.submit(con, survey, inv, values, now=at + timedelta(minutes=2))
        result.answered += 1
    items = followups.list_followups(con)
    result.followups = len(items)
    # The morning's detractor is called back and resolved; the oldest imported one is
    # contacted; the rest stay open for the demo's reader to work through.
    own = [f for f in items if f.invitation_id is not None]
    imported = [f for f in items if f.invitation_id is None]
    if own:
        followups.update(con, own[0].followup_id, now=sent_at + timedelta(hours=9),
                         status="resolved", owner=OWNER,
                         note="Called back; the late delivery was refunded.")
    if imported:
        followups.update(con, imported[0].followup_id, now=sent_at + timedelta(hours=8),
                         status="contacted", owner=OWNER)
    return result
