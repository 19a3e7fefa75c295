"""The fitted value model of a workspace, kept while its orders stay as they are.

``fit_value`` fits BG/NBD and Pareto/NBD on a calibration period, judges them on the
holdout and refits the chosen one: about 20 s on the M demo, most of it Pareto/NBD. The
Value page must not pay that on every visit, so the server keeps each fitted
:class:`~cxlens.analytics.value.models.ValueModel` in a :class:`~cxlens.web.kept.Kept`
(keyed by the warehouse, its data version and the engine), under the day the fit calls
today and the page's parameters (model, end, calibration end, currency). A model holds only
its compressed summary, a few kilobytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import HTTPException

from cxlens.analytics.value._predict import Horizon
from cxlens.analytics.value.models import ValueModel, fit_value
from cxlens.web.kept import Kept
from cxlens.web.warehouses import Warehouse

SIZE = 32


@dataclass(frozen=True)
class FitParams:
    """The page's choices a fit depends on (``None``: the analytics' default)."""

    model: str | None = None
    end: date | None = None
    calibration_end: date | None = None
    currency: str = "EUR"
    rates: tuple[tuple[str, float], ...] = ()  # the workspace's money settings' rates


_KEPT = Kept(SIZE)

# The horizons and discount rates the value pages offer (the API and the CLI take any
# horizon of 1-120 months and any rate from 0 up to 1).
HORIZON_MONTHS = (3, 6, 12, 24, 36, 60)
DISCOUNTS = (0.0, 0.05, 0.1, 0.15, 0.2)


def horizon(months: int, discount: float) -> Horizon:
    """A page's CLV horizon, checked like the API's: a 422 names what is wrong."""
    if not 1 <= months <= 120:
        raise HTTPException(422, "months must be 1 to 120")
    if not 0 <= discount < 1:
        raise HTTPException(422, "discount must be at least 0 and below 1 (0.10 = 10 % a year)")
    return Horizon(months, discount)


def fit_params(money: Any, **kw: Any) -> FitParams:
    """:class:`FitParams` in a :class:`~cxlens.money.Money`'s currency and rates."""
    return FitParams(currency=money.currency, rates=tuple(money.rates.items()), **kw)


def fitted(warehouse: Warehouse, engine_choice: str | None, today: date, params: FitParams,
           fit: Callable[..., ValueModel] = fit_value) -> ValueModel:
    """The workspace's value model for ``params``: the kept one while the data version is
    the same, else fitted now (through the workspace's engine) and kept."""
    return _KEPT.get(warehouse, engine_choice, (today, params), lambda eng: fit(
        eng, today, model=params.model, end=params.end,
        calibration_end=params.calibration_end, currency=params.currency,
        rates=dict(params.rates)))


def clear() -> None:
    """Forget every kept model (tests)."""
    _KEPT.clear()
