"""Value after the purchase as JSON: ``GET /api/w/{slug}/value/fit``, ``/value/cohorts``,
``/value/rfm``, ``/value/customers``, ``/value/distribution`` and ``/value/channels``.

The same analytics functions as ``cxlens value … --json`` (which prints the same models):
:func:`~cxlens.analytics.value.models.fit_value` (the purchase model chosen on the holdout,
its parameters named as in the papers with standard errors, the spend model, how each
candidate predicted the holdout), :func:`~cxlens.analytics.value.cohorts.cohorts`,
:func:`~cxlens.analytics.value.rfm.rfm`,
:func:`~cxlens.analytics.value.customers.customer_values`,
:func:`~cxlens.analytics.value.distribution.clv_distribution` and
:func:`~cxlens.analytics.value.channels.clv_by_channel` /
:func:`~cxlens.analytics.value.channels.clv_by_nps_group`. The last three need the fitted
model: it is kept per workspace while its data stay as they are (:func:`served_fit`), as a
Pareto/NBD fit takes tens of seconds on a large workspace.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from cxlens.analytics.value._fit import Fit
from cxlens.analytics.value._summary import NoPurchases, ValueInputError
from cxlens.analytics.value.bgnbd import NotIdentifiable
from cxlens.analytics.value.models import ValueModel
from cxlens.web import value_cache
from cxlens.web.api.experience_models import EstimateOut
from cxlens.web.api.money import served_money
from cxlens.web.deps import ServerClock, TokenScope, WorkspaceAccess
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
    currency: str | None = Field(None, min_length=3, max_length=3, pattern="^[A-Z]{3}$",
                                 description="Default: the workspace's reporting currency")


@router.get("/value/fit")
def get_value_fit(access: Reader, q: Annotated[FitQuery, Query()],
                  clock: ServerClock) -> ValueFitOut | NoModelOut:
    """Purchase and spend models fitted on the workspace's orders, judged on a holdout."""
    def run() -> ValueFitOut:
        return value_fit_out(value_cache.fitted(
            access.warehouse, access.workspace.engine, clock().date(),
            value_cache.fit_params(served_money(access, q.currency), model=q.model,
                                   end=q.end, calibration_end=q.calibration_end)))
    return _no_model(run)


# --- the fitted model, kept while the data stay as they are ------------------------------

def served_fit(access: WorkspaceAccess, today: date, currency: str | None) -> ValueModel:
    """``fit_value`` with its defaults for the workspace, kept with the Value page's fits
    (:mod:`cxlens.web.value_cache`) until the next batch. Raises what ``fit_value``
    raises. In the workspace's money settings (``currency``, when given, overrides)."""
    return value_cache.fitted(access.warehouse, access.workspace.engine, today,
                              value_cache.fit_params(served_money(access, currency)))


# --- cohorts, RFM, customers, channels ---------------------------------------------------

class GapsOut(BaseModel):
    n: int = Field(description="Gaps between consecutive purchase days")
    median: float | None = Field(description="Days, exact")
    q1: float | None
    q3: float | None


class CohortCellOut(BaseModel):
    months_since: int = Field(description="0 = the month of the first purchase")
    month: str | None = Field(description="The calendar month (cohorts by month)")
    customers: int = Field(description="Customers observed that month (n of the shares)")
    active: int = Field(description="Customers who bought that month")
    retention: EstimateOut = Field(description="% of customers who bought (Wilson)")
    repeat: EstimateOut = Field(description="% who had bought again by the month's end")
    revenue: float
    revenue_per_customer: float


class CohortOut(BaseModel):
    key: str = Field(description="First-purchase month (YYYY-MM), acquisition channel or "
                                 "campaign")
    customers: int
    partial: bool = Field(description="First bought in the partial month: no cells yet")
    cells: list[CohortCellOut]
    gaps: GapsOut


class CohortsOut(BaseModel):
    ok: Literal[True] = True
    by: Literal["month", "channel", "campaign"]
    end: date = Field(description="The last day of data used")
    currency: str
    customers: int
    last_full_month: str
    partial_month: str | None = Field(description="The month the data end in, if not over")
    cohorts: list[CohortOut]
    gaps: GapsOut
    notes: list[str]


class SegmentOut(BaseModel):
    key: str
    name: str
    customers: int
    share: float = Field(description="% of customers")
    recency_days: float | None = Field(description="Mean days since the last purchase")
    purchases: float | None = Field(description="Mean purchase days per customer")
    revenue_per_customer: float | None
    revenue_share: float = Field(description="% of revenue")


class MoveOut(BaseModel):
    start: date
    stop: date
    from_segment: str | None = Field(description="None: first bought after start")
    to_segment: str
    customers: int


class RfmOut(BaseModel):
    ok: Literal[True] = True
    end: date
    currency: str
    customers: int
    segments: list[SegmentOut]
    grid: list[list[int]] = Field(description="Customers per score: grid[R-1][F-1]")
    month_ends: list[date]
    moves: list[MoveOut]
    notes: list[str]


class CustomerValueOut(BaseModel):
    customer_id: str
    channel: str = Field(description="Acquisition channel")
    first_purchase: date
    last_purchase: date
    orders: int
    revenue: float
    p_alive: EstimateOut = Field(description="Probability (0-1) still a customer")
    p_alive_then: float | None = Field(description="The same, lookback_days earlier")
    purchases: EstimateOut = Field(description="Expected purchases over the horizon")
    spend: EstimateOut = Field(description="Expected spend per purchase")
    clv: EstimateOut = Field(description="Discounted value over the horizon")


class CustomerValuesOut(BaseModel):
    ok: Literal[True] = True
    end: date
    then: date = Field(description="The day P(alive) is compared with")
    currency: str
    model: Literal["bgnbd", "paretonbd"]
    horizon_months: int
    discount: float
    at_risk: bool
    top_share: float
    min_drop: float
    customers: int
    matching: int = Field(description="Customers that match the list's rule")
    high_value_clv: float | None = Field(description="CLV from which a customer is in the "
                                                     "top top_share")
    rows: list[CustomerValueOut]
    draws: int
    seed: int
    notes: list[str]


# The per-customer list as CSV (``cxlens value customers --csv`` and the At-risk page's
# download): one column list, each value as the CLI prints it.
_CUSTOMER_CSV: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("customer_id", lambda r: r.customer_id), ("channel", lambda r: r.channel),
    ("first_purchase", lambda r: r.first_purchase), ("last_purchase", lambda r: r.last_purchase),
    ("orders", lambda r: r.orders), ("revenue", lambda r: f"{r.revenue:.2f}"),
    ("clv", lambda r: r.clv.value), ("clv_low", lambda r: r.clv.low),
    ("clv_high", lambda r: r.clv.high), ("p_alive", lambda r: r.p_alive.value),
    ("p_alive_low", lambda r: r.p_alive.low), ("p_alive_high", lambda r: r.p_alive.high),
    ("p_alive_then", lambda r: r.p_alive_then),
    ("expected_purchases", lambda r: r.purchases.value),
    ("expected_spend", lambda r: r.spend.value),
)
CUSTOMER_CSV_COLUMNS = tuple(name for name, _ in _CUSTOMER_CSV)


def customer_csv_rows(res: Any) -> list[list[Any]]:
    """The rows of ``customer_values``' result in :data:`CUSTOMER_CSV_COLUMNS`."""
    return [["" if (v := get(r)) is None else (f"{v:.6g}" if isinstance(v, float) else v)
             for _, get in _CUSTOMER_CSV] for r in res.rows]


class ClvBinOut(BaseModel):
    low: float
    high: float | None = Field(description="Up to, not including; null: the open last bin")
    customers: int
    value: float = Field(description="Their CLV together")


class TopShareOut(BaseModel):
    customers: float = Field(description="The most valuable share of customers (0.1 = 10 %)")
    value: float = Field(description="The share (0-1) of the total CLV they hold")


class ClvDistributionOut(BaseModel):
    ok: Literal[True] = True
    end: date
    currency: str
    model: Literal["bgnbd", "paretonbd"]
    horizon_months: int
    discount: float
    customers: int
    mean: EstimateOut = Field(description="Mean CLV per customer")
    total: EstimateOut = Field(description="CLV of all customers together")
    median: float | None
    p90: float | None
    p99: float | None
    maximum: float | None
    bins: list[ClvBinOut] = Field(description="Round-width bins up to p99, the last open")
    top: list[TopShareOut]
    draws: int
    seed: int
    notes: list[str]


class GroupWorthOut(BaseModel):
    group: str
    customers: int
    revenue_per_customer: float = Field(description="Revenue to date per customer")
    new_customer_value: EstimateOut = Field(description="Mean value in the first "
                                                        "horizon_months after acquisition")
    clv: EstimateOut = Field(description="Mean CLV from the end over the horizon")
    revenue_90d: EstimateOut | None = Field(description="NPS groups: revenue per customer "
                                                        "in 90 days after the answer")


class WorthsOut(BaseModel):
    ok: Literal[True] = True
    by: Literal["channel", "campaign", "nps_group"]
    end: date
    currency: str
    model: Literal["bgnbd", "paretonbd"]
    horizon_months: int
    discount: float
    rows: list[GroupWorthOut]
    draws: int
    seed: int
    notes: list[str]


def _clean(value: Any) -> Any:
    """NaN and infinities as None, all the way down (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def result_out(model: type[BaseModel], result: Any) -> Any:
    """An analytics result (a dataclass with ``as_dict``) as its API model."""
    return model.model_validate(_clean(result.as_dict()))


Currency = Annotated[str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$")]


class CohortsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Literal["month", "channel", "campaign"] = Field(
        "month", description="Group customers by first purchase month, acquisition channel "
                             "or acquisition campaign")
    channel: str | None = Field(None, max_length=100,
                                description="Only customers acquired through this channel")
    end: Day | None = Field(None, description="Last day of data used (default: yesterday)")
    currency: Currency | None = None


class RfmQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    months: int = Field(12, ge=1, le=60, description="Month ends to count moves over")
    end: Day | None = Field(None, description="Last day of data used (default: yesterday)")
    currency: Currency | None = None


class HorizonQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    months: int = Field(12, ge=1, le=120, description="CLV horizon in months")
    discount: float = Field(0.10, ge=0, lt=1, description="Annual discount rate")
    currency: Currency | None = None


class CustomersQuery(HorizonQuery):
    at_risk: bool = Field(False, description="Only high-value customers at risk")
    top: int = Field(100, ge=1, le=10000, description="At most this many customers")
    lookback_days: int = Field(90, ge=7, le=365, description="P(alive) now against then")


class DistributionQuery(HorizonQuery):
    bins: int = Field(20, ge=2, le=100, description="Bins up to the 95th percentile")


class ChannelsQuery(HorizonQuery):
    by: Literal["channel", "campaign", "nps_group"] = "channel"


def _no_model(call: Any) -> Any:
    """Run ``call``; a workspace without purchases (or a model) is an answer, a bad request
    a 422."""
    try:
        return call()
    except (NoPurchases, NotIdentifiable) as exc:
        return NoModelOut(reason=str(exc))
    except ValueInputError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/value/cohorts")
def get_value_cohorts(access: Reader, q: Annotated[CohortsQuery, Query()],
                      clock: ServerClock) -> CohortsOut | NoModelOut:
    """Retention, repeat purchase and revenue per cohort and month since first purchase."""
    from cxlens.analytics.value.cohorts import cohorts

    def run() -> CohortsOut:
        with access.engine() as eng:
            m = served_money(access, q.currency)
            return result_out(CohortsOut, cohorts(eng, clock().date(), by=q.by, end=q.end,
                                                  channel=q.channel, currency=m.currency,
                                                  rates=m.rates))
    return _no_model(run)


@router.get("/value/rfm")
def get_value_rfm(access: Reader, q: Annotated[RfmQuery, Query()],
                  clock: ServerClock) -> RfmOut | NoModelOut:
    """RFM segments at the end and the moves between them at month ends."""
    from cxlens.analytics.value.rfm import rfm

    def run() -> RfmOut:
        with access.engine() as eng:
            m = served_money(access, q.currency)
            return result_out(RfmOut, rfm(eng, clock().date(), end=q.end, months=q.months,
                                          currency=m.currency, rates=m.rates))
    return _no_model(run)


@router.get("/value/customers")
def get_value_customers(access: Reader, q: Annotated[CustomersQuery, Query()],
                        clock: ServerClock) -> CustomerValuesOut | NoModelOut:
    """The top customers by CLV, or the high-value customers at risk, with intervals."""
    from cxlens.analytics.value._predict import Horizon
    from cxlens.analytics.value.customers import customer_values

    def run() -> CustomerValuesOut:
        v = served_fit(access, clock().date(), q.currency)
        with access.engine() as eng:
            return result_out(CustomerValuesOut, customer_values(
                eng, v, at_risk=q.at_risk, top=q.top, horizon=Horizon(q.months, q.discount),
                lookback_days=q.lookback_days, rates=served_money(access, q.currency).rates))
    return _no_model(run)


@router.get("/value/distribution")
def get_value_distribution(access: Reader, q: Annotated[DistributionQuery, Query()],
                           clock: ServerClock) -> ClvDistributionOut | NoModelOut:
    """How CLV is spread over the customers: bins, quantiles, mean and total with intervals,
    and the share of the value the top customers hold."""
    from cxlens.analytics.value._predict import Horizon
    from cxlens.analytics.value.distribution import clv_distribution

    def run() -> ClvDistributionOut:
        v = served_fit(access, clock().date(), q.currency)
        with access.engine() as eng:
            return result_out(ClvDistributionOut, clv_distribution(
                eng, v, horizon=Horizon(q.months, q.discount), bins=q.bins,
                rates=served_money(access, q.currency).rates))
    return _no_model(run)


@router.get("/value/channels")
def get_value_channels(access: Reader, q: Annotated[ChannelsQuery, Query()],
                       clock: ServerClock) -> WorthsOut | NoModelOut:
    """The worth of a new customer and CLV per acquisition channel or campaign, or per NPS
    group."""
    from cxlens.analytics.value._predict import Horizon
    from cxlens.analytics.value.channels import clv_by_channel, clv_by_nps_group

    def run() -> WorthsOut:
        v = served_fit(access, clock().date(), q.currency)
        h = Horizon(q.months, q.discount)
        rates = served_money(access, q.currency).rates
        with access.engine() as eng:
            res = (clv_by_nps_group(eng, v, horizon=h, rates=rates) if q.by == "nps_group"
                   else clv_by_channel(eng, v, by=q.by, horizon=h, rates=rates))
            return result_out(WorthsOut, res)
    return _no_model(run)
