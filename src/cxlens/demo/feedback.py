"""Surveys, reviews and the people side: NPS, CSAT (with attribute ratings), CES, star
reviews, the HR employee list and quarterly eNPS.

Planted here (see docs/demo.md): the comment themes and the score shift each carries, the
low-eNPS store team whose customers answer NPS lower, and the CSAT key-driver weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import company as co
from cxlens.demo.behaviour import DAY, Orders, Tickets
from cxlens.demo.calendar import Calendar
from cxlens.demo.people import LANGS, People
from cxlens.demo.writers import (
    TWO,
    fmt_date,
    fmt_ts,
    join,
    pick,
    text,
    where,
    write_csv,
    write_xlsx,
)

NPS_Q = "How likely are you to recommend us to a friend or colleague?"
NPS_WHY = "What is the main reason for your score?"
CES_Q = "How easy was it to get your issue resolved?"
CES_MORE = "Anything else you want to tell us?"
CSAT_Q = "How satisfied are you with your purchase overall?"
CSAT_ATTRS = {"delivery": "Delivery", "price": "Price", "staff": "Staff",
              "product": "Product quality"}
CSAT_WEIGHTS = {"delivery": 0.40, "product": 0.30, "staff": 0.20, "price": 0.10}
CSAT_INTERCEPT = 0.2
ENPS_Q = "How likely is it that you would recommend us as a place to work?"
ENPS_WHY = "What is the main reason for your score?"
NPS = {"base_mean": 8.4, "sd": 1.7, "response_rate": 0.12, "comment_rate": 0.45,
       "low_store_shift": -1.5}
ENPS = {"mean": 7.6, "sd": 1.8, "low_team_mean": 4.6, "low_team_sd": 2.0,
        "response_rate": 0.75}
STAR_WORDS = ("ONE", "TWO", "THREE", "FOUR", "FIVE")
THEME_NAMES = tuple(co.THEMES)


def token(rng: np.random.Generator, n: int, nbytes: int = 16) -> pa.Array:
    """Random lower-case hex tokens (Typeform response ids), vectorised."""
    hexes = pa.array([f"{i:02x}" for i in range(256)])
    parts = [hexes.take(pa.array(rng.integers(0, 256, n))) for _ in range(nbytes)]
    return join(*parts, sep="")


def _comments(rng: np.random.Generator, store: np.ndarray, lang: np.ndarray,
              has: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """Theme index per answer (-1 without comment) and the comment text."""
    n = len(store)
    theme = np.full(n, -1)
    for key, is_store in (("web", False), ("store", True)):
        m = has & (store == is_store)
        names = list(co.THEME_SHARES[key])
        probs = np.array(list(co.THEME_SHARES[key].values()))
        theme[m] = np.array([THEME_NAMES.index(x) for x in names])[
            rng.choice(len(names), int(m.sum()), p=probs)]
    pool, start = [], {}
    for ti, tname in enumerate(THEME_NAMES):
        for li, lg in enumerate(LANGS):
            texts = co.THEMES[tname][lg]
            start[(ti, li)] = (len(pool), len(texts))
            pool.extend(texts)
    first = np.zeros(n, np.int64)
    count = np.ones(n, np.int64)
    for (ti, li), (s0, c) in start.items():
        m = (theme == ti) & (lang == li)
        first[m], count[m] = s0, c
    pick_idx = first + np.floor(rng.random(n) * count).astype(np.int64)
    return theme, where(theme >= 0, pick(pool, pick_idx))


def _shift(theme: np.ndarray) -> np.ndarray:
    shifts = np.array([co.THEMES[t]["shift"] for t in THEME_NAMES] + [0.0])
    return shifts[np.where(theme >= 0, theme, len(THEME_NAMES))]


def _store_code(orders: Orders, sel: np.ndarray) -> pa.Array:
    codes = [s.store_id for s in co.STORES] + ["WEB"]
    return pick(codes, np.where(orders.store_idx[sel] >= 0, orders.store_idx[sel],
                                len(co.STORES)))


def _eligible(pp: People, orders: Orders) -> np.ndarray:
    """Survey invitations go by e-mail: CRM customers and webshop buyers."""
    return pp.in_crm[orders.person] | ~orders.store


@dataclass
class NpsAnswers:
    """Who answers the post-purchase NPS survey, when and what (drawn before the file is
    written, so that the value link can act on each customer's first answer)."""

    sel: np.ndarray  # index of the order each answer follows
    delay: np.ndarray  # seconds from that order to the answer
    theme: np.ndarray  # comment theme, -1 without a comment
    comment: pa.Array
    score: np.ndarray  # 0..10
    low: np.ndarray  # bool: the order was made in the low-eNPS store

    def times(self, orders: Orders) -> np.ndarray:
        """Answer times (epoch s) after the orders' times in ``orders``."""
        return orders.t[self.sel] + self.delay


def nps_answers(rng: np.random.Generator, pp: People, orders: Orders, cal: Calendar
                ) -> NpsAnswers:
    """Draw the NPS answers; the rest of the file is drawn by ``typeform_nps`` from the same
    generator."""
    sel = np.flatnonzero(_eligible(pp, orders) & (rng.random(len(orders.t))
                                                  < NPS["response_rate"]))
    delay = rng.exponential(2.0, len(sel)) * DAY
    ok = orders.t[sel] + delay < cal.end_epoch - 60
    sel, delay = sel[ok], delay[ok]
    n = len(sel)
    lang = pp.lang[orders.person[sel]]
    theme, comment = _comments(rng, orders.store[sel], lang,
                               rng.random(n) < NPS["comment_rate"])
    low = orders.store_idx[sel] == [s.store_id for s in co.STORES].index(co.LOW_ENPS_STORE)
    raw = rng.normal(NPS["base_mean"], NPS["sd"], n) + _shift(theme) \
        + low * NPS["low_store_shift"]
    score = np.clip(np.round(raw), 0, 10).astype(np.int64)
    return NpsAnswers(sel, delay, theme, comment, score, low)


def typeform_nps(path: Path, rng: np.random.Generator, ans: NpsAnswers, pp: People,
                 orders: Orders, order_ids: pa.Array) -> dict[str, object]:
    """Write the answers ``ans`` (drawn by ``nps_answers`` from ``rng``), timed after the
    orders' times in ``orders``."""
    sel, score = ans.sel, ans.score
    t = ans.times(orders)
    n = len(sel)
    person = orders.person[sel]
    cols = {
        "#": token(rng, n),
        NPS_Q: text(score),
        NPS_WHY: ans.comment,
        "email": pp.email.take(pa.array(person)),
        "order_id": order_ids.take(pa.array(sel)),
        "store": _store_code(orders, sel),
        "lang": pick(LANGS, pp.lang[person]),
        "Start Date (UTC)": fmt_ts(t - rng.uniform(20, 200, n)),
        "Submit Date (UTC)": fmt_ts(t),
        "Network ID": pc.utf8_slice_codeunits(token(rng, n, 5), 0, 10),
        "Tags": where(np.zeros(n, bool), pick(("",), np.zeros(n, int))),
    }
    # One deliberately bad row: a partial answer without a score.
    table = pa.table(cols)
    bad = table.slice(0, 1).to_pylist()
    bad[0][NPS_Q] = None
    bad[0]["#"] = "0" * 32
    table = pa.concat_tables([table, pa.Table.from_pylist(bad, table.schema)])
    write_csv(path, {k: table.column(k).combine_chunks() for k in cols})
    return {"rows": n + 1, "valid": n, "score": score, "theme": ans.theme, "sel": sel,
            "low": ans.low}


def forms_csat(path: Path, rng: np.random.Generator, pp: People, orders: Orders,
               order_ids: pa.Array, cal: Calendar, drawn_t: np.ndarray | None = None
               ) -> dict[str, object]:
    """Google Forms CSAT with a rating grid; Sheets CSV in Finnish locale (4.3.2025 9.31.07).

    ``drawn_t``: the orders' times before the value link moved some of them earlier; whether
    an answer falls inside the window is decided on those, so moving orders changes when
    answers come but never how many.
    """
    sel = np.flatnonzero(_eligible(pp, orders) & (rng.random(len(orders.t)) < 0.08))
    delay = rng.exponential(3.0, len(sel)) * DAY
    ok = (orders.t if drawn_t is None else drawn_t)[sel] + delay < cal.end_epoch - 60
    sel, t = sel[ok], orders.t[sel[ok]] + delay[ok]
    n = len(sel)
    person = orders.person[sel]
    g = rng.normal(0, 1, n)
    low = orders.store_idx[sel] == [s.store_id for s in co.STORES].index(co.LOW_ENPS_STORE)
    attrs = {}
    for k in CSAT_ATTRS:
        mean = 3.7 + 0.7 * g + (k == "staff") * low * -0.8
        attrs[k] = np.clip(np.round(mean + rng.normal(0, 0.9, n)), 1, 5).astype(np.int64)
    raw = CSAT_INTERCEPT + sum(w * attrs[k] for k, w in CSAT_WEIGHTS.items())
    csat = np.clip(np.round(raw + rng.normal(0, 0.45, n)), 1, 5).astype(np.int64)
    theme, comment = _comments(rng, orders.store[sel], pp.lang[person], rng.random(n) < 0.3)
    local = (t + 2 * 3600).astype(np.int64)
    sod = np.mod(local, 86400)
    clock = join(text(sod // 3600), TWO.take(pa.array((sod // 60) % 60)),
                 TWO.take(pa.array(sod % 60)), sep=".")
    cols = {
        "Timestamp": join(fmt_date(local, "%-d.%-m.%Y"), clock, sep=" "),
        "Email address": pp.email.take(pa.array(person)),
        CSAT_Q: text(csat),
        **{f"How would you rate us? [{label}]": text(attrs[k])
           for k, label in CSAT_ATTRS.items()},
        "What could we do better?": comment,
        "Order number": order_ids.take(pa.array(sel)),
    }
    write_csv(path, cols)
    return {"rows": n, "theme": theme}


def typeform_ces(path: Path, rng: np.random.Generator, pp: People, tk: Tickets,
                 cal: Calendar) -> dict[str, int]:
    sel = np.flatnonzero((tk.status < 2) & (rng.random(len(tk.t)) < 0.25))
    t = tk.resolved_t[sel] + rng.exponential(0.5, len(sel)) * DAY
    ok = t < cal.end_epoch - 60
    sel, t = sel[ok], t[ok]
    n = len(sel)
    score = np.clip(np.round(rng.normal(5.4, 1.3, n)), 1, 7).astype(np.int64)
    cols = {
        "#": token(rng, n),
        f"{CES_Q} (1 = very difficult, 7 = very easy)": text(score),
        CES_MORE: where(np.zeros(n, bool), pick(("",), np.zeros(n, int))),
        "email": pp.email.take(pa.array(tk.person[sel])),
        "ticket_id": text(10_001 + sel),
        "lang": pick(LANGS, pp.lang[tk.person[sel]]),
        "Start Date (UTC)": fmt_ts(t - rng.uniform(15, 90, n)),
        "Submit Date (UTC)": fmt_ts(t),
        "Network ID": pc.utf8_slice_codeunits(token(rng, n, 5), 0, 10),
        "Tags": where(np.zeros(n, bool), pick(("",), np.zeros(n, int))),
    }
    return {"rows": write_csv(path, cols)}


def _stars(rng: np.random.Generator, low: np.ndarray, theme: np.ndarray) -> np.ndarray:
    base = rng.choice(5, len(low), p=[0.04, 0.04, 0.08, 0.24, 0.60]) + 1
    worse = rng.choice(5, len(low), p=[0.10, 0.10, 0.15, 0.30, 0.35]) + 1
    stars = np.where(low, worse, base) + np.round(_shift(theme) / 2.5).astype(np.int64)
    return np.clip(stars, 1, 5)


def google_reviews(path: Path, rng: np.random.Generator, pp: People, orders: Orders,
                   cal: Calendar) -> dict[str, int]:
    sel = np.flatnonzero(orders.store & (rng.random(len(orders.t)) < 0.015))
    n = len(sel)
    person = orders.person[sel]
    t = np.minimum(orders.t[sel] + rng.exponential(1.0, n) * DAY, cal.end_epoch - 60)
    low = orders.store_idx[sel] == [s.store_id for s in co.STORES].index(co.LOW_ENPS_STORE)
    theme, comment = _comments(rng, np.ones(n, bool), pp.lang[person], rng.random(n) < 0.6)
    stars = _stars(rng, low, theme)
    iso = join(fmt_ts(t, sep="T"), "Z", sep="")
    cols = {
        "reviewId": join("AbFvOq", token(rng, n, 9), sep=""),
        "storeCode": _store_code(orders, sel),
        "reviewer.displayName": join(pp.first_name.take(pa.array(person)),
                                     pc.utf8_slice_codeunits(
                                         pp.last_name.take(pa.array(person)), 0, 1), sep=" "),
        "starRating": pick(STAR_WORDS, stars - 1),
        "comment": comment,
        "createTime": iso,
        "updateTime": iso,
        "reviewReply.comment": where(stars <= 2, pick(("Kiitos palautteesta, pahoittelemme!",),
                                                      np.zeros(n, int))),
    }
    return {"rows": write_csv(path, cols), "low_store_reviews": int(low.sum())}


def trustpilot_reviews(path: Path, rng: np.random.Generator, pp: People, orders: Orders,
                       order_ids: pa.Array, cal: Calendar) -> dict[str, int]:
    sel = np.flatnonzero(~orders.store & (rng.random(len(orders.t)) < 0.02))
    n = len(sel)
    person = orders.person[sel]
    t = np.minimum(orders.t[sel] + rng.exponential(4.0, n) * DAY, cal.end_epoch - 60)
    theme, comment = _comments(rng, np.zeros(n, bool), pp.lang[person], np.ones(n, bool))
    stars = _stars(rng, np.zeros(n, bool), theme)
    invited = rng.random(n) < 0.7
    a = pa.array(person)
    cols = {
        "Review ID": join("6", token(rng, n, 11), sep=""),
        "Review Created (UTC)": fmt_ts(t),
        "Review Consumer User ID": join("5f", token(rng, n, 11), sep=""),
        "Review Title": pc.utf8_slice_codeunits(comment, 0, 30),
        "Review Content": comment,
        "Review Stars": text(stars),
        "Source Of Review": pick(("Organic", "AFSv2"), invited.astype(int)),
        "Review Language": pick(LANGS, pp.lang[person]),
        "Domain URL": pick((f"https://{co.WEB_DOMAIN}",), np.zeros(n, int)),
        "Webshop Name": pick((co.COMPANY,), np.zeros(n, int)),
        "Business Unit ID": pick(("5c1e2d3f4a5b6c7d8e9f0a1b",), np.zeros(n, int)),
        "Tags": where(np.zeros(n, bool), pick(("",), np.zeros(n, int))),
        "Company Reply Date (UTC)": where(stars <= 2, fmt_ts(t + DAY)),
        "Reply Content": where(stars <= 2, pick(("Thank you, we are sorry!",),
                                                np.zeros(n, int))),
        "Email": where(invited, pp.email.take(a)),
        "Reference Id": where(invited, order_ids.take(pa.array(sel))),
        "Consumer Name": join(pp.first_name.take(a), pp.last_name.take(a), sep=" "),
    }
    return {"rows": write_csv(path, cols)}


EMP_HEADER = ("Employee number", "Name", "Team ID", "Team", "Store code", "Store", "Title",
              "Start date", "Employment type")


def employees(path: Path, rng: np.random.Generator, cal: Calendar
              ) -> tuple[list[list[object]], dict]:
    """HR list as Excel; small, so a plain loop over employees is fine. Start dates move
    with the calendar, as every other date does."""
    first_start = date(2012, 1, 1) + timedelta(days=cal.shift_days)
    rows: list[list[object]] = []
    staff: dict[str, list[str]] = {}
    store_names = {s.store_id: s.name for s in co.STORES}
    eid = 1001
    for team_id, team_name, store_id in co.TEAMS:
        size = co.TEAM_SIZES.get(team_id, int(rng.integers(10, 17)))
        lang = "sv" if store_id.startswith("SE") else "fi"
        roles = (co.ROLES_STORE if store_id in store_names else
                 co.ROLES_WEB if team_id == "T-WEB" else co.ROLES_CS)
        for i in range(size):
            name = (f"{co.FIRST_NAMES[lang][int(rng.integers(0, 24))]} "
                    f"{co.LAST_NAMES[lang][int(rng.integers(0, len(co.LAST_NAMES[lang])))]}")
            title = ("Store manager" if store_id in store_names else "Team lead") if i == 0 \
                else roles[int(rng.integers(0, len(roles)))]
            start = first_start + timedelta(days=int(rng.integers(0, 5300)))
            rows.append([f"E{eid}", name, team_id, team_name, store_id,
                         store_names.get(store_id, team_name), title, start,
                         "Full-time" if rng.random() < 0.7 else "Part-time"])
            staff.setdefault(store_id, []).append(f"E{eid}")
            eid += 1
    write_xlsx(path, "Employees", EMP_HEADER, rows)
    return rows, staff


def enps(path: Path, rng: np.random.Generator, emp_rows: list[list[object]], cal: Calendar
         ) -> dict:
    """Quarterly anonymous eNPS: 8 rounds, team and store kept. On the default day they start
    on the first days of 2025-Q1 .. 2026-Q4; on another day they move with the calendar and
    are named by the month they open in."""
    team = np.array([r[2] for r in emp_rows])
    store = np.array([r[4] for r in emp_rows])
    start = np.array([(r[7] - date(1970, 1, 1)).days * 86400 for r in emp_rows])
    t_rows, team_rows, store_rows, scores, rounds = [], [], [], [], []
    for q in range(8):
        y, m = 2025 + q // 4, 1 + 3 * (q % 4)
        t0 = (date(y, m, 1) - date(1970, 1, 1)).days * 86400 + 6 * 3600 \
            + cal.shift_days * 86400
        ans = (start < t0) & (rng.random(len(team)) < ENPS["response_rate"])
        low = team == co.LOW_ENPS_TEAM
        raw = np.where(low, rng.normal(ENPS["low_team_mean"], ENPS["low_team_sd"], len(team)),
                       rng.normal(ENPS["mean"], ENPS["sd"], len(team)))
        t_rows.append(t0 + rng.uniform(0, 10, len(team))[ans] * DAY)
        team_rows.append(team[ans])
        store_rows.append(store[ans])
        scores.append(np.clip(np.round(raw[ans]), 0, 10).astype(np.int64))
        rounds.append(np.full(int(ans.sum()), q))
    t = np.concatenate(t_rows)
    o = np.argsort(t, kind="stable")
    t = t[o]
    tm, st, sc, rd = (np.concatenate(x)[o] for x in (team_rows, store_rows, scores, rounds))
    n = len(t)
    names = dict((tid, nm) for tid, nm, _ in co.TEAMS)
    reason = np.where(sc >= 7, 0, 1)
    cols = {
        "Response ID": text(70_001 + np.arange(n)),
        "Submitted at": fmt_ts(t + 2 * 3600),
        "Survey": pick(_round_names(cal), rd),
        "Team ID": pa.array(tm),
        "Team": pa.array([names[x] for x in tm]),
        "Store code": pa.array(st),
        ENPS_Q: text(sc),
        ENPS_WHY: where(rng.random(n) < 0.4, pick(
            [*co.ENPS_COMMENTS["good"], *co.ENPS_COMMENTS["bad"]],
            reason * 3 + rng.integers(0, 3, n))),
    }
    write_csv(path, cols)
    return {"rows": n, "score": sc, "team": tm}


def _round_names(cal: Calendar) -> list[str]:
    """``eNPS 2025 Q1`` on the default day; elsewhere ``eNPS 2025-02``: rounds moved off the
    quarter starts could fall two in one quarter, never two in one month."""
    if cal.shift_days == 0:
        return [f"eNPS {2025 + q // 4} Q{q % 4 + 1}" for q in range(8)]
    firsts = [date(2025 + q // 4, 1 + 3 * (q % 4), 1) + timedelta(days=cal.shift_days)
              for q in range(8)]
    return [f"eNPS {d:%Y-%m}" for d in firsts]
