"""``cxlens experience``: the experience metrics from a shell or a script.

Only presentation lives here: every number comes from :mod:`cxlens.analytics.experience`,
:mod:`cxlens.analytics.drivers` and :mod:`cxlens.analytics.people`, as on the web pages.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from cxlens import clock
from cxlens.cli_common import AsJson, EngineName, Workspace, emit_json, engine_for, out, parse_day
from cxlens.config import DEFAULT_WORKSPACE
from cxlens.errors import UserError

experience_app = typer.Typer(help="Experience metrics with their intervals: NPS, CSAT, CES, "
                             "eNPS, key drivers, staff and customers.", no_args_is_help=True)
Start = Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")]
End = Annotated[str | None, typer.Option(help="Day after the last, YYYY-MM-DD.")]


def _interval(e: Any, digits: int = 1) -> str:
    if e is None or e.value is None:
        return ""
    f = f".{digits}f"
    return f"{e.value:{f}}" + (f"  [{e.low:{f}}, {e.high:{f}}]" if e.low is not None else "")


Filter = Annotated[list[str] | None, typer.Option(
    "--filter", help="Only answers with dimension:value, e.g. country:FI (repeatable; values "
                     "of one dimension are alternatives).")]
NBoot = Annotated[int, typer.Option(min=50, max=2000, help="Bootstrap replicates.")]
Seed = Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed of the bootstrap.")]
Shares = Annotated[str | None, typer.Option(
    help="The population's shares for --weight-by, e.g. FI:60,SE:40 (default: the shares "
         "among the workspace's customers).")]


def _window(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    """``--start`` and ``--end`` as days, the first before the second (as the API checks)."""
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    if first is not None and last is not None and first >= last:
        raise UserError("--start must be before --end (--end is the day after the last)")
    return first, last


def _filters(items: list[str]) -> dict[str, list[str]]:
    """``["country:FI", "country:SE"]`` → ``{"country": ["FI", "SE"]}``, as the API reads
    its ``filter`` parameters (and refuses a dimension it does not know)."""
    from cxlens.web.api.experience_models import GROUP_DIMENSIONS

    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name or not value:
            raise UserError(f"--filter {item!r} is not dimension:value",
                            hint="e.g. --filter country:FI --filter segment:B2B")
        if name not in GROUP_DIMENSIONS:
            raise UserError(f"--filter {item!r}: {name!r} is not a dimension",
                            hint=f"use one of {', '.join(GROUP_DIMENSIONS)}")
        out.setdefault(name, []).append(value)
    return out


def _shares(text: str | None) -> dict[str, float] | None:
    from cxlens.analytics.weighting import parse_shares

    try:
        return None if text is None else parse_shares(text)
    except ValueError as exc:
        raise UserError(f"--shares {exc}", hint="e.g. --shares FI:60,SE:40") from None


@experience_app.command("score")
def score_cmd(
    metric: Annotated[str, typer.Argument(help="nps, csat, ces or enps.")],
    by: Annotated[str | None, typer.Option(
        help="touchpoint, channel, store_id, team_id, language, segment, country …")] = None,
    period: Annotated[str | None, typer.Option(help="day, week, month or quarter.")] = None,
    start: Start = None,
    end: End = None,
    weights: Annotated[str | None, typer.Option(
        help="A properties key holding each answer's weight (named weight, paino, vikt …).")]
    = None,
    weight_by: Annotated[str | None, typer.Option(
        help="Weight the answers to the customers' mix of segment, country, city or "
             "customer.<column>.")] = None,
    shares: Shares = None,
    filter_: Filter = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """The metric overall or by group and period, each with n and its 95 % interval. With
    --json the same JSON as GET /api/w/<slug>/experience/score with the same parameters."""
    from cxlens.analytics.experience import MIN_SAMPLE, score
    from cxlens.analytics.group_names import group_names
    from cxlens.analytics.weighting import poststratify, weight_keys
    from cxlens.web.api.experience_models import ScoresOut, score_out, weighting_out

    if weights and weight_by:
        raise UserError("give --weights or --weight-by, not both")
    if shares and not weight_by:
        raise UserError("--shares are the population's shares of --weight-by: "
                        "give --weight-by too")
    first, last = _window(start, end)
    filters = _filters(filter_ or [])
    with engine_for(workspace, engine) as eng:
        try:
            w: Any = weights
            if weights and weights not in (keys := weight_keys(eng, metric)):
                raise ValueError(f"no {metric} answer carries response weights under "
                                 f"{weights!r}; keys that do: {', '.join(keys) or 'none'}")
            if weight_by:
                w = poststratify(eng, metric, weight_by, first, last, grain=period,
                                 shares=_shares(shares), filters=filters)
            scores = score(eng, metric, by=by, period=period, start=first, end=last,
                           weights=w, filters=filters)
        except ValueError as exc:
            raise UserError(str(exc), hint="see `cxlens experience score --help`") from None
        names = group_names(eng, by) if by else {}
    if as_json:
        emit_json(ScoresOut(
            metric=metric, by=by, period=period, start=first, end=last, filters=filters,
            weighting=None if not (weights or weight_by)
            else weighting_out(weights, w if weight_by else None),
            min_sample=MIN_SAMPLE, scores=[score_out(s) for s in scores], group_names=names,
        ).model_dump(mode="json"))
        return
    t = Table("period", by or "", "n", metric, "95 % interval", "",
              title=f"{metric.upper()} (too small to act on: fewer than 30 answers)",
              title_justify="left")
    for s in scores:
        v = s.value
        label = names.get(str(s.group), s.group) if by else "all"
        t.add_row(str(s.bucket or ""), str(label), f"{s.n:,}",
                  "" if v.value is None else f"{v.value:.1f}",
                  "" if v.low is None else f"{v.low:.1f} … {v.high:.1f}",
                  "too small" if s.too_small else "")
    out.print(t)


@experience_app.command("changes")
def changes_cmd(
    metric: Annotated[str, typer.Argument(help="nps, csat, ces or enps.")],
    by: Annotated[str | None, typer.Option(
        help="Test each group of this dimension against the rest (touchpoint, store_id, "
             "segment, country …).")] = None,
    period: Annotated[str | None, typer.Option(
        help="Compare the latest day, week, month or quarter with the one before.")] = None,
    as_of: Annotated[str | None, typer.Option(
        help="A day in the current period, YYYY-MM-DD (default: the latest answer's).")]
    = None,
    on: Annotated[str, typer.Option(
        help="value (the headline), mean (the mean score) or share.")] = "value",
    start: Start = None,
    end: End = None,
    weights: Annotated[str | None, typer.Option(
        help="A properties key holding each answer's weight (named weight, paino, vikt …).")]
    = None,
    weight_by: Annotated[str | None, typer.Option(
        help="Weight each period's answers to the customers' mix of segment, country, city "
             "or customer.<column>.")] = None,
    shares: Shares = None,
    filter_: Filter = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Did the metric change, and where does it differ: --by DIM tests each group against
    the rest (difference, p, Benjamini–Hochberg q, significant at q < 0.05); --period
    compares the latest period with the one before. The same numbers, and with --json the
    same JSON, as GET /api/w/<slug>/experience/changes."""
    from cxlens.analytics import experience as exp
    from cxlens.analytics.group_names import group_names
    from cxlens.analytics.weighting import poststratify, weight_keys
    from cxlens.web.api.experience_models import (
        period_change_out,
        segment_test_out,
        weighting_out,
    )

    if by is None and period is None:
        raise UserError("say what to compare: --by DIM (each group against the rest) or "
                        "--period GRAIN (the latest period against the one before)",
                        hint="e.g. cxlens experience changes nps --by store_id")
    if weights and weight_by:
        raise UserError("give --weights or --weight-by, not both")
    if shares and not weight_by:
        raise UserError("--shares are the population's shares of --weight-by: "
                        "give --weight-by too")
    (first, last), day = _window(start, end), parse_day(as_of, "--as-of")
    filters = _filters(filter_ or [])
    grain = period or "month"  # the API's default grain, also that of its weighting
    with engine_for(workspace, engine) as eng:
        try:
            w: Any = weights
            weighting = None
            if weights and weights not in (keys := weight_keys(eng, metric)):
                raise ValueError(f"no {metric} answer carries response weights under "
                                 f"{weights!r}; keys that do: {', '.join(keys) or 'none'}")
            if weight_by:  # every grain bucket to the population, as the API does
                weighting = poststratify(eng, metric, weight_by, grain=grain,
                                         shares=_shares(shares), filters=filters)
                w = weighting
            change = None if period is None else exp.compare_periods(
                eng, metric, grain, day, on=on, weights=w, filters=filters,
                today=clock.system().date())
            tests = None if by is None else exp.compare_segments(
                eng, metric, by, first, last, on=on, weights=w, filters=filters)
        except ValueError as exc:
            raise UserError(str(exc), hint="see `cxlens experience changes --help`") from None
        names = group_names(eng, by) if by else {}
    if as_json:
        body: dict[str, Any] = {
            "ok": True, "metric": metric, "on": on, "by": by, "grain": period,
            "start": first, "end": last, "filters": filters,
            "weighting": None if not (weights or weight_by)
            else weighting_out(weights, weighting).model_dump(mode="json"),
            "alpha": exp.ALPHA, "min_sample": exp.MIN_SAMPLE}
        if change is not None:
            body["periods"] = period_change_out(change).model_dump(mode="json")
        if tests is not None:
            body["segments"] = [segment_test_out(t).model_dump(mode="json") for t in tests]
            body["group_names"] = names
        emit_json(body)
        return
    if change is not None:
        t = Table("period", "n", metric, "95 % interval", "", title_justify="left",
                  title=f"{metric.upper()} ({on}): this {period} against the one before")
        for label, (s, e), sc in (("current", change.current_period, change.current),
                                  ("previous", change.previous_period, change.previous)):
            v = sc.value if on == "value" else getattr(sc, on)
            t.add_row(f"{label} {s} … {e - timedelta(days=1)}", f"{sc.n:,}",
                      "" if v.value is None else f"{v.value:.1f}",
                      "" if v.low is None else f"{v.low:.1f} … {v.high:.1f}",
                      "too small" if sc.too_small else "")
        out.print(t)
        p = "—" if change.p_value is None else f"{change.p_value:.3f}"
        out.print(f"difference (current − previous): {_interval(change.difference) or '—'}, "
                  f"p {p} ({change.difference.method})")
    if tests is not None:
        t = Table(by or "", "n", metric, "difference [95 %]", "p", "q", "",
                  title=f"{metric.upper()} ({on}) by {by}: each group against the rest "
                        f"(significant: q < {exp.ALPHA})", title_justify="left")
        for r in tests:
            v = r.segment.value if on == "value" else getattr(r.segment, on)
            t.add_row(str(r.group), f"{r.segment.n:,}", _interval(v),
                      _interval(r.difference),
                      "" if r.p_value is None else f"{r.p_value:.3f}",
                      "" if r.q_value is None else f"{r.q_value:.3f}",
                      "significant" if r.significant else
                      ("too small" if r.segment.too_small else ""))
        out.print(t)
        if not tests:
            out.print(f"fewer than two groups of {by} have answers: nothing to compare")


@experience_app.command("drivers")
def drivers_cmd(
    metric: Annotated[str, typer.Argument(help="The overall score: csat, nps or ces.")] = "csat",
    method: Annotated[str, typer.Option(help="johnson or shapley.")] = "johnson",
    start: Start = None,
    end: End = None,
    n_boot: NBoot = 500,
    seed: Seed = 0,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Which attribute ratings drive the overall score (importance, performance, quadrant).
    With --json the same JSON as GET /api/w/<slug>/experience/drivers."""
    from cxlens.analytics.drivers import key_drivers
    from cxlens.web.api.experience_models import drivers_out

    if method not in ("johnson", "shapley"):
        raise UserError(f"--method {method!r} is not johnson or shapley")
    first, last = _window(start, end)
    with engine_for(workspace, engine) as eng:
        try:
            k = key_drivers(eng, metric, method=method, start=first, end=last, n_boot=n_boot,
                            seed=seed)
        except ValueError as exc:
            raise UserError(str(exc), hint="the survey needs attribute ratings") from None
    if as_json:
        emit_json(drivers_out(k).model_dump(mode="json"))
        return
    t = Table("attribute", "importance [95 %]", "share %", "performance [95 %]", "quadrant",
              title=f"key drivers of {metric} ({method}, n {k.n:,}, R² {k.r2.value:.2f})",
              title_justify="left")
    for d in k.drivers:
        t.add_row(d.attribute, _interval(d.importance, 3), f"{d.share:.0f}",
                  _interval(d.performance), d.quadrant)
    out.print(t)


@experience_app.command("people")
def people_cmd(
    start: Start = None,
    end: End = None,
    min_answers: Annotated[int, typer.Option(
        min=1, max=1_000_000, help="Answers a team needs for its eNPS to be tested and "
        "correlated.")] = 30,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """eNPS per team beside its customers' NPS, and their correlation across teams. With
    --json the same JSON as GET /api/w/<slug>/experience/people."""
    from cxlens.analytics.people import team_link
    from cxlens.web.api.experience_models import people_out

    first, last = _window(start, end)
    with engine_for(workspace, engine) as eng:
        link = team_link(eng, first, last, min_answers=min_answers)
    if as_json:
        emit_json(people_out(link, first, last).model_dump(mode="json"))
        return
    t = Table("team", "store", "eNPS [95 %]", "customers' NPS [95 %]", "",
              title_justify="left", title="staff and customers")
    for team in link.teams:
        t.add_row(team.team_id, str(team.store_id or ""),
                  _interval(team.enps.value if team.enps else None),
                  _interval(team.customer_nps.value if team.customer_nps else None),
                  "eNPS significantly low" if team.low_enps else "")
    out.print(t)
    out.print(f"correlation across {link.n_teams} teams: {_interval(link.correlation, 2)}")


@experience_app.command("value")
def value_cmd(
    days: Annotated[list[int] | None, typer.Option(
        "--days", help="Horizon after the answer, in days (repeatable; default 90 and 180).")]
    = None,
    as_of: Annotated[str | None, typer.Option(
        help="Observed until this day, YYYY-MM-DD (default: the last order date).")] = None,
    n_boot: Annotated[int, typer.Option(
        min=200, max=10_000, help="Bootstrap replicates of the revenue intervals.")] = 2000,
    seed: Seed = 0,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Revenue and repurchase of promoters, passives and detractors after their answer, and
    the worth of one detractor turned promoter (an association, not an effect): the
    difference of their revenue per customer and of their repurchase rates. With --json the
    same JSON as GET /api/w/<slug>/experience/value."""
    from cxlens.analytics.experience import value_by_group
    from cxlens.web.api.experience_models import value_out

    if any(not 1 <= d <= 3650 for d in days or ()) or len(days or ()) > 6:
        raise UserError(f"--days must be between 1 and 3650, at most 6 of them, not {days}")
    with engine_for(workspace, engine) as eng:
        try:
            v = value_by_group(eng, days=days or [90, 180], as_of=parse_day(as_of, "--as-of"),
                               n_boot=n_boot, seed=seed, now=clock.system())
        except ValueError as exc:
            raise UserError(str(exc), hint="give --days as positive whole numbers") from None
    if as_json:
        emit_json(value_out(v).model_dump(mode="json"))
        return
    t = Table("days", "group", "n", "revenue per customer [95 %]", "% bought again [95 %]", "",
              title=f"experience → value (orders until {v.observed_until or '—'})",
              title_justify="left")
    for g in v.groups:
        t.add_row(str(g.days), g.group, f"{g.n:,}", _interval(g.revenue, 2),
                  _interval(g.repurchase), "too small" if g.too_small else "")
    out.print(t)
    out.print(f"revenue intervals: BCa bootstrap over each group's customers, "
              f"{v.n_boot:,} replicates (seed {v.seed}); none under 10 customers")
    for w in v.worth():
        out.print(f"one detractor turned promoter, {w.days} days: "
                  f"{_interval(w.difference, 2) or '—'} (Welch); bought again "
                  f"{_interval(w.repurchase_difference) or '—'} points (Newcombe)"
                  + ("  (too few customers)" if w.too_small else ""))
