"""The planted link from experience to value: promoters come back sooner, detractors later.

After a customer's **first** NPS answer (at time a), each of their later purchases from the
BG/NBD process is moved to a + f·(t − a), in whole days so that its time of day stays, with
the gap factor f set by the answer (``VALUE_LINK``): promoters' gaps shrink, passives' a
little, detractors' grow. So within 90 or 180 days after answering, promoters buy again more
often and spend more than detractors.

What is left alone, so that every other planted truth and count stays as it was: the number
of orders and who made them, their channel, store, amount and order number; orders from the
touchpoint lifts and orders followed by a support ticket (their lift and ticket are timed
from them); every order up to the first answer; and any order that would be pushed later
than ``LATEST_BEFORE_END`` days before the end of the window (so that the surveys after it
stay inside the window). Surveys drawn after a moved order follow it, their count decided on
the times before the move. The only randomness is the NPS answers' own, so the link needs no
random stream of its own. The BG/NBD truths (``bgnbd``) describe the purchases before this
step. Documented in docs/demo.md (``value_link``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cxlens.demo.behaviour import DAY, Orders
from cxlens.demo.calendar import Calendar
from cxlens.demo.feedback import NpsAnswers

GROUPS = ("promoter", "passive", "detractor")
VALUE_LINK = {"gap_factor": {"promoter": 0.25, "passive": 0.7, "detractor": 2.0}}
LATEST_BEFORE_END = 60  # days: an order is never pushed later than this before the end


@dataclass
class FirstAnswers:
    """Per person: the time of the first NPS answer (NaN without one) and its group
    (0 promoter 9–10, 1 passive 7–8, 2 detractor 0–6, −1 without an answer)."""

    t: np.ndarray
    group: np.ndarray


def first_answers(ans: NpsAnswers, orders: Orders, n_persons: int) -> FirstAnswers:
    t = ans.times(orders)
    person = orders.person[ans.sel]
    order = np.lexsort((t, person))  # by person, then time: the first row of each person
    p, tt, sc = person[order], t[order], ans.score[order]
    first = np.r_[True, p[1:] != p[:-1]]
    out_t = np.full(n_persons, np.nan)
    out_g = np.full(n_persons, -1)
    out_t[p[first]] = tt[first]
    out_g[p[first]] = np.where(sc[first] >= 9, 0, np.where(sc[first] >= 7, 1, 2))
    return FirstAnswers(out_t, out_g)


def plant(orders: Orders, first: FirstAnswers, cal: Calendar) -> tuple[Orders, np.ndarray]:
    """The orders with the link planted (same length and order), and which were moved."""
    a = first.t[orders.person]
    g = first.group[orders.person]
    factor = np.array([VALUE_LINK["gap_factor"][x] for x in GROUPS])[np.maximum(g, 0)]
    after = (g >= 0) & (orders.t > a) & (orders.origin == 0) & ~orders.ticket
    gap = np.where(after, orders.t - np.nan_to_num(a), 0.0)
    shift = np.trunc(gap * (factor - 1.0) / DAY)  # whole days: < 0 earlier, > 0 later
    new_t = orders.t + shift * DAY
    moved = after & (shift != 0) & (new_t <= cal.end_epoch - LATEST_BEFORE_END * DAY)
    return replace(orders, t=np.where(moved, new_t, orders.t)), moved


def realised(orders: Orders, first: FirstAnswers, linked: np.ndarray, cal: Calendar,
             horizons: tuple[int, ...] = (90, 180)) -> dict[str, dict[str, dict]]:
    """Per horizon and group: customers whose whole window lies in the data, the % with an
    order in it and their revenue per customer (EUR), counting the ``linked`` orders (those
    the files tie to the customer: web orders not refunded, store receipts with a loyalty
    number)."""
    out: dict[str, dict[str, dict]] = {}
    answered = np.flatnonzero(first.group >= 0)
    keep = np.flatnonzero(linked)
    o = keep[np.argsort(orders.person[keep], kind="stable")]
    op, ot, oc = orders.person[o], orders.t[o], orders.cents[o]
    for d in horizons:
        a = first.t[answered]
        keep = a + d * DAY <= cal.end_epoch
        who, a = answered[keep], a[keep]
        lo = np.searchsorted(op, who, side="left")
        cnt = np.searchsorted(op, who, side="right") - lo
        idx = np.repeat(np.arange(len(who)), cnt)  # each customer's orders, vectorised
        rows = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt) \
            + np.repeat(lo, cnt)
        inside = (ot[rows] > a[idx]) & (ot[rows] <= a[idx] + d * DAY)
        n_orders = np.bincount(idx[inside], minlength=len(who))
        cents = np.bincount(idx[inside], oc[rows][inside], minlength=len(who))
        grp = first.group[who]
        out[str(d)] = {
            name: {"customers": int((grp == gi).sum()),
                   "bought_again_pct": round(float(100 * (n_orders[grp == gi] > 0).mean()), 2)
                   if (grp == gi).any() else None,
                   "revenue_per_customer_eur": round(float(cents[grp == gi].mean() / 100), 2)
                   if (grp == gi).any() else None}
            for gi, name in enumerate(GROUPS)}
    return out
