"""``cxlens text``: open comments — language, sentiment, themes and their impact.

Only presentation lives here: the per-comment pass is :func:`cxlens.text.analyse.analyse`,
the numbers come from :mod:`cxlens.text.report`, read through the workspace's engine
(``--engine``: DuckDB, or Spark on the lake, which mirrors the analysis tables; ``analyse``
always writes through the warehouse). ``--json`` prints what a script needs.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cxlens import clock
from cxlens.cli_common import (
    AsJson,
    EngineName,
    Workspace,
    emit_json,
    engine_for,
    err,
    out,
    parse_day,
)
from cxlens.config import DEFAULT_WORKSPACE

text_app = typer.Typer(help="Open comments: language, sentiment, themes and their impact.",
                       no_args_is_help=True)

Metric = Annotated[str, typer.Option(help="The score themes are weighed against: nps, enps "
                                          "or csat.")]
Start = Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (default: all).")]
End = Annotated[str | None, typer.Option(help="Day after the last, YYYY-MM-DD (default: all).")]
Team = Annotated[str | None, typer.Option(
    help="Only the answers of this team (feedback.team_id: the staff's eNPS answers, and "
         "customers' answers that name a team).")]


@text_app.command("analyse")
def analyse_cmd(
    retrain: Annotated[bool, typer.Option(
        help="Fit the sentiment model again from the labelled comments.")] = False,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Detect each comment's language, read its sentiment and themes, and store the results
    (new and changed answers only; all of them when the sentiment model changes)."""
    from cxlens.cli_common import progress_bar
    from cxlens.text.analyse import analyse
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace) as con, progress_bar(not as_json) as bar:
        task = bar.add_task("analysing comments", total=None)
        res = analyse(con, now=clock.system(), retrain=retrain,
                      progress=lambda done, total: bar.update(task, completed=done,
                                                              total=total))
    for note in res.lake_notes:
        err.print(f"note: {note}")
    if as_json:
        emit_json(res.to_json())
        return
    if res.comments == 0:
        out.print("no open comments in this workspace: nothing to analyse")
        return
    out.print(f"{res.comments:,} comments: {res.analysed:,} analysed, {res.unchanged:,} "
              f"unchanged, {res.removed:,} removed (answers gone or without a comment)")
    t = Table("language", "comments", title="comments per language", title_justify="left")
    for lang, n in sorted(res.languages.items(), key=lambda x: (-x[1], x[0])):
        t.add_row(lang, f"{n:,}")
    out.print(t)
    out.print(f"sentiment: {res.sentiment_source} — {res.model_note}")


@text_app.command("themes")
def themes_cmd(
    metric: Metric = "nps",
    start: Start = None,
    end: End = None,
    by: Annotated[str | None, typer.Option(
        help="Also each theme's volume per store, team, touchpoint or language.")] = None,
    team: Team = None,
    engine: EngineName = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Each theme of the taxonomy: its terms per language, mentions, sentiment and what its
    negative mentions cost the score (points, with a 95 % bootstrap interval)."""
    from cxlens.text.report import theme_report

    with engine_for(workspace, engine) as eng:
        rep = theme_report(eng, metric=metric, start=parse_day(start, "--start"),
                           end=parse_day(end, "--end"), by=by, team=team)
    if as_json:
        emit_json(rep)
        return
    for note in rep["notes"]:
        err.print(f"note: {note}")
    t = Table("theme", "mentions", "negative", "sentiment", f"impact on {metric}",
              "95 % interval", "k / n", title=f"themes ({rep['comments']:,} comments)",
              title_justify="left")
    for th in rep["themes"]:
        t.add_row(th["label"], f"{th['mentions']:,}", f"{th['negative']:,}",
                  "" if th["sentiment"] is None else f"{th['sentiment']:+.2f}",
                  "" if th["impact"] is None else f"{th['impact']:+.1f}",
                  "" if th["low"] is None else f"{th['low']:+.1f} … {th['high']:+.1f}",
                  f"{th['negative_mentions']}/{th['n']}")
    out.print(t)
    if by is not None:
        g = Table("theme", by, "comments", "mentions", "negative", "sentiment",
                  title=f"themes by {by}", title_justify="left")
        for th in rep["themes"]:
            for row in th["groups"]:
                g.add_row(th["label"], str(row[by] or "—"), f"{row['comments']:,}",
                          f"{row['mentions']:,}", f"{row['negative']:,}",
                          f"{row['sentiment']:+.2f}")
        out.print(g)


@text_app.command("comments")
def comments_cmd(
    theme: Annotated[str, typer.Option(help="The theme (see `cxlens text themes`).")],
    language: Annotated[str | None, typer.Option(help="Only fi, sv, en …")] = None,
    metric: Annotated[str | None, typer.Option(help="Only answers of this metric.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    team: Team = None,
    engine: EngineName = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """The comments of one theme, newest first."""
    from cxlens.text.report import theme_comments

    with engine_for(workspace, engine) as eng:
        rows = theme_comments(eng, theme, language=language, metric=metric, limit=limit,
                              team=team)
    if as_json:
        emit_json(rows)
        return
    t = Table("when", "lang", "sentiment", "themes", "comment", title=f"theme {theme}",
              title_justify="left")
    for r in rows:
        t.add_row(str(r["ts"])[:16], r["language"] or "", r["sentiment"] or "",
                  ", ".join(r["themes"]), escape(r["comment"][:300]))
    out.print(t)


@text_app.command("sentiment")
def sentiment_cmd(
    engine: EngineName = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Sentiment per language, where it comes from (model or lexicon) and how far to trust
    it: the model's accuracy per language on held-out labelled comments, with n."""
    from cxlens.text.report import sentiment_report

    with engine_for(workspace, engine) as eng:
        rep = sentiment_report(eng)
    if as_json:
        emit_json(rep)
        return
    out.print(f"sentiment from the {rep['source']}: {rep['note']}")
    t = Table("language", "comments", "negative", "neutral", "positive", "held-out accuracy",
              title="sentiment per language", title_justify="left")
    for row in rep["languages"]:
        acc = row.get("accuracy")
        t.add_row(row["language"], f"{row['comments']:,}", f"{row['negative']:,}",
                  f"{row['neutral']:,}", f"{row['positive']:,}",
                  "" if acc is None else f"{acc['accuracy']:.0%} (n {acc['n']})")
    out.print(t)


@text_app.command("quotes")
def quotes_cmd(
    theme: Annotated[str, typer.Option(help="The theme (see `cxlens text themes`).")],
    k: Annotated[int, typer.Option(min=1, max=20, help="Quotes per language.")] = 3,
    metric: Annotated[str | None, typer.Option(help="Only answers of this metric.")] = None,
    language: Annotated[str | None, typer.Option(help="Only fi, sv, en …")] = None,
    store: Annotated[str | None, typer.Option(help="Only answers of this store.")] = None,
    team: Team = None,
    touchpoint: Annotated[str | None, typer.Option(help="Only this touchpoint.")] = None,
    start: Start = None,
    end: End = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """The most representative comments of one theme per language: about the theme, of its
    typical sentiment, readable, and no person or text twice (docs/text.md)."""
    from cxlens.text.quotes import quotes_json
    from cxlens.text.report import _require
    from cxlens.text.selection import Selection
    from cxlens.warehouse.store import open_engine

    sel = Selection(metric, parse_day(start, "--start"), parse_day(end, "--end"), language,
                    store, team, touchpoint)
    with open_engine(workspace) as eng:
        _require(eng)
        rep = quotes_json(eng, theme, sel, k=k)
    if as_json:
        emit_json(rep)
        return
    t = Table("lang", "typical", "p", "comment", title=f"quotes of theme {theme}",
              title_justify="left")
    for lang, rows in rep["languages"].items():
        for q in rows:
            t.add_row(lang, q["typical"], f"{q['probability']:.2f}",
                      escape(q["comment"][:300]))
    out.print(t)


@text_app.command("discover")
def discover_cmd(
    k_max: Annotated[int, typer.Option(min=2, max=30, help="Most themes per language.")] = 8,
    min_size: Annotated[int, typer.Option(
        min=2, help="Fewest comments a discovered theme may have.")] = 5,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Find themes in the comments no theme covers yet, per language, align them across
    fi/sv/en, store them (pinned ones stay) and assign them (docs/text.md, "Discovery")."""
    from cxlens.text.analyse import analyse
    from cxlens.text.discover import discover
    from cxlens.warehouse.store import open_warehouse

    now = clock.system()
    with open_warehouse(workspace) as con:
        found = discover(con, now=now, k_max=k_max, min_size=min_size)
        assigned = analyse(con, now=now)
    if as_json:
        emit_json({**found.to_json(), "analysis": assigned.to_json()})
        return
    out.print("comments without a theme: " + ", ".join(
        f"{lg} {n:,}" for lg, n in found.pool.items()))
    if found.kept:
        out.print(f"pinned, kept as they were: {', '.join(found.kept)}")
    if not found.themes:
        out.print("no new theme found (too few comments without a theme, or none alike)")
        return
    t = Table("theme", "label", "comments", "purity", "keys", title="discovered themes",
              title_justify="left")
    for th in found.themes:
        t.add_row(th["theme"], escape(th["label"]), f"{th['comments']:,}",
                  f"{th['purity']:.0%}", escape("; ".join(
                      f"{lg}: {', '.join(k)}" for lg, k in th["keys"].items())))
    out.print(t)
    out.print("rename, merge, split or pin them with `cxlens text theme …`")


@text_app.command("alerts")
def alerts_cmd(
    period: Annotated[str, typer.Option(help="month or week (the one holding --today).")
                      ] = "month",
    today: Annotated[str | None, typer.Option(
        help="The day to look from, YYYY-MM-DD (default: today, UTC).")] = None,
    history: Annotated[int, typer.Option(min=1, max=60, help="Periods of history.")] = 6,
    metric: Annotated[str | None, typer.Option(help="Only answers of this metric.")] = None,
    alpha: Annotated[float, typer.Option(help="False discovery rate (Benjamini–Hochberg).")
                     ] = 0.05,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Themes whose share of comments or share of negative mentions rose significantly this
    period against the periods before (one-sided Fisher tests, BH q; docs/methods.md)."""
    from cxlens.text.alerts import rising_themes
    from cxlens.warehouse.store import open_engine

    day = parse_day(today, "--today") or clock.system().date()
    with open_engine(workspace) as eng:
        rep = rising_themes(eng, period, day, history=history, metric=metric, alpha=alpha)
    if as_json:
        emit_json(rep.to_json())
        return
    for note in rep.notes:
        err.print(f"note: {note}")
    out.print(f"{period} from {rep.start} ({rep.comments:,} comments) against {rep.history_start}"
              f" … ({rep.history_comments:,} comments): {rep.tests} tests, "
              f"{len(rep.rising)} rising at q < {alpha}")
    t = Table("theme", "measure", "now", "before", "ratio", "p", "q", "rising",
              title="themes tested", title_justify="left")
    for a in rep.checked:
        t.add_row(escape(a.label), a.measure,
                  f"{a.current}/{a.current_base} ({a.current_share:.0%})",
                  f"{a.history}/{a.history_base}" + (
                      "" if a.history_share is None else f" ({a.history_share:.0%})"),
                  "" if a.ratio is None else f"{a.ratio:.2f}", f"{a.p:.2g}", f"{a.q:.2g}",
                  "yes" if a.rising else "")
    out.print(t)


theme_app = typer.Typer(help="Edit themes: rename, merge, split, pin, keyword rules. Edits "
                             "are kept in the warehouse and re-applied on every run.",
                        no_args_is_help=True)
text_app.add_typer(theme_app, name="theme")

ThemeArg = Annotated[str, typer.Argument(help="The theme's name (`cxlens text themes`).")]
Keywords = Annotated[list[str], typer.Option(
    "--keyword", "-k", help="A word or phrase (repeat for more); matched as lemmas.")]
Language = Annotated[str | None, typer.Option(help="fi, sv or en (default: all three).")]
Label = Annotated[str | None, typer.Option(help="The label to show (default: the name).")]


def _edit(workspace, do, what: str, as_json: bool) -> None:
    """Record one edit, then re-assign the comments so every report shows it at once
    (:func:`cxlens.text.edits.run`, which the web's edits call too)."""
    from cxlens.text.edits import run
    from cxlens.warehouse.store import open_warehouse

    now = clock.system()
    with open_warehouse(workspace) as con:
        done = run(con, lambda c: do(c, now), now=now)
    for note in done.lake_notes:
        err.print(f"note: {note}")
    if as_json:
        emit_json({"edit_id": done.edit_id, "edit": what, "reassigned": done.reassigned})
        return
    out.print(f"edit {done.edit_id}: {what}" + (
        "" if done.reassigned is None else f" ({done.reassigned:,} comments re-assigned)"))


@theme_app.command("rename")
def theme_rename(theme: ThemeArg, label: Annotated[str, typer.Option(
        help="The new label (the name scripts use stays).")],
        workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """Show a theme under a new label."""
    from cxlens.text.edits import rename

    _edit(workspace, lambda con, now: rename(con, theme, label, now=now),
          f"{theme} shown as {label!r}", as_json)


@theme_app.command("merge")
def theme_merge(theme: ThemeArg, into: Annotated[str, typer.Option(
        help="The theme that takes its comments.")],
        workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """Count a theme's comments as another's; the first leaves the list."""
    from cxlens.text.edits import merge

    _edit(workspace, lambda con, now: merge(con, theme, into, now=now),
          f"{theme} merged into {into}", as_json)


@theme_app.command("split")
def theme_split(theme: ThemeArg, new: Annotated[str, typer.Option(
        help="Name of the new theme (a-z, 0-9, _).")], keyword: Keywords,
        language: Language = None, label: Label = None,
        workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """Move the comments of a theme that contain a keyword to a new theme."""
    from cxlens.text.edits import split

    _edit(workspace, lambda con, now: split(con, theme, new, keyword, language=language,
                                            label=label, now=now),
          f"{theme} split: {', '.join(keyword)} → {new}", as_json)


@theme_app.command("pin")
def theme_pin(theme: ThemeArg, unpin: Annotated[bool, typer.Option(
        help="Let discovery replace it again.")] = False,
        workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """Keep a discovered theme (name, terms, keys) when discovery runs again."""
    from cxlens.text.edits import pin

    _edit(workspace, lambda con, now: pin(con, theme, now=now, pinned=not unpin),
          f"{theme} {'unpinned' if unpin else 'pinned'}", as_json)


@theme_app.command("rule")
def theme_rule(theme: ThemeArg, keyword: Keywords, language: Language = None,
               label: Label = None, workspace: Workspace = DEFAULT_WORKSPACE,
               as_json: AsJson = False) -> None:
    """Give a theme (new or existing) to every comment with one of the keywords."""
    from cxlens.text.edits import rule

    _edit(workspace, lambda con, now: rule(con, theme, keyword, language=language,
                                           label=label, now=now),
          f"{', '.join(keyword)} → {theme}", as_json)


@theme_app.command("undo")
def theme_undo(edit_id: Annotated[int, typer.Argument(help="The edit's number.")],
               workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """Stop applying one edit (it stays listed, inactive)."""
    from cxlens.text.edits import undo

    def do(con, now) -> int:
        undo(con, edit_id)
        return edit_id

    _edit(workspace, do, f"edit {edit_id} undone", as_json)


@theme_app.command("list")
def theme_list(workspace: Workspace = DEFAULT_WORKSPACE, as_json: AsJson = False) -> None:
    """The edits, oldest first, and the discovered themes."""
    from cxlens.text.catalogue import read_discovered
    from cxlens.text.edits import listing
    from cxlens.warehouse.engine import DuckDBEngine
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace, read_only=True) as con:
        rows = listing(con)
        found = read_discovered(DuckDBEngine(con))
    if as_json:
        emit_json({"edits": rows, "discovered": [
            {"theme": d.theme, "label": d.label, "terms": d.terms, "keys": d.keys,
             "comments": d.comments, "purity": d.purity, "pinned": d.pinned}
            for d in found]})
        return
    t = Table("#", "edit", "theme", "details", "active", title="theme edits",
              title_justify="left")
    for r in rows:
        t.add_row(str(r["edit_id"]), r["op"], r["theme"], escape(json.dumps(
            {k: v for k, v in r["args"].items() if v}, ensure_ascii=False)),
            "yes" if r["active"] else "undone")
    out.print(t)
    d = Table("theme", "label", "comments", "pinned", title="discovered themes",
              title_justify="left")
    for x in found:
        d.add_row(x.theme, escape(x.label), f"{x.comments:,}", "yes" if x.pinned else "")
    out.print(d)
