"""The budget planner: the split of a budget across channels from the fitted response curves.

The curves are those of the marketing-mix model (:mod:`cxlens.analytics.marketing.mmm`,
Jin et al. 2017). A budget ``B`` spent evenly over a period of ``days`` days as ``x_c`` per
channel brings, once the carry-over has settled, ``days * vmax_c * Hill(x_c / days)`` of the
outcome from channel ``c`` (the baseline — what comes without the ads — is left out: no
split changes it). The planner

* :func:`plan` — maximises the expected outcome of a budget under per-channel bounds and
  the amounts already committed (SLSQP from several starts: with ``h > 1`` a curve is
  S-shaped and the problem is not concave);
* :func:`plan_for_target` — the least budget whose best split reaches a target (bisection on
  the budget: the best outcome grows with it);
* :func:`scenario` — a split the user chose: its expected outcome.

Every expected outcome comes with a 95 % interval from the fit's bootstrap draws (the same
split evaluated under each draw's curves), and the recommended split with the current one
(the last 13 weeks' shares, scaled to the budget) and the gain over it, paired draw by draw.
A split that spends more a day than a channel ever did is flagged: the curve there is an
extrapolation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from cxlens.analytics.marketing.mmm import LEVEL, MMMFit, response
from cxlens.errors import UserError

DAYS = 30
"""The planning period by default: a month of spend."""


class PlanError(UserError):
    """A plan that cannot be made: a budget below the commitments, an unknown channel, an
    unreachable target."""


@dataclass(frozen=True)
class Allocation:
    """One channel in a split: ``amount`` over the period, ``per_day``, its expected outcome
    over the period with a 95 % interval, and ``extrapolated`` when ``per_day`` exceeds the
    most the channel ever spent in a day. ``fitted`` is False for a channel without a curve
    (no spend in the data): it gets no expected outcome."""

    channel: str
    amount: float
    per_day: float
    share: float
    expected: float | None
    low: float | None
    high: float | None
    extrapolated: bool
    fitted: bool = True


@dataclass(frozen=True)
class Split:
    """A split of a budget and what it is expected to bring over ``days`` days."""

    budget: float
    days: int
    rows: tuple[Allocation, ...]
    expected: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Plan:
    """The recommended split, the current split of the same budget, and the gain of the one
    over the other (95 % interval, paired over the draws). ``target``: the outcome asked
    for, when the plan is the least budget to reach it. ``notes``: what the user should
    know (unfitted channels, a budget the bounds could not place)."""

    outcome: str
    currency: str
    recommended: Split
    current: Split | None
    gain: float | None
    gain_low: float | None
    gain_high: float | None
    target: float | None
    notes: tuple[str, ...]


def _interval(v: np.ndarray) -> tuple[float | None, float | None]:
    if v.size == 0:
        return None, None
    a = (1 - LEVEL) / 2
    return float(np.quantile(v, a)), float(np.quantile(v, 1 - a))


def _check_channels(fit: MMMFit, names: Mapping[str, object], what: str) -> None:
    known = set(fit.series.channels)
    for ch in names:
        if ch not in known:
            raise PlanError(f"{what}: no channel {ch!r} in the spend",
                            hint=f"the channels are {', '.join(fit.series.channels)}")


def _limits(fit: MMMFit, bounds: Mapping[str, tuple[float | None, float | None]] | None,
            committed: Mapping[str, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper amount per channel of ``fit.series.channels``: a commitment raises
    the lower bound; an unfitted channel gets exactly its commitment."""
    bounds, committed = dict(bounds or {}), dict(committed or {})
    _check_channels(fit, bounds, "bounds")
    _check_channels(fit, committed, "commitments")
    chans = fit.series.channels
    lo, hi = np.zeros(len(chans)), np.full(len(chans), np.inf)
    for i, ch in enumerate(chans):
        b_lo, b_hi = bounds.get(ch, (None, None))
        lo[i] = max(b_lo or 0.0, committed.get(ch, 0.0))
        if b_hi is not None:
            hi[i] = b_hi
        if ch not in fit.fitted:
            hi[i] = lo[i]
        if hi[i] < lo[i]:
            raise PlanError(f"{ch}: its upper bound {hi[i]:,.2f} is below its lower bound or "
                            f"commitment {lo[i]:,.2f}")
    return lo, hi


def _outcome(fit: MMMFit, amounts: np.ndarray, days: int, params: np.ndarray) -> np.ndarray:
    """Expected outcome per fitted channel over the period (last axis: channels)."""
    idx = [fit.series.channels.index(ch) for ch in fit.fitted]
    return days * response(params, amounts[idx] / days)


def _split(fit: MMMFit, amounts: np.ndarray, days: int) -> Split:
    chans = fit.series.channels
    point = _outcome(fit, amounts, days, fit.params)
    draws = _outcome(fit, amounts, days, fit.draws) if fit.n_boot else np.zeros((0, 0))
    total = float(amounts.sum())
    rows = []
    for i, ch in enumerate(chans):
        curve = fit.curve(ch)
        per_day = float(amounts[i]) / days
        if ch in fit.fitted:
            j = fit.fitted.index(ch)
            low, high = _interval(draws[:, j]) if draws.size else (None, None)
            rows.append(Allocation(ch, float(amounts[i]), per_day,
                                   float(amounts[i]) / total if total else 0.0,
                                   float(point[j]), low, high,
                                   per_day > curve.max_spend_per_day * (1 + 1e-9)))
        else:
            rows.append(Allocation(ch, float(amounts[i]), per_day,
                                   float(amounts[i]) / total if total else 0.0,
                                   None, None, None, per_day > 0, fitted=False))
    low, high = _interval(draws.sum(axis=1)) if draws.size else (None, None)
    return Split(total, days, tuple(rows), float(point.sum()), low, high)


def _best(fit: MMMFit, budget: float, days: int, lo: np.ndarray, hi: np.ndarray
          ) -> np.ndarray:
    """The amounts (summing to ``budget``) within [lo, hi] of most expected outcome."""
    idx = np.array([fit.series.channels.index(ch) for ch in fit.fitted])
    free = budget - lo.sum()
    if len(idx) == 0 or free <= 0:
        return lo.copy()
    flo, fhi = lo[idx], np.minimum(hi[idx], lo[idx] + free)
    p = fit.params

    def neg(x: np.ndarray) -> float:
        return -float((days * response(p, x / days)).sum())

    def grad(x: np.ndarray) -> np.ndarray:
        s = np.maximum(x / days, 1e-9)
        k, h, vmax = p[:, 1], p[:, 2], p[:, 3]
        r = (s / k) ** h
        return -(vmax * h * r / (s * (1.0 + r) ** 2))

    target = budget - (lo.sum() - flo.sum())
    cons = [{"type": "eq", "fun": lambda x: x.sum() - target, "jac": lambda x: np.ones_like(x)}]
    width = fhi - flo
    starts = [flo + width * (free / max(width.sum(), 1e-12)) if np.isfinite(width).all()
              else flo + free / len(idx)]
    for j in range(len(idx)):  # everything free on one channel, as far as its bound allows
        x0 = flo.copy()
        x0[j] = min(fhi[j], flo[j] + free)
        rest = free - (x0[j] - flo[j])
        if rest > 0:
            x0 += np.where(np.arange(len(idx)) != j, rest / max(len(idx) - 1, 1), 0.0)
        starts.append(np.minimum(x0, fhi))
    best, best_f = starts[0], np.inf
    bnds = list(zip(flo, fhi, strict=True))
    for x0 in starts:
        res = optimize.minimize(neg, x0, jac=grad, bounds=bnds, constraints=cons,
                                method="SLSQP", options={"maxiter": 200, "ftol": 1e-10})
        x = np.clip(res.x, flo, fhi)
        if abs(x.sum() - target) <= 1e-6 * max(target, 1.0) and neg(x) < best_f:
            best, best_f = x, neg(x)
    out = lo.copy()
    out[idx] = best
    return out


def _current(fit: MMMFit, budget: float, days: int) -> np.ndarray | None:
    cur = np.array([fit.curve(ch).current_spend_per_day for ch in fit.series.channels])
    if cur.sum() <= 0:
        return None
    return budget * cur / cur.sum()


def plan(fit: MMMFit, budget: float, *, days: int = DAYS,
         bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
         committed: Mapping[str, float] | None = None) -> Plan:
    """The split of ``budget`` (over ``days`` days) with the most expected outcome."""
    if budget <= 0 or days <= 0:
        raise PlanError(f"the budget ({budget:,.2f}) and the period ({days} days) must be "
                        "positive")
    lo, hi = _limits(fit, bounds, committed)
    if lo.sum() > budget + 1e-9:
        commits = ", ".join(f"{ch} {v:,.2f}" for ch, v in zip(fit.series.channels, lo,
                                                               strict=True) if v > 0)
        raise PlanError(f"the budget {budget:,.2f} {fit.series.currency} is below the current "
                        f"commitments and lower bounds, {lo.sum():,.2f} ({commits})",
                        hint="raise the budget or lower the commitments")
    notes = [f"{c.channel}: no curve ({c.reason}); it gets no more than its commitment"
             for c in fit.curves if c.reason]
    spend = min(budget, float(hi.sum()))
    if spend < budget - 1e-9:
        notes.append(f"{budget - spend:,.2f} {fit.series.currency} left unplaced: every "
                     "channel is at its upper bound")
    best = _best(fit, spend, days, lo, hi)
    return _plan(fit, best, budget, days, None, notes)


def _plan(fit: MMMFit, best: np.ndarray, budget: float, days: int, target: float | None,
          notes: list[str]) -> Plan:
    rec = _split(fit, best, days)
    cur_amounts = _current(fit, budget, days)
    cur = _split(fit, cur_amounts, days) if cur_amounts is not None else None
    gain = gl = gh = None
    if cur is not None:
        gain = rec.expected - cur.expected
        if fit.n_boot:
            d = (_outcome(fit, best, days, fit.draws).sum(axis=1)
                 - _outcome(fit, cur_amounts, days, fit.draws).sum(axis=1))
            gl, gh = _interval(d)
    return Plan(fit.series.outcome_name, fit.series.currency, rec, cur, gain, gl, gh, target,
                tuple(notes))


def plan_for_target(fit: MMMFit, target: float, *, days: int = DAYS,
                    bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
                    committed: Mapping[str, float] | None = None) -> Plan:
    """The least budget whose best split is expected to bring ``target`` over ``days``."""
    if target <= 0:
        raise PlanError(f"the target ({target:,.2f}) must be positive")
    lo, hi = _limits(fit, bounds, committed)

    def best_at(b: float) -> tuple[np.ndarray, float]:
        x = _best(fit, b, days, lo, hi)
        return x, float(_outcome(fit, x, days, fit.params).sum())

    floor = float(lo.sum())
    x, got = best_at(floor)
    if got >= target:
        return _plan(fit, x, floor, days, target, ["the commitments alone reach the target"])
    ceiling = float(hi.sum()) if np.isfinite(hi.sum()) else None
    limit = float(days * fit.params[:, 3].sum())
    if ceiling is None:
        ceiling = max(floor, 1.0)
        while best_at(ceiling)[1] < target:
            ceiling *= 2
            if ceiling > 1e12 or (best_at(ceiling)[1] >= 0.999 * limit and target >= limit):
                raise PlanError(
                    f"a target of {target:,.1f} over {days} days is out of reach: the curves "
                    f"saturate at {limit:,.1f} ({fit.series.outcome_name}) however much is "
                    "spent", hint="lower the target or lengthen the period")
    elif best_at(ceiling)[1] < target:
        raise PlanError(f"a target of {target:,.1f} over {days} days is out of reach within "
                        f"the upper bounds (at most {best_at(ceiling)[1]:,.1f})",
                        hint="raise the bounds or lower the target")
    a, b = floor, ceiling
    for _ in range(60):
        mid = (a + b) / 2
        if best_at(mid)[1] >= target:
            b = mid
        else:
            a = mid
        if b - a <= 1e-4 * max(b, 1.0):
            break
    return _plan(fit, best_at(b)[0], b, days, target, [])


def scenario(fit: MMMFit, split: Mapping[str, float], *, days: int = DAYS) -> Split:
    """A user's split (amount per channel over ``days`` days; channels left out get 0)."""
    _check_channels(fit, split, "split")
    if days <= 0:
        raise PlanError(f"the period ({days} days) must be positive")
    for ch, v in split.items():
        if v < 0 or not np.isfinite(v):
            raise PlanError(f"split: {ch} = {v} is not an amount (0 or more)")
    amounts = np.array([float(split.get(ch, 0.0)) for ch in fit.series.channels])
    return _split(fit, amounts, days)
