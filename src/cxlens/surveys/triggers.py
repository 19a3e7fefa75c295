"""Triggers: "send survey S N days after business event E", computed in SQL, run daily.

A workspace's triggers are a YAML list (``cxlens survey triggers FILE``)::

    triggers:
      - id: nps-first-purchase
        survey: nps
        after: first_purchase       # purchase | first_purchase | support_ticket |
                                    # store_visit | event:<event_type> | step:<trigger id>
        days: 7                     # invite N days after the event
        quiet_days: 90              # nobody invited (any survey) in the last Q days
        reminder_days: 3            # one reminder R days after sending (omit: none)
        expire_days: 30             # the link stops working after this many days
        touchpoint: purchase
      - id: ces-60
        survey: ces
        after: step:nps-first-purchase   # a chain: 60 days after that step's invitation
        days: 60
        quiet_days: 30

:func:`run` creates the invitations due on ``today``: events whose day + N lies in the last
``catch_up_days`` (default 3, so a missed daily run is caught up but old history is not
surveyed when a trigger is added). It is idempotent: an invitation is made at most once per
trigger and triggering record, and the quiet period counts the invitations made earlier in
the same run. Opted-out customers are never invited. Steps run in the file's order.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import duckdb
import yaml

from cxlens import safe_yaml
from cxlens.errors import UserError
from cxlens.surveys import followups, invitations, store
from cxlens.surveys.definitions import ID, LANGS

EVENTS = ("purchase", "first_purchase", "support_ticket", "store_visit")
_EVENT_TYPE = re.compile(r"^event:[A-Za-z0-9_.:-]{1,100}$")


@dataclass(frozen=True)
class Trigger:
    id: str
    survey: str
    after: str
    days: int
    quiet_days: int = 30
    reminder_days: int | None = None
    expire_days: int = 30
    catch_up_days: int = 3
    touchpoint: str | None = None

    @property
    def step_of(self) -> str | None:
        return self.after[5:] if self.after.startswith("step:") else None


class TriggerError(UserError):
    """A trigger that cannot be used; ``key`` is the path of the bad value
    (``triggers[1].days``), ``code`` the kind of mistake (:data:`ERROR_CODES`) and
    ``params`` its values, so a form can say it by the field in the reader's language."""

    def __init__(self, message: str, *, file: str | None, key: str, hint: str,
                 code: str = "invalid", params: dict[str, object] | None = None) -> None:
        super().__init__(message, file=file, column=key, hint=hint)
        self.key = key
        self.code = code
        self.params = params or {}

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "key": self.key, "code": self.code}


ERROR_CODES: tuple[str, ...] = ("id", "survey", "after", "days", "step", "id_twice",
                                "touchpoint", "chained", "invalid")
MAX_TOUCHPOINT = 100


def parse(source: str, file: str | None = None) -> list[Trigger]:
    """Read and check a triggers file; errors name the key path (``triggers[1].days``)."""
    try:
        data = safe_yaml.load(source)
    except yaml.YAMLError as exc:
        raise UserError(f"not valid YAML: {exc}", file=file, hint="check the indentation"
                        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("triggers"), list):
        raise UserError("triggers: expected a list under the key 'triggers'", file=file,
                        hint="start the file with triggers: and list the steps under it")
    return check(data["triggers"], file)


def check(items: list[Any], file: str | None = None) -> list[Trigger]:
    """Check a list of triggers as read from YAML or JSON (mappings of the keys above).

    The one set of rules for the file, the page's form and the API: each of them builds
    this list and calls here."""
    out: list[Trigger] = []
    known = {f for f in Trigger.__dataclass_fields__}
    for i, item in enumerate(items):
        key = f"triggers[{i}]"

        def fail(k: str, msg: str, hint: str, code: str = "invalid", key: str = key,
                 **params: object) -> TriggerError:
            return TriggerError(f"{key}.{k}: {msg}" if k else f"{key}: {msg}", file=file,
                                key=f"{key}.{k}" if k else key, hint=hint, code=code,
                                params=params)

        if not isinstance(item, dict):
            raise fail("", "expected a mapping", "write id:, survey:, after:, days:")
        for k in item:
            if k not in known:
                raise fail(str(k), "is not a known key", f"use {', '.join(sorted(known))}")
        for k in ("id", "survey"):
            if not isinstance(item.get(k), str) or not ID.match(item[k]):
                raise fail(k, f"{item.get(k)!r} is not a valid id",
                           "use lower-case letters, digits, _ and -", k)
        after = item.get("after")
        if not isinstance(after, str) or not (after in EVENTS or _EVENT_TYPE.match(after)
                                               or after.startswith("step:")):
            raise fail("after", f"{after!r} is not a business event",
                       f"use {', '.join(EVENTS)}, event:<event_type> or step:<trigger id>",
                       "after")
        ints: dict[str, Any] = {}
        for k, lo, required in (("days", 0, True), ("quiet_days", 0, False),
                                ("reminder_days", 1, False), ("expire_days", 1, False),
                                ("catch_up_days", 1, False)):
            v = item.get(k)
            if v is None and not required:
                continue
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= 3650:
                raise fail(k, f"{v!r} is not a number of days",
                           f"write a whole number from {lo} to 3650", "days", low=lo,
                           high=3650)
            ints[k] = v
        touchpoint = item.get("touchpoint")
        if touchpoint is not None and (not isinstance(touchpoint, str)
                                       or not 0 < len(touchpoint.strip()) <= MAX_TOUCHPOINT):
            raise fail("touchpoint", f"{touchpoint!r} is not a touchpoint",
                       f"write a short text (at most {MAX_TOUCHPOINT} characters), e.g. "
                       "purchase", "touchpoint", max=MAX_TOUCHPOINT)
        t = Trigger(item["id"], item["survey"], after,
                    touchpoint=touchpoint.strip() if touchpoint else None, **ints)
        if t.step_of is not None and t.step_of not in {o.id for o in out}:
            raise fail("after", f"step {t.step_of!r} is not an earlier trigger",
                       "list the step this one follows before it", "step", step=t.step_of)
        if t.id in {o.id for o in out}:
            raise fail("id", f"{t.id!r} is used twice", "give every trigger its own id",
                       "id_twice")
        out.append(t)
    return out


def as_data(t: Trigger) -> dict[str, Any]:
    """The trigger as the mapping of a triggers file (only the keys that are set)."""
    return {k: v for k, v in asdict(t).items() if v is not None}


def save(con: duckdb.DuckDBPyConnection, triggers: list[Trigger]) -> None:
    """Replace the workspace's triggers (each survey must exist)."""
    store.ensure(con)
    for i, t in enumerate(triggers):
        if store.get_survey(con, t.survey) is None:
            raise TriggerError(f"no survey {t.survey!r} in this workspace", file=None,
                               key=f"triggers[{i}].survey", code="survey",
                               params={"survey": t.survey},
                               hint="add it first: cxlens survey add FILE.yml (or --builtin "
                                    "nps), or on the Surveys page")
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM survey_triggers")
        if triggers:  # DuckDB refuses executemany with no rows (an empty list is valid)
            con.executemany(
                "INSERT INTO survey_triggers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(t.id, t.survey, t.after, t.days, t.quiet_days, t.reminder_days,
                  t.expire_days, t.catch_up_days, t.touchpoint, i)
                 for i, t in enumerate(triggers)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def load(con: duckdb.DuckDBPyConnection) -> list[Trigger]:
    if not store.ready(con):
        return []
    rows = con.execute("SELECT trigger_id, survey_id, event, days, quiet_days, reminder_days, "
                       "expire_days, catch_up_days, touchpoint FROM survey_triggers "
                       "ORDER BY position").fetchall()
    return [Trigger(*r) for r in rows]


def put(con: duckdb.DuckDBPyConnection, item: dict[str, Any], *,
        replace: str | None = None) -> list[Trigger]:
    """Add one trigger at the end, or with ``replace`` change the trigger of that id in its
    place (its id stays: invitations and chains refer to it), then check the whole list
    with :func:`check` and store it. Errors name ``triggers[<its position>].<key>``.

    The page's form and ``PUT /api/w/{slug}/surveys/triggers/{id}`` both call this, so
    they accept and refuse the same."""
    items = [as_data(t) for t in load(con)]
    if replace is None:
        items.append(item)
    else:
        at = next((i for i, d in enumerate(items) if d["id"] == replace), None)
        if at is None:
            raise UserError(f"no trigger {replace!r} in this workspace",
                            hint="see the list: cxlens survey triggers --json")
        items[at] = {**item, "id": replace}
    steps = check(items)
    save(con, steps)
    return steps


def remove(con: duckdb.DuckDBPyConnection, trigger_id: str) -> list[Trigger]:
    """Delete one trigger (not one that a later chain step follows); returns the rest.
    The invitations it made stay (they are answered, reminded and counted as before)."""
    steps = load(con)
    if trigger_id not in {t.id for t in steps}:
        raise UserError(f"no trigger {trigger_id!r} in this workspace",
                        hint="see the list: cxlens survey triggers --json")
    followers = [t.id for t in steps if t.step_of == trigger_id]
    if followers:
        raise TriggerError(f"{trigger_id!r} starts the chain step {followers[0]!r}",
                           file=None, key="", code="chained",
                           params={"step": followers[0]},
                           hint=f"delete {followers[0]!r} first, or make it follow "
                                "another event")
    rest = [t for t in steps if t.id != trigger_id]
    save(con, rest)
    return rest


def event_types(con: duckdb.DuckDBPyConnection, limit: int = 200) -> list[str]:
    """The event types present in the warehouse (for ``event:<type>`` choices), most
    frequent first, at most ``limit``."""
    rows = con.execute("SELECT event_type FROM v_events WHERE event_type IS NOT NULL "
                       "GROUP BY event_type ORDER BY count(*) DESC, event_type LIMIT ?",
                       [limit]).fetchall()
    return [str(r[0]) for r in rows if _EVENT_TYPE.match(f"event:{r[0]}")]


def read_file(path: Path) -> list[Trigger]:
    try:
        return parse(Path(path).read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc}", file=str(path)) from None


# --------------------------------------------------------------------------- planning

def _events_sql(t: Trigger) -> str:
    """customer_id, ts, record_id, store_id of the trigger's business events."""
    if t.after in ("purchase", "first_purchase"):
        sql = ("SELECT customer_id, ts, 'order:' || order_id AS record_id, store_id "
               "FROM v_orders WHERE customer_id IS NOT NULL")
        if t.after == "first_purchase":
            sql += " QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY ts, order_id) = 1"
        return sql
    if t.step_of is not None:
        return ("SELECT customer_id, invited_on::TIMESTAMP AS ts, "
                "'invitation:' || invitation_id AS record_id, store_id FROM survey_invitations "
                f"WHERE trigger_id = {_lit(t.step_of)} AND customer_id IS NOT NULL")
    event_type = t.after[6:] if t.after.startswith("event:") else t.after
    return ("SELECT customer_id, ts, 'event:' || coalesce(event_id, _hash::VARCHAR) AS "
            f"record_id, store_id FROM v_events WHERE event_type = {_lit(event_type)} "
            "AND customer_id IS NOT NULL")


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _due_ctes(t: Trigger) -> str:
    """The CTEs ``ev`` (the business events), ``due`` (their due day) and ``win`` (those
    due today or in the catch-up days, with ``done``: this trigger already invited for the
    record, and ``quiet``: the customer has an invitation inside the quiet period)."""
    return f"""
        ev AS ({_events_sql(t)}),
        due AS (
            SELECT *, CAST(ts AS DATE) + to_days({t.days}) AS due_on FROM ev
        ),
        win AS (
            SELECT d.*,
                   EXISTS (SELECT 1 FROM survey_invitations x
                           WHERE x.trigger_id = {_lit(t.id)} AND x.record_id = d.record_id)
                       AS done,
                   EXISTS (SELECT 1 FROM survey_invitations x
                           WHERE x.customer_id = d.customer_id
                             AND x.invited_on > $today - to_days({t.quiet_days})) AS quiet
            FROM due d
            WHERE d.due_on <= $today AND d.due_on > $today - to_days({t.catch_up_days})
        )"""


def _skipped_sql(t: Trigger) -> str:
    """Per customer due today, why no invitation is made (before the step's inserts):
    already invited for every due record, quiet period, opted out."""
    return f"""
        WITH {_due_ctes(t)},
        per AS (
            SELECT customer_id, bool_and(done) AS all_done, bool_or(quiet) AS quiet
            FROM win GROUP BY customer_id
        )
        SELECT count(*),
               count(*) FILTER (WHERE p.all_done),
               count(*) FILTER (WHERE NOT p.all_done AND p.quiet),
               count(*) FILTER (WHERE NOT p.all_done AND NOT p.quiet
                                  AND {store.opted_out_sql('p.customer_id', 'NULL')})
        FROM per p
    """


def _plan_sql(t: Trigger, default_language: str) -> str:
    langs = ", ".join(_lit(x) for x in LANGS)
    return f"""
        WITH {_due_ctes(t)},
        cand AS (
            SELECT * EXCLUDE (done, quiet) FROM win
            WHERE NOT done AND NOT quiet
            QUALIFY row_number() OVER (PARTITION BY customer_id
                                       ORDER BY ts DESC, record_id) = 1
        ),
        ids AS (
            SELECT customer_id, arg_min(identity_key, CASE identity_type
                WHEN 'crm_id' THEN 1 WHEN 'email' THEN 2 WHEN 'loyalty_id' THEN 3
                WHEN 'phone' THEN 4 ELSE 5 END) AS identity_key
            FROM identities WHERE customer_id IN (SELECT customer_id FROM cand)
            GROUP BY customer_id
        )
        SELECT c.customer_id, ids.identity_key, cu.email,
               CASE WHEN lower(cu.language) IN ({langs}) THEN lower(cu.language)
                    ELSE {_lit(default_language)} END AS language,
               c.record_id, c.store_id
        FROM cand c JOIN ids USING (customer_id)
        LEFT JOIN customers cu ON cu.customer_id = c.customer_id
        WHERE NOT {store.opted_out_sql('c.customer_id', 'ids.identity_key')}
        ORDER BY c.customer_id
    """


@dataclass(frozen=True)
class StepCounts:
    """What one step found today, in customers: due (an event due today or in the catch-up
    days), and of those not invited: ``already`` (this trigger invited them for every due
    record: a second run), ``quiet`` (invited to some survey inside the quiet period),
    ``opted_out``. ``due - created - already - quiet - opted_out`` had no identity."""

    due: int = 0
    already: int = 0
    quiet: int = 0
    opted_out: int = 0


@dataclass
class RunResult:
    today: date
    dry_run: bool
    created: dict[str, int] = field(default_factory=dict)  # per trigger
    skipped: dict[str, StepCounts] = field(default_factory=dict)  # per trigger
    expired: int = 0
    reminders_due: int = 0
    planned: list[dict[str, Any]] = field(default_factory=list)
    # follow-ups opened for detractor answers loaded from other tools (followups.py)
    imported_followups: int = 0

    @property
    def total(self) -> int:
        return sum(self.created.values())

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["today"] = self.today.isoformat()
        d["total"] = self.total
        return d


def run(con: duckdb.DuckDBPyConnection, workspace: Path, today: date, *,
        dry_run: bool = False, now: datetime | None = None) -> RunResult:
    """Create the invitations due on ``today`` (all steps, one transaction), and open the
    follow-ups of detractor answers imported lately (:func:`followups.open_for_imported`).

    ``now`` is the moment recorded as the invitations' ``created_at``: the edge passes its
    clock (:mod:`cxlens.clock`); without it, the start of ``today``. Nothing here reads the
    wall clock, so a run for a given day plans the same on any calendar day.
    """
    store.ensure(con)
    result = RunResult(today, dry_run)
    triggers = load(con)
    key, slug = invitations.workspace_key(workspace), invitations.slug_of(workspace)
    con.execute("BEGIN")
    try:
        for t in triggers:
            survey = store.require_survey(con, t.survey).survey
            counts = con.execute(_skipped_sql(t), {"today": today}).fetchall()[0]
            result.skipped[t.id] = StepCounts(*(int(n) for n in counts))
            rows = con.execute(_plan_sql(t, survey.default_language),
                               {"today": today}).fetchall()
            planned = [{"survey_id": t.survey, "trigger_id": t.id, "customer_id": r[0],
                        "identity_key": r[1], "email": r[2], "language": r[3],
                        "touchpoint": t.touchpoint, "record_id": r[4], "store_id": r[5]}
                       for r in rows]
            result.created[t.id] = invitations.insert(con, key, slug, planned, today,
                                                      {t.id: t.expire_days},
                                                      now=now or _end_of(today))
            result.planned += planned
        result.expired = invitations.expire(con, _end_of(today))
        result.reminders_due = len(reminders_due(con, today))
        result.imported_followups = followups.open_for_imported(con, today)
        con.execute("ROLLBACK" if dry_run else "COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0))


def reminders_due(con: duckdb.DuckDBPyConnection, today: date) -> list[int]:
    """Invitations sent at least R days ago, not answered, not yet reminded, not opted out."""
    rows = con.execute(f"""
        SELECT i.invitation_id FROM survey_invitations i
        JOIN survey_triggers t USING (trigger_id)
        WHERE i.state IN ('sent', 'opened') AND i.reminded_at IS NULL
          AND t.reminder_days IS NOT NULL
          AND CAST(i.sent_at AS DATE) + to_days(t.reminder_days) <= $today
          AND i.expires_at > $today::TIMESTAMP
          AND NOT {store.opted_out_sql('i.customer_id', 'i.identity_key')}
        ORDER BY i.invitation_id
    """, {"today": today}).fetchall()
    return [int(r[0]) for r in rows]
