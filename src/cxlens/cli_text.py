"""``cxlens text``: open comments — language, sentiment, themes and their impact.

Only presentation lives here: the per-comment pass is :func:`cxlens.text.analyse.analyse`,
the numbers come from :mod:`cxlens.text.report`. ``--json`` prints what a script needs.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cxlens import clock
from cxlens.cli_common import AsJson, Workspace, emit_json, err, out, parse_day
from cxlens.config import DEFAULT_WORKSPACE

text_app = typer.Typer(help="Open comments: language, sentiment, themes and their impact.",
                       no_args_is_help=True)

Metric = Annotated[str, typer.Option(help="The score themes are weighed against: nps, enps "
                                          "or csat.")]
Start = Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (default: all).")]
End = Annotated[str | None, typer.Option(help="Day after the last, YYYY-MM-DD (default: all).")]


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
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Each theme of the taxonomy: its terms per language, mentions, sentiment and what its
    negative mentions cost the score (points, with a 95 % bootstrap interval)."""
    from cxlens.text.report import theme_report
    from cxlens.warehouse.store import open_engine

    with open_engine(workspace) as eng:
        rep = theme_report(eng, metric=metric, start=parse_day(start, "--start"),
                           end=parse_day(end, "--end"), by=by)
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
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """The comments of one theme, newest first."""
    from cxlens.text.report import theme_comments
    from cxlens.warehouse.store import open_engine

    with open_engine(workspace) as eng:
        rows = theme_comments(eng, theme, language=language, metric=metric, limit=limit)
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
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Sentiment per language, where it comes from (model or lexicon) and how far to trust
    it: the model's accuracy per language on held-out labelled comments, with n."""
    from cxlens.text.report import sentiment_report
    from cxlens.warehouse.store import open_engine

    with open_engine(workspace) as eng:
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
    team: Annotated[str | None, typer.Option(help="Only answers of this team.")] = None,
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
