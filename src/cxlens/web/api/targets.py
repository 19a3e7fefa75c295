"""Targeting as JSON: ``GET /api/w/{slug}/marketing/targets``.

The same function as ``cxlens marketing targets`` (:func:`cxlens.analytics.marketing.
targeting.targets`), which prints this model with ``--json`` and these columns with
``--csv``. Its own module beside :mod:`cxlens.web.api.marketing` (same prefix) so that the
attribution, ROI and planner routes grow without touching it. The value segments read the
fitted value model the server keeps (:func:`cxlens.web.api.value.served_fit`); a workspace
without purchases, or without a model, is a 200 with ``ok: false`` and the reason, as the
value routes answer; bad parameters a 422.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from cxlens.analytics.value._summary import NoPurchases, ValueInputError
from cxlens.analytics.value.bgnbd import NotIdentifiable
from cxlens.web.api.experience_models import EstimateOut
from cxlens.web.api.money import served_money
from cxlens.web.api.value import NoModelOut, result_out, served_fit
from cxlens.web.deps import ServerClock, TokenScope

router = APIRouter(prefix="/api/w/{slug}/marketing", tags=["marketing"])
Reader = TokenScope("read")


class TargetsQuery(BaseModel):
    """Which list, how long, and the rules that choose its customers."""

    model_config = ConfigDict(extra="forbid")

    segment: Literal["value", "at_risk", "lookalike"] = Field(
        "value", description="High predicted value, at risk, or look-alikes of the best.")
    top: int = Field(100, ge=1, le=10000, description="At most this many customers.")
    top_share: float = Field(0.2, gt=0, lt=1, description="The share of customers counted "
                                                          "as high value or best.")
    lookback_days: int = Field(90, ge=7, le=365, description="At risk: silent this long, "
                                                             "P(alive) now against then.")
    months: int = Field(12, ge=1, le=120, description="CLV horizon in months.")
    discount: float = Field(0.10, ge=0, lt=1, description="Annual discount rate of CLV.")
    window: int = Field(180, ge=30, le=730, description="Look-alike: days after the first "
                                                        "purchase whose revenue makes the best.")
    currency: str | None = Field(None, min_length=3, max_length=3, pattern="^[A-Z]{3}$",
                                 description="Default: the workspace's reporting currency")


class TargetOut(BaseModel):
    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    reason: str = Field(description="Why the customer is on the list, in words.")
    score: float = Field(description="CLV (value, at risk; expected purchases without a "
                                     "spend model) or P(best) (look-alike).")
    revenue: float = Field(description="Revenue to date, in the currency.")
    clv: float | None = None
    p_alive: float | None = None
    p_alive_then: float | None = Field(None, description="At risk: P(alive) lookback_days "
                                                         "ago.")
    features: list[str] = Field(description="Look-alike: the customer's features that "
                                            "raise the score most, e.g. channel=email.")


class WeightOut(BaseModel):
    feature: str
    coefficient: float = Field(description="On the log-odds of being best.")


class LookalikeOut(BaseModel):
    window_days: int
    top_share: float
    customers: int
    mature: int = Field(description="Customers whose window is over: the model's sample.")
    best: int
    threshold: float | None = Field(description="Revenue in the window from which a mature "
                                                "customer is best.")
    auc: EstimateOut | None = Field(description="Held-out AUC with its 95 % interval.")
    holdout: int
    holdout_best: int
    weights: list[WeightOut]
    reason: str | None


class TargetsOut(BaseModel):
    ok: Literal[True] = True
    segment: str
    end: date
    currency: str
    top: int
    top_share: float
    score: str = Field(description="What the score is: clv, purchases or p_best.")
    customers: int = Field(description="Customers considered.")
    matching: int = Field(description="Customers in the segment (the list shows the first "
                                      "top by score).")
    rows: list[TargetOut]
    model: str | None
    horizon_months: int | None
    lookback_days: int | None
    lookalike: LookalikeOut | None
    notes: list[str]


TARGET_CSV_COLUMNS = ("customer_id", "name", "email", "phone", "score", "reason", "revenue",
                      "clv", "p_alive")
"""The columns of ``cxlens marketing targets --csv`` and of the Targets page's download."""


def target_csv_rows(t: TargetsOut) -> list[list[str]]:
    """The list's rows in :data:`TARGET_CSV_COLUMNS` (written by the formula-safe writer)."""
    def text(v: object) -> str:
        return "" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)
    return [[text(getattr(r, c)) for c in TARGET_CSV_COLUMNS] for r in t.rows]


def targets_out(t: Any) -> TargetsOut:
    """An analytics :class:`~cxlens.analytics.marketing.targeting.Targets` as the API's
    model."""
    return result_out(TargetsOut, t)  # type: ignore[no-any-return]


@router.get("/targets")
def get_targets(access: Reader, q: Annotated[TargetsQuery, Query()],
                clock: ServerClock) -> TargetsOut | NoModelOut:
    """A list of customers worth reaching: high predicted value, at risk, or look-alikes of
    the best customers (with the look-alike model's held-out AUC)."""
    from cxlens.analytics.marketing.targeting import targets
    from cxlens.analytics.value._predict import Horizon

    def run() -> TargetsOut:
        today = clock().date()
        m = served_money(access, q.currency)
        v = None if q.segment == "lookalike" else served_fit(access, today, q.currency)
        with access.engine() as eng:
            return targets_out(targets(
                eng, q.segment, today, value_model=v, top=q.top, top_share=q.top_share,
                lookback_days=q.lookback_days, horizon=Horizon(q.months, q.discount),
                window_days=q.window, currency=m.currency, rates=m.rates))
    try:
        return run()
    except (NoPurchases, NotIdentifiable) as exc:
        return NoModelOut(reason=str(exc))
    except ValueInputError as exc:
        raise HTTPException(422, str(exc)) from None
