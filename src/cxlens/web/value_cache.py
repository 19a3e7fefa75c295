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


_KEPT = Kept(SIZE)


def fitted(warehouse: Warehouse, engine_choice: str | None, today: date, params: FitParams,
           fit: Callable[..., ValueModel] = fit_value) -> ValueModel:
    """The workspace's value model for ``params``: the kept one while the data version is
    the same, else fitted now (through the workspace's engine) and kept."""
    return _KEPT.get(warehouse, engine_choice, (today, params), lambda eng: fit(
        eng, today, model=params.model, end=params.end,
        calibration_end=params.calibration_end, currency=params.currency))


def clear() -> None:
    """Forget every kept model (tests)."""
    _KEPT.clear()
