"""The user's theme edits: rename, merge, split, pin and keyword rules, kept in the warehouse.

An edit is a row of ``text_theme_edits`` (in the workspace's warehouse file, so it travels
with the workspace and survives every re-run); :mod:`cxlens.text.catalogue` applies the
active edits in the order they were made each time it is read. Nothing here re-assigns
comments: the next ``cxlens text analyse`` does (the catalogue's digest changed), and the
CLI runs it straight after an edit.

Pinning: a pinned discovered theme keeps its name, terms and keys when discovery runs again
(:mod:`cxlens.text.discover` replaces only the unpinned ones). An edit of a discovered theme
— rename, merge (either side), split, rule — pins it, since otherwise the next discovery
could drop the theme the edit is about.

Like ``comment_analysis``, these tables are written here on the store's connection, each
edit in one transaction; the text package owns them. :func:`run` is what the CLI and the web
both call: the edit, then the re-assignment (``analyse``, its own per-batch commits) and the
lake's copy of the derived tables, all on the one connection it is given — in the server
the workspace's single writer (``Warehouse.write``), so an edit never races an ingest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from cxlens.clock import utc_naive
from cxlens.errors import UserError
from cxlens.text.catalogue import NAME, Catalogue, lemmatise, load
from cxlens.text.language import LANGUAGES
from cxlens.warehouse.engine import DuckDBEngine

OPS = ("rename", "merge", "split", "pin", "unpin", "rule")


def _check_name(name: str, what: str = "theme name") -> str:
    if not NAME.fullmatch(name or ""):
        raise UserError(f"{what} {name!r} is not allowed",
                        hint="use lower-case letters, digits and _ (starting with a letter, "
                             "at most 63 characters), e.g. parking_fees")
    return name


def _check_language(language: str | None) -> str | None:
    if language is not None and language not in LANGUAGES:
        raise UserError(f"language {language!r} is not one of fi, sv, en",
                        hint="give --language fi, sv or en, or leave it out for all three")
    return language


def _check_keywords(keywords: Sequence[str], language: str | None) -> list[str]:
    kws = [k.strip() for k in keywords if k and k.strip()]
    if not kws:
        raise UserError("no keyword given", hint="give one or more --keyword WORD")
    for k in kws:
        langs = [language] if language else list(LANGUAGES)
        if not any(lemmatise(k, lg) for lg in langs):
            raise UserError(f"keyword {k!r} has no word in it",
                            hint="a keyword is a word or a few words, e.g. 'parkkimaksu'")
    return kws


def _record(con: duckdb.DuckDBPyConnection, op: str, theme: str, args: dict,
            now: datetime, pin: Sequence[str] = ()) -> int:
    """Append one edit (and pin the discovered themes it touches), in one transaction."""
    con.execute("BEGIN")
    try:
        nxt = con.execute("SELECT coalesce(max(edit_id), 0) + 1 FROM text_theme_edits"
                          ).fetchall()[0][0]
        con.execute("INSERT INTO text_theme_edits VALUES (?, ?, ?, ?, ?, TRUE)",
                    [nxt, op, theme, json.dumps(args, ensure_ascii=False, sort_keys=True),
                     utc_naive(now)])
        if pin:
            con.execute("UPDATE text_themes SET pinned = ? WHERE list_contains(?, theme)",
                        [op != "unpin", list(pin)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(nxt)


def _discovered(cat: Catalogue, *names: str) -> list[str]:
    mine = {d.theme for d in cat.discovered}
    return [n for n in names if n in mine]


def rename(con: duckdb.DuckDBPyConnection, theme: str, label: str, *, now: datetime) -> int:
    """Show ``theme`` as ``label`` (its name, the key scripts use, stays)."""
    cat = load(DuckDBEngine(con))
    cat.get(theme)
    label = (label or "").strip()
    if not label or len(label) > 80:
        raise UserError("a theme label must have 1 to 80 characters",
                        hint="e.g. --label 'Parking fees'")
    return _record(con, "rename", theme, {"label": label}, now, _discovered(cat, theme))


def merge(con: duckdb.DuckDBPyConnection, theme: str, into: str, *, now: datetime) -> int:
    """Count ``theme``'s comments as ``into``'s; ``theme`` leaves the catalogue."""
    cat = load(DuckDBEngine(con))
    cat.get(theme)
    cat.get(into)
    if theme == into:
        raise UserError(f"cannot merge {theme!r} into itself", hint="name two themes")
    return _record(con, "merge", theme, {"into": into}, now, _discovered(cat, theme, into))


def split(con: duckdb.DuckDBPyConnection, theme: str, new: str, keywords: Sequence[str], *,
          language: str | None = None, label: str | None = None, now: datetime) -> int:
    """Move the comments of ``theme`` that contain one of ``keywords`` to a new theme."""
    cat = load(DuckDBEngine(con))
    cat.get(theme)
    _check_name(new, "new theme name")
    if new in cat.names():
        raise UserError(f"theme {new!r} exists already",
                        hint="choose a new name, or merge into the existing theme")
    args = {"new": new, "keywords": _check_keywords(keywords, _check_language(language)),
            "language": language, "label": label}
    return _record(con, "split", theme, args, now, _discovered(cat, theme))


def pin(con: duckdb.DuckDBPyConnection, theme: str, *, now: datetime,
        pinned: bool = True) -> int:
    """Keep (or stop keeping) a discovered theme across re-discovery."""
    cat = load(DuckDBEngine(con))
    entry = cat.get(theme)
    if entry.source != "discovered":
        raise UserError(f"theme {theme!r} is a {entry.source} theme, not a discovered one",
                        hint="only discovered themes are pinned; taxonomy and your own themes "
                             "stay anyway")
    return _record(con, "pin" if pinned else "unpin", theme, {}, now, [theme])


def rule(con: duckdb.DuckDBPyConnection, theme: str, keywords: Sequence[str], *,
         language: str | None = None, label: str | None = None, now: datetime) -> int:
    """Give ``theme`` to every comment (of ``language``, or any) with one of ``keywords``;
    a theme that does not exist yet is created as the user's own."""
    cat = load(DuckDBEngine(con))
    if theme not in cat.names():
        _check_name(theme)
    args = {"keywords": _check_keywords(keywords, _check_language(language)),
            "language": language, "label": label}
    return _record(con, "rule", theme, args, now, _discovered(cat, theme))


def undo(con: duckdb.DuckDBPyConnection, edit_id: int) -> None:
    """Deactivate one edit (kept in the table, no longer applied)."""
    n = con.execute("SELECT count(*) FROM text_theme_edits WHERE edit_id = ? AND active",
                    [edit_id]).fetchall()[0][0]
    if not n:
        raise UserError(f"no active edit {edit_id}",
                        hint="`cxlens text theme list` shows the edits and their numbers")
    row = con.execute("SELECT op, theme FROM text_theme_edits WHERE edit_id = ?",
                      [edit_id]).fetchall()[0]
    con.execute("BEGIN")
    try:
        con.execute("UPDATE text_theme_edits SET active = FALSE WHERE edit_id = ?", [edit_id])
        if row[0] in ("pin", "unpin"):
            con.execute("UPDATE text_themes SET pinned = ? WHERE theme = ?",
                        [_pinned_after(con, row[1]), row[1]])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _pinned_after(con: duckdb.DuckDBPyConnection, theme: str) -> bool:
    """Whether a discovered theme stays pinned once a pin or unpin of it is undone: the
    newest active pin or unpin of it decides; without one, any active edit about it pins
    it (as making that edit did); else it is not pinned."""
    rows = con.execute(
        "SELECT op, theme, args FROM text_theme_edits WHERE active ORDER BY edit_id DESC"
    ).fetchall()
    for op, name, _ in rows:
        if op in ("pin", "unpin") and name == theme:
            return op == "pin"
    return any(name == theme or json.loads(args).get("into") == theme for _, name, args in rows)


def listing(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every edit, oldest first, as plain rows (``made_at`` ISO text)."""
    rows = DuckDBEngine(con).query(
        "SELECT edit_id, op, theme, args, made_at, active FROM text_theme_edits "
        "ORDER BY edit_id").to_pylist()
    for r in rows:
        r["args"] = json.loads(r["args"])
        r["made_at"] = r["made_at"].isoformat()
    return rows


@dataclass(frozen=True)
class Done:
    """What :func:`run` did: the edit's number and how many comments were re-assigned
    (None when the workspace's comments were never analysed: nothing to re-assign)."""

    edit_id: int
    reassigned: int | None
    lake_notes: list[str] = field(default_factory=list)


def run(con: duckdb.DuckDBPyConnection, make: Callable[[duckdb.DuckDBPyConnection], int], *,
        now: datetime) -> Done:
    """Record an edit (``make(con)`` returns its number), then re-assign the comments so
    that every report shows it at once, then bring the lake's copy up to date.

    The edit commits on its own before the re-assignment starts: an interrupted
    re-assignment leaves the edit recorded and the next ``analyse`` finishes the job (the
    catalogue's digest is in every stored row's version)."""
    from cxlens.text.analyse import analyse
    from cxlens.warehouse.lake import after_derived

    edit_id = make(con)
    if con.execute("SELECT count(*) FROM comment_analysis").fetchall()[0][0]:
        res = analyse(con, now=now)  # syncs the lake itself once it has committed
        return Done(edit_id, res.analysed, res.lake_notes)
    return Done(edit_id, None, after_derived(con))  # the edits table is mirrored too
