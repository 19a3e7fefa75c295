"""How the demo customers behave: acquisition by ad spend, purchases, tickets, e-mail.

The processes are simple textbook models so that their parameters can be planted and later
recovered by cxlens' analytics (see docs/demo.md):

* **Acquisition.** Daily spend per ad channel buys new customers through a saturating Hill
  curve ``vmax * s^h / (k^h + s^h)``, and they arrive with carry-over: each one some days
  later, the lag geometric with a per-channel decay (so the expected arrivals are the Hill
  response passed through a normalised geometric adstock). The rest arrive organically.
* **Purchases.** BG/NBD: while alive a customer buys as a Poisson process with rate
  ``lambda ~ Gamma(r, alpha)`` (per day) and drops out after each purchase with probability
  ``p ~ Beta(a, b)``. Order values follow Gamma-Gamma: ``nu ~ Gamma(q, gamma)``,
  ``value ~ Gamma(p_gg, nu)``.
* **Touchpoint lifts.** A newsletter click and a resolved support ticket each cause an extra
  order within a stated window with a stated probability: true causal effects. Wishlist adds
  have no effect but happen more often for customers with a high purchase rate (intent).
  A delayed delivery (:mod:`cxlens.demo.delivery`) is the planted harm: it holds back some
  customers' later purchases.

All times are float epoch seconds (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxlens.demo.calendar import DAYS, Calendar

DAY = 86400.0

BGNBD = {"r": 0.8, "alpha": 110.0, "a": 0.9, "b": 3.2, "time_unit": "days"}
GAMMA_GAMMA = {"p": 4.0, "q": 3.5, "gamma": 60.0, "currency": "EUR"}
LIFTS = {
    "newsletter_click": {"extra_order_probability": 0.08, "within_days": 14},
    "support_ticket_resolved": {"extra_order_probability": 0.10, "within_days": 30},
    "add_to_wishlist": {"extra_order_probability": 0.0, "within_days": 14},
}
TICKET_RATE = {"web": 0.09, "store": 0.04}
EMAIL = {"open": 0.28, "click": 0.04, "bounce_persons": 0.01}

# (channel, platform, campaign, share of channel budget)
CAMPAIGNS: tuple[tuple[str, str, str, float], ...] = (
    ("social_ads", "meta", "FI_Prospecting_Home", 0.45),
    ("social_ads", "meta", "SE_Prospecting_Outdoor", 0.35),
    ("social_ads", "meta", "FI_SE_Retargeting", 0.20),
    ("search_ads", "google", "FI_Search_Brand", 0.30),
    ("search_ads", "google", "FI_Search_Generic", 0.45),
    ("search_ads", "google", "SE_Search_Generic", 0.25),
)
# Per 1 000 buyers: base daily budget (EUR) and Hill curve (new customers per day), and the
# carry-over's daily decay: a social ad is remembered for days (mean lag 1.5 days), a search
# ad answers a need of the moment (mean lag 0.43 days).
CHANNELS = {
    "social_ads": {"budget": 40.0, "vmax": 0.30, "k": 45.0, "h": 1.2, "decay": 0.6},
    "search_ads": {"budget": 30.0, "vmax": 0.25, "k": 25.0, "h": 1.0, "decay": 0.3},
}
# Search pauses now and then: each week off with this probability (search_pauses).
SEARCH_PAUSE_WEEK = 0.15


def hill(spend: np.ndarray, vmax: float, k: float, h: float) -> np.ndarray:
    return vmax * spend**h / (k**h + spend**h)


def adstock(x: np.ndarray, decay: float) -> np.ndarray:
    """Normalised geometric adstock ``y_t = decay * y_{t-1} + (1 - decay) * x_t``, ``y_{-1} = 0``:
    the expectation of a series whose every unit arrives after a lag ``L`` with
    ``P(L = l) = (1 - decay) * decay**l``."""
    out = np.empty(len(x))
    prev = 0.0
    for t, v in enumerate(x):
        prev = decay * prev + (1.0 - decay) * float(v)
        out[t] = prev
    return out


@dataclass
class Spend:
    day: np.ndarray  # day index per row
    campaign: np.ndarray  # index into CAMPAIGNS
    cents: np.ndarray
    acquired: np.ndarray  # true new customers per (channel, day bought): shape (2, DAYS)
    expected: np.ndarray  # Hill expectation per (channel, day bought)
    curves: dict[str, dict[str, float]]
    lag: list[np.ndarray] | None = None  # per channel, per customer bought: days until arrival
    arrived: np.ndarray | None = None  # the same customers by the day they arrive (carry_over)
    paused: np.ndarray | None = None  # per day: search paused (search_pauses)


def carry_over(rng: np.random.Generator, spend: Spend) -> None:
    """Spread the customers a day's spend bought over the following days (``spend.arrived``).

    Each arrives ``L`` days after the spend, ``P(L = l) = (1 - decay) * decay**l`` with the
    channel's decay, so the expected arrivals per day are the normalised geometric adstock
    of the Hill response (Jin et al. 2017). A lag that would carry a customer past the
    window's last day ends on that day. Its own random stream, drawn after the spend's, so
    the spend, the platforms' reports and the number of customers stay as they were.
    """
    arrived = np.zeros_like(spend.acquired)
    lags = []
    for ci, par in enumerate(CHANNELS.values()):
        day = np.repeat(np.arange(DAYS), spend.acquired[ci])
        lag = np.minimum(rng.geometric(1.0 - par["decay"], len(day)) - 1, DAYS - 1 - day)
        arrived[ci] = np.bincount(day + lag, minlength=DAYS)
        lags.append(lag)
    spend.lag, spend.arrived = lags, arrived


def search_pauses(rng: np.random.Generator) -> np.ndarray:
    """Which days search is paused: each week (seven days from the window's first) off with
    probability ``SEARCH_PAUSE_WEEK`` — a budget cap reached, a campaign rebuilt.

    Without pauses search's response at no spend is never seen and its curve trades off
    against the baseline (docs/methods.md, "Limits"). Its own random stream (``pauses``), so
    the spend on the other days is what it was.
    """
    weeks = rng.random(DAYS // 7 + 1) < SEARCH_PAUSE_WEEK
    return weeks[np.arange(DAYS) // 7]


def make_spend(rng: np.random.Generator, scale: float,
               paused: np.ndarray | None = None) -> Spend:
    """Daily spend per campaign with flights and weekday rhythm, and the customers it buys.

    Budgets change every four weeks by a log-normal factor (some social flights are off,
    and search pauses for a week now and then: ``paused``, see :func:`search_pauses`), so
    spend covers a wide range, starts and stops, and the response curves and carry-over can
    be identified.
    """
    days = np.arange(DAYS)
    weekday = (days + 6) % 7  # the window's day 0 is a "Sunday" (it was, on the default day)
    week_factor = np.array([1.1, 1.05, 1.0, 1.0, 0.95, 0.85, 0.9])[weekday]
    acquired = np.zeros((2, DAYS), dtype=np.int64)
    expected = np.zeros((2, DAYS))
    rows_day, rows_camp, rows_cents = [], [], []
    curves = {}
    for ci, (ch, par) in enumerate(CHANNELS.items()):
        flights = rng.lognormal(0.0, 0.6, DAYS // 28 + 1)
        if ch == "social_ads":
            flights[rng.random(len(flights)) < 0.12] = 0.0
        level = flights[days // 28] * week_factor * rng.lognormal(0.0, 0.15, DAYS)
        if ch == "search_ads" and paused is not None:
            level = np.where(paused, 0.0, level)
        total = par["budget"] * scale * level
        vmax, k = par["vmax"] * scale, par["k"] * scale
        expected[ci] = hill(total, vmax, k, par["h"])
        acquired[ci] = rng.poisson(expected[ci])
        curves[ch] = {"vmax_new_customers_per_day": round(vmax, 6), "k_eur_per_day":
                      round(k, 4), "h": par["h"], "decay": par["decay"]}
        camps = [i for i, c in enumerate(CAMPAIGNS) if c[0] == ch]
        shares = np.array([CAMPAIGNS[i][3] for i in camps])
        split = rng.dirichlet(shares * 40, DAYS)
        for j, cidx in enumerate(camps):
            cents = np.round(total * split[:, j] * 100).astype(np.int64)
            keep = cents > 0
            rows_day.append(days[keep])
            rows_camp.append(np.full(int(keep.sum()), cidx))
            rows_cents.append(cents[keep])
    return Spend(np.concatenate(rows_day), np.concatenate(rows_camp),
                 np.concatenate(rows_cents), acquired, expected, curves, paused=paused)


@dataclass
class Customers:
    """Latent purchase behaviour per person (visitors get their first visit as birth)."""

    birth: np.ndarray  # epoch s of first purchase (buyers) or first visit (visitors)
    acq_channel: np.ndarray  # -1 organic, 0 social_ads, 1 search_ads
    acq_campaign: np.ndarray  # index into CAMPAIGNS or -1
    lam: np.ndarray  # purchases per day while alive
    p_drop: np.ndarray
    nu: np.ndarray  # Gamma-Gamma scale parameter
    death: np.ndarray  # epoch s of dropout (may lie after the window)
    active_end: np.ndarray  # last day with browsing activity


def time_of_day(rng: np.random.Generator, n: int, store: np.ndarray | None = None
                ) -> np.ndarray:
    """Seconds after local midnight: stores 10-20, web with an evening peak."""
    web = np.clip(rng.normal(19.0, 3.5, n), 6.0, 23.9) * 3600
    if store is None:
        return web
    return np.where(store, rng.uniform(10.0, 19.9, n) * 3600, web)


def make_customers(rng: np.random.Generator, buyer: np.ndarray, spend: Spend, cal: Calendar
                   ) -> Customers:
    n = len(buyer)
    nb = int(buyer.sum())
    birth_day = np.zeros(n, dtype=np.int64)
    acq_channel = np.full(n, -1)
    acq_campaign = np.full(n, -1)
    order = rng.permutation(np.flatnonzero(buyer))
    # Ad-acquired customers first, on the days they arrive: the day the spend bought them
    # plus their carry-over lag (carry_over), in the order of the days they were bought.
    ad_days, ad_ch = [], []
    for ci in range(2):
        bought = np.repeat(np.arange(DAYS), spend.acquired[ci])
        ad_days.append(bought if spend.lag is None else bought + spend.lag[ci])
        ad_ch.append(np.full(len(bought), ci))
    ad_days_a = np.concatenate(ad_days)[:nb]
    ad_ch_a = np.concatenate(ad_ch)[:nb]
    n_ad = len(ad_days_a)
    birth_day[order[:n_ad]] = ad_days_a
    acq_channel[order[:n_ad]] = ad_ch_a
    # campaign of the channel, proportional to that day's spend
    for ci, ch in enumerate(CHANNELS):
        sel = order[:n_ad][ad_ch_a == ci]
        camps = [i for i, c in enumerate(CAMPAIGNS) if c[0] == ch]
        acq_campaign[sel] = np.array(camps)[rng.integers(0, len(camps), len(sel))]
    # Organic customers: a growing business, more new customers later in the window.
    w = 1.0 + np.arange(DAYS) / DAYS
    organic = order[n_ad:]
    birth_day[organic] = rng.choice(DAYS, len(organic), p=w / w.sum())
    visitors = ~buyer
    birth_day[visitors] = rng.integers(0, DAYS, int(visitors.sum()))
    birth = cal.start_epoch + birth_day * DAY + time_of_day(rng, n) - 2 * 3600

    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n)
    p_drop = rng.beta(BGNBD["a"], BGNBD["b"], n)
    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["gamma"], n)
    return Customers(birth, acq_channel, acq_campaign, lam, p_drop, nu,
                     np.zeros(n), np.zeros(n))


@dataclass
class Orders:
    person: np.ndarray
    t: np.ndarray
    store: np.ndarray  # bool
    store_idx: np.ndarray  # index into STORES, -1 for web
    cents: np.ndarray
    origin: np.ndarray  # 0 BG/NBD, 1 newsletter lift, 2 ticket lift
    ticket: np.ndarray  # bool: a support ticket follows this order (set by make_tickets)


def baseline_orders(rng: np.random.Generator, buyer: np.ndarray, cu: Customers,
                    home_store: np.ndarray, store_share: np.ndarray, cal: Calendar) -> Orders:
    """First purchase at birth, then BG/NBD repeats; also sets death and active_end."""
    persons = np.flatnonzero(buyer)
    k = np.minimum(rng.geometric(cu.p_drop[persons]) - 1, 60)
    rep_person = np.repeat(persons, k)
    gaps = rng.exponential(1.0, len(rep_person)) / cu.lam[rep_person] * DAY
    csum = np.cumsum(gaps)
    starts = np.concatenate([[0], np.cumsum(k)[:-1]])
    offset = np.repeat(np.concatenate([[0.0], csum])[starts], k)
    t_rep = cu.birth[rep_person] + (csum - offset)
    last = np.zeros(len(cu.birth))
    has = k > 0
    ends = np.cumsum(k)[has] - 1
    last[persons[has]] = t_rep[ends] - cu.birth[persons[has]]
    cu.death[:] = cu.birth + last
    end = cal.end_epoch
    cu.active_end[:] = np.minimum(cu.death + 60 * DAY, end - 1)
    cu.active_end[~buyer] = np.minimum(cu.birth[~buyer] + rng.uniform(0, 60, int(
        (~buyer).sum())) * DAY, end - 1)
    keep = t_rep < end
    person = np.concatenate([persons, rep_person[keep]])
    t = np.concatenate([cu.birth[persons], t_rep[keep]])
    return _make_orders(rng, person, t, np.zeros(len(person), np.int64), cu, home_store,
                        store_share, cal)


def _make_orders(rng: np.random.Generator, person: np.ndarray, t: np.ndarray,
                 origin: np.ndarray, cu: Customers, home_store: np.ndarray,
                 store_share: np.ndarray, cal: Calendar) -> Orders:
    n = len(person)
    first = np.isclose(t, cu.birth[person]) & (origin == 0)
    store = rng.random(n) < store_share[person]
    store &= ~(first & (cu.acq_channel[person] >= 0))  # ad-acquired buy online first
    store &= origin != 1  # newsletter clicks lead to the webshop
    start = cal.start_epoch
    day0 = np.floor((t - start + 2 * 3600) / DAY)
    t = start + day0 * DAY + time_of_day(rng, n, store) - 2 * 3600
    t = np.clip(t, start, cal.end_epoch - 1)
    value = rng.gamma(GAMMA_GAMMA["p"], 1.0, n) / cu.nu[person]
    cents = np.maximum(np.round(value * 100), 490).astype(np.int64)
    return Orders(person, t, store, np.where(store, home_store[person], -1), cents, origin,
                  np.zeros(n, bool))


def lift_orders(rng: np.random.Generator, person: np.ndarray, t: np.ndarray, name: str,
                origin: int, cu: Customers, home_store: np.ndarray,
                store_share: np.ndarray, cal: Calendar) -> Orders:
    """Extra orders caused by touchpoints: uniform within the window, with the stated odds."""
    par = LIFTS[name]
    hit = rng.random(len(person)) < par["extra_order_probability"]
    te = t[hit] + rng.uniform(0.05, par["within_days"], int(hit.sum())) * DAY
    ok = te < cal.end_epoch - DAY
    return _make_orders(rng, person[hit][ok], te[ok], np.full(int(ok.sum()), origin), cu,
                        home_store, store_share, cal)


def concat_orders(parts: list[Orders]) -> Orders:
    cat = {f: np.concatenate([getattr(p, f) for p in parts]) for f in Orders.__dataclass_fields__}
    o = np.argsort(cat["t"], kind="stable")
    return Orders(**{f: v[o] for f, v in cat.items()})


@dataclass
class Tickets:
    person: np.ndarray
    t: np.ndarray
    order: np.ndarray  # index of the order that caused it
    status: np.ndarray  # 0 solved, 1 closed, 2 pending, 3 open
    resolved_t: np.ndarray


def make_tickets(rng: np.random.Generator, orders: Orders, cal: Calendar) -> Tickets:
    """Tickets after some baseline orders; marks those orders (``orders.ticket``)."""
    p = np.where(orders.store, TICKET_RATE["store"], TICKET_RATE["web"])
    sel = np.flatnonzero((rng.random(len(orders.t)) < p) & (orders.origin == 0))
    t = orders.t[sel] + rng.exponential(3.0, len(sel)) * DAY
    end = cal.end_epoch
    ok = t < end - 3600
    sel, t = sel[ok], t[ok]
    status = rng.choice(4, len(sel), p=[0.80, 0.12, 0.04, 0.04])
    recent = t > end - 3 * DAY
    status[recent & (status < 2)] = 3
    resolved_t = t + rng.exponential(1.2, len(sel)) * DAY
    resolved_t = np.where(resolved_t < end - 60, resolved_t, end - 60)
    orders.ticket[sel] = True
    return Tickets(orders.person[sel], t, sel, status, resolved_t)


@dataclass
class Emails:
    person: np.ndarray
    t: np.ndarray
    action: np.ndarray  # 0 open, 1 click, 2 bounce
    campaign: np.ndarray  # weekly campaign number


def campaign_time(c: np.ndarray, cal: Calendar) -> np.ndarray:
    """Weekly newsletter at 07:00 UTC, first on the window's third day (a Tuesday on the
    default day)."""
    return cal.start_epoch + (2 + 7 * c) * DAY + 7 * 3600


def make_emails(rng: np.random.Generator, subscribed: np.ndarray, cu: Customers,
                cal: Calendar) -> Emails:
    """Opens and clicks of subscribers, independent of whether they still buy."""
    n_camp = (DAYS - 3) // 7 + 1  # days 2, 9, … up to the window's last day
    subs = np.flatnonzero(subscribed)
    first = np.ceil((cu.birth[subs] - campaign_time(np.zeros(1), cal)) / (7 * DAY)).astype(int)
    first = np.clip(first, 0, n_camp)
    avail = n_camp - first
    parts = []
    for action, prob in ((0, EMAIL["open"]), (1, EMAIL["click"])):
        cnt = rng.binomial(avail, prob)
        who = np.repeat(np.arange(len(subs)), cnt)
        camp = first[who] + np.floor(rng.random(len(who)) * avail[who]).astype(int)
        delay = rng.exponential(10.0 if action == 0 else 14.0, len(who)) * 3600
        parts.append((subs[who], campaign_time(camp, cal) + delay, np.full(len(who), action),
                      camp))
    bounce = np.flatnonzero(rng.random(len(subs)) < EMAIL["bounce_persons"])
    bounce = bounce[avail[bounce] > 0]
    parts.append((subs[bounce], campaign_time(first[bounce], cal) + 60, np.full(len(bounce), 2),
                  first[bounce]))
    person, t, action, camp = (np.concatenate(x) for x in zip(*parts, strict=True))
    ok = t < cal.end_epoch - 60
    o = np.argsort(t[ok], kind="stable")
    return Emails(person[ok][o], t[ok][o], action[ok][o], camp[ok][o])
