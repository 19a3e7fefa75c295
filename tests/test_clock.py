"""The clock is given from the edge (cxlens.clock): its helpers, and library code that never
reads the wall clock itself, so tests and the demo give the same results on any day."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from cxlens import clock

SRC = Path(__file__).resolve().parents[1] / "src" / "cxlens"
# Library packages: none of them may ask what time it is (only the edges may).
LIBRARY = ("surveys", "analytics", "demo")
WALL_CLOCK = re.compile(r"date\.today\(|datetime\.now\(|datetime\.utcnow\(|time\.time\(|"
                        r"current_timestamp|current_date|\bnow\(\)", re.IGNORECASE)


def test_fixed_clock_says_the_same_moment_in_utc() -> None:
    day = clock.fixed(date(2026, 11, 28))
    assert day() == datetime(2026, 11, 28, 12, 0, tzinfo=UTC) == day()
    assert clock.fixed(datetime(2026, 11, 28, 8, 30))() == datetime(2026, 11, 28, 8, 30,
                                                                    tzinfo=UTC)
    helsinki = datetime(2026, 11, 28, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert clock.fixed(helsinki)() == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def test_on_day_moves_the_clock_to_a_day_and_keeps_the_time_of_day() -> None:
    at = clock.fixed(datetime(2026, 11, 28, 9, 15))
    assert clock.on_day(None, at) == at()
    assert clock.on_day(date(2026, 11, 28), at) == at()
    assert clock.on_day(date(2029, 2, 1), at) == datetime(2029, 2, 1, 9, 15, tzinfo=UTC)
    assert clock.system().tzinfo is UTC


def test_utc_naive_is_what_the_warehouse_stores() -> None:
    naive = datetime(2026, 11, 28, 9, 15)
    assert clock.utc_naive(naive) is naive
    assert clock.utc_naive(datetime(2026, 11, 28, 11, 15, tzinfo=timezone(timedelta(hours=2))
                                    )) == naive


def test_library_code_never_reads_the_wall_clock() -> None:
    found = [f"{path.relative_to(SRC)}:{n}: {line.strip()}"
             for package in LIBRARY for path in sorted((SRC / package).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if WALL_CLOCK.search(line)]
    assert found == [], "\n".join(found)
