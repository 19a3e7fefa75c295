"""Where "now" comes from: the edge reads the clock, library code is given the time.

Only the edges — the CLI commands, the server's routes, a scheduler — ask what time it is.
Library code (surveys, analytics, ingest) takes ``now`` (a moment) or ``today`` (a day) as a
parameter and never reads the wall clock or SQL ``now()``, so the demo and the tests give
the same results on any calendar day, and a test can say what day it is.

The server keeps one :data:`Clock` in ``app.state.clock`` (:func:`system` in production,
:func:`fixed` in tests); the CLI's ``--today`` moves :func:`system` to another day with
:func:`on_day`. Recorded moments of real actions (an invitation sent, an opt-out, a
follow-up's update) are still real in production: they are simply read at the edge.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

Clock = Callable[[], datetime]
"""A callable giving the current time, timezone-aware in UTC."""


def system() -> datetime:
    """The wall clock, in UTC (the production clock of the server and the CLI)."""
    return datetime.now(UTC)


def fixed(at: date | datetime) -> Clock:
    """A clock that always says ``at``: a naive datetime is taken as UTC, a day as its noon
    (UTC), so that a test's data day is the server's day whatever the calendar says."""
    moment = at if isinstance(at, datetime) else datetime.combine(at, time(12, 0))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return lambda: moment


def on_day(day: date | None, clock: Clock = system) -> datetime:
    """The clock's moment moved to ``day`` (the same time of day), or the clock's own moment
    when no day is given: what ``--today`` means for the moments a command records."""
    now = clock()
    if day is None or day == now.date():
        return now
    return datetime.combine(day, now.timetz())


def utc_naive(moment: datetime) -> datetime:
    """``moment`` as the warehouse stores time: UTC without a zone (naive is taken as UTC)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
