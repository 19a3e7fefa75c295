"""Annotations: dated notes of a workspace ("campaign started", "price change").

They live in the app database (migration 2 of :mod:`cxlens.web.db`), one row per note, tied
to the workspace (deleted with it) and optionally to a channel or a campaign. Every time
chart of the workspace draws them as vertical lines. Analysts and owners write them; every
member reads them. (The module is ``notes``: a module named ``annotations`` is shadowed in
a package namespace by ``from __future__ import annotations``.)
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import date

from cxlens.errors import UserError
from cxlens.web.db import iso, now
from cxlens.web.params import DAY_RANGE, day_in_range
from cxlens.web.workspaces import Workspace

MAX_LABEL = 200
MAX_TAG = 100


@dataclass(frozen=True)
class Annotation:
    id: int
    day: date
    label: str
    channel: str | None
    campaign: str | None
    created_by: str | None

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["day"] = self.day.isoformat()
        return d


def _row(r: sqlite3.Row) -> Annotation:
    return Annotation(r["id"], date.fromisoformat(r["day"]), r["label"], r["channel"],
                      r["campaign"], r["email"])


def _clean(day: str | date, label: str, channel: str | None,
           campaign: str | None) -> tuple[str, str, str | None, str | None]:
    if isinstance(day, date):
        d = day
    else:
        try:
            d = date.fromisoformat(str(day).strip())
        except ValueError:
            raise UserError(f"{day!r} is not a date", column="day",
                            hint="write the date as YYYY-MM-DD, e.g. 2026-11-27") from None
    if not day_in_range(d):
        raise UserError(f"{d.isoformat()} is not a day {DAY_RANGE}", column="day",
                        hint="write the date as YYYY-MM-DD, e.g. 2026-11-27")
    text = (label or "").strip()
    if not text:
        raise UserError("the note is empty", column="label", hint="write what happened")
    if len(text) > MAX_LABEL:
        raise UserError(f"the note is longer than {MAX_LABEL} characters", column="label",
                        hint="shorten it")
    tags = []
    for name, value in (("channel", channel), ("campaign", campaign)):
        v = (value or "").strip() or None
        if v is not None and len(v) > MAX_TAG:
            raise UserError(f"the {name} is longer than {MAX_TAG} characters", column=name,
                            hint="shorten it")
        tags.append(v)
    return d.isoformat(), text, tags[0], tags[1]


_SELECT = ("SELECT a.*, u.email FROM annotations a LEFT JOIN users u ON u.id = a.created_by "
           "WHERE a.workspace_id = ?")


def list_annotations(con: sqlite3.Connection, ws: Workspace, start: date | None = None,
                     end: date | None = None) -> list[Annotation]:
    """The workspace's notes by day, optionally only those in ``[start, end)``."""
    sql, params = _SELECT, [ws.id]
    if start is not None:
        sql += " AND a.day >= ?"
        params.append(start.isoformat())
    if end is not None:
        sql += " AND a.day < ?"
        params.append(end.isoformat())
    return [_row(r) for r in con.execute(sql + " ORDER BY a.day, a.id", params)]


def _valid_id(note_id: int) -> bool:
    """SQLite ids are signed 64-bit: anything else cannot exist (and would overflow sqlite3)."""
    return 0 < note_id < 2**63


def get_annotation(con: sqlite3.Connection, ws: Workspace, note_id: int) -> Annotation | None:
    if not _valid_id(note_id):
        return None
    row = con.execute(_SELECT + " AND a.id = ?", [ws.id, note_id]).fetchone()
    return _row(row) if row else None


def add_annotation(con: sqlite3.Connection, ws: Workspace, day: str | date, label: str,
                   channel: str | None = None, campaign: str | None = None,
                   user_id: int | None = None) -> Annotation:
    d, text, ch, cp = _clean(day, label, channel, campaign)
    cur = con.execute(
        "INSERT INTO annotations (workspace_id, day, label, channel, campaign, created_by, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", [ws.id, d, text, ch, cp, user_id, iso(now())])
    note = get_annotation(con, ws, int(cur.lastrowid or 0))
    assert note is not None
    return note


def update_annotation(con: sqlite3.Connection, ws: Workspace, note_id: int, day: str | date,
                      label: str, channel: str | None = None,
                      campaign: str | None = None) -> Annotation | None:
    """Change a note; None when the workspace has no such note."""
    d, text, ch, cp = _clean(day, label, channel, campaign)
    if not _valid_id(note_id):
        return None
    cur = con.execute(
        "UPDATE annotations SET day = ?, label = ?, channel = ?, campaign = ?, updated_at = ? "
        "WHERE id = ? AND workspace_id = ?", [d, text, ch, cp, iso(now()), note_id, ws.id])
    return get_annotation(con, ws, note_id) if cur.rowcount else None


def delete_annotation(con: sqlite3.Connection, ws: Workspace, note_id: int) -> bool:
    if not _valid_id(note_id):
        return False
    cur = con.execute("DELETE FROM annotations WHERE id = ? AND workspace_id = ?",
                      [note_id, ws.id])
    return cur.rowcount > 0
