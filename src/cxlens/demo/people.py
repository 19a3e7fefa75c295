"""The customers of the demo company and the identifiers they leave in each system.

A *person* is one real human. Everything a resolver should link is decided here: which
persons are in the CRM (HubSpot; CRM id, e-mail, phone and loyalty number together), which
only buy in the webshop (e-mail and phone on Shopify orders), which are anonymous visitors
(GA4 cookies only), and how many devices (``user_pseudo_id``) each person uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import company as co
from cxlens.demo.writers import join, pick, text

LANGS = ("fi", "sv", "en")


@dataclass
class People:
    """Per-person arrays (length ``n``); strings are Arrow arrays."""

    n: int
    country: np.ndarray  # 0 = FI, 1 = SE
    lang: np.ndarray  # index into LANGS
    buyer: np.ndarray  # bool: makes purchases (BG/NBD customer); else anonymous visitor
    in_crm: np.ndarray  # bool: HubSpot contact (loyalty programme, account)
    loyalty: np.ndarray  # bool: has a loyalty card (subset of in_crm)
    subscribed: np.ndarray  # bool: newsletter subscriber (subset of in_crm)
    has_app: np.ndarray  # bool: uses the app (logged in: user_id always set)
    second_browser: np.ndarray  # bool: a second web cookie
    home_store: np.ndarray  # index into STORES
    store_share: np.ndarray  # probability that an order is made in a store
    first_name: pa.Array
    last_name: pa.Array
    email: pa.Array  # canonical lower-case
    email_shop: pa.Array  # as typed at checkout: sometimes capitalised
    phone_e164: pa.Array
    phone_local: pa.Array  # as typed at checkout: FI local format, SE with +46
    has_phone_at_checkout: np.ndarray
    crm_id: pa.Array
    loyalty_no: pa.Array
    city: pa.Array


def make_people(rng: np.random.Generator, n: int) -> People:
    """Draw ``n`` persons with names, languages and identifiers fitting their country."""
    idx = np.arange(n, dtype=np.int64)
    country = (rng.random(n) < 0.30).astype(np.int64)
    u = rng.random(n)
    lang = np.where(country == 0, np.where(u < 0.85, 0, np.where(u < 0.95, 1, 2)),
                    np.where(u < 0.90, 1, 2))
    buyer = rng.random(n) < 0.78
    in_crm = buyer & (rng.random(n) < 0.70)
    loyalty = in_crm & (rng.random(n) < 0.85)
    subscribed = in_crm & (rng.random(n) < 0.65)
    has_app = in_crm & (rng.random(n) < 0.35)
    second_browser = rng.random(n) < 0.25
    fi_st = np.array(co.FI_STORES)
    se_st = np.array(co.SE_STORES)
    home_store = np.where(country == 0, fi_st[rng.integers(0, len(fi_st), n)],
                          se_st[rng.integers(0, len(se_st), n)])
    store_share = rng.beta(0.9, 0.9, n)

    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    for li, lg in enumerate(LANGS):
        m = lang == li
        k = int(m.sum())
        fn = np.array(co.FIRST_NAMES[lg], dtype=object)
        ln = np.array(co.LAST_NAMES[lg], dtype=object)
        first[m] = fn[rng.integers(0, len(fn), k)]
        last[m] = ln[rng.integers(0, len(ln), k)]
    first_a = pa.array(first, pa.string())
    last_a = pa.array(last, pa.string())

    def fold(a: pa.Array) -> pa.Array:
        out = pc.utf8_lower(a)
        for src, dst in (("ä", "a"), ("ö", "o"), ("å", "a"), ("é", "e")):
            out = pc.replace_substring(out, src, dst)
        return out

    dom_fi = pick(co.EMAIL_DOMAINS["FI"], rng.integers(0, len(co.EMAIL_DOMAINS["FI"]), n))
    dom_se = pick(co.EMAIL_DOMAINS["SE"], rng.integers(0, len(co.EMAIL_DOMAINS["SE"]), n))
    domain = pc.if_else(pa.array(country == 0), dom_fi, dom_se)
    # idx keeps addresses unique: two persons never share an address by accident.
    email = join(join(fold(first_a), ".", fold(last_a), text(idx + 11), sep=""), domain,
                 sep="@")
    cap = rng.random(n) < 0.12
    email_shop = pc.if_else(pa.array(cap), join(
        join(pc.utf8_capitalize(fold(first_a)), ".", pc.utf8_capitalize(fold(last_a)),
             text(idx + 11), sep=""), domain, sep="@"), email)

    # Unique subscriber numbers: idx * prime mod 10^7 is a permutation for idx < 10^7.
    sub = (idx * 4_739_557 + 3_141_592) % 10_000_000
    pre_fi = np.array([40, 41, 44, 45, 50])[rng.integers(0, 5, n)]
    pre_se = np.array([70, 72, 73, 76])[rng.integers(0, 4, n)]
    sub7 = pc.utf8_lpad(text(sub), 7, "0")
    a3 = pc.utf8_slice_codeunits(sub7, 0, 3)
    b4 = pc.utf8_slice_codeunits(sub7, 3, 7)
    b2 = pc.utf8_slice_codeunits(sub7, 3, 5)
    c2 = pc.utf8_slice_codeunits(sub7, 5, 7)
    fi_e164 = join("+358", text(pre_fi), sub7, sep="")
    se_e164 = join("+46", text(pre_se), sub7, sep="")
    fi_local = join(join("0", text(pre_fi), sep=""), a3, b4, sep=" ")
    se_local = join("+46", text(pre_se), a3, b2, c2, sep=" ")
    is_fi = pa.array(country == 0)
    phone_e164 = pc.if_else(is_fi, fi_e164, se_e164)
    phone_local = pc.if_else(is_fi, fi_local, se_local)

    crm_id = text(51_000_000_001 + idx * 3)
    loyalty_no = join("6392", pc.utf8_lpad(text(idx + 100_000), 8, "0"), sep="")
    city = pick([s.city for s in co.STORES], home_store)
    return People(
        n=n, country=country, lang=lang, buyer=buyer, in_crm=in_crm, loyalty=loyalty,
        subscribed=subscribed, has_app=has_app, second_browser=second_browser,
        home_store=home_store, store_share=store_share, first_name=first_a, last_name=last_a,
        email=email, email_shop=email_shop, phone_e164=phone_e164, phone_local=phone_local,
        has_phone_at_checkout=rng.random(n) < 0.8, crm_id=crm_id, loyalty_no=loyalty_no,
        city=city,
    )
