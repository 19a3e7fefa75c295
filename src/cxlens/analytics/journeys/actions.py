"""Actions: the customers behind a moment who have not (yet) had the outcome.

"Delivery delayed, not bought again": the list a follow-up team works through. A customer
is on it when they met the moment (their first meeting, before the data end) and the
outcome's event did not follow within ``within`` days — or has not followed *yet*, when
fewer days have passed (``open``). The most recent first; bounded by ``limit``, with the
total so a reader knows when the list is cut.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cxlens.analytics._money import CURRENCY
from cxlens.analytics.journeys import reasons as rs
from cxlens.analytics.journeys._log import Selection, log_sql
from cxlens.analytics.journeys._units import DAY, OUTCOMES, actions_sql, day_of, frame
from cxlens.analytics.journeys.moments import DEFAULT_WITHIN
from cxlens.warehouse.engine import Engine

DEFAULT_LIMIT = 1000
MAX_LIMIT = 100_000


@dataclass(frozen=True)
class ActionCustomer:
    """One customer to follow up: when they met the moment, the days since (to the data
    end) and whether their horizon is still open (the outcome may yet come)."""

    customer_id: str
    met_at: datetime
    days_since: int
    open: bool


@dataclass(frozen=True)
class Actions:
    moment: str
    outcome: str
    within: int
    end: date | None
    met: int  # customers who met the moment
    total: int  # of them, without the outcome (the list may be cut at ``limit``)
    customers: list[ActionCustomer]
    selection: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    reason_code: str | None = None  # stable (.reasons), the text may change

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def customers(engine: Engine, moment: str, outcome: str = "purchase",
              within: int = DEFAULT_WITHIN, sel: Selection | None = None,
              as_of: date | None = None, limit: int = DEFAULT_LIMIT,
              currency: str = CURRENCY) -> Actions:
    """The customers who met ``moment`` and have not had ``outcome`` within ``within``
    days (churn and revenue: no purchase), the most recent first, at most ``limit``."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if int(within) < 1:
        raise ValueError(f"the horizon must be at least one day, not {within}")
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise ValueError(f"limit must be 1 to {MAX_LIMIT}, not {limit}")
    sel, within = sel or Selection(), int(within)
    chosen = {k: v for k, v in sel.as_dict().items() if v is not None}
    fr, why = frame(engine, sel, 1, as_of)
    if not fr:  # no touchpoints at all
        return Actions(moment, outcome, within, None, 0, 0, [], chosen, why,
                       rs.NO_TOUCHPOINTS)
    end_s = fr["end_s"]
    log, params = log_sql(sel, currency)
    q = {**params, "moments": [moment], "horizon": within * DAY, "end_s": end_s}
    rows = engine.query(actions_sql(log, outcome, int(limit)), q).to_pylist()
    counts = engine.query(actions_sql(log, outcome, None), q).to_pylist()[0]
    met, total = int(counts["met"]), int(counts["total"])
    out = [ActionCustomer(r["customer_id"], datetime(1970, 1, 1) + timedelta(seconds=int(r["t0"])),
                          (end_s - int(r["t0"])) // DAY, int(r["t0"]) + within * DAY > end_s)
           for r in rows]
    reason = code = None
    if met == 0:
        reason, code = f"nobody in the selection met {moment!r}", rs.NOBODY_MET
    elif total == 0:
        reason = f"everyone who met {moment!r} had the {outcome} outcome within {within} days"
        code = rs.ALL_HAD_OUTCOME
    return Actions(moment, outcome, within, day_of(end_s), met, total, out, chosen, reason,
                   code)


__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "ActionCustomer", "Actions", "customers"]
