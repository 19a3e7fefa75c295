"""A workspace's money settings over the API: ``GET`` and ``PUT /api/w/{slug}/money``.

The reporting currency and exchange rates (:mod:`cxlens.money`) live in the workspace's
folder, where ``cxlens workspace currency`` writes them too; every money route reads them
on each request (:func:`served_money`), so a change shows on the next page or answer and
the caches key on them. Reading needs the ``read`` scope; changing them the ``write``
scope and, for a signed-in member, the owner role (as the Settings page).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from cxlens.errors import UserError
from cxlens.money import MAX_RATES, Money, checked, money_for, write_money
from cxlens.web.deps import TokenScope, WorkspaceAccess

router = APIRouter(prefix="/api/w/{slug}", tags=["workspace"])

Code = Annotated[str, Field(min_length=3, max_length=3, pattern="^[A-Za-z]{3}$")]


def served_money(access: WorkspaceAccess, currency: str | None = None) -> Money:
    """The money a route sums in: the workspace's settings, ``currency`` (a query's)
    overriding them with the rates re-based on it (:func:`cxlens.money.resolve`). A bad
    settings file or code is a 422 that says so."""
    try:
        return money_for(access.workspace.path, currency)
    except UserError as exc:
        raise HTTPException(422, exc.message + (f" ({exc.hint})" if exc.hint else "")
                            ) from None


class MoneyOut(BaseModel):
    ok: bool = True
    currency: str = Field(description="The reporting currency money is summed in.")
    rates: dict[str, float] = Field(description="Each other currency's value in it "
                                                "(SEK: 0.087 = one SEK is 0.087 EUR).")


class MoneyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: Code = Field(description="The reporting currency (ISO 4217).")
    rates: dict[Code, float] = Field({}, max_length=MAX_RATES,
                                     description="Other currencies' value in it.")


def money_out(m: Money) -> MoneyOut:
    return MoneyOut(currency=m.currency, rates=dict(m.rates))


@router.get("/money")
def get_money(access: TokenScope("read")) -> MoneyOut:
    """The workspace's reporting currency and exchange rates."""
    return money_out(served_money(access))


@router.put("/money")
def put_money(access: TokenScope("write"), body: Annotated[MoneyIn, Body()]) -> MoneyOut:
    """Set the reporting currency and exchange rates (all of them: rates not given go)."""
    if access.role is not None and access.role != "owner":
        raise HTTPException(403, "this needs the owner role in this workspace")
    try:
        money = checked(body.currency, body.rates)
    except UserError as exc:
        raise HTTPException(422, f"{exc.message} ({exc.hint})") from None
    write_money(access.workspace.path, money)
    return money_out(money)
