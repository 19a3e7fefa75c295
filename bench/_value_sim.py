"""Customers simulated from the CDNOW parameters, summarised as cxlens' engine would.

Used by bench/value.py. The purchase process is the BG/NBD story (Fader, Hardie & Lee 2005)
and the spend the Gamma-Gamma one (Fader & Hardie 2013), with the papers' published CDNOW
estimates as the truth, so a fit can be checked against known parameters as well as against
the other libraries.

The time line copies the papers' data: customers are born (make their first purchase) at a
uniformly random moment in the first 12 weeks and watched until the end of a 39-week
calibration (days 0 … 272). Purchases happen in continuous time but are recorded by day, and
then summarised the way ``analytics/value/_summary.py`` does in SQL: purchases on one day
are one purchase (their amounts added), the first day's are the first purchase, ``x`` counts
the later days, ``t_x`` and ``T`` are day differences divided by 7. Simulating in continuous
time and rounding to days keeps the small distortion real data have, so "recovers the truth"
is tested on data shaped like the engine's, not on the model's own idealised output.

The same purchases are also kept in continuous time, without the day grouping (``Exact``):
the model's own data, on which a fit must find the truth within its standard errors. Where
the day-resolution fit is further off, the difference is the price of day resolution, not a
fault of the fit.

Everything is vectorised NumPy over customers (and over their purchases), seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Fader, Hardie & Lee (2005), table 1, and Fader & Hardie (2013): time in weeks.
BGNBD_TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG_TRUTH = {"p": 6.25, "q": 3.74, "gamma": 15.44}
BIRTH_DAYS = 84  # first purchases spread over the first 12 weeks
CALIBRATION_DAYS = 273  # 39 weeks: days 0 … 272, the last one included
UNIT = 7.0  # days per week


@dataclass(frozen=True)
class Exact:
    """The same customers in continuous time, every purchase kept (weeks; unrounded
    amounts): what the models assume, for the truth-recovery control."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    mean_spend: np.ndarray


@dataclass(frozen=True)
class Customers:
    """One row per customer: ``x`` repeat purchase days, ``t_x_days`` from the first
    purchase day to the last, ``T_days`` from the first purchase day to the calibration's
    last day, ``repeat_cents`` the repeat purchases' total amount in cents."""

    x: np.ndarray
    t_x_days: np.ndarray
    T_days: np.ndarray
    repeat_cents: np.ndarray
    exact: Exact
    merged: int  # purchases that fell on a day the customer had already bought on

    @property
    def t_x(self) -> np.ndarray:
        return self.t_x_days / UNIT

    @property
    def T(self) -> np.ndarray:
        return self.T_days / UNIT

    @property
    def repeat(self) -> np.ndarray:
        """Whether the customer bought again (has a repeat purchase)."""
        return self.x > 0

    @property
    def mean_spend(self) -> np.ndarray:
        """Mean amount of a repeat purchase (NaN for one-time buyers)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.x > 0, self.repeat_cents / 100.0 / np.maximum(self.x, 1),
                            np.nan)


@dataclass(frozen=True)
class Compressed:
    """The compressed summaries the models are fitted on: one BG/NBD row per distinct
    (x, t_x, T) and one Gamma-Gamma row per distinct (x, repeat amount) of repeat buyers,
    each with its number of customers."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    n: np.ndarray
    gg_x: np.ndarray
    gg_m: np.ndarray
    gg_n: np.ndarray


def simulate(n: int, seed: int) -> Customers:
    """``n`` customers from the CDNOW parameters (see the module docstring)."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = BGNBD_TRUTH.values()
    p_gg, q_gg, gamma_gg = GG_TRUTH.values()
    birth = rng.uniform(0.0, BIRTH_DAYS, n)  # the moment of the first purchase, in days
    first = np.floor(birth).astype("int64")
    lam = rng.gamma(r, 1.0 / alpha, n)  # purchases per week while alive
    drop = rng.beta(a, b, n)  # the chance of leaving after each repeat purchase
    lifetime = rng.geometric(drop)  # the repeat purchase after which the customer leaves
    nu = rng.gamma(q_gg, 1.0 / gamma_gg, n)  # the customer's spend rate: mean p / nu
    window = CALIBRATION_DAYS - birth  # days watched after the first purchase
    arrivals = rng.poisson(lam * window / UNIT)  # Poisson arrivals in the window, if alive
    kept = np.minimum(lifetime, arrivals)  # ... of which those before leaving

    # Given their number, Poisson arrivals are uniform in the window; the first ``kept``
    # in time order are the purchases made.
    owner = np.repeat(np.arange(n), arrivals)
    offset = rng.uniform(0.0, 1.0, owner.size) * window[owner]
    order = np.lexsort((offset, owner))
    owner, offset = owner[order], offset[order]
    starts = np.cumsum(arrivals) - arrivals
    rank = np.arange(owner.size) - starts[owner]
    made = rank < kept[owner]
    owner, offset = owner[made], offset[made]
    day = np.floor(birth[owner] + offset).astype("int64")
    amount = rng.gamma(p_gg, 1.0 / nu[owner])
    cents = np.rint(amount * 100).astype("int64")
    exact = _exact(n, owner, offset, amount, window)

    # Day resolution: purchases on the first purchase's day belong to it, the others are
    # grouped by (customer, day) with their amounts added.
    later = day > first[owner]
    owner, day, cents = owner[later], day[later], cents[later]
    new_day = np.ones(owner.size, dtype=bool)
    new_day[1:] = (owner[1:] != owner[:-1]) | (day[1:] != day[:-1])
    x = np.bincount(owner[new_day], minlength=n)
    repeat_cents = np.bincount(owner, weights=cents, minlength=n).astype("int64")
    last = np.full(n, -1, dtype="int64")
    np.maximum.at(last, owner, day)  # days are sorted within a customer, so this is the last
    t_x_days = np.where(x > 0, last - first, 0)
    T_days = (CALIBRATION_DAYS - 1) - first
    return Customers(x=x.astype("int64"), t_x_days=t_x_days.astype("int64"),
                     T_days=T_days.astype("int64"), repeat_cents=repeat_cents, exact=exact,
                     merged=int(exact.x.sum() - x.sum()))


def _exact(n: int, owner: np.ndarray, offset: np.ndarray, amount: np.ndarray,
           window: np.ndarray) -> Exact:
    """Continuous-time summary of the purchases made (``owner`` sorted, ``offset`` in days
    after the first purchase, ascending within a customer)."""
    x = np.bincount(owner, minlength=n)
    last = np.zeros(n)
    np.maximum.at(last, owner, offset)
    total = np.bincount(owner, weights=amount, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(x > 0, total / np.maximum(x, 1), np.nan)
    return Exact(x=x.astype("float64"), t_x=last / UNIT, T=window / UNIT, mean_spend=mean)


def compress(c: Customers) -> Compressed:
    """The engine's summary: distinct (x, t_x, T) with counts, and distinct repeat buyers'
    (x, repeat amount) with counts; exact, on integer days and cents."""
    span = CALIBRATION_DAYS + 1
    key = (c.x * span + c.t_x_days) * span + c.T_days
    keys, n = np.unique(key, return_counts=True)
    T_days = keys % span
    t_x_days = (keys // span) % span
    x = keys // (span * span)
    rep = c.repeat
    pairs = np.stack([c.x[rep], c.repeat_cents[rep]], axis=1)
    gg, gg_n = np.unique(pairs, axis=0, return_counts=True)
    # the summaries balance: every customer in one BG/NBD row, every repeat buyer in one
    # Gamma-Gamma row
    assert n.sum() == c.x.size and gg_n.sum() == rep.sum()
    assert np.all(t_x_days <= T_days) and np.all(t_x_days[x == 0] == 0)
    return Compressed(x=x.astype("float64"), t_x=t_x_days / UNIT, T=T_days / UNIT,
                      n=n.astype("float64"), gg_x=gg[:, 0].astype("float64"),
                      gg_m=gg[:, 1] / 100.0 / gg[:, 0], gg_n=gg_n.astype("float64"))
