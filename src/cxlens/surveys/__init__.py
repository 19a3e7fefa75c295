"""Surveys: definitions, invitations and triggers, delivery, hosted answers, follow-ups.

    definitions   NPS / CSAT / CES / eNPS and custom surveys in YAML (fi, sv, en)
    store         the survey tables in the workspace's warehouse; opt-outs
    invitations   one hashed token per invitation and its states
    triggers      "survey S N days after event E": quiet periods, reminders, chains
    delivery      SMTP e-mail and a CSV of personal links
    answers       checking and loading answers into ``feedback``
    followups     detractor answers open an item to call the customer back

See docs/surveys.md.
"""

from __future__ import annotations

from cxlens.surveys.answers import submit, submit_public, validate
from cxlens.surveys.definitions import Survey, builtin, load, parse
from cxlens.surveys.followups import is_detractor, list_followups, update
from cxlens.surveys.triggers import run

__all__ = ["Survey", "builtin", "is_detractor", "list_followups", "load", "parse", "run",
           "submit", "submit_public", "update", "validate"]
