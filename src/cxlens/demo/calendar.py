"""The demo company's calendar: the day the demo is generated for and the window before it.

Why a calendar object and not constants: the demo must look current on the day it is shown
(its data end the day before, issue 10), yet be the same company on any day. Everything the
generator draws is relative to the window's start, so moving the window moves every date by
the same whole number of days and changes nothing else: the counts, scores and planted truths
are those of any other day. The CLI passes the edge's today; tests pin
:data:`DEFAULT_TODAY`, the day the demo was first written for.

What moves with the window and what does not (docs/demo.md): summer time is that of the real
dates, so local clock times near a change may differ by an hour; the weekly rhythms (ad spend,
the newsletter) keep their place in the window, not their weekday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

DAYS = 726  # the window: 726 days, ending the day before the demo's today
DEFAULT_TODAY = date(2026, 11, 27)


@dataclass(frozen=True)
class Calendar:
    today: date

    @property
    def start(self) -> datetime:
        """Midnight UTC of the window's first day."""
        return datetime.combine(self.today - timedelta(days=DAYS), time(0), tzinfo=UTC)

    @property
    def start_epoch(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_epoch(self) -> int:
        """Midnight UTC of ``today``: the first instant after the data."""
        return self.start_epoch + DAYS * 86400

    @property
    def shift_days(self) -> int:
        """Days from the default window to this one (what every date moves by)."""
        return (self.today - DEFAULT_TODAY).days


DEFAULT = Calendar(DEFAULT_TODAY)
