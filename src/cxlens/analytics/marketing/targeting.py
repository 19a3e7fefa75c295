"""Targeting: segments worth reaching, as lists of customers to export.

Three segments (docs/marketing.md, "Targeting"):

* ``value`` — high predicted value: the customers in the top ``top_share`` by predicted CLV
  (the value module's :func:`~cxlens.analytics.value.customers.customer_values`, best
  first); score: the CLV over the horizon;
* ``at_risk`` — valuable customers whose probability of still being a customer is falling:
  exactly the value module's at-risk list (``customer_values(at_risk=True)``: top
  ``top_share`` CLV, silent for ``lookback_days`` over which P(alive) fell by ``min_drop``);
  score: the CLV;
* ``lookalike`` — customers not (yet) among the best whose features at acquisition resemble
  the best customers' (:mod:`~cxlens.analytics.marketing.lookalike`: a logistic regression
  with its held-out AUC); score: the model's probability of being best.

Each row carries the customer's id, the contact details the warehouse holds (name, e-mail,
phone: every member who may read the workspace sees them on the Customers page, so the list
carries them too), a reason in words and the score. The value segments need the fitted value
model (``fit_value``); callers that keep one (the web server) pass it, else it is fitted
here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cxlens.analytics._money import CURRENCY
from cxlens.analytics.marketing.lookalike import (
    FEATURES_SQL,
    LookalikeFit,
    fit_lookalike,
    labels,
    reasons,
)
from cxlens.analytics.value._predict import Horizon
from cxlens.analytics.value._purchases import acquisition_sql, data_end, purchases_sql
from cxlens.analytics.value._summary import ValueInputError
from cxlens.analytics.value.customers import CustomerValue, customer_values
from cxlens.analytics.value.models import ValueModel, fit_value
from cxlens.warehouse.engine import Engine

SEGMENTS: tuple[str, ...] = ("value", "at_risk", "lookalike")
MAX_TOP = 10_000
WINDOW_DAYS = 180
"""The look-alike's outcome window: revenue in the first 180 days after the first purchase."""

CONTACTS_SQL = """
SELECT customer_id, name, email, phone FROM customers
WHERE list_contains($ids, customer_id) ORDER BY customer_id
"""


@dataclass(frozen=True)
class Target:
    """One customer of a list: ``score`` is the CLV (value, at risk) or the probability of
    being best (look-alike); ``clv``, ``p_alive`` and ``p_alive_then`` the value model's
    point values where the segment uses it; ``revenue`` their revenue to date;
    ``features`` (look-alike) the features of theirs that raise the score most
    (``channel=email``, ``first_amount``), which ``reason`` names in words."""

    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    reason: str
    score: float
    revenue: float
    clv: float | None = None
    p_alive: float | None = None
    p_alive_then: float | None = None
    features: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Targets:
    """A list and how it was chosen: ``customers`` considered, ``matching`` in the segment,
    of whom ``rows`` are the first ``top`` by score. ``lookalike`` describes the look-alike
    model (its held-out AUC), ``model``/``horizon_months`` the value model."""

    segment: str
    end: date
    currency: str
    top: int
    top_share: float
    score: str
    customers: int
    matching: int
    rows: list[Target]
    model: str | None = None
    horizon_months: int | None = None
    lookback_days: int | None = None
    lookalike: LookalikeFit | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check(segment: str, top: int, top_share: float, window_days: int) -> None:
    if segment not in SEGMENTS:
        raise ValueInputError(f"segment must be one of {', '.join(SEGMENTS)}, not {segment!r}")
    if not 1 <= top <= MAX_TOP:
        raise ValueInputError(f"top must be 1 to {MAX_TOP} customers, not {top}")
    if not 0 < top_share < 1:
        raise ValueInputError(f"the share of best customers must be above 0 and below 1, "
                              f"not {top_share}")
    if not 30 <= window_days <= 730:
        raise ValueInputError(f"the look-alike window must be 30 to 730 days, not "
                              f"{window_days}")


def _contacts(engine: Engine, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    return {r["customer_id"]: r for r in engine.query(CONTACTS_SQL, {"ids": ids}).to_pylist()}


def targets(engine: Engine, segment: str, today: date, *, value_model: ValueModel | None = None,
            top: int = 100, top_share: float = 0.2, lookback_days: int = 90,
            min_drop: float = 0.1, horizon: Horizon | None = None,
            window_days: int = WINDOW_DAYS, currency: str = CURRENCY,
            rates: Mapping[str, float] | None = None, seed: int = 0) -> Targets:
    """The list of ``segment`` (see the module's docstring). ``value_model`` must be fitted
    on ``currency`` with ``rates``; without one the value segments fit it now."""
    _check(segment, top, top_share, window_days)
    if segment == "lookalike":
        return _lookalikes(engine, today, top, top_share, window_days, currency, rates, seed)
    v = value_model or fit_value(engine, today, currency=currency, rates=rates)
    h = horizon or Horizon()
    res = customer_values(engine, v, at_risk=segment == "at_risk", top=top, horizon=h,
                          lookback_days=lookback_days, top_share=top_share,
                          min_drop=min_drop, rates=rates, seed=seed)
    high = res.high_value_clv
    picked = res.rows if segment == "at_risk" or high is None else [
        r for r in res.rows if (r.clv.value or 0.0) >= high]
    contacts = _contacts(engine, [r.customer_id for r in picked])
    rows = [_value_row(r, contacts.get(r.customer_id, {}), segment, res.currency,
                       res.horizon_months, lookback_days, top_share, high is not None)
            for r in picked]
    matching = (res.matching if segment == "at_risk"
                else min(res.customers, math.ceil(top_share * res.customers)))
    return Targets(segment, res.end, res.currency, top, top_share,
                   "clv" if high is not None else "purchases", res.customers, matching, rows,
                   model=res.model, horizon_months=res.horizon_months,
                   lookback_days=lookback_days if segment == "at_risk" else None,
                   notes=list(res.notes))


def _value_row(r: CustomerValue, c: Mapping[str, Any], segment: str, currency: str,
               months: int, lookback_days: int, top_share: float, has_clv: bool) -> Target:
    clv = r.clv.value if has_clv else None
    score = float(clv if clv is not None else (r.purchases.value or 0.0))
    worth = (f"predicted CLV {clv:,.0f} {currency} over {months} months" if clv is not None
             else f"{r.purchases.value or 0:.1f} purchases expected in {months} months")
    if segment == "at_risk":
        was = "" if r.p_alive_then is None else f" from {r.p_alive_then:.2f}"
        reason = (f"{worth}, top {100 * top_share:g} %; no purchase in {lookback_days} days, "
                  f"P(alive) fell{was} to {r.p_alive.value or 0:.2f}")
    else:
        reason = f"{worth}, top {100 * top_share:g} %"
    return Target(r.customer_id, c.get("name"), c.get("email"), c.get("phone"), reason, score,
                  r.revenue, clv, r.p_alive.value, r.p_alive_then)


def lookalike_features(engine: Engine, end: date, window_days: int = WINDOW_DAYS,
                       currency: str = CURRENCY,
                       rates: Mapping[str, float] | None = None) -> dict[str, list[Any]]:
    """One row per customer who bought by ``end``: the look-alike's features and outcome
    (:data:`~cxlens.analytics.marketing.lookalike.FEATURES_SQL`), as columns."""
    sql, params = purchases_sql(engine, end, currency=currency, rates=rates)
    query = FEATURES_SQL.format(purchases=sql, acquisition=acquisition_sql(False))
    return engine.query(query, {**params, "window": window_days}).to_pydict()


def _lookalikes(engine: Engine, today: date, top: int, top_share: float, window_days: int,
                currency: str, rates: Mapping[str, float] | None, seed: int) -> Targets:
    end = data_end(engine, today, None, currency)
    cols = lookalike_features(engine, end, window_days, currency, rates)
    fit, scores, design, model = fit_lookalike(cols, window_days, top_share, seed)
    n = len(cols["customer_id"])
    if scores is None or design is None:
        return Targets("lookalike", end, currency, top, top_share, "p_best", n, 0, [],
                       lookalike=fit, notes=[fit.reason] if fit.reason else [])
    _, best, _ = labels(cols, window_days, top_share)
    ids = cols["customer_id"]
    candidates = [i for i in range(n) if not best[i]]
    candidates.sort(key=lambda i: (-scores[i], ids[i]))
    chosen = candidates[:top]
    why = reasons(design, model, cols, chosen)
    contacts = _contacts(engine, [ids[i] for i in chosen])
    rows = []
    for i, features in zip(chosen, why, strict=True):
        c = contacts.get(ids[i], {})
        like = ", ".join(features) if features else "no single feature"
        rows.append(Target(ids[i], c.get("name"), c.get("email"), c.get("phone"),
                           f"resembles the best customers (P = {scores[i]:.2f}): {like}",
                           float(scores[i]), float(cols["revenue"][i] or 0.0),
                           features=list(features)))
    notes = []
    if fit.auc is not None and fit.auc.low is not None and fit.auc.low <= 0.5:
        notes.append("the held-out AUC's interval reaches 0.5: the model ranks no better "
                     "than chance could; do not trust the list's order")
    return Targets("lookalike", end, currency, top, top_share, "p_best", n, len(candidates),
                   rows, lookalike=fit, notes=notes)


__all__ = ["SEGMENTS", "Target", "Targets", "lookalike_features", "targets"]
