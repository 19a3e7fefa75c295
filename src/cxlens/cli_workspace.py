"""``cxlens workspace``: a workspace's own settings, from a shell or a script.

``cxlens workspace currency`` shows or sets the workspace's money settings — its reporting
currency and exchange rates (:mod:`cxlens.money`) — which every money analysis (ROI,
attribution, the planner, value, targets) then uses when no ``--currency``/``--rate`` is
given. The server reads the same file, so the dashboard and the API follow at once.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cxlens.cli_common import AsJson, Workspace, emit_json, out
from cxlens.config import DEFAULT_WORKSPACE
from cxlens.errors import UserError

workspace_app = typer.Typer(help="A workspace's own settings: its reporting currency and "
                                 "exchange rates.", no_args_is_help=True)


@workspace_app.command("currency")
def currency_cmd(
    code: Annotated[str | None, typer.Argument(
        help="The reporting currency (three letters, e.g. EUR); without it, show the "
             "settings.", show_default=False)] = None,
    rate: Annotated[list[str] | None, typer.Option(
        "--rate", help="CUR=RATE: one CUR in the reporting currency (repeatable), e.g. "
                       "SEK=0.087. Given rates replace the saved ones.")] = None,
    no_rates: Annotated[bool, typer.Option(
        "--no-rates", help="Remove every exchange rate.")] = False,
    workspace: Workspace = DEFAULT_WORKSPACE,
    as_json: AsJson = False,
) -> None:
    """Show or set the reporting currency and exchange rates that money is summed in.
    Changing only the currency re-bases the saved rates on it when it has one (cross
    rates through the old reporting currency)."""
    from cxlens.money import checked, parse_rate_items, path_of, read_money, write_money

    if not workspace.is_dir():
        raise UserError(f"no workspace at {workspace}",
                        hint="give --workspace, or load data first (cxlens ingest)")
    saved = read_money(workspace)
    if code is None and (rate or no_rates):
        raise UserError("give the reporting currency with the rates",
                        hint=f"e.g. cxlens workspace currency {saved.currency} "
                             "--rate SEK=0.087")
    if rate and no_rates:
        raise UserError("--rate and --no-rates exclude each other", hint="choose one")
    money = saved
    if code is not None:
        base = saved.in_currency(code.strip().upper()) if len(code.strip()) == 3 else saved
        rates = {} if no_rates else (parse_rate_items(rate) if rate else dict(base.rates))
        money = checked(code, rates)
        write_money(workspace, money)
    if as_json:
        emit_json({"ok": True, **money.as_dict(), "file": str(path_of(workspace))})
        return
    verb = "saved" if code is not None else "reporting currency"
    rates_text = ", ".join(f"1 {c} = {r:g} {money.currency}" for c, r in money.rates.items())
    out.print(f"{verb}: {money.currency}; "
              + (f"rates {rates_text}" if rates_text else "no exchange rates")
              + ("" if money.rates else " (money in other currencies is refused)"))
