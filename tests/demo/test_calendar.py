"""The demo is made for a day: its data end the day before, and another day moves every date
and changes nothing else (issue 10: the demo always looks current, on any calendar day)."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from cxlens.demo import Manifest, generate
from cxlens.demo.calendar import DEFAULT_TODAY

LATER = date(2027, 3, 16)  # 109 days later: another weekday, summer time in the window


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest, Path, Manifest]:
    root = tmp_path_factory.mktemp("calendar")
    first = generate(root / "default", size="S", seed=5)
    later = generate(root / "later", size="S", seed=5, today=LATER)
    return root / "default", first, root / "later", later


def _column(path: Path, name: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [row[name] for row in csv.DictReader(fh) if row[name]]


def test_another_day_gives_the_same_company(two_days) -> None:
    first_dir, first_m, later_dir, later_m = two_days
    first, later = first_m.truths, later_m.truths
    assert later["window"]["today"] == LATER.isoformat()
    assert date.fromisoformat(later["window"]["start"]) - date.fromisoformat(
        first["window"]["start"]) == LATER - DEFAULT_TODAY
    # every planted truth and count is the same; only the window's dates differ
    assert {k: v for k, v in later.items() if k != "window"} == \
        {k: v for k, v in first.items() if k != "window"}
    for f in sorted(first_dir.glob("*.csv")):
        assert len(f.read_bytes().splitlines()) == len((later_dir / f.name).read_bytes()
                                                       .splitlines()), f.name


def test_the_data_end_the_day_before_the_day_it_is_made_for(two_days) -> None:
    first_dir, _, later_dir, _ = two_days
    for folder, today in ((first_dir, DEFAULT_TODAY), (later_dir, LATER)):
        days = _column(folder / "ga4_events.csv", "event_date")
        good = sorted(d for d in days if d not in ("20250230", "20250231"))  # planted bad rows
        assert good[-1] == (today - timedelta(days=1)).strftime("%Y%m%d")
        paid = sorted(_column(folder / "shopify_orders.csv", "Paid at"))
        assert paid[-1][:10] in ((today - timedelta(days=d)).isoformat() for d in (1, 2))
        assert paid[-1][:10] < today.isoformat()


def test_a_day_moves_the_dates_by_that_many_days(two_days) -> None:
    first_dir, _, later_dir, _ = two_days
    shift = LATER - DEFAULT_TODAY
    a = _column(first_dir / "shopify_orders.csv", "Paid at")
    b = _column(later_dir / "shopify_orders.csv", "Paid at")
    assert len(a) == len(b)
    moved = [date.fromisoformat(y[:10]) - date.fromisoformat(x[:10])
             for x, y in zip(a, b, strict=True)]
    # the same instant plus the shift; its local date differs by a day only in the hour
    # before midnight when one of the two dates is in summer time and the other not (about
    # one web order in ten: the web shop's evening peak)
    assert all(abs((m - shift).days) <= 1 for m in moved)
    assert sum(m == shift for m in moved) > 0.85 * len(moved)


def test_on_its_day_the_overview_shows_no_stale_data_and_no_drop(two_days, tmp_path) -> None:
    """Loaded on the day it was made for, the demo's period ends yesterday without a notice
    that the data stop early, and its last full week looks like the weeks before it."""
    from statistics import median

    from cxlens.analytics import overview as ov
    from cxlens.ingest.load import ingest
    from cxlens.warehouse.store import open_engine, open_warehouse

    later = two_days[3]
    with open_warehouse(tmp_path / "ws") as con:
        for f in later.files:
            if f.kind in ("customers", "orders", "events"):
                ingest(con, f.path, f.kind, preset=f.preset)
    with open_engine(tmp_path / "ws") as eng:
        end = ov.default_end(eng, LATER)
        assert (end.end, end.data_until, end.stale) == (LATER - timedelta(days=1),
                                                        LATER - timedelta(days=1), False)
        weeks = ov.trends(eng, ov.period_ending(end.end, 182), "week")
    full = [w for w in weeks if w.complete]
    last, before = full[-1], full[-14:-1]
    assert weeks[-1].complete or weeks[-1].days < 7  # a partial last week says so
    for name in ("orders", "active_customers"):
        usual = median(getattr(w, name) for w in before)
        assert getattr(last, name) >= 0.7 * usual, (name, getattr(last, name), usual)
