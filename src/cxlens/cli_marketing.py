"""``cxlens marketing``: attribution over the whole journey, from a shell or a script.

Only presentation lives here: every number comes from :mod:`cxlens.analytics.marketing`,
and ``--json`` prints the same JSON as ``GET /api/w/<slug>/marketing/attribution``
(:mod:`cxlens.web.api.marketing`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Column, Table

from cxlens.cli_common import (
    AsJson,
    CurrencyOpt,
    EngineName,
    RatesOpt,
    Workspace,
    emit_json,
    engine_for,
    err,
    money_option,
    out,
    parse_day,
)
from cxlens.config import DEFAULT_WORKSPACE
from cxlens.errors import UserError

marketing_app = typer.Typer(help="Marketing as an investment: attribution of conversions and "
                            "revenue to channels over the whole journey.",
                            no_args_is_help=True)

MODEL_NAMES = ("first", "last", "linear", "time_decay", "position", "markov", "shapley", "all")
LABELS = {"first": "first touch", "last": "last touch", "linear": "linear",
          "position": "position 40/20/40", "time_decay": "time decay",
          "markov": "Markov", "shapley": "Shapley"}


def _share(v: float) -> str:
    return f"{100 * v:.1f} %"


def _interval(r: Any) -> str:
    if r.low is None:
        return ""
    return f"{r.low:,.1f} … {r.high:,.1f}"


def _print(a: Any) -> None:
    """One table per model; with several, first the shares of conversions side by side."""
    if a.reason:
        err.print(f"nothing to attribute: {a.reason}")
        if not a.channels:
            return
    if len(a.models) > 1:
        t = Table("channel", *(LABELS[m.model] for m in a.models), title=(
            "Share of conversions by model"), title_justify="left")
        for row in a.table():
            t.add_row(row["channel"], *(_share(row[f"{m.model}_conversions"])
                                        for m in a.models))
        out.print(t)
        t = Table("channel", *(LABELS[m.model] for m in a.models), title=(
            f"Share of revenue ({a.currency}) by model"), title_justify="left")
        for row in a.table():
            t.add_row(row["channel"], *(_share(row[f"{m.model}_revenue"])
                                        for m in a.models))
        out.print(t)
    for m in a.models:
        if len(a.models) > 1 and m.model not in ("markov", "shapley"):
            continue
        cols = ["channel", "conversions", "95 % interval", f"revenue {a.currency}", "share"]
        if m.model == "markov":
            cols.insert(1, "removal effect")
        title = LABELS[m.model] + (f" (order {a.order})" if m.model == "markov" else "")
        t = Table(*cols, title=title, title_justify="left")
        for r in m.rows:
            cells = [r.channel, f"{r.conversions:,.1f}", _interval(r), f"{r.revenue:,.0f}",
                     _share(r.conversion_share)]
            if m.model == "markov":
                cells.insert(1, f"{r.removal_effect:.3f}")
            t.add_row(*cells)
        out.print(t)
    out.print(f"{a.conversions:,.0f} conversions ({a.untouched_conversions:,.0f} without a "
              f"touchpoint in {a.options['lookback_days']} days), "
              f"{a.non_conversions:,.0f} journeys without one, {a.paths:,} distinct paths")


@marketing_app.command("attribution")
def attribution_cmd(
    model: Annotated[str, typer.Option(
        help="first, last, linear, time_decay, position, markov, shapley or all.")] = "all",
    order: Annotated[int, typer.Option(min=1, max=3, help="The Markov chain's order.")] = 1,
    lookback: Annotated[int, typer.Option(
        min=1, max=3650, help="Days before a conversion whose touchpoints count.")] = 30,
    first_purchase: Annotated[bool, typer.Option(
        "--first-purchase", help="Only a customer's first order is a conversion "
                                 "(default: every order).")] = False,
    half_life: Annotated[float, typer.Option(
        min=0.01, max=3650, help="Time decay's half-life in days.")] = 7.0,
    no_sale_touch: Annotated[bool, typer.Option(
        "--no-sale-touch", help="The converting order's own channel (store, sales, web) "
                                "is no touch of its path.")] = False,
    campaign: Annotated[list[str] | None, typer.Option(
        "--campaign", help="PATTERN=CHANNEL (repeatable): events whose campaign is LIKE "
                           "the pattern count as that channel, e.g. '%Search%=search_ads'.")
    ] = None,
    no_spend_campaigns: Annotated[bool, typer.Option(
        "--no-spend-campaigns", help="Do not count an event whose campaign the spend table "
                                     "books under a paid channel as that channel.")] = False,
    n_boot: Annotated[int, typer.Option(
        "--bootstrap", min=0, max=2000,
        help="Bootstrap replicates of the data-driven models (0: no intervals).")] = 200,
    start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option(help="Day after the last, YYYY-MM-DD.")] = None,
    segment: Annotated[str | None, typer.Option(help="Only customers of this segment.")] = None,
    channel: Annotated[str | None, typer.Option(
        help="Only customers with a touchpoint in this channel.")] = None,
    store: Annotated[str | None, typer.Option(
        help="Only customers with a touchpoint in this store.")] = None,
    currency: CurrencyOpt = None,
    rate: RatesOpt = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Conversions and revenue per channel by each attribution model, side by side:
    marketing and sales/service touchpoints in one path. With --json the same JSON as
    GET /api/w/<slug>/marketing/attribution."""
    from cxlens.analytics.journeys import Selection
    from cxlens.analytics.marketing import attribute
    from cxlens.web.api.marketing import attribution_out, models_for

    if model not in MODEL_NAMES:
        raise UserError(f"--model {model!r} is not a model",
                        hint=f"choose one of {', '.join(MODEL_NAMES)}")
    money, campaigns, first, last = _common(workspace, currency, rate, campaign, start, end)
    from cxlens.analytics.marketing._spend import SpendInputError

    sel = Selection(first, last, segment, channel, store)
    with engine_for(workspace, engine) as eng:
        try:
            a = attribute(eng, models_for(model), sel, order=order, lookback_days=lookback,
                          conversion="first" if first_purchase else "every",
                          campaigns=campaigns, half_life_days=half_life,
                          sale_touch=not no_sale_touch, n_boot=n_boot,
                          currency=money.currency, rates=money.rates,
                          spend_channels=not no_spend_campaigns)
        except SpendInputError as exc:
            raise UserError(str(exc)) from None
    if as_json:
        emit_json(attribution_out(a).model_dump(mode="json"))
        return
    _print(a)


def _common(workspace: Any, currency: str | None, rate: list[str] | None,
            campaign: list[str] | None, start: str | None, end: str | None
            ) -> tuple[Any, dict[str, str], Any, Any]:
    """The options attribution and ROI share, checked: the money (the workspace's,
    --currency/--rate overriding), the --campaign mappings and the --start/--end days."""
    from cxlens.web.api.marketing import parse_campaigns

    money = money_option(workspace, currency, rate)
    try:
        campaigns = parse_campaigns(campaign or [])
    except ValueError as exc:
        raise UserError(f"--campaign: {exc}") from None
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    if first is not None and last is not None and first >= last:
        raise UserError("--start must be before --end (--end is the day after the last)")
    return money, campaigns, first, last


# --- spend and return: cxlens marketing roi ----------------------------------------------

ROI_COLUMNS = ("key", "channel", "campaign", "month", "spend", "customers", "customers_low",
               "customers_high", "first_order_revenue", "horizon_revenue", "cac", "cac_low",
               "cac_high", "roas_first_order", "roas", "roas_low", "roas_high", "roi",
               "roi_low", "roi_high", "clv_return", "clv_return_low", "clv_return_high",
               "payback_months", "platform_conversions", "n", "all_customers", "flags")


def roi_csv_rows(r: Any) -> list[list[Any]]:
    """One CSV row per ROI row (and the total), the columns of :data:`ROI_COLUMNS`."""
    out = []
    for x in [*r.rows, *([r.total] if r.total else [])]:
        out.append([x.key.replace("\x1f", "/"), x.channel, x.campaign, x.month, x.spend,
                    x.customers, x.customers_low, x.customers_high, x.first_order_revenue,
                    x.horizon_revenue, x.cac.value, x.cac.low, x.cac.high,
                    x.roas_first_order.value, x.roas.value, x.roas.low, x.roas.high,
                    x.roi.value, x.roi.low, x.roi.high, x.clv_return.value,
                    x.clv_return.low, x.clv_return.high, x.payback_months,
                    x.platform_conversions, x.n, x.all_customers, " ".join(x.flags)])
    return out


def _num(v: float | None, fmt: str = "{:,.2f}") -> str:
    return "" if v is None else fmt.format(v)


def _ratio_cell(x: Any, fmt: str = "{:,.2f}") -> str:
    if x.value is None:
        return "–"
    if x.low is None:
        return fmt.format(x.value)
    return f"{fmt.format(x.value)} ({fmt.format(x.low)} … {fmt.format(x.high)})"


def _print_roi(r: Any) -> None:
    """Two tables (what was spent and bought; what it returned), then the totals' line."""
    if r.reason:
        err.print(r.reason)
    cur = r.currency
    rows = [*r.rows, *([r.total] if r.total else [])]

    def label(x: Any) -> str:
        text = x.key.replace("\x1f", " / ")
        return text + (" [" + ", ".join(x.flags) + "]" if x.flags else "")

    t = Table(f"spend {cur}", "customers (95 %)", f"CAC {cur} (95 %)", "platform conv.",
              title=f"Spend and customers acquired by {r.by} ({r.model}, lookback "
                    f"{r.lookback_days} d)", title_justify="left")
    t.columns.insert(0, Column(r.by, no_wrap=True))
    for x in rows:
        ci = ("" if x.customers_low is None
              else f" ({x.customers_low:,.0f} … {x.customers_high:,.0f})")
        t.add_row(label(x), f"{x.spend:,.0f}", f"{x.customers:,.1f}{ci}",
                  _ratio_cell(x.cac, "{:,.0f}"), _num(x.platform_conversions, "{:,.0f}"))
    out.print(t)
    t = Table("ROAS 1st order", f"ROAS {r.horizon_days} d (95 %)", "ROI", "CLV return",
              "payback mo", title=f"Return by {r.by} (margin {100 * r.margin:.0f} %)",
              title_justify="left")
    t.columns.insert(0, Column(r.by, no_wrap=True))
    for x in rows:
        t.add_row(label(x), _ratio_cell(x.roas_first_order, "{:,.2f}").split(" (")[0],
                  _ratio_cell(x.roas), _ratio_cell(x.roi).split(" (")[0],
                  _ratio_cell(x.clv_return).split(" (")[0], _num(x.payback_months, "{}"))
    out.print(t)
    out.print(f"{r.acquired:,} customers acquired, {r.organic:,.1f} of them without a paid "
              f"touch in {r.lookback_days} days; spend {r.spend:,.0f} {cur}; 95 % intervals "
              f"from {r.n_boot} bootstrap replicates over customers (--json has them all)")
    for note in r.notes:
        out.print(f"note: {note}")


@marketing_app.command("roi")
def roi_cmd(
    by: Annotated[str, typer.Option(help="channel, campaign or month.")] = "channel",
    horizon: Annotated[int, typer.Option(
        min=1, max=3650, help="Days of revenue after a customer's first purchase.")] = 365,
    model: Annotated[str, typer.Option(
        help="Who gets an acquired customer: last_paid, first_paid, linear_paid, last, "
             "first, linear or position.")] = "last_paid",
    lookback: Annotated[int, typer.Option(
        min=1, max=3650, help="Days before the first purchase whose touches count.")] = 30,
    margin: Annotated[float, typer.Option(
        help="Gross margin share for ROI and payback (1: on revenue).")] = 1.0,
    campaign: Annotated[list[str] | None, typer.Option(
        "--campaign", help="PATTERN=CHANNEL (repeatable), before the spend table's "
                           "campaigns.")] = None,
    no_spend_campaigns: Annotated[bool, typer.Option(
        "--no-spend-campaigns", help="Do not map events to paid channels by the spend "
                                     "table's campaigns.")] = False,
    clv: Annotated[bool, typer.Option(
        "--clv/--no-clv", help="The return on CLV (fits the value model: seconds).")] = True,
    n_boot: Annotated[int, typer.Option(
        "--bootstrap", min=0, max=2000, help="Bootstrap replicates (0: no intervals).")] = 200,
    start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option(help="Day after the last, YYYY-MM-DD.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this paid channel.")] = None,
    currency: CurrencyOpt = None,
    rate: RatesOpt = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the rows as CSV.")] = False,
) -> None:
    """Spend and return per paid channel, campaign or month: customers acquired, CAC, ROAS,
    ROI, payback and the return on CLV, with 95 % intervals, beside the platforms' own
    conversions. With --json the same JSON as GET /api/w/<slug>/marketing/roi."""
    import sys

    from cxlens import clock
    from cxlens.analytics.marketing import roi
    from cxlens.analytics.marketing._spend import SpendInputError
    from cxlens.analytics.marketing.roi import BY, RULES
    from cxlens.analytics.value.models import fit_value
    from cxlens.csv_out import write_rows
    from cxlens.web.api.marketing import roi_out, roi_value_model

    if by not in BY:
        raise UserError(f"--by {by!r} is not a grouping", hint="channel, campaign or month")
    if model not in RULES:
        raise UserError(f"--model {model!r} is not an acquisition rule",
                        hint=f"choose one of {', '.join(RULES)}")
    if not 0 < margin <= 1:
        raise UserError(f"--margin {margin} is out of range", hint="above 0, at most 1 "
                                                                   "(0.4 = 40 %)")
    if as_json and as_csv:
        raise UserError("--json and --csv exclude each other", hint="choose one")
    money, campaigns, first, last = _common(workspace, currency, rate, campaign, start, end)
    today = clock.system().date()
    with engine_for(workspace, engine) as eng:
        value, why = (roi_value_model(lambda: fit_value(
            eng, today, currency=money.currency, rates=money.rates)) if clv else (None, None))
        try:
            r = roi(eng, today=today, by=by, model=model, horizon_days=horizon,
                    lookback_days=lookback, margin=margin, start=first, end=last,
                    channel=channel, campaigns=campaigns,
                    spend_channels=not no_spend_campaigns, value=value, n_boot=n_boot,
                    currency=money.currency, rates=money.rates)
        except SpendInputError as exc:
            raise UserError(str(exc)) from None
    if why:
        import dataclasses

        r = dataclasses.replace(r, notes=[n for n in r.notes if not n.startswith(
            "no value model")] + [why])
    if as_json:
        emit_json(roi_out(r).model_dump(mode="json"))
        return
    if as_csv:
        write_rows(sys.stdout, ROI_COLUMNS, roi_csv_rows(r))
        return
    _print_roi(r)


# --- targeting (issue 14 point 4): `cxlens marketing targets` -----------------------------



def _print_targets(t: Any) -> None:
    what = {"value": "high predicted value", "at_risk": "at risk",
            "lookalike": "look-alikes of the best customers"}[t.segment]
    score = {"clv": f"CLV {t.currency}", "purchases": "purchases",
             "p_best": "P(best)"}[t.score]
    tab = Table("customer", "name", "e-mail", score, "reason", title=(
        f"{what}: {len(t.rows):,} of {t.matching:,} (of {t.customers:,} customers, "
        f"data to {t.end})"), title_justify="left")
    for r in t.rows:
        tab.add_row(r.customer_id, r.name or "", r.email or "",
                    f"{r.score:,.2f}" if t.score == "p_best" else f"{r.score:,.0f}", r.reason)
    out.print(tab)
    lk = t.lookalike
    if lk is not None and lk.auc is not None:
        out.print(f"look-alike model: held-out AUC {lk.auc.value:.2f} (95 % {lk.auc.low:.2f} "
                  f"… {lk.auc.high:.2f}) on {lk.holdout:,} customers; trained on "
                  f"{lk.mature:,} whose {lk.window_days} days are over, {lk.best:,} best")
    for note in t.notes:
        out.print(f"note: {note}")


@marketing_app.command("targets")
def targets_cmd(
    segment: Annotated[str, typer.Option(
        help="value (high predicted CLV), at_risk, or lookalike (resembles the best).")
    ] = "value",
    top: Annotated[int, typer.Option(min=1, max=10000, help="At most this many customers.")
                   ] = 100,
    top_share: Annotated[float, typer.Option(
        min=0.01, max=0.99, help="The share of customers counted as high value or best.")
    ] = 0.2,
    lookback_days: Annotated[int, typer.Option(
        min=7, max=365, help="At risk: silent this long, P(alive) now against then.")] = 90,
    months: Annotated[int, typer.Option(min=1, max=120, help="CLV horizon in months.")] = 12,
    discount: Annotated[float, typer.Option(
        min=0, max=0.99, help="Annual discount rate of CLV (0.10 = 10 %).")] = 0.10,
    window: Annotated[int, typer.Option(
        min=30, max=730, help="Look-alike: days after the first purchase whose revenue "
                              "makes the best customers.")] = 180,
    currency: CurrencyOpt = None,
    rate: RatesOpt = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the list as CSV (cells "
                                                       "that would run as formulas are "
                                                       "quoted).")] = False,
) -> None:
    """Customers worth reaching, as a list with contact details, reason and score: high
    predicted value, at risk, or look-alikes of the best customers. With --json the same
    JSON as GET /api/w/<slug>/marketing/targets."""
    import sys

    from cxlens import clock
    from cxlens.analytics.marketing.targeting import SEGMENTS, targets
    from cxlens.analytics.value._predict import Horizon
    from cxlens.analytics.value._summary import ValueInputError
    from cxlens.analytics.value.bgnbd import NotIdentifiable
    from cxlens.csv_out import write_rows
    from cxlens.web.api.targets import TARGET_CSV_COLUMNS, target_csv_rows, targets_out

    if as_json and as_csv:
        raise UserError("--json and --csv exclude each other", hint="choose one")
    if segment not in SEGMENTS:
        raise UserError(f"--segment {segment!r} is not a segment",
                        hint=f"choose one of {', '.join(SEGMENTS)}")
    money = money_option(workspace, currency, rate)
    try:
        with engine_for(workspace, engine) as eng:
            t = targets(eng, segment, clock.system().date(), top=top, top_share=top_share,
                        lookback_days=lookback_days, horizon=Horizon(months, discount),
                        window_days=window, currency=money.currency, rates=money.rates)
    except (ValueInputError, NotIdentifiable) as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json(targets_out(t).model_dump(mode="json"))
    elif as_csv:
        write_rows(sys.stdout, TARGET_CSV_COLUMNS, target_csv_rows(targets_out(t)))
    else:
        _print_targets(t)


# --- the budget planner: response curves and plans (issue 14, point 3) -------------------

Outcome = Annotated[str, typer.Option(
    help="What the ads bring: new_customers (first orders a day) or revenue.")]
Boot = Annotated[int, typer.Option(
    "--bootstrap", min=0, max=1000, help="Bootstrap replicates of the fit (0: no "
                                         "intervals).")]


def _fit_for(workspace: Any, engine: Any, outcome: str, n_boot: int) -> Any:
    """The fit in the workspace's reporting currency, other currencies at its rates."""
    from cxlens.analytics.marketing.mmm import OUTCOMES, fit

    if outcome not in OUTCOMES:
        raise UserError(f"--outcome {outcome!r} is not an outcome",
                        hint=f"choose one of {', '.join(OUTCOMES)}")
    money = money_option(workspace, None, None)
    with engine_for(workspace, engine) as eng:
        return fit(eng, outcome, n_boot=n_boot, currency=money.currency, rates=money.rates)


def _iv(c: Any, name: str, fmt: str) -> str:
    v = c.intervals.get(name)
    return "" if v is None else f"{v[0]:{fmt}} … {v[1]:{fmt}}"


@marketing_app.command("curves")
def curves_cmd(
    outcome: Outcome = "new_customers",
    n_boot: Boot = 100,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Each ad channel's response curve from the daily spend and outcomes: carry-over
    (decay), saturation (k, h, vmax) and the return at current spend, with 95 % intervals.
    With --json the same JSON as GET /api/w/<slug>/marketing/curves."""
    from cxlens.web.api.marketing import curves_out

    f = _fit_for(workspace, engine, outcome, n_boot)
    if as_json:
        emit_json(curves_out(f).model_dump(mode="json"))
        return
    s = f.series
    t = Table(title=f"Response curves: {s.outcome_name} from {s.start} ({s.days} days, "
                    f"{s.currency}; 95 % intervals below)", title_justify="left")
    t.add_column("channel", no_wrap=True)
    for name in ("decay", "k /day", "h", "vmax /day", "spend /day", "per 1 000",
                 "next 1 000"):
        t.add_column(name, justify="right")
    for c in f.curves:
        if c.reason:
            t.add_row(c.channel, c.reason, "", "", "", f"{c.current_spend_per_day:,.0f}", "",
                      "")
            continue
        t.add_row(c.channel, f"{c.decay:.2f}\n{_iv(c, 'decay', '.2f')}",
                  f"{c.k:,.0f}\n{_iv(c, 'k', ',.0f')}", f"{c.h:.2f}\n{_iv(c, 'h', '.2f')}",
                  f"{c.vmax:,.2f}\n{_iv(c, 'vmax', ',.2f')}",
                  f"{c.current_spend_per_day:,.0f}",
                  "" if c.per_eur is None else f"{1000 * c.per_eur:,.2f}",
                  f"{1000 * c.marginal_per_eur:,.2f}")
    out.print(t)
    out.print(f"R² {f.r2:.3f}; 95 % intervals from {f.n_boot} bootstrap replicates (weeks)")


def _print_split(title: str, s: Any, currency: str) -> None:
    t = Table(title=f"{title}: {s.budget:,.0f} {currency} over {s.days} days, expected "
                    f"{s.expected:,.1f}" + (f" ({s.low:,.1f} … {s.high:,.1f})"
                                            if s.low is not None else ""),
              title_justify="left")
    t.add_column("channel", no_wrap=True)
    for name in (f"amount {currency}", "share", "expected", "95 % interval"):
        t.add_column(name, justify="right")
    for r in s.rows:
        t.add_row(r.channel + (" (beyond the spend seen)" if r.extrapolated else ""),
                  f"{r.amount:,.0f}", f"{100 * r.share:.1f} %",
                  "" if r.expected is None else f"{r.expected:,.1f}",
                  "" if r.low is None else f"{r.low:,.1f} … {r.high:,.1f}")
    out.print(t)


@marketing_app.command("plan")
def plan_cmd(
    budget: Annotated[float | None, typer.Option(
        min=0.01, help="The budget over the period, in the reporting currency.")] = None,
    target: Annotated[float | None, typer.Option(
        min=0.01, help="The outcome to reach at least cost (instead of --budget).")] = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="The period, in days.")] = 30,
    split: Annotated[list[str] | None, typer.Option(
        "--split", help="CHANNEL=AMOUNT[,…]: a scenario to evaluate.")] = None,
    committed: Annotated[list[str] | None, typer.Option(
        "--committed", help="CHANNEL=AMOUNT[,…] already committed.")] = None,
    outcome: Outcome = "new_customers",
    n_boot: Boot = 100,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """The split of a budget across the ad channels that brings the most (or the least
    budget that reaches --target), beside the current split, and any --split scenario.
    With --json the same JSON as GET /api/w/<slug>/marketing/plan."""
    from cxlens.web.api.marketing import make_plan, parse_amounts

    if budget is None and target is None and not split:
        raise UserError("give --budget, --target or --split",
                        hint="e.g. cxlens marketing plan --budget 30000")
    try:
        sc = parse_amounts(split or [], "--split")
        cm = parse_amounts(committed or [], "--committed")
    except ValueError as exc:
        raise UserError(str(exc)) from None
    f = _fit_for(workspace, engine, outcome, n_boot)
    from cxlens.analytics.marketing.planner import plan, plan_for_target, scenario

    if as_json:
        emit_json(make_plan(f, budget, target, days, sc, cm).model_dump(mode="json"))
        return
    cur = f.series.currency
    p = None
    if target is not None:
        p = plan_for_target(f, target, days=days, committed=cm)
    elif budget is not None:
        p = plan(f, budget, days=days, committed=cm)
    if p is not None:
        _print_split("Recommended", p.recommended, cur)
        if p.current is not None:
            _print_split("Current split", p.current, cur)
            out.print(f"gain {p.gain:+,.1f} {f.series.outcome_name}" + (
                f" (95 % {p.gain_low:+,.1f} … {p.gain_high:+,.1f})"
                if p.gain_low is not None else ""))
        for note in p.notes:
            err.print(note)
    if sc:
        _print_split("Scenario", scenario(f, sc, days=days), cur)
