"""Marketing-mix model: a response curve per ad channel, with carry-over and saturation.

After Jin, Wang, Sun, Chan & Koehler (2017), "Bayesian methods for media mix modeling with
carryover and shape effects" (Google): the outcome of day ``t`` (new customers by default,
or revenue) is a baseline plus, for every channel ``c``,

    response_c,t = vmax_c * A_decay_c[ Hill(s_c; k_c, h_c) ]_t,
    Hill(s; k, h) = s^h / (k^h + s^h),
    A_d[x]_t = d * A_d[x]_(t-1) + (1 - d) * x_t          (normalised geometric adstock)

with ``s_c,t`` the channel's spend of day ``t``. The shape comes first and the carry-over
second (Jin et al. discuss both orders; ``adstock_first=True`` takes theirs): what a day's
spend buys arrives over the following days. The adstock's weights sum to one, so a steady
spend ``s`` per day brings ``vmax * Hill(s)`` per day either way: ``k`` is the daily spend
that buys half of ``vmax``, ``h`` the curve's slope (above 1: S-shaped), ``decay`` the share
of a day's effect that carries to the next. The baseline is linear: an intercept, a linear
trend, the weekday and (with a year of data or more) two yearly Fourier pairs.

**Fit**: least squares by variable projection (Golub & Pereyra 1973): for given non-linear
parameters (decay, k, h per channel) the mean is linear in the baseline's coefficients and
the ``vmax``, which a linear solve gives (``vmax`` kept ≥ 0); L-BFGS-B searches the 3 per
channel non-linear parameters from several starts. Least squares rather than a Poisson
likelihood so the same fit serves revenue; the counts' variance growing with the mean costs
some efficiency, not consistency.

**Uncertainty**: a block bootstrap of the data over weeks: whole weeks drawn with
replacement, as weights on the days (so the carry-over still runs over the days in their
order), each replicate refitted from the estimate and ``BOOT_STARTS - 1`` random starts.
Weeks keep the weekday pattern and the short autocorrelation the carry-over leaves, and
unlike a Laplace approximation it respects the bounds (a decay near 0, an ``h`` the data
hardly pin) and the curves' skewed uncertainty. The data rather than the residuals around
the fitted curve: replicates built on the point fit's curve found that curve again, and
their intervals for k and h came out narrow where the two trade off (the M demo's social
ads); coverage in docs/methods.md. The draws are kept, so the planner propagates them.

Everything is read through :class:`~cxlens.warehouse.engine.Engine` as two daily aggregates
(spend per channel, first orders or revenue per day); the calendar is made here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from scipy import optimize, signal

from cxlens.analytics._money import amount_sql, clean_rates, unrated, unrated_message
from cxlens.analytics._orders import counted_order
from cxlens.errors import UserError
from cxlens.warehouse.engine import Engine

MIN_WEEKS = 26
"""Weeks of daily data a fit needs: the baseline has up to 12 coefficients and each channel
4 more, and the carry-over and the curve show only where the spend changes — half a year of
budgets changing every few weeks is the least that pins them."""
N_BOOT = 100
BOOT_STARTS = 2
"""Starts of each bootstrap replicate's optimiser: the point fit and ``BOOT_STARTS - 1``
random one(s), the better kept: from the point fit alone a replicate can stay in its basin
where k and h trade off. Each start costs a replicate's time again."""
SEED = 14
LEVEL = 0.95
CURRENT_DAYS = 91
""""Current spend" is the mean daily spend over the last 13 weeks of data."""
OUTCOMES = ("new_customers", "revenue")
_DECAY_MAX = 0.95
_H_BOUNDS = (0.3, 5.0)


class MMMError(UserError):
    """The data cannot give response curves: too few weeks, no spend, mixed currencies."""


@dataclass(frozen=True)
class Series:
    """The daily inputs of a fit: ``spend`` (days × channels, in ``currency``) and the
    ``outcome`` per day, from ``start`` for ``len(outcome)`` days."""

    start: date
    channels: tuple[str, ...]
    spend: np.ndarray
    outcome: np.ndarray
    outcome_name: str = "new_customers"
    currency: str = "EUR"

    @property
    def days(self) -> int:
        return len(self.outcome)


def hill(s: np.ndarray, k: float, h: float) -> np.ndarray:
    """The unit Hill curve ``s^h / (k^h + s^h)`` (0 at no spend, 1/2 at ``k``)."""
    s = np.maximum(np.asarray(s, dtype=float), 0.0)
    r = (s / k) ** h
    return r / (1.0 + r)


def adstock(x: np.ndarray, decay: float) -> np.ndarray:
    """Normalised geometric adstock along the first axis, starting from 0."""
    return signal.lfilter([1.0 - decay], [1.0, -decay], x, axis=0)


def _media(spend: np.ndarray, theta: np.ndarray, adstock_first: bool) -> np.ndarray:
    """Each channel's unit response (days × channels) for ``theta`` = (decay, log k, h)
    per channel."""
    out = np.empty_like(spend)
    for c in range(spend.shape[1]):
        d, logk, h = theta[3 * c: 3 * c + 3]
        if adstock_first:
            out[:, c] = hill(adstock(spend[:, c], d), float(np.exp(logk)), h)
        else:
            out[:, c] = adstock(hill(spend[:, c], float(np.exp(logk)), h), d)
    return out


def baseline_design(start: date, days: int) -> tuple[np.ndarray, list[str]]:
    """Intercept, linear trend, weekday (Monday the reference) and, from 365 days on, two
    yearly Fourier pairs."""
    t = np.arange(days, dtype=float)
    cols = [np.ones(days), t / max(days - 1, 1)]
    names = ["intercept", "trend"]
    weekday = (start.weekday() + np.arange(days)) % 7
    for d in range(1, 7):
        cols.append((weekday == d).astype(float))
        names.append(f"weekday_{d}")
    if days >= 365:
        doy = (start.timetuple().tm_yday - 1 + t) / 365.25
        for k in (1, 2):
            cols += [np.sin(2 * np.pi * k * doy), np.cos(2 * np.pi * k * doy)]
            names += [f"year_sin{k}", f"year_cos{k}"]
    return np.column_stack(cols), names


class _Problem:
    """The variable-projection objective. The baseline is projected out once (its QR), so
    each evaluation is one adstock per channel and a channels × channels solve.

    ``weights`` (one per day, ≥ 0): weighted least squares, the bootstrap's way of
    resampling whole weeks while the carry-over still runs over the days in their order."""

    def __init__(self, spend: np.ndarray, base: np.ndarray, adstock_first: bool,
                 weights: np.ndarray | None = None) -> None:
        self.spend, self.base, self.adstock_first = spend, base, adstock_first
        self.sw = None if weights is None else np.sqrt(weights)
        self.q, _ = np.linalg.qr(self._w(base))

    def _w(self, x: np.ndarray) -> np.ndarray:
        if self.sw is None:
            return x
        return x * (self.sw[:, None] if x.ndim == 2 else self.sw)

    def _resid(self, x: np.ndarray) -> np.ndarray:
        return x - self.q @ (self.q.T @ x)

    def vmax(self, theta: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """The best vmax ≥ 0 for ``theta`` (an active set over the channels: few of them),
        the unit responses and the residual sum of squares."""
        media = self._w(_media(self.spend, theta, self.adstock_first))
        m, r = self._resid(media), self._resid(self._w(y))
        g, b = m.T @ m, m.T @ r
        nc = media.shape[1]
        best_v, best_f = np.zeros(nc), float(r @ r)
        sets = [np.arange(nc)] + [np.flatnonzero([(i >> j) & 1 for j in range(nc)])
                                  for i in range(1, 2**nc - 1)] if nc <= 6 else [
            np.arange(nc)]
        for act in sets:
            if len(act) == 0:
                continue
            try:
                v = np.linalg.solve(g[np.ix_(act, act)] + 1e-12 * np.eye(len(act)), b[act])
            except np.linalg.LinAlgError:
                continue
            if np.any(v < 0):
                continue
            f = float(r @ r - v @ b[act])
            if f < best_f:
                best_f = f
                best_v = np.zeros(nc)
                best_v[act] = v
            if len(act) == nc:
                break  # the unconstrained solution is feasible: it is the best
        return best_v, media, best_f

    def rss(self, theta: np.ndarray, y: np.ndarray) -> float:
        return self.vmax(theta, y)[2]

    def linear(self, theta: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The coefficients (baseline, then vmax) and the fitted mean."""
        v, media, _ = self.vmax(theta, y)
        coef, *_ = np.linalg.lstsq(self._w(self.base), self._w(y) - media @ v, rcond=None)
        beta = np.r_[coef, v]
        unit = _media(self.spend, theta, self.adstock_first)
        return beta, self.base @ coef + unit @ v


def _bounds(spend: np.ndarray) -> list[tuple[float, float]]:
    out = []
    for c in range(spend.shape[1]):
        pos = spend[:, c][spend[:, c] > 0]
        lo, hi = float(np.log(np.percentile(pos, 1) / 4)), float(np.log(pos.max() * 4))
        out += [(0.0, _DECAY_MAX), (lo, hi), _H_BOUNDS]
    return out


def _starts(spend: np.ndarray, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """A median start (decay 0.3, k at the median spend, h 1) and ``n - 1`` random ones."""
    med = [float(np.log(np.median(spend[:, c][spend[:, c] > 0])))
           for c in range(spend.shape[1])]
    starts = [np.array([v for m in med for v in (0.3, m, 1.0)])]
    for _ in range(n - 1):
        starts.append(np.array([v for m in med for v in (
            rng.uniform(0.0, 0.8), m + rng.normal(0.0, 0.7), rng.uniform(0.6, 2.5))]))
    return starts


def _minimise(prob: _Problem, y: np.ndarray, starts: list[np.ndarray],
              bounds: list[tuple[float, float]]) -> np.ndarray:
    best, best_f = starts[0], np.inf
    for x0 in starts:
        res = optimize.minimize(prob.rss, x0, args=(y,), method="L-BFGS-B", bounds=bounds)
        if res.fun < best_f:
            best, best_f = res.x, res.fun
    return np.asarray(best)


@dataclass(frozen=True)
class ChannelCurve:
    """One channel's response: the estimates, their 95 % interval (``*_low``/``*_high``)
    and, at its current spend (mean daily spend of the last 13 weeks), the outcome per day,
    per EUR (average) and of the next EUR (marginal). ``reason`` says why a channel has no
    curve (no spend in any day)."""

    channel: str
    spend_total: float
    spend_days: int
    current_spend_per_day: float
    max_spend_per_day: float
    decay: float | None = None
    k: float | None = None
    h: float | None = None
    vmax: float | None = None
    current_response_per_day: float | None = None
    per_eur: float | None = None
    marginal_per_eur: float | None = None
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class MMMFit:
    """A fitted marketing-mix model. ``draws`` (n_boot × channels × 4: decay, k, h, vmax)
    are the bootstrap replicates the planner propagates; ``curves`` one row per channel
    (those without spend included, with ``reason``)."""

    series: Series
    curves: tuple[ChannelCurve, ...]
    fitted: tuple[str, ...]
    params: np.ndarray  # fitted channels × (decay, k, h, vmax)
    draws: np.ndarray
    baseline: Mapping[str, float]
    r2: float
    n_boot: int
    seed: int
    adstock_first: bool

    def curve(self, channel: str) -> ChannelCurve:
        return next(c for c in self.curves if c.channel == channel)


def _pct(x: np.ndarray) -> tuple[float, float] | None:
    if len(x) == 0:
        return None
    a = (1 - LEVEL) / 2
    return float(np.quantile(x, a)), float(np.quantile(x, 1 - a))


def response(params: np.ndarray, spend_per_day: np.ndarray) -> np.ndarray:
    """Steady-state outcome per day of each channel at a daily spend, for one parameter set
    (channels × 4) or many (draws × channels × 4)."""
    p = np.asarray(params)
    k, h, vmax = p[..., 1], p[..., 2], p[..., 3]
    s = np.maximum(np.asarray(spend_per_day, float), 0.0)
    r = (s / k) ** h
    return vmax * r / (1.0 + r)


def marginal(params: np.ndarray, spend_per_day: np.ndarray) -> np.ndarray:
    """d response / d spend at a daily spend (steady state)."""
    p = np.asarray(params)
    k, h, vmax = p[..., 1], p[..., 2], p[..., 3]
    s = np.maximum(np.asarray(spend_per_day, float), 1e-9)
    r = (s / k) ** h
    return vmax * h * r / (s * (1.0 + r) ** 2)


def fit_series(series: Series, *, n_boot: int = N_BOOT, seed: int = SEED,
               adstock_first: bool = False, starts: int = 6,
               boot_starts: int = BOOT_STARTS) -> MMMFit:
    """Fit the model to daily series (see the module's docstring)."""
    weeks = series.days // 7
    if weeks < MIN_WEEKS:
        raise MMMError(
            f"{weeks} weeks of data ({series.days} days from {series.start}): a response "
            f"curve needs at least {MIN_WEEKS} weeks of daily spend and outcomes",
            hint="load more history of the spend and the orders, or wait until there is")
    spent = series.spend.sum(axis=0) > 0
    if not spent.any():
        raise MMMError("no channel has any spend in the period: there is nothing to fit",
                       hint="load the ad platforms' spend exports (kind 'spend')")
    idx = np.flatnonzero(spent)
    spend = series.spend[:, idx]
    base, names = baseline_design(series.start, series.days)
    prob = _Problem(spend, base, adstock_first)
    y = series.outcome.astype(float)
    rng = np.random.default_rng(seed)
    bounds = _bounds(spend)
    theta = _minimise(prob, y, _starts(spend, rng, starts), bounds)
    beta, mu = prob.linear(theta, y)
    nb = base.shape[1]
    params = _params(theta, beta[nb:])
    resid = y - mu
    draws = np.empty((n_boot, len(idx), 4))
    nweeks = -(-series.days // 7)
    week = np.arange(series.days) // 7
    for b in range(n_boot):
        # whole weeks of the data drawn with replacement, as weights on the days in their
        # order (the carry-over runs on): each replicate is the fit to another sample of
        # weeks, not to the point fit's curve plus noise
        w = np.bincount(rng.integers(0, nweeks, nweeks), minlength=nweeks)[week]
        pb = _Problem(spend, base, adstock_first, w.astype(float))
        tb = _minimise(pb, y, [theta, *_starts(spend, rng, boot_starts)[1:]], bounds)
        bb, _ = pb.linear(tb, y)
        draws[b] = _params(tb, bb[nb:])
    r2 = 1.0 - float(np.sum(resid**2) / np.sum((y - y.mean()) ** 2))
    curves = _curves(series, idx, params, draws)
    return MMMFit(series, curves, tuple(series.channels[i] for i in idx), params, draws,
                  dict(zip(names, (float(v) for v in beta[:nb]), strict=True)), r2, n_boot,
                  seed, adstock_first)


def _params(theta: np.ndarray, vmax: np.ndarray) -> np.ndarray:
    t = theta.reshape(-1, 3)
    return np.column_stack([t[:, 0], np.exp(t[:, 1]), t[:, 2], vmax])


def _curves(series: Series, idx: np.ndarray, params: np.ndarray, draws: np.ndarray
            ) -> tuple[ChannelCurve, ...]:
    rows = []
    recent = series.spend[-CURRENT_DAYS:]
    for c, name in enumerate(series.channels):
        col = series.spend[:, c]
        common: dict[str, Any] = dict(
            channel=name, spend_total=float(col.sum()), spend_days=int((col > 0).sum()),
            current_spend_per_day=float(recent[:, c].mean()), max_spend_per_day=float(
                col.max()))
        if c not in idx:
            rows.append(ChannelCurve(**common, reason=(
                "no spend in any day of the period: its response cannot be estimated")))
            continue
        j = int(np.flatnonzero(idx == c)[0])
        p, d = params[j], draws[:, j, :]
        s = common["current_spend_per_day"]
        resp, dresp = response(p, s), response(d, s)
        marg, dmarg = marginal(p, s), marginal(d, s)
        iv = {name_: _pct(d[:, i]) for i, name_ in enumerate(("decay", "k", "h", "vmax"))}
        iv["current_response_per_day"] = _pct(dresp)
        iv["marginal_per_eur"] = _pct(dmarg)
        if s > 0:
            iv["per_eur"] = _pct(dresp / s)
        iv = {key: v for key, v in iv.items() if v is not None}
        rows.append(ChannelCurve(
            **common, decay=float(p[0]), k=float(p[1]), h=float(p[2]), vmax=float(p[3]),
            current_response_per_day=float(resp), per_eur=float(resp / s) if s > 0 else None,
            marginal_per_eur=float(marg), intervals=iv))
    return tuple(rows)


# --- reading the warehouse -------------------------------------------------------------

_SPEND = """SELECT CAST(date AS DATE) AS day, channel AS channel, currency AS currency,
       CAST(sum(amount) AS DOUBLE) AS amount
FROM v_spend
WHERE date IS NOT NULL AND channel IS NOT NULL
GROUP BY CAST(date AS DATE), channel, currency"""

_NEW_CUSTOMERS = f"""SELECT CAST(first_ts AS DATE) AS day, CAST(count(*) AS BIGINT) AS outcome
FROM (SELECT customer_id AS customer_id, min(ts) AS first_ts FROM v_orders
      WHERE customer_id IS NOT NULL AND ts IS NOT NULL AND {counted_order()}
      GROUP BY customer_id) AS firsts
GROUP BY CAST(first_ts AS DATE)"""

_REVENUE = f"""SELECT CAST(ts AS DATE) AS day, CAST(sum({{amount}}) AS DOUBLE) AS outcome
FROM v_orders
WHERE ts IS NOT NULL AND amount IS NOT NULL AND {{in_currency}} AND {counted_order()}
GROUP BY CAST(ts AS DATE)"""

# Spend in one reporting currency, other currencies converted at their rates (_money).
_SPEND_IN = """SELECT CAST(date AS DATE) AS day, channel AS channel, $currency AS currency,
       CAST(sum({amount}) AS DOUBLE) AS amount
FROM v_spend
WHERE date IS NOT NULL AND channel IS NOT NULL AND {in_currency}
GROUP BY CAST(date AS DATE), channel"""


def _money_sql(eng: Engine, currency: str, rates: Mapping[str, float] | None,
               outcome: str) -> dict[str, Any]:
    """The rates' SQL and parameters; an MMMError names spend (or, for revenue, orders) in
    a currency without a rate."""
    rates = clean_rates(currency, rates)
    for table, what, where in (
            ("v_spend", "spend rows", "date IS NOT NULL AND channel IS NOT NULL"),
            ("v_orders", "orders", f"ts IS NOT NULL AND amount IS NOT NULL AND {counted_order()}")):
        bad = unrated(eng, table, currency, rates, where)
        if bad and (table == "v_spend" or outcome == "revenue"):
            raise MMMError(unrated_message(what, bad, currency))
    amount, a_params, in_currency, c_params = amount_sql(rates)
    return {"amount": amount, "in_currency": in_currency,
            "params": {**a_params, **c_params, "currency": currency}}


def read_series(eng: Engine, outcome: str = "new_customers", *, start: date | None = None,
                end: date | None = None, currency: str | None = None,
                rates: Mapping[str, float] | None = None) -> Series:
    """The daily spend per channel and the outcome per day, over the days with spend
    (from the first to the last day any channel has spend, or ``start``/``end``: the day
    after the last). With ``currency``, spend and revenue are in it, other currencies
    converted at ``rates`` in the engine's SQL; without, the spend must be in one currency.
    Spend in a currency without a rate is refused: adding it would mean nothing."""
    if outcome not in OUTCOMES:
        raise MMMError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    money = None if currency is None else _money_sql(eng, currency, rates, outcome)
    rows = (eng.query(_SPEND).to_pylist() if money is None else eng.query(
        _SPEND_IN.format(**money), money["params"]).to_pylist())
    if not rows:
        raise MMMError("no spend rows in the workspace: a response curve needs the daily "
                       "spend per channel", hint="load the ad platforms' spend exports "
                                                 "(kind 'spend')")
    currencies = sorted({r["currency"] or "EUR" for r in rows})
    if len(currencies) > 1:
        per = {c: sum(1 for r in rows if (r["currency"] or "EUR") == c) for c in currencies}
        raise MMMError(
            "spend in several currencies without exchange rates ("
            + ", ".join(f"{c}: {n} channel-days" for c, n in per.items())
            + "): the model adds each day's spend and cannot add these",
            hint="give a reporting currency and rates: cxlens workspace currency EUR "
                 "--rate SEK=0.087 (or --currency and --rate)")
    currency = currencies[0]
    first = start or min(r["day"] for r in rows)
    last = (end - timedelta(days=1)) if end else max(r["day"] for r in rows)
    days = (last - first).days + 1
    if days <= 0:
        raise MMMError(f"the period {first} … {last} holds no day")
    channels = tuple(sorted({r["channel"] for r in rows}))
    spend = np.zeros((days, len(channels)))
    ch_i = {c: i for i, c in enumerate(channels)}
    for r in rows:
        i = (r["day"] - first).days
        if 0 <= i < days:
            spend[i, ch_i[r["channel"]]] += r["amount"] or 0.0
    plain = {"amount": "amount", "in_currency": "currency = $currency"}
    sql = (_NEW_CUSTOMERS if outcome == "new_customers"
           else _REVENUE.format(**(money or plain)))
    params = (money or {}).get("params", {"currency": currency})
    y = np.zeros(days)
    for r in eng.query(sql, params if outcome == "revenue" else None).to_pylist():
        i = (r["day"] - first).days
        if 0 <= i < days:
            y[i] = float(r["outcome"] or 0.0)
    return Series(first, channels, spend, y, outcome, currency)


def fit(eng: Engine, outcome: str = "new_customers", *, start: date | None = None,
        end: date | None = None, n_boot: int = N_BOOT, seed: int = SEED,
        adstock_first: bool = False, currency: str | None = None,
        rates: Mapping[str, float] | None = None) -> MMMFit:
    """Read the daily series from the warehouse and fit the model (module docstring)."""
    return fit_series(read_series(eng, outcome, start=start, end=end, currency=currency,
                                  rates=rates), n_boot=n_boot,
                      seed=seed, adstock_first=adstock_first)
