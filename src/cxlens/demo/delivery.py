"""The planted harm: a delayed delivery puts some customers off buying for months.

Business moments must find the moments that *lose* customers as well as those that win
them (issue 11), so the demo plants one with a known, negative effect:

* **Which deliveries are late.** Each webshop order of a CRM contact is delayed with
  probability ``delay_probability``, at random: not tied to the customer's intent, so the
  effect is identifiable. The shop's server then sends a GA4 ``delivery_delayed`` event
  (Measurement Protocol: the customer's ``user_id``, a server-side client id, the order's
  ``transaction_id``) ``notice_days`` after the order. Only CRM contacts have a
  ``user_id``, which is what ties the event to the customer who ordered.
* **What it does.** At a customer's *first* delay, with probability ``put_off_probability``
  they are put off: each of their later purchases from the BG/NBD process is moved
  ``hold_days`` later. A later delay of the same customer does nothing more.

Left alone, as the value link (:mod:`.value_link`) leaves them, so that every other planted
truth and count stays as it was: the number of orders and who made them, their channel,
store, amount and order number; orders from the touchpoint lifts and orders followed by a
support ticket (their lift and ticket are timed from them); and any order that would be
pushed later than ``LATEST_BEFORE_END`` days before the end of the window. Surveys and the
GA4 purchase session of a moved order follow it, as they follow the value link's moves.

The harm has its own random stream, drawn after everything else, so the files differ from a
demo without it only where the harm acts: the moved orders' times (and what follows them)
and the GA4 events it adds. Documented in docs/demo.md (``touchpoint_lifts``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from cxlens.demo.behaviour import CAMPAIGNS, DAY, Customers, Orders
from cxlens.demo.calendar import Calendar
from cxlens.demo.people import People
from cxlens.demo.value_link import LATEST_BEFORE_END
from cxlens.demo.writers import fmt_date, join, pick, text, utc_offset_hours

DELIVERY = {"delay_probability": 0.3, "notice_days": [2.0, 6.0],
            "put_off_probability": 0.7, "hold_days": 120}
EVENT = "delivery_delayed"


@dataclass
class Delays:
    """One row per delayed order: the order (index into the orders), its customer, the
    notice's delay after the order (seconds), whether it is the customer's first delay and
    whether that first delay put the customer off."""

    order: np.ndarray
    person: np.ndarray
    after: np.ndarray
    first: np.ndarray
    put_off: np.ndarray

    def times(self, orders: Orders) -> np.ndarray:
        """The notices' times, following the orders (a moved order's notice moves too)."""
        return orders.t[self.order] + self.after


def draw(rng: np.random.Generator, pp: People, orders: Orders, cal: Calendar) -> Delays:
    """Which webshop orders of CRM contacts are delayed, and which customers it puts off."""
    lo, hi = DELIVERY["notice_days"]
    p = DELIVERY["delay_probability"]
    late = rng.random(len(orders.t)) < p
    after = rng.uniform(lo, hi, len(orders.t)) * DAY
    off = rng.random(len(orders.t)) < DELIVERY["put_off_probability"]
    ok = late & ~orders.store & pp.in_crm[orders.person] & (orders.t + after
                                                             < cal.end_epoch - 3600)
    sel = np.flatnonzero(ok)
    person = orders.person[sel]
    order = np.lexsort((orders.t[sel] + after[sel], person))  # by person, then time
    first = np.zeros(len(sel), bool)
    first[order[np.r_[True, person[order][1:] != person[order][:-1]][:len(sel)]]] = True
    return Delays(sel, person, after[sel], first, first & off[sel])


def plant(orders: Orders, d: Delays, n_persons: int, cal: Calendar
          ) -> tuple[Orders, np.ndarray]:
    """The orders with the harm planted (same length and order), and which were moved."""
    when = np.full(n_persons, np.inf)  # per person: the notice that put them off
    when[d.person[d.put_off]] = d.times(orders)[d.put_off]
    after = (orders.t > when[orders.person]) & (orders.origin == 0) & ~orders.ticket
    new_t = orders.t + DELIVERY["hold_days"] * DAY
    moved = after & (new_t <= cal.end_epoch - LATEST_BEFORE_END * DAY)
    return replace(orders, t=np.where(moved, new_t, orders.t)), moved


def realised(before: Orders, after: Orders, d: Delays, linked: np.ndarray, n_persons: int,
             cal: Calendar, horizons: tuple[int, ...] = (30, 90)) -> dict[str, dict]:
    """Per horizon: the customers whose first delay plus the horizon lies in the window, and
    the % of them with a linked order in it, with the harm and without it (the same
    customers' orders before the harm moved them): the difference is the harm's realised
    effect on those who met it. ``linked`` as in :func:`.value_link.realised`."""
    out: dict[str, dict] = {}
    t0 = d.times(before)[d.first]
    who = d.person[d.first]
    for h in horizons:
        keep = t0 + h * DAY <= cal.end_epoch
        start = np.full(n_persons, np.nan)  # per person: the first notice, if counted
        start[who[keep]] = t0[keep]
        row: dict[str, float | int] = {"customers": int(keep.sum())}
        for name, o in (("with_harm", after), ("without_harm", before)):
            a = start[o.person]
            inside = linked & (o.t > a) & (o.t <= a + h * DAY)  # NaN compares False
            pct = 100 * np.isin(who[keep], o.person[inside]).mean() if keep.any() else 0.0
            row[f"bought_pct_{name}"] = round(float(pct), 2)
        row["effect_pp"] = round(row["bought_pct_with_harm"] - row["bought_pct_without_harm"],
                                 2)
        out[str(h)] = row
    return out


def ga4_rows(d: Delays, pp: People, cu: Customers, orders: Orders,
             order_names: pa.Array) -> dict[str, pa.Array]:
    """The GA4 export's rows of the delay notices (columns as :data:`.ga4.HEADER`): sent by
    the shop's server with the customer's ``user_id`` and a server-side client id."""
    t = d.times(orders)
    o = np.argsort(t, kind="stable")
    t, person, order = t[o], d.person[o], d.order[o]
    n = len(t)
    t_us = (t * 1e6).astype(np.int64)
    local = t.astype(np.int64) + utc_offset_hours(t.astype(np.int64), 2) * 3600
    acq, camp = cu.acq_channel[person], cu.acq_campaign[person]
    none = pa.nulls(n, pa.string())
    return {
        "event_date": fmt_date(local, "%Y%m%d"),
        "event_timestamp": text(t_us),
        "event_name": pick((EVENT,), np.zeros(n, int)),
        "user_pseudo_id": join(text(2_100_000_000 + order), text(t.astype(np.int64)),
                               sep="."),
        "user_id": pp.crm_id.take(pa.array(person)),
        "platform": pick(("WEB",), np.zeros(n, int)),
        "stream_id": pick(("3456789012",), np.zeros(n, int)),
        "device_category": none,
        "geo_country": none,
        "geo_city": none,
        "traffic_source_source": pick(("(direct)", "facebook", "google"), acq + 1),
        "traffic_source_medium": pick(("(none)", "paid_social", "cpc"), acq + 1),
        "traffic_source_name": pick([*(c[2] for c in CAMPAIGNS), "(direct)"],
                                    np.where(camp >= 0, camp, len(CAMPAIGNS))),
        "ga_session_id": none,
        "page_location": none,
        "transaction_id": order_names.take(pa.array(order)),
        "purchase_revenue": none,
    }
