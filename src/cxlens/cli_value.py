"""``cxlens value``: the value that grows after the purchase, from a shell or a script.

Only presentation lives here: every number comes from :mod:`cxlens.analytics.value`, and
``--json`` prints the same JSON as the API (``GET /api/w/<slug>/value/fit``).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cxlens import clock
from cxlens.cli_common import AsJson, EngineName, Workspace, emit_json, engine_for, out, parse_day
from cxlens.config import DEFAULT_WORKSPACE
from cxlens.errors import UserError

value_app = typer.Typer(help="Value after the purchase: purchase and spend models, CLV.",
                        no_args_is_help=True)


def _rates(items: list[str]) -> dict[str, float]:
    rates = {}
    for item in items:
        cur, sep, rate = item.partition("=")
        try:
            value = float(rate)
        except ValueError:
            value = float("nan")
        if not sep or len(cur.strip()) != 3 or not value > 0:
            raise UserError(f"--rate {item!r} is not CUR=RATE with a positive rate",
                            hint="e.g. --rate SEK=0.087 (one SEK in the chosen currency)")
        rates[cur.strip().upper()] = value
    return rates


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
    currency: Annotated[str, typer.Option(help="The currency summed.")] = "EUR",
    rate: Annotated[list[str] | None, typer.Option(
        "--rate", help="Another currency's value in --currency, CUR=RATE (repeatable); "
                       "without it orders in other currencies are refused.")] = None,
    workspace: Workspace = DEFAULT_WORKSPACE,
    engine: EngineName = None,
    as_json: AsJson = False,
) -> None:
    """Fit BG/NBD and Pareto/NBD (purchases) and Gamma-Gamma (spend) on the orders, judge
    the purchase models on a holdout and keep the better one: parameters as in the papers
    with standard errors, the time unit (weeks), the log-likelihood and the holdout error."""
    from cxlens.analytics.value._summary import ValueInputError
    from cxlens.analytics.value.bgnbd import NotIdentifiable
    from cxlens.analytics.value.models import MODELS, fit_value
    from cxlens.web.api.value import value_fit_out

    if model is not None and model not in MODELS:
        raise UserError(f"--model {model!r} is not a model", hint="bgnbd or paretonbd")
    with engine_for(workspace, engine) as eng:
        try:
            v = fit_value(eng, clock.system().date(), model=model, end=parse_day(end, "--end"),
                          calibration_end=parse_day(calibration_end, "--calibration-end"),
                          currency=currency.upper(), rates=_rates(rate or []))
        except (ValueInputError, NotIdentifiable) as exc:
            raise UserError(str(exc)) from None
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
