"""Request parameters that need more than a type: days in a range every route can compute.

A date such as ``9999-12-31`` parses, but the first ``+ timedelta(days=1)`` after it
overflows (``OverflowError``, a 500). Every day a request brings — ``as_of`` on the
dashboard pages and their CSV downloads, ``start``/``end``/``as_of`` of the JSON API, an
annotation's day — is checked against :data:`EARLIEST_DAY` … :data:`LATEST_DAY` first, and a
day outside is a 422 that names the range.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import HTTPException, Path
from pydantic import Field

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
DAY_RANGE = f"between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"

# A day as text (YYYY-MM-DD) in the range; the day of the month is checked when parsed.
DAY_PATTERN = r"^(19\d\d|2\d\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"

# A day of a JSON API query or body: pydantic refuses one outside the range with a 422.
Day = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]


def day_in_range(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def parse_day(value: str | None, *, default: date, name: str = "as_of") -> date:
    """The day ``value`` (YYYY-MM-DD) of query parameter ``name``; ``default`` (the server
    clock's day, given by the route) when it is empty. A 422 names the format or the
    allowed range."""
    if not value:
        return default
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise HTTPException(422, f"{name} must be a date YYYY-MM-DD {DAY_RANGE}") from None
    if not day_in_range(day):
        raise HTTPException(422, f"{name} must be a day {DAY_RANGE}, not {day.isoformat()}")
    return day


# A row id in a path: SQLite stores 64-bit integers, and a larger one raises OverflowError
# in the driver (a 500) instead of finding nothing. Outside the range it is a 422.
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=0, le=MAX_ROW_ID, description="A row id.")]


FILTER_TEXT = 200  # characters of a page's filter value (a channel, a store, a theme)


def filter_text(name: str, value: str | None, limit: int = FILTER_TEXT) -> str | None:
    """A page's filter value: ``None`` for the form's "all" (empty), a 422 when too long."""
    if not value:
        return None
    if len(value) > limit:
        raise HTTPException(422, f"{name} must be at most {limit} characters")
    return value
