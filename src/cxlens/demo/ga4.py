"""GA4 web and app events, written as a BigQuery export flattened to CSV.

Sessions are drawn per person (browsing while active, one session per webshop order), then
expanded to events in chunks so that memory stays flat for the L size. Each device has a
``user_pseudo_id``; ``user_id`` (the CRM id) is set only on sessions where a CRM customer is
logged in (always in the app), which is what links a device to a person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import company as co
from cxlens.demo.behaviour import CAMPAIGNS, DAY, Customers, Orders
from cxlens.demo.people import People
from cxlens.demo.writers import (
    CsvOut,
    fmt_date,
    fmt_money,
    join,
    pick,
    text,
    utc_offset_hours,
    where,
)

HEADER = (
    "event_date", "event_timestamp", "event_name", "user_pseudo_id", "user_id", "platform",
    "stream_id", "device_category", "geo_country", "geo_city", "traffic_source_source",
    "traffic_source_medium", "traffic_source_name", "ga_session_id", "page_location",
    "transaction_id", "purchase_revenue",
)
# Event types in their order within a session.
TYPES = ("session_start", "page_view", "view_item", "add_to_wishlist", "add_to_cart",
         "begin_checkout", "purchase")
PAGES = ("/", "/retkeily", "/koti", "/tuote/teltta-tunturi-2", "/tuote/merinopaita",
         "/kampanjat", "/tuote/untuvamakuupussi", "/ostoskori")
WISH = {"base": 0.10, "visitor": 0.02, "max": 0.7}
BAD_ROWS = 2  # rows with an empty event_timestamp, for the quarantine


@dataclass
class Sessions:
    person: np.ndarray
    t: np.ndarray
    device: np.ndarray  # 0 web cookie, 1 second browser, 2 app
    logged_in: np.ndarray
    order: np.ndarray  # index into orders, -1 for browsing


def make_sessions(rng: np.random.Generator, pp: People, cu: Customers, orders: Orders,
                  drawn_t: np.ndarray | None = None, end: float | None = None) -> Sessions:
    """Browsing sessions and one purchase session per webshop order, in time order.

    ``end``: the window's end (UTC); a browsing session starts at least 4 hours before it,
    so its events stay on the window's last day in Helsinki's wall clock too (2 or 3 hours
    ahead of UTC), which GA4's ``event_date`` is written in.
    ``drawn_t``: the orders' times before the value link moved some of them; sessions are
    put in the order those give, so the per-session draws stay the same and a moved order's
    purchase session only changes its time."""
    lam_mean = cu.lam[pp.buyer].mean()
    start = np.maximum(cu.birth - 14 * DAY, cu.birth.min())
    window = np.maximum(cu.active_end - start, DAY) / DAY
    intent = np.sqrt(cu.lam / lam_mean)
    mu = np.where(pp.buyer, 0.012 * window * np.clip(intent, 0.2, 3.0), 1.5)
    cnt = rng.poisson(mu) + (~pp.buyer)
    person = np.repeat(np.arange(pp.n), cnt)
    t = start[person] + rng.random(len(person)) * window[person] * DAY
    if end is not None:
        t = np.minimum(t, end - 4 * 3600)
    web = np.flatnonzero(~orders.store)
    person = np.concatenate([person, orders.person[web]])
    before = rng.uniform(120, 1500, len(web))
    key = np.concatenate([t, (orders.t if drawn_t is None else drawn_t)[web] - before])
    t = np.concatenate([t, orders.t[web] - before])
    order = np.concatenate([np.full(len(t) - len(web), -1), web])
    u = rng.random(len(t))
    device = np.where(pp.has_app[person] & (u < 0.5), 2,
                      np.where(pp.second_browser[person] & (u > 0.7), 1, 0))
    login_p = np.where(order >= 0, 0.6, 0.35)
    logged_in = pp.in_crm[person] & ((device == 2) | (rng.random(len(t)) < login_p))
    o = np.argsort(key, kind="stable")
    return Sessions(person[o], t[o], device[o], logged_in[o], order[o])


def device_ids(rng: np.random.Generator, n: int, first_seen: np.ndarray) -> list[pa.Array]:
    """user_pseudo_id per person and device: web cookies ``rand.epoch``, app 32 hex chars."""
    # idx * prime mod M is a permutation: cookie ids never collide between persons.
    idx = np.arange(n, dtype=np.int64)
    r1 = text(1_000_000_000 + (idx * 48_271 + 12_345) % 500_000_000)
    r2 = text(1_500_000_000 + (idx * 48_271 + 54_321) % 500_000_000)
    epoch = text(first_seen.astype(np.int64))
    hexa = pc.utf8_upper(join(
        pc.utf8_lpad(text(rng.integers(0, 2**62, n)), 19, "0"),
        pc.utf8_lpad(text(rng.integers(0, 2**62, n)), 19, "0"), sep=""))
    app = pc.utf8_slice_codeunits(hexa, 6, 38)
    return [join(r1, epoch, sep="."), join(r2, epoch, sep="."), app]


def write_events(path: Path, rng: np.random.Generator, pp: People, cu: Customers,
                 orders: Orders, order_names: pa.Array,
                 progress: Callable[[float], None] | None = None,
                 drawn_t: np.ndarray | None = None,
                 extra: dict[str, pa.Array] | None = None,
                 end: float | None = None) -> dict[str, object]:
    """Write the events CSV; return counts and the device linkage needed for the truths.

    ``extra``: rows drawn elsewhere (the delivery delays' server-side events, see
    :mod:`.delivery`), written after the sessions' events and before the bad rows, so that
    no draw here depends on them. ``end``: the window's end (see :func:`make_sessions`)."""
    ss = make_sessions(rng, pp, cu, orders, drawn_t, end)
    ids = device_ids(rng, pp.n, cu.birth)
    dev_seen = np.zeros((pp.n, 3), dtype=bool)
    dev_linked = np.zeros((pp.n, 3), dtype=bool)
    np.logical_or.at(dev_seen, (ss.person, ss.device), True)
    np.logical_or.at(dev_linked, (ss.person, ss.device), ss.logged_in)
    lam_mean = cu.lam[pp.buyer].mean()
    p_wish = np.where(pp.buyer, np.clip(WISH["base"] * cu.lam / lam_mean, 0, WISH["max"]),
                      WISH["visitor"])
    counts = dict.fromkeys((*TYPES, "screen_view"), 0)
    out = CsvOut(path, HEADER)
    chunk = 150_000
    n_sess = len(ss.t)
    session_id = (ss.t.astype(np.int64)).astype(np.int64)
    for lo in range(0, max(n_sess, 1), chunk):
        hi = min(lo + chunk, n_sess)
        sl = slice(lo, hi)
        m = hi - lo
        buy = ss.order[sl] >= 0
        c = np.zeros((m, len(TYPES)), dtype=np.int64)
        c[:, 0] = 1
        c[:, 1] = 1 + rng.poisson(np.where(buy, 1.0, 1.5))
        c[:, 2] = np.where(buy, 1, rng.poisson(1.0, m))
        c[:, 3] = (~buy) & (rng.random(m) < p_wish[ss.person[sl]])
        c[:, 4] = buy | (rng.random(m) < 0.12)
        c[:, 5] = buy
        c[:, 6] = buy
        sidx = np.repeat(np.arange(m), c.sum(axis=1))
        etype = np.repeat(np.tile(np.arange(len(TYPES)), m), c.ravel())
        gaps = rng.exponential(45.0, len(sidx))
        gaps[np.r_[True, sidx[1:] != sidx[:-1]]] = 0.0
        csum = np.cumsum(gaps)
        first_idx = np.r_[0, np.flatnonzero(sidx[1:] != sidx[:-1]) + 1]
        within = csum - np.repeat(csum[first_idx], np.diff(np.r_[first_idx, len(sidx)]))
        g = lo + sidx
        t_us = ((ss.t[g] + within) * 1e6).astype(np.int64)
        person = ss.person[g]
        dev = ss.device[g]
        for k, name in enumerate(TYPES):
            counts[name] += int((etype == k).sum())
        counts["screen_view"] += int(((etype == 1) & (dev == 2)).sum())
        out.write(_columns(rng, pp, cu, ss, g, t_us, person, dev, etype, ids, orders,
                           order_names, session_id))
        if progress:
            progress(hi / max(n_sess, 1))
    if extra is not None and len(extra["event_name"]):
        out.write(extra)
        for name in extra["event_name"].unique().to_pylist():
            counts[name] = int(pc.sum(pc.equal(extra["event_name"], name)).as_py())
    # Deliberately bad rows: a copy of the first event with an empty timestamp.
    bad = {h: pa.array([""] * BAD_ROWS) for h in HEADER}
    bad["event_name"] = pa.array(["page_view"] * BAD_ROWS)
    first_uid = ids[int(ss.device[0])][int(ss.person[0])].as_py() if n_sess else ""
    bad["user_pseudo_id"] = pa.array([first_uid] * BAD_ROWS)
    bad["event_date"] = pa.array(["20250230", "20250231"])
    out.write(bad)
    out.close()
    counts["page_view"] -= counts["screen_view"]
    return {"counts": counts, "sessions": n_sess, "dev_seen": dev_seen,
            "dev_linked": dev_linked, "rows": out.rows}


def _columns(rng: np.random.Generator, pp: People, cu: Customers, ss: Sessions,
             g: np.ndarray, t_us: np.ndarray, person: np.ndarray, dev: np.ndarray,
             etype: np.ndarray, ids: list[pa.Array], orders: Orders,
             order_names: pa.Array, session_id: np.ndarray) -> dict[str, pa.Array]:
    n = len(g)
    app = dev == 2
    t_s = t_us // 1_000_000
    local = t_s + utc_offset_hours(t_s, 2) * 3600
    name = pick(TYPES, etype)
    name = pc.if_else(pa.array(app & (etype == 1)), pa.scalar("screen_view"), name)
    uid = pc.if_else(pa.array(dev == 0), ids[0].take(pa.array(person)),
                     pc.if_else(pa.array(dev == 1), ids[1].take(pa.array(person)),
                                ids[2].take(pa.array(person))))
    platform = pick(("WEB", "ANDROID", "IOS"), np.where(app, 1 + (person % 3 == 0), 0))
    acq = cu.acq_channel[person]
    camp = cu.acq_campaign[person]
    src = pick(("(direct)", "facebook", "google"), acq + 1)
    med = pick(("(none)", "paid_social", "cpc"), acq + 1)
    cname = pick([*(c[2] for c in CAMPAIGNS), "(direct)"],
                 np.where(camp >= 0, camp, len(CAMPAIGNS)))
    page = pick(PAGES, rng.integers(0, len(PAGES), n))
    oi = ss.order[g]
    buy_ev = etype == 6
    oidx = np.where(oi >= 0, oi, 0)
    return {
        "event_date": fmt_date(local, "%Y%m%d"),
        "event_timestamp": text(t_us),
        "event_name": name,
        "user_pseudo_id": uid,
        "user_id": where(ss.logged_in[g], pp.crm_id.take(pa.array(person))),
        "platform": platform,
        "stream_id": pick(("3456789012", "3456789013", "3456789014"),
                          np.where(app, 1 + (person % 3 == 0), 0)),
        "device_category": pick(("desktop", "mobile", "tablet"),
                                np.where(app, 1, (person * 7 + dev) % 3)),
        "geo_country": pick(("Finland", "Sweden"), pp.country[person]),
        "geo_city": pp.city.take(pa.array(person)),
        "traffic_source_source": src,
        "traffic_source_medium": med,
        "traffic_source_name": cname,
        "ga_session_id": text(session_id[g]),
        "page_location": where(~app, join(f"https://{co.WEB_DOMAIN}", page, sep="")),
        "transaction_id": where(buy_ev, order_names.take(pa.array(oidx))),
        "purchase_revenue": where(buy_ev, fmt_money(orders.cents[oidx])),
    }
