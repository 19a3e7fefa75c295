"""Which purchase model to trust: fit on a calibration period, judge on the holdout.

``fit_value`` fits BG/NBD and Pareto/NBD on the orders up to a calibration end, predicts
each customer's purchases in the holdout that follows and compares them with what the
customers did: per frequency group (the papers' conditional-expectation plot) and per
cohort of first-purchase month. The model with the smaller holdout error (mean absolute
error per customer) is chosen, unless the caller names one, and refitted on all the data
up to the end, with Gamma-Gamma for spend. Everything is computed from the engine's
compressed summary (``_summary``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from cxlens.analytics._money import CURRENCY
from cxlens.analytics.value import bgnbd, gamma_gamma, paretonbd
from cxlens.analytics.value._fit import Fit
from cxlens.analytics.value._summary import (
    WEEK,
    PurchaseSummary,
    ValueInputError,
    last_purchase_day,
    purchase_summary,
)
from cxlens.warehouse.engine import Engine

MODELS = {"bgnbd": bgnbd, "paretonbd": paretonbd}
TOP_FREQUENCY = 7  # the papers' plot groups 7 and more repeat purchases together
# Too few customers for any of this to mean much: the fit still runs, with a note.
MIN_CUSTOMERS = 100


@dataclass(frozen=True)
class HoldoutRow:
    """One group of customers in the holdout: how many, the mean purchases they made and
    the mean the model predicted."""

    group: str
    customers: int
    actual: float
    predicted: float


@dataclass(frozen=True)
class Candidate:
    """A purchase model fitted on the calibration period and judged on the holdout."""

    model: str
    fit: Fit
    holdout_error: float
    actual_total: int
    predicted_total: float
    by_frequency: list[HoldoutRow]
    by_cohort: list[HoldoutRow]


@dataclass(frozen=True)
class ValueModel:
    """The chosen purchase model refitted on all data up to ``end``, the spend model, how
    the candidates did on the holdout, and what was left out. Time is in weeks (the
    papers' unit) counted from each customer's first purchase; spend in ``currency``."""

    end: date
    calibration_end: date
    unit: str
    currency: str
    chosen: str
    chosen_by: str  # "holdout" or "request"
    purchases: Fit
    spend: Fit | None
    independence: gamma_gamma.Independence | None
    candidates: list[Candidate]
    summary: PurchaseSummary
    notes: list[str] = field(default_factory=list)

    @property
    def customers(self) -> int:
        return self.summary.customers


def _holdout(model: str, f: Fit, s: PurchaseSummary) -> Candidate:
    assert s.holdout_end is not None
    length = (s.holdout_end - s.calibration_end).days / s.unit_days
    pred = MODELS[model].expected_purchases(f.params, length, s.x.astype("float64"), s.t_x,
                                            s.T)
    error = float(np.abs(pred - s.x_holdout) @ s.n / s.n.sum())

    def rows(keys: np.ndarray, names: list[str]) -> list[HoldoutRow]:
        out = []
        for k, name in zip(np.unique(keys), names, strict=True):
            m = keys == k
            n = int(s.n[m].sum())
            out.append(HoldoutRow(name, n, float(s.x_holdout[m] @ s.n[m] / n),
                                  float(pred[m] @ s.n[m] / n)))
        return out

    freq = np.minimum(s.x, TOP_FREQUENCY)
    freq_names = [f"{k}+" if k == TOP_FREQUENCY else str(k) for k in np.unique(freq)]
    month = s.first_purchase().astype("datetime64[M]")
    cohort_names = [str(m) for m in np.unique(month)]
    return Candidate(model, f, error, int(s.x_holdout @ s.n), float(pred @ s.n),
                     rows(freq, freq_names), rows(month, cohort_names))


def fit_value(engine: Engine, today: date, *, model: str | None = None,
              end: date | None = None, calibration_end: date | None = None,
              currency: str = CURRENCY, rates: Mapping[str, float] | None = None) -> ValueModel:
    """Fit, judge and choose the purchase model; fit the spend model.

    ``end`` is the last day of data used (default: the day before ``today``, the last whole
    day, or the last day with a purchase if the data stop earlier); ``calibration_end``
    splits off the holdout (default: a third of the span, at most 26 weeks). ``model``
    ("bgnbd" or "paretonbd") overrides the holdout's choice; both are still judged, so the
    user sees how the other did.
    """
    if model is not None and model not in MODELS:
        raise ValueInputError(f"unknown model {model!r}: choose {' or '.join(MODELS)}")
    if end is None:
        last = last_purchase_day(engine, today, currency)
        end = min(today - timedelta(days=1), last) if last else today - timedelta(days=1)
    full = purchase_summary(engine, end, today, currency=currency, rates=rates)
    if calibration_end is None:
        span = round(float(full.T.max()) * full.unit_days)  # days since the first purchase
        calibration_end = end - timedelta(days=min(182, span // 3))
    if calibration_end >= end:
        raise ValueInputError(f"the calibration end {calibration_end} must be before the end "
                              f"of the data used ({end}) so that a holdout is left")
    cal = purchase_summary(engine, calibration_end, today, holdout_end=end,
                           currency=currency, rates=rates)
    notes = []
    candidates = []
    for name, module in MODELS.items():
        try:
            candidates.append(_holdout(name, module.fit(cal.x, cal.t_x, cal.T, cal.n), cal))
        except bgnbd.NotIdentifiable as e:
            notes.append(f"{name} on the calibration period: {e}")
    if not candidates:
        raise bgnbd.NotIdentifiable(notes[0].split(": ", 1)[1])
    usable = [c for c in candidates if c.fit.converged] or candidates
    chosen = model or min(usable, key=lambda c: c.holdout_error).model
    purchases = MODELS[chosen].fit(full.x, full.t_x, full.T, full.n)
    if not purchases.converged:
        notes.append(f"{chosen} did not converge on all data ({purchases.message}): the "
                     "best estimate found is shown; do not act on it")
    spend = independence = None
    rep = full.x > 0
    try:
        spend = gamma_gamma.fit(full.x[rep], full.spend[rep], full.n[rep])
        independence = gamma_gamma.independence(full.x, full.spend, full.n)
        if independence.doubtful:
            notes.append(f"spend per purchase moves with how often customers buy "
                         f"(correlation {independence.correlation:.2f}): the spend model "
                         "assumes it does not, so its values are rough")
        if spend.params[1] <= 1:
            notes.append("the spend model's q ≤ 1: mean spend is not finite, no CLV")
    except bgnbd.NotIdentifiable as e:
        notes.append(f"spend: {e}")
    if full.customers < MIN_CUSTOMERS:
        notes.append(f"only {full.customers} customers: the intervals are wide; treat the "
                     "model as a sketch")
    if full.left_out.get("after_today"):
        notes.append(f"{full.left_out['after_today']} orders are dated after today "
                     f"({today}) and were left out: check the export's dates")
    return ValueModel(end, calibration_end, "week" if full.unit_days == WEEK else
                      f"{full.unit_days:g} days", currency, chosen,
                      "request" if model else "holdout", purchases, spend, independence,
                      candidates, full, notes)
