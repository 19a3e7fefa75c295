"""``cxlens value``: the value that grows after the purchase, from a shell or a script.

Only presentation lives here: every number comes from :mod:`cxlens.analytics.value`, and
``--json`` prints the same JSON as the API (``GET /api/w/<slug>/value/fit``, ``/cohorts``,
``/rfm``, ``/customers``, ``/distribution``, ``/channels``); ``customers --csv`` the list as CSV.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.table import Table

from cxlens import clock
from cxlens.cli_common import (
    AsJson,
    CurrencyOpt,
    EngineName,
    RatesOpt,
    Workspace,
    emit_json,
    engine_for,
    money_kw,
    money_option,
    out,
    parse_day,
)
from cxlens.config import DEFAULT_WORKSPACE
from cxlens.errors import UserError

value_app = typer.Typer(help="Value after the purchase: purchase and spend models, CLV.",
                        no_args_is_help=True)




@contextmanager
def _user_errors() -> Iterator[None]:
    """The analytics' refusals (no purchases, mixed currencies, a bad option, a model the
    data cannot identify) as a UserError: a message and exit code, no traceback."""
    from cxlens.analytics.value._summary import ValueInputError
    from cxlens.analytics.value.bgnbd import NotIdentifiable

    try:
        yield
    except (ValueInputError, NotIdentifiable) as exc:
        raise UserError(str(exc)) from None


Currency = CurrencyOpt
Rates = RatesOpt
End = Annotated[str | None, typer.Option(
    help="Last day of data used, YYYY-MM-DD (default: yesterday).")]
Months = Annotated[int, typer.Option(help="CLV horizon in months.")]
Discount = Annotated[float, typer.Option(help="Annual discount rate of CLV (0.10 = 10 %).")]


def _pct(e: Any) -> str:
    return "" if e.value is None else f"{e.value:.0f}"


def _money(e: Any, digits: int = 0) -> str:
    if e.value is None:
        return ""
    if e.low is None:
        return f"{e.value:,.{digits}f}"
    return f"{e.value:,.{digits}f} [{e.low:,.{digits}f} … {e.high:,.{digits}f}]"


@value_app.command("fit")
def fit_cmd(
    model: Annotated[str | None, typer.Option(
        help="bgnbd or paretonbd (default: the one that predicts the holdout better).")]
    = None,
    calibration_end: Annotated[str | None, typer.Option(
        help="Last day of the calibration period, YYYY-MM-DD (default: a third of the span "
             "before --end, at most 26 weeks).")] = None,
    end: Annotated[str | None, typer.Option(
        help="Last day of data used, YYYY-MM-DD (default: yesterday).")] = None,
    currency: Currency = None,
    rate: Rates = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Fit BG/NBD and Pareto/NBD (purchases) and Gamma-Gamma (spend) on the orders, judge
    the purchase models on a holdout and keep the better one: parameters as in the papers
    with standard errors, the time unit (weeks), the log-likelihood and the holdout error."""
    from cxlens.analytics.value.models import MODELS, fit_value
    from cxlens.web.api.value import value_fit_out

    if model is not None and model not in MODELS:
        raise UserError(f"--model {model!r} is not a model", hint="bgnbd or paretonbd")
    with engine_for(workspace, engine) as eng, _user_errors():
        v = fit_value(eng, clock.system().date(), model=model, end=parse_day(end, "--end"),
                      calibration_end=parse_day(calibration_end, "--calibration-end"),
                      **money_kw(workspace, currency, rate))
    res = value_fit_out(v)
    if as_json:
        emit_json(res.model_dump(mode="json"))
        return
    out.print(f"{res.customers:,} customers ({res.repeat_customers:,} bought again) up to "
              f"{res.end}; time in {res.unit}s, spend in {res.currency}.")
    for f, title in ((res.purchases, f"purchases: {res.chosen} (chosen by {res.chosen_by})"),
                     (res.spend, "spend: gamma_gamma")):
        if f is None:
            continue
        t = Table("parameter", "value", "se", "95 % interval", title=title,
                  title_justify="left")
        for p in f.parameters:
            t.add_row(p.name, f"{p.value:.4g}", "" if p.se is None else f"{p.se:.3g}",
                      "" if p.low is None else f"{p.low:.4g} … {p.high:.4g}")
        out.print(t)
        out.print(f"log-likelihood {f.log_likelihood:.2f}"
                  + ("" if f.converged else f" — NOT CONVERGED: {f.message}"))
    t = Table("model", "holdout error", "predicted", "actual",
              title=f"holdout {res.calibration_end} … {res.end}: purchases per customer",
              title_justify="left")
    for c in res.candidates:
        t.add_row(c.model + (" (chosen)" if c.model == res.chosen else ""),
                  f"{c.holdout_error:.3f}", f"{c.predicted_total:,.0f}", f"{c.actual_total:,}")
    out.print(t)
    if res.independence is not None and res.independence.correlation is not None:
        i = res.independence
        out.print(f"frequency and spend: correlation {i.correlation:.2f} "
                  f"[{i.low:.2f}, {i.high:.2f}], n {i.n:,}")
    for note in res.notes:
        out.print(f"note: {note}")


@value_app.command("cohorts")
def cohorts_cmd(
    by: Annotated[str, typer.Option(
        help="month (of the first purchase), channel or campaign (of acquisition)")] = "month",
    channel: Annotated[str | None, typer.Option(
        help="Only customers acquired through this channel.")] = None,
    end: End = None,
    currency: Currency = None,
    rate: Rates = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Retention per cohort and month since the first purchase (% who bought that month),
    repeat purchase, revenue, and the time between purchases."""
    from cxlens.analytics.value.cohorts import cohorts
    from cxlens.web.api.value import CohortsOut, result_out

    if by not in ("month", "channel", "campaign"):
        raise UserError(f"--by {by!r} is not a grouping", hint="month, channel or campaign")
    with engine_for(workspace, engine) as eng, _user_errors():
        res = cohorts(eng, clock.system().date(), by=by,  # type: ignore[arg-type]
                      end=parse_day(end, "--end"), channel=channel,
                      **money_kw(workspace, currency, rate))
    if as_json:
        emit_json(result_out(CohortsOut, res).model_dump(mode="json"))
        return
    # as many months as the terminal shows (up to 12); --json has them all
    width = min(12, max(1, (out.width - 28) // 5),
                max((len(c.cells) for c in res.cohorts), default=1) - 1)
    t = Table(by, "customers", *(f"+{k}" for k in range(1, width + 1)), "median gap",
              title=f"% of customers who bought in month +k after the first purchase "
                    f"(to {res.last_full_month})", title_justify="left")
    for c in res.cohorts:
        cells = [_pct(x.retention) for x in c.cells[1:width + 1]]
        t.add_row(c.key, f"{c.customers:,}", *(cells + [""] * (width - len(cells))),
                  "" if c.gaps.median is None else f"{c.gaps.median:.0f} d")
    out.print(t)
    g = res.gaps
    if g.median is not None:
        out.print(f"days between purchases: median {g.median:.0f}, quartiles {g.q1:.0f} … "
                  f"{g.q3:.0f} (n {g.n:,})")
    for note in res.notes:
        out.print(f"note: {note}")


@value_app.command("rfm")
def rfm_cmd(
    months: Annotated[int, typer.Option(help="Month ends to count moves over.")] = 12,
    end: End = None,
    currency: Currency = None,
    rate: Rates = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """RFM segments (recency, frequency, monetary quintiles) and how customers moved
    between segments over the last month."""
    from cxlens.analytics.value.rfm import SEGMENTS, month_label, rfm
    from cxlens.web.api.value import RfmOut, result_out

    with engine_for(workspace, engine) as eng, _user_errors():
        res = rfm(eng, clock.system().date(), end=parse_day(end, "--end"), months=months,
                  **money_kw(workspace, currency, rate))
    if as_json:
        emit_json(result_out(RfmOut, res).model_dump(mode="json"))
        return
    t = Table("segment", "customers", "%", "days since", "purchases",
              f"revenue/customer ({res.currency})", "% of revenue",
              title=f"RFM segments on {res.end}", title_justify="left")
    for s in res.segments:
        t.add_row(s.name, f"{s.customers:,}", f"{s.share:.0f}",
                  "" if s.recency_days is None else f"{s.recency_days:.0f}",
                  "" if s.purchases is None else f"{s.purchases:.1f}",
                  "" if s.revenue_per_customer is None else f"{s.revenue_per_customer:,.0f}",
                  f"{s.revenue_share:.0f}")
    out.print(t)
    if len(res.month_ends) > 1:
        start = res.month_ends[-2]
        moved = [m for m in res.moves if m.start == start and m.from_segment != m.to_segment]
        moved.sort(key=lambda m: (-m.customers, m.from_segment or "", m.to_segment))
        t = Table("from", "to", "customers", title=f"moves {month_label(start)} → "
                  f"{month_label(res.month_ends[-1])}", title_justify="left")
        for m in moved[:15]:
            t.add_row(SEGMENTS.get(m.from_segment or "", "(first purchase)"),
                      SEGMENTS[m.to_segment], f"{m.customers:,}")
        out.print(t)
    for note in res.notes:
        out.print(f"note: {note}")


def _fitted(eng: Any, currency: str, rates: dict[str, float]) -> Any:
    from cxlens.analytics.value.models import fit_value

    return fit_value(eng, clock.system().date(), currency=currency, rates=rates)


@value_app.command("customers")
def customers_cmd(
    at_risk: Annotated[bool, typer.Option(
        "--at-risk", help="Only high-value customers at risk (top 20 % CLV, no purchase and "
                          "P(alive) down by 0.10 or more in --lookback-days).")] = False,
    top: Annotated[int, typer.Option(help="At most this many customers.")] = 100,
    months: Months = 12,
    discount: Discount = 0.10,
    lookback_days: Annotated[int, typer.Option(help="P(alive) now against this many days "
                                                    "ago.")] = 90,
    currency: Currency = None,
    rate: Rates = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the list as CSV.")] = False,
) -> None:
    """Customers by CLV with P(alive), expected purchases and spend, each with a 95 %
    interval from the model's parameter uncertainty; --at-risk for the ones to call."""
    from cxlens.analytics.value._predict import Horizon
    from cxlens.analytics.value.customers import customer_values
    from cxlens.web.api.value import CustomerValuesOut, result_out

    if as_json and as_csv:
        raise UserError("--json and --csv exclude each other", hint="choose one")
    m = money_option(workspace, currency, rate)
    rates = dict(m.rates)
    with engine_for(workspace, engine) as eng, _user_errors():
        res = customer_values(eng, _fitted(eng, m.currency, rates), at_risk=at_risk,
                              top=top, horizon=Horizon(months, discount),
                              lookback_days=lookback_days, rates=rates)
    if as_json:
        emit_json(result_out(CustomerValuesOut, res).model_dump(mode="json"))
        return
    if as_csv:
        _write_csv(res)
        return
    what = "at risk" if at_risk else "by CLV"
    t = Table("customer", "channel", "last purchase", "orders", f"revenue ({res.currency})",
              "P(alive)", "then", f"CLV {res.horizon_months} mo", title=f"customers {what} "
              f"({res.model}; {len(res.rows):,} of {res.matching:,})", title_justify="left")
    for r in res.rows:
        t.add_row(r.customer_id, r.channel, str(r.last_purchase), f"{r.orders:,}",
                  f"{r.revenue:,.0f}", f"{r.p_alive.value:.2f}",
                  "" if r.p_alive_then is None else f"{r.p_alive_then:.2f}", _money(r.clv))
    out.print(t)
    for note in res.notes:
        out.print(f"note: {note}")


def _write_csv(res: Any) -> None:
    from cxlens.csv_out import write_rows
    from cxlens.web.api.value import CUSTOMER_CSV_COLUMNS, customer_csv_rows

    write_rows(sys.stdout, CUSTOMER_CSV_COLUMNS, customer_csv_rows(res))


@value_app.command("distribution")
def distribution_cmd(
    months: Months = 12,
    discount: Discount = 0.10,
    bins: Annotated[int, typer.Option(help="Bins up to the 95th percentile (2-100).")] = 20,
    currency: Currency = None,
    rate: Rates = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """How CLV is spread over the customers: a histogram, median, 90th and 99th percentile,
    mean and total with 95 % intervals, and the share of the value the top customers hold."""
    from cxlens.analytics.value._predict import Horizon
    from cxlens.analytics.value.distribution import clv_distribution
    from cxlens.web.api.value import ClvDistributionOut, result_out

    if not 2 <= bins <= 100:
        raise UserError(f"--bins {bins} is out of range", hint="2 to 100 bins")
    m = money_option(workspace, currency, rate)
    rates = dict(m.rates)
    with engine_for(workspace, engine) as eng, _user_errors():
        res = clv_distribution(eng, _fitted(eng, m.currency, rates),
                               horizon=Horizon(months, discount), rates=rates, bins=bins)
    if as_json:
        emit_json(result_out(ClvDistributionOut, res).model_dump(mode="json"))
        return
    for note in res.notes:
        out.print(f"note: {note}")
    if not res.bins:
        return
    cur = res.currency
    out.print(f"CLV over {res.horizon_months} months ({res.model}, {res.discount:.0%} a year) "
              f"of {res.customers:,} customers: mean {_money(res.mean)} {cur}, total "
              f"{_money(res.total)} {cur}; median {res.median:,.0f}, 90th percentile "
              f"{res.p90:,.0f}, 99th {res.p99:,.0f}, highest {res.maximum:,.0f}")
    out.print("; ".join(f"the top {t.customers:.0%} hold {t.value:.0%}" for t in res.top))
    t = Table(f"CLV ({cur})", "customers", "share", f"their CLV ({cur})", title_justify="left")
    for b in res.bins:
        span = f"{b.low:,.0f} +" if b.high is None else f"{b.low:,.0f} – {b.high:,.0f}"
        t.add_row(span, f"{b.customers:,}", f"{b.customers / res.customers:.1%}",
                  f"{b.value:,.0f}")
    out.print(t)


@value_app.command("channels")
def channels_cmd(
    by: Annotated[str, typer.Option(
        help="channel or campaign (of acquisition), or nps_group")] = "channel",
    months: Months = 12,
    discount: Discount = 0.10,
    currency: Currency = None,
    rate: Rates = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """The worth of a new customer (value in the first --months after acquisition) and the
    current customers' CLV per acquisition channel or campaign, or per NPS group beside
    revenue."""
    from cxlens.analytics.value._predict import Horizon
    from cxlens.analytics.value.channels import clv_by_channel, clv_by_nps_group
    from cxlens.web.api.value import WorthsOut, result_out

    if by not in ("channel", "campaign", "nps_group"):
        raise UserError(f"--by {by!r} is not a grouping",
                        hint="channel, campaign or nps_group")
    m = money_option(workspace, currency, rate)
    rates = dict(m.rates)
    h = Horizon(months, discount)
    with engine_for(workspace, engine) as eng, _user_errors():
        v = _fitted(eng, m.currency, rates)
        res = (clv_by_nps_group(eng, v, horizon=h, rates=rates) if by == "nps_group"
               else clv_by_channel(eng, v, by=by, horizon=h, rates=rates))
    if as_json:
        emit_json(result_out(WorthsOut, res).model_dump(mode="json"))
        return
    cols = ["customers", f"revenue/customer ({res.currency})",
            f"new customer, {res.horizon_months} mo", f"CLV {res.horizon_months} mo"]
    if by == "nps_group":
        cols.append("revenue 90 d after answer")
    t = Table(by, *cols, title=f"worth per {by.replace('_', ' ')} ({res.model})",
              title_justify="left")
    for r in res.rows:
        extra = [] if by != "nps_group" else [
            "" if r.revenue_90d is None else _money(r.revenue_90d)]
        t.add_row(r.group, f"{r.customers:,}", f"{r.revenue_per_customer:,.0f}",
                  _money(r.new_customer_value), _money(r.clv), *extra)
    out.print(t)
    for note in res.notes:
        out.print(f"note: {note}")
