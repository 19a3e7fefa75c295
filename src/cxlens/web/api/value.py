"""Value after the purchase as JSON: ``GET /api/w/{slug}/value/fit``.

The same :func:`cxlens.analytics.value.models.fit_value` as ``cxlens value fit --json``
(which prints :func:`value_fit_out`): the purchase model chosen on the holdout, its
parameters named as in the papers with standard errors, the spend model, and how each
candidate predicted the holdout.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from cxlens.analytics.value._fit import Fit
from cxlens.analytics.value._summary import NoPurchases, ValueInputError
from cxlens.analytics.value.bgnbd import NotIdentifiable
from cxlens.analytics.value.models import ValueModel, fit_value
from cxlens.web.deps import ServerClock, TokenScope
from cxlens.web.params import Day

router = APIRouter(prefix="/api/w/{slug}", tags=["value"])
Reader = TokenScope("read")


def _num(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


class ParameterOut(BaseModel):
    name: str = Field(description="As in the paper: r, alpha, a, b, s, beta, p, q, gamma")
    value: float
    se: float | None = Field(description="From the Hessian of the log-likelihood")
    low: float | None = Field(description="95 % interval (on the log scale), lower end")
    high: float | None


class FitOut(BaseModel):
    model: Literal["bgnbd", "paretonbd", "gamma_gamma"]
    parameters: list[ParameterOut]
    log_likelihood: float
    converged: bool
    message: str
    at_bound: list[str] = Field(description="Parameters the data cannot pin down")


class HoldoutRowOut(BaseModel):
    group: str
    customers: int
    actual: float = Field(description="Mean purchases per customer in the holdout")
    predicted: float


class CandidateOut(BaseModel):
    model: Literal["bgnbd", "paretonbd"]
    fit: FitOut = Field(description="Fitted on the calibration period only")
    holdout_error: float = Field(description="Mean absolute error per customer of the "
                                             "predicted holdout purchases")
    actual_total: int
    predicted_total: float
    by_frequency: list[HoldoutRowOut] = Field(description="By repeat purchases in the "
                                                          "calibration period (7+ together)")
    by_cohort: list[HoldoutRowOut] = Field(description="By month of first purchase")


class IndependenceOut(BaseModel):
    correlation: float | None
    low: float | None
    high: float | None
    n: int
    doubtful: bool


class NoModelOut(BaseModel):
    ok: Literal[False] = False
    reason: str = Field(description="Why there is no model yet (no purchases, nobody bought "
                                    "twice …) and what to do")


class ValueFitOut(BaseModel):
    ok: Literal[True] = True
    end: date = Field(description="The last day of data used")
    calibration_end: date
    unit: str = Field(description="The time unit of t_x, T, alpha, beta: week")
    currency: str
    customers: int
    repeat_customers: int
    chosen: Literal["bgnbd", "paretonbd"]
    chosen_by: Literal["holdout", "request"]
    purchases: FitOut = Field(description="The chosen model, fitted on all data to end")
    spend: FitOut | None
    independence: IndependenceOut | None = Field(
        description="Correlation of frequency and spend among repeat buyers (Gamma-Gamma "
                    "assumes about 0)")
    candidates: list[CandidateOut]
    left_out: dict[str, int] = Field(description="Orders not used, by reason")
    notes: list[str]


def fit_out(model: str, f: Fit) -> FitOut:
    z = 1.959963984540054
    params = []
    for name, v, se, lv in zip(f.names, f.params, f.se, f.log_cov.diagonal(), strict=True):
        ok = math.isfinite(lv) and lv >= 0
        params.append(ParameterOut(
            name=name, value=float(v), se=_num(se),
            low=float(v * math.exp(-z * math.sqrt(lv))) if ok else None,
            high=float(v * math.exp(z * math.sqrt(lv))) if ok else None))
    return FitOut(model=model, parameters=params,  # type: ignore[arg-type]
                  log_likelihood=f.log_likelihood, converged=f.converged, message=f.message,
                  at_bound=list(f.at_bound))


def value_fit_out(v: ValueModel) -> ValueFitOut:
    ind = v.independence
    return ValueFitOut(
        end=v.end, calibration_end=v.calibration_end, unit=v.unit, currency=v.currency,
        customers=v.customers, repeat_customers=v.summary.repeat_customers,
        chosen=v.chosen, chosen_by=v.chosen_by,  # type: ignore[arg-type]
        purchases=fit_out(v.chosen, v.purchases),
        spend=None if v.spend is None else fit_out("gamma_gamma", v.spend),
        independence=None if ind is None else IndependenceOut(
            correlation=_num(ind.correlation), low=_num(ind.low), high=_num(ind.high),
            n=ind.n, doubtful=ind.doubtful),
        candidates=[CandidateOut(
            model=c.model, fit=fit_out(c.model, c.fit),  # type: ignore[arg-type]
            holdout_error=c.holdout_error, actual_total=c.actual_total,
            predicted_total=c.predicted_total,
            by_frequency=[HoldoutRowOut(**r.__dict__) for r in c.by_frequency],
            by_cohort=[HoldoutRowOut(**r.__dict__) for r in c.by_cohort])
            for c in v.candidates],
        left_out=v.summary.left_out, notes=v.notes)


class FitQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: Literal["bgnbd", "paretonbd"] | None = Field(
        None, description="Use this purchase model (default: the one better on the holdout)")
    end: Day | None = Field(None, description="Last day of data used (default: yesterday)")
    calibration_end: Day | None = Field(None, description="Last day of the calibration "
                                                          "period (default: a third of the "
                                                          "span before end, at most 26 weeks)")
    currency: str = Field("EUR", min_length=3, max_length=3, pattern="^[A-Z]{3}$")


@router.get("/value/fit")
def get_value_fit(access: Reader, q: Annotated[FitQuery, Query()],
                  clock: ServerClock) -> ValueFitOut | NoModelOut:
    """Purchase and spend models fitted on the workspace's orders, judged on a holdout."""
    with access.engine() as eng:
        try:
            v = fit_value(eng, clock().date(), model=q.model, end=q.end,
                          calibration_end=q.calibration_end, currency=q.currency)
        except (NoPurchases, NotIdentifiable) as exc:
            return NoModelOut(reason=str(exc))
        except ValueInputError as exc:
            raise HTTPException(422, str(exc)) from None
    return value_fit_out(v)
