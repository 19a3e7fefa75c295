"""The demo company's CRM, shop, POS, help desk, e-mail and ad exports.

Each writer produces the file in the format of the real product's export (the preset of the
same name in ``cxlens/sources/presets`` describes it) and returns its row count.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import company as co
from cxlens.demo.behaviour import (
    CAMPAIGNS,
    CHANNELS,
    DAY,
    Emails,
    Orders,
    Spend,
    Tickets,
)
from cxlens.demo.calendar import Calendar
from cxlens.demo.people import People
from cxlens.demo.writers import (
    fmt_money,
    fmt_ts,
    join,
    pick,
    text,
    utc_offset_hours,
    where,
    write_csv,
    write_ndjson,
)

LANG_NAMES = ("Finnish", "Swedish", "English")
COUNTRY_NAMES = ("Finland", "Sweden")
POS_BAD = {"bad_date": 2, "bad_amount": 1, "duplicate": 1}


def helsinki(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local wall-clock seconds in Helsinki and the offset in hours."""
    off = utc_offset_hours(t, 2)
    return t + off * 3600, off


def with_offset(t: np.ndarray) -> pa.Array:
    """``2025-03-04 12:31:07 +0200`` as Shopify and Zendesk write times."""
    local, off = helsinki(t)
    return join(fmt_ts(local), pick(("+0200", "+0300"), off - 2), sep=" ")


def hubspot_contacts(path: Path, rng: np.random.Generator, pp: People, birth: np.ndarray
                     ) -> int:
    sel = np.flatnonzero(pp.in_crm)
    t = birth[sel] - rng.uniform(0, 3, len(sel)) * DAY
    local, _ = helsinki(t)
    a = pa.array(sel)
    cols = {
        "Record ID": pp.crm_id.take(a),
        "First Name": pp.first_name.take(a),
        "Last Name": pp.last_name.take(a),
        "Email": pp.email.take(a),
        "Phone Number": pp.phone_e164.take(a),
        "Loyalty number": where(pp.loyalty[sel], pp.loyalty_no.take(a)),
        "Create Date": fmt_ts(local, seconds=False),
        "Lifecycle Stage": pick(("Customer",), np.zeros(len(sel), int)),
        "Preferred language": pick(LANG_NAMES, pp.lang[sel]),
        "Country/Region": pick(COUNTRY_NAMES, pp.country[sel]),
        "City": pp.city.take(a),
        "Marketing contact status": pick(("Non-marketing contact", "Marketing contact"),
                                         pp.subscribed[sel].astype(int)),
        "Contact owner": pick(("Sanna Laine", "Erik Lindholm"), pp.country[sel]),
    }
    return write_csv(path, cols)


COMPANIES = ("Ruka Cabins Oy", "Lapin Safarit Oy", "Fjällstugor AB", "Nuuksio Retreat Oy",
             "Saaristo Events Oy", "Kiruna Lodge AB", "Koli Outdoor Oy", "Åre Basecamp AB")


def hubspot_deals(path: Path, rng: np.random.Generator, pp: People, birth: np.ndarray,
                  cal: Calendar) -> dict[str, int]:
    """B2B deals of a few CRM contacts (cabin and event companies outfitting their sites)."""
    contacts = np.flatnonzero(pp.in_crm & (rng.random(pp.n) < 0.03))
    k = rng.integers(1, 4, len(contacts))
    who = np.repeat(contacts, k)
    last = cal.start_epoch + 685 * DAY
    created = birth[who] + rng.random(len(who)) * np.maximum(last - birth[who], DAY)
    # A deal closed after the data end would be a close date in the future: the last ones
    # close on the last day of the window, in Helsinki's time too (its wall clock, which
    # the export writes, is 2 hours ahead of UTC in winter).
    closed = np.minimum(created + rng.uniform(5, 40, len(who)) * DAY, cal.end_epoch - 3 * 3600)
    won = rng.random(len(who)) < 0.65
    cents = np.round(rng.lognormal(np.log(2500), 0.7, len(who)) * 100).astype(np.int64)
    comp = rng.integers(0, len(COMPANIES), len(who))
    topic = pick(("cabin outfitting", "staff gear", "event tents", "winter equipment"),
                 rng.integers(0, 4, len(who)))
    cols = {
        "Record ID": text(9_100_000_000 + np.arange(len(who)) * 17),
        "Deal Name": join(pick(COMPANIES, comp), topic, sep=" - "),
        "Deal Stage": pick(("Closed lost", "Closed won"), won.astype(int)),
        "Pipeline": pick(("B2B sales",), np.zeros(len(who), int)),
        "Amount": fmt_money(cents),
        "Close Date": fmt_ts(helsinki(closed)[0], seconds=False),
        "Create Date": fmt_ts(helsinki(created)[0], seconds=False),
        "Deal owner": pick(("Sanna Laine", "Erik Lindholm"), pp.country[who]),
        "Associated Company": pick(COMPANIES, comp),
        "Associated Contact IDs": pp.crm_id.take(pa.array(who)),
    }
    write_csv(path, cols)
    return {"rows": len(who), "won": int(won.sum()), "won_cents": int(cents[won].sum())}


def shopify_orders(path: Path, rng: np.random.Generator, pp: People, orders: Orders,
                   names: pa.Array, cal: Calendar) -> dict[str, int]:
    """One row per line item; the first row of an order carries its totals."""
    web = np.flatnonzero(~orders.store)
    n = len(web)
    person = orders.person[web]
    cents = orders.cents[web]
    t = orders.t[web]
    nl = 1 + rng.binomial(2, 0.3, n)
    row_order = np.repeat(np.arange(n), nl)
    first = np.r_[True, row_order[1:] != row_order[:-1]]
    ship = np.where((cents < 8000) & (cents > 1500), 590, 0)
    sub = cents - ship
    vat = np.where(pp.country[person] == 0, 0.255 / 1.255, 0.25 / 1.25)
    taxes = np.round(cents * vat).astype(np.int64)
    status = rng.choice(3, n, p=[0.96, 0.03, 0.01])
    refunded = np.where(status == 1, cents, np.where(status == 2, cents // 4, 0))
    recent = t > cal.start_epoch + 724 * DAY
    # line prices: split the subtotal; the rounding rest goes to the first line
    w = rng.random(len(row_order)) + 0.2
    share = w / np.bincount(row_order, w)[row_order]
    lp = np.floor(sub[row_order] * share).astype(np.int64)
    rest = sub - np.bincount(row_order, lp).astype(np.int64)
    lp[first] += rest
    prod = rng.integers(0, len(co.PRODUCTS), len(row_order))
    ro = pa.array(row_order)
    pa_person = pa.array(person[row_order])

    def f(values: pa.Array) -> pa.Array:  # order-level value on the first row only
        return where(first, values.take(ro))

    created = with_offset(t)
    cols = {
        "Name": names.take(pa.array(web)).take(ro),
        "Email": pp.email_shop.take(pa_person),
        "Financial Status": f(pick(("paid", "refunded", "partially_refunded"), status)),
        "Paid at": f(created),
        "Fulfillment Status": f(pick(("fulfilled", "unfulfilled"), recent.astype(int))),
        "Fulfilled at": f(where(~recent, with_offset(t + rng.uniform(0.3, 3, n) * DAY))),
        "Accepts Marketing": f(pick(("no", "yes"), pp.subscribed[person].astype(int))),
        "Currency": f(pick(("EUR",), np.zeros(n, int))),
        "Subtotal": f(fmt_money(sub)),
        "Shipping": f(fmt_money(ship)),
        "Taxes": f(fmt_money(taxes)),
        "Total": f(fmt_money(cents)),
        "Discount Code": f(where(rng.random(n) < 0.1, pick(("KEVAT10", "SOMMAR15"),
                                                          pp.country[person]))),
        "Discount Amount": f(fmt_money(np.zeros(n, np.int64))),
        "Shipping Method": f(pick(("Posti Smartpost", "PostNord MyPack", "Nouto myymälästä"),
                                  rng.integers(0, 3, n))),
        "Created at": created.take(ro),
        "Lineitem quantity": pick(("1",), np.zeros(len(row_order), int)),
        "Lineitem name": pick([p[0] for p in co.PRODUCTS], prod),
        "Lineitem price": fmt_money(lp),
        "Lineitem sku": pick([p[1] for p in co.PRODUCTS], prod),
        "Lineitem fulfillment status": pick(("fulfilled", "pending"),
                                            recent[row_order].astype(int)),
        "Billing Name": f(join(pp.first_name.take(pa.array(person)),
                               pp.last_name.take(pa.array(person)), sep=" ")),
        "Billing City": f(pp.city.take(pa.array(person))),
        "Billing Country": f(pick(("FI", "SE"), pp.country[person])),
        "Billing Phone": f(where(pp.has_phone_at_checkout[person],
                                 pp.phone_local.take(pa.array(person)))),
        "Payment Method": f(pick(("Shopify Payments", "Klarna", "MobilePay"),
                                 rng.integers(0, 3, n))),
        "Refunded Amount": f(fmt_money(refunded)),
        "Vendor": pick((co.COMPANY,), np.zeros(len(row_order), int)),
        "Id": f(text(5_610_000_000_000 + np.arange(n) * 37)),
        "Source": f(pick(("web",), np.zeros(n, int))),
    }
    rows = write_csv(path, cols)
    return {"rows": rows, "orders": n, "line_rows_after_first": int((~first).sum()),
            "refunded": status == 1}


def order_ids(orders: Orders) -> pa.Array:
    """Order numbers: Shopify ``#1001``… and POS receipts ``FI-HEL-000123`` in the order of
    the drawn purchase times (an order the value link brought forward keeps its number)."""
    n = len(orders.t)
    web = ~orders.store
    rank = np.cumsum(web) - 1
    st = np.where(orders.store, orders.store_idx, 0)
    seq = np.zeros(n, np.int64)
    for si in range(len(co.STORES)):  # eight stores: a loop over stores, not rows
        m = orders.store & (orders.store_idx == si)
        seq[m] = np.arange(int(m.sum()))
    web_ids = join("#", text(1001 + rank), sep="")
    pos_ids = join(pick([s.store_id for s in co.STORES], st),
                   pc.utf8_lpad(text(seq + 1), 6, "0"), sep="-")
    return pc.if_else(pa.array(web), web_ids, pos_ids)


def pos_sales(path: Path, rng: np.random.Generator, pp: People, orders: Orders,
              staff: dict[str, list[str]], ids: pa.Array) -> dict[str, int]:
    """Nordic POS export: semicolons, decimal comma, dd.mm.yyyy, cp1252, Finnish headers."""
    idx = np.flatnonzero(orders.store)
    n = len(idx)
    st = orders.store_idx[idx]
    person = orders.person[idx]
    winter = np.array([s.utc_offset_winter for s in co.STORES])[st]
    local = orders.t[idx] + utc_offset_hours(orders.t[idx], winter) * 3600
    card = pp.loyalty[person] & (rng.random(n) < 0.92)
    cashier = np.empty(n, dtype=object)
    for si, s in enumerate(co.STORES):
        m = st == si
        cashier[m] = np.array(staff[s.store_id], dtype=object)[
            rng.integers(0, len(staff[s.store_id]), int(m.sum()))]
    cents = orders.cents[idx]
    vat = np.where(winter == 2, 0.255 / 1.255, 0.25 / 1.25)
    cols = {
        "Kuittinumero": ids.take(pa.array(idx)),
        "Myymälä": pick([s.store_id for s in co.STORES], st),
        "Kassa": text(1 + rng.integers(0, 3, n)),
        "Päivämäärä": fmt_ts(local, "%d.%m.%Y", seconds=False),
        "Kanta-asiakasnumero": where(card, pp.loyalty_no.take(pa.array(person))),
        "Summa": fmt_money(cents, ","),
        "ALV": fmt_money(np.round(cents * vat).astype(np.int64), ","),
        "Valuutta": pick(("EUR",), np.zeros(n, int)),
        "Maksutapa": pick(("Kortti", "MobilePay", "Käteinen", "Swish"),
                          np.where(winter == 1, rng.choice([0, 3], n), rng.choice(3, n))),
        "Myyjä": pa.array(cashier, pa.string()),
    }
    # Deliberately bad rows (documented in docs/demo.md): impossible dates, "n/a" amount,
    # and one exact duplicate of a valid row, inserted in the middle of the file.
    table = pa.table(cols)
    mid = n // 2
    bad = table.slice(0, 3).to_pylist()
    for r, row in enumerate(bad):
        row["Kuittinumero"] = f"{row['Myymälä']}-9{r:05d}"
    bad[0]["Päivämäärä"] = "31.02.2025 12:04"
    bad[1]["Päivämäärä"] = "30.02.2026 17:45"
    bad[2]["Summa"] = "n/a"
    table = pa.concat_tables([table.slice(0, mid), pa.Table.from_pylist(bad, table.schema),
                              table.slice(max(mid - 1, 0), 1), table.slice(mid)])
    cols = {k: table.column(k).combine_chunks() for k in cols}
    nrows = write_csv(path, cols, delimiter=";", encoding="cp1252")
    return {"rows": nrows, "orders": n, "with_card": int(card.sum()), "card": card}


def zendesk_tickets(path: Path, rng: np.random.Generator, pp: People, tk: Tickets) -> int:
    n = len(tk.t)
    lang = pp.lang[tk.person]
    subj = rng.integers(0, 4, n)
    subjects = [s for lg in ("fi", "sv", "en") for s in co.TICKET_SUBJECTS[lg]]
    resolved = tk.status < 2
    sat = rng.choice(4, n, p=[0.45, 0.08, 0.2, 0.27])
    cols = {
        "Id": text(10_001 + np.arange(n)),
        "Requester": join(pp.first_name.take(pa.array(tk.person)),
                          pp.last_name.take(pa.array(tk.person)), sep=" "),
        "Requester email": pp.email.take(pa.array(tk.person)),
        "Subject": pick(subjects, lang * 4 + subj),
        "Status": pick(("Solved", "Closed", "Pending", "Open"), tk.status),
        "Priority": pick(("Normal", "Low", "High"), rng.choice(3, n, p=[0.7, 0.2, 0.1])),
        "Via": pick(("Email", "Web form", "Chat"), rng.integers(0, 3, n)),
        "Ticket type": pick(("Question", "Problem", "Incident"), subj % 3),
        "Tags": pick(("tilaus", "palautus", "reklamaatio", "lasku"), subj),
        "Group": pick(("Customer service",), np.zeros(n, int)),
        "Created at": with_offset(tk.t),
        "Updated at": with_offset(np.where(resolved, tk.resolved_t, tk.t + 3600)),
        "Solved at": where(resolved, with_offset(tk.resolved_t)),
        "Satisfaction Score": pick(("Unoffered", "Offered", "Good", "Bad"),
                                   np.where(resolved, sat, 0)),
    }
    return write_csv(path, cols)


def mailchimp_activity(path: Path, pp: People, em: Emails) -> int:
    """Mailchimp email-activity API answers flattened to one action per line (NDJSON)."""
    n_camp = int(em.campaign.max()) + 1 if len(em.campaign) else 1
    ids = [f"{(c * 2_654_435_761 + 99_991) % 16**10:010x}" for c in range(n_camp)]
    titles = [f"Uutiskirje / Nyhetsbrev vk {c % 52 + 1}" for c in range(n_camp)]
    cols = {
        "campaign_id": pick(ids, em.campaign),
        "campaign_title": pick(titles, em.campaign),
        "list_id": pick(("b7e1c2d3f4",), np.zeros(len(em.t), int)),
        "email_address": pp.email.take(pa.array(em.person)),
        "action": pick(("open", "click", "bounce"), em.action),
        "timestamp": join(fmt_ts(em.t, sep="T"), "+00:00", sep=""),
        "url": where(em.action == 1, pick((f"https://{co.WEB_DOMAIN}/kampanjat",),
                                          np.zeros(len(em.t), int))),
    }
    return write_ndjson(path, cols)


def ad_reports(meta_path: Path, google_path: Path, rng: np.random.Generator, sp: Spend,
               cal: Calendar) -> dict[str, int]:
    """Meta Ads Manager and Google Ads daily campaign reports."""
    ch = np.array([list(CHANNELS).index(c[0]) for c in CAMPAIGNS])[sp.campaign]
    day_t = cal.start_epoch + sp.day * DAY
    euros = sp.cents / 100
    # Platforms over-claim: reported conversions are 1.3x the true ones, noisily.
    tot = np.zeros((2, sp.expected.shape[1]))
    np.add.at(tot, (ch, sp.day), sp.cents)
    share = sp.cents / np.maximum(tot[ch, sp.day], 1)
    results = rng.poisson(1.3 * sp.expected[ch, sp.day] * share)
    clicks = rng.poisson(euros / np.where(ch == 0, 0.55, 0.85))
    impr = rng.poisson(np.where(ch == 0, euros / 6.0 * 1000, clicks / 0.045 + 1))
    day = fmt_ts(day_t, seconds=False)
    day = pc.utf8_slice_codeunits(day, 0, 10)
    m = ch == 0
    names = pick([c[2] for c in CAMPAIGNS], sp.campaign)
    am = pa.array(m)
    meta = {
        "Campaign name": names.filter(am),
        "Day": day.filter(am),
        "Amount spent (EUR)": fmt_money(sp.cents[m]),
        "Impressions": text(impr[m]),
        "Reach": text((impr[m] * 0.7).astype(np.int64)),
        "Link clicks": text(clicks[m]),
        "Results": text(results[m]),
        "Result indicator": pick(("actions:offsite_conversion.fb_pixel_purchase",),
                                 np.zeros(int(m.sum()), int)),
        "Reporting starts": day.filter(am),
        "Reporting ends": day.filter(am),
    }
    g = ~m
    ag = pa.array(g)
    google = {
        "Day": day.filter(ag),
        "Campaign": names.filter(ag),
        "Campaign type": pick(("Search",), np.zeros(int(g.sum()), int)),
        "Currency code": pick(("EUR",), np.zeros(int(g.sum()), int)),
        "Cost": fmt_money(sp.cents[g]),
        "Impr.": text(impr[g]),
        "Clicks": text(clicks[g]),
        "Conversions": join(text(results[g]), "00", sep="."),
    }
    return {"meta": write_csv(meta_path, meta),
            "google": write_csv(google_path, google, delimiter="\t", encoding="utf-16")}
