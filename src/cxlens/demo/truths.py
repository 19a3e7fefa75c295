"""The ground truths planted in the demo data, gathered into ``truths.json``.

Each entry states the true parameter and, where sampling makes the realised value differ
from the parameter, the realised value as well, so that a test can check an estimate
against what is actually in the files.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cxlens.demo import behaviour as bh
from cxlens.demo import company as co
from cxlens.demo import delivery as dl
from cxlens.demo import feedback as fb
from cxlens.demo import ga4
from cxlens.demo import value_link as vl
from cxlens.demo.calendar import DAYS
from cxlens.demo.exports import POS_BAD

TRUTH_KEYS = ("company", "window", "identity", "bgnbd", "gamma_gamma", "touchpoint_lifts",
              "spend_response", "people_link", "comment_themes", "csat_drivers",
              "value_link", "bad_rows", "counts")


def _nps(scores: np.ndarray) -> float | None:
    if len(scores) == 0:
        return None
    return round(float(100 * ((scores >= 9).mean() - (scores <= 6).mean())), 2)


def _harm(harm: dict[str, Any]) -> dict[str, Any]:
    """The planted harm (``cxlens.demo.delivery``): its parameters and realised counts."""
    d = harm["delays"]
    return {
        **dl.DELIVERY,
        "event": "GA4 event delivery_delayed (server-side: user_id, transaction_id)",
        "model": "each webshop order of a CRM contact is delayed at random with "
                 "delay_probability; the notice comes notice_days after the order. At a "
                 "customer's first delay, with put_off_probability, each later BG/NBD "
                 "purchase (not a lift order, not one followed by a ticket, never past 60 "
                 "days before the window's end) moves hold_days later",
        "delays": len(d.order),
        "customers": int(d.first.sum()),
        "customers_put_off": int(d.put_off.sum()),
        "orders_moved": int(harm["held"].sum()),
        "realised": harm["realised"],
        "note": "realised: customers whose first delay + d days lies in the window; % with a "
                "web order (not refunded) or a store receipt with a loyalty number in "
                "(notice, notice + d], with the harm and without it (the same orders before "
                "the move); effect_pp is their difference, the true effect on those who met "
                "it",
    }


def _pauses(paused: np.ndarray | None) -> dict[str, Any]:
    """The weeks search was paused (no spend at all): first and last day of each, counted
    from the window's first day (day 0), so the truth is the same on any calendar day."""
    runs: list[list[int]] = []
    if paused is not None:
        edges = np.diff(np.concatenate([[0], paused.astype(np.int8), [0]]))
        runs = [[int(a), int(b) - 1] for a, b in zip(
            np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)]
    return {"week_off_probability": bh.SEARCH_PAUSE_WEEK,
            "days": int(paused.sum()) if paused is not None else 0,
            "periods_window_days": runs}


def build_truths(**k: Any) -> dict[str, Any]:
    pp, cu, sp, orders = k["pp"], k["cu"], k["sp"], k["orders"]
    em, tk, ev, nps, csat, enps = k["em"], k["tk"], k["ev"], k["nps"], k["csat"], k["enps"]
    counts = k["counts"]
    cal = k["cal"]

    # Identity: which identifiers of each person appear anywhere in the files.
    has_web = np.zeros(pp.n, bool)
    has_web[orders.person[~orders.store]] = True
    has_ticket = np.zeros(pp.n, bool)
    has_ticket[tk.person] = True
    has_main = pp.in_crm | has_web | has_ticket
    seen, linked = ev["dev_seen"], ev["dev_linked"]
    loose = seen & ~(linked & has_main[:, None])
    persons_total = int((has_main | seen.any(axis=1)).sum())
    components = int(has_main.sum() + loose.sum())

    buyers = pp.buyer
    origin = orders.origin
    store_low = [s.store_id for s in co.STORES].index(co.LOW_ENPS_STORE)
    nps_low, nps_other = nps["score"][nps["low"]], nps["score"][~nps["low"]]
    store_resp = orders.store[nps["sel"]]
    enps_low = enps["score"][enps["team"] == co.LOW_ENPS_TEAM]
    enps_other = enps["score"][enps["team"] != co.LOW_ENPS_TEAM]

    def theme_counts(theme: np.ndarray) -> dict[str, int]:
        return {t: int((theme == i).sum()) for i, t in enumerate(fb.THEME_NAMES)}

    n_events = int(ev["rows"] - ga4.BAD_ROWS + counts["mailchimp_activity.ndjson"]
                   + counts["zendesk_tickets.csv"])
    return {
        "company": {"name": co.COMPANY, "stores": [s.store_id for s in co.STORES],
                    "teams": [t[0] for t in co.TEAMS], "size": k["size"], "seed": k["seed"]},
        "window": {"start": cal.start.date().isoformat(), "days": DAYS,
                   "today": cal.today.isoformat(),
                   "timezone_note": "GA4 and e-mail times are UTC; Shopify and Zendesk carry"
                   " +0200/+0300; POS times are store-local wall clock"},
        "identity": {
            "persons_total": persons_total,
            "expected_customers_after_resolution": components,
            "note": "persons_total: real persons with any identifier in any file. A perfect "
                    "resolver yields expected_customers_after_resolution: web/app devices "
                    "never logged in (no user_id) cannot be linked to their person.",
            "crm_contacts": int(pp.in_crm.sum()),
            "buyers": int(buyers.sum()),
            "anonymous_visitors": int((~buyers).sum()),
            "devices_seen": int(seen.sum()),
            "devices_linked_by_user_id": int((linked & has_main[:, None]).sum()),
            "loyalty_members": int(pp.loyalty.sum()),
        },
        "bgnbd": {**bh.BGNBD, "applies_to": "orders with channel web or store (not deals)",
                  "baseline_orders": int((origin == 0).sum()),
                  "note": "lambda ~ Gamma(shape r, rate alpha) per day; p ~ Beta(a, b); "
                          "touchpoint lifts add extra orders on top (touchpoint_lifts); "
                          "after an NPS answer, value_link moves later purchases"},
        "gamma_gamma": {**bh.GAMMA_GAMMA, "floor_eur": 4.90,
                        "mean_order_value": round(bh.GAMMA_GAMMA["p"] * bh.GAMMA_GAMMA[
                            "gamma"] / (bh.GAMMA_GAMMA["q"] - 1), 2),
                        "realised_mean_order_value": round(float(orders.cents.mean() / 100),
                                                           2)},
        "touchpoint_lifts": {
            "effects": bh.LIFTS,
            "causal": ["newsletter_click", "support_ticket_resolved"],
            "confounded_only": ["add_to_wishlist"],
            "event_types": {"newsletter_click": "mailchimp action click",
                            "support_ticket_resolved": "zendesk ticket, Status Solved or"
                            " Closed (time: Solved at)",
                            "add_to_wishlist": "GA4 event add_to_wishlist"},
            "intent": "add_to_wishlist probability per browsing session = min(0.7, 0.10 * "
                      "lambda / mean lambda): driven by the purchase rate, no effect of its"
                      " own",
            "newsletter_clicks": int((em.action == 1).sum()),
            "extra_orders_newsletter_click": int((origin == 1).sum()),
            "resolved_tickets": int((tk.status < 2).sum()),
            "extra_orders_support_ticket_resolved": int((origin == 2).sum()),
            "wishlist_adds": int(ev["counts"]["add_to_wishlist"]),
            "ticket_rate_per_order": bh.TICKET_RATE,
            "harmful": [dl.EVENT],
            dl.EVENT: _harm(k["harm"]),
        },
        "spend_response": {
            "form": "bought_t = vmax * s_t^h / (k^h + s_t^h), s_t = channel spend of day t "
                    "(EUR); each customer bought arrives L days later, P(L = l) = "
                    "(1 - decay) * decay^l, so expected new customers on day t = "
                    "(1 - decay) * sum_l decay^l * bought_(t-l) (geometric adstock of the Hill "
                    "response; a lag past the window's last day ends on it)",
            "curves": sp.curves,
            "search_pauses": _pauses(sp.paused),
            "total_spend_eur": {ch: round(float(sp.cents[np.isin(sp.campaign, [
                i for i, c in enumerate(bh.CAMPAIGNS) if c[0] == ch])].sum() / 100), 2)
                for ch in bh.CHANNELS},
            "acquired_customers": {ch: int(sp.acquired[i].sum())
                                   for i, ch in enumerate(bh.CHANNELS)},
            "platform_reported_conversions_inflation": 1.3,
        },
        "people_link": {
            "low_enps_team": co.LOW_ENPS_TEAM, "low_enps_store": co.LOW_ENPS_STORE,
            "enps_model": fb.ENPS,
            "nps_score_shift_at_low_store": fb.NPS["low_store_shift"],
            "csat_staff_rating_shift_at_low_store": -0.8,
            "realised_enps_low_team": _nps(enps_low),
            "realised_enps_other_teams": _nps(enps_other),
            "realised_nps_low_store": _nps(nps_low),
            "realised_nps_other_stores": _nps(nps_other[store_resp[~nps["low"]]]),
            "realised_nps_all": _nps(nps["score"]),
            "nps_answers_low_store": len(nps_low),
            "store_index": store_low,
        },
        "comment_themes": {
            "planted_shares_by_channel": co.THEME_SHARES,
            "nps_score_shift": {t: co.THEMES[t]["shift"] for t in fb.THEME_NAMES},
            "nps_comment_rate": fb.NPS["comment_rate"],
            "realised_nps_comments": theme_counts(nps["theme"]),
            "realised_csat_comments": theme_counts(csat["theme"]),
            "languages": ["fi", "sv", "en"],
        },
        "csat_drivers": {"weights": fb.CSAT_WEIGHTS, "intercept": fb.CSAT_INTERCEPT,
                         "noise_sd": 0.45, "scale": "1-5, rounded and clipped",
                         "columns": {k2: f"How would you rate us? [{v}]"
                                     for k2, v in fb.CSAT_ATTRS.items()}},
        "value_link": {
            **vl.VALUE_LINK,
            "model": "after a customer's first NPS answer at time a, each later BG/NBD "
                     "purchase (not a touchpoint-lift order, not one followed by a ticket) "
                     "is brought forward to a + gap_factor * (t - a), in whole days",
            "groups": "by the first answer: promoter 9-10, passive 7-8, detractor 0-6",
            "orders_moved": int(k["value"]["moved"].sum()),
            "realised": k["value"]["after"],
            "without_the_link": k["value"]["before"],
            "note": "realised: customers whose first answer + d days lies in the window; % "
                    "with a web or store order in (a, a + d] and revenue per customer, "
                    "before refunds and without B2B deals",
        },
        "bad_rows": {
            "quarantine": {"pos_sales.csv": POS_BAD["bad_date"] + POS_BAD["bad_amount"],
                           "ga4_events.csv": ga4.BAD_ROWS, "typeform_nps.csv": 1},
            "duplicates": {"pos_sales.csv": POS_BAD["duplicate"]},
            "total_quarantine": POS_BAD["bad_date"] + POS_BAD["bad_amount"] + ga4.BAD_ROWS
            + 1,
            "total_duplicates": POS_BAD["duplicate"],
            "detail": {
                "pos_sales.csv": "2 rows with impossible dates (31.02.2025, 30.02.2026), 1 "
                                 "row with Summa 'n/a', 1 exact copy of the row before",
                "ga4_events.csv": "2 rows (the last) with an empty event_timestamp and an "
                                  "impossible event_date",
                "typeform_nps.csv": "1 partial answer without a score (last row)",
            },
            "not_bad": "shopify_orders.csv rows after the first of an order are line items "
                       "(empty Total), not errors",
        },
        "counts": {
            "files": counts,
            "events": n_events,
            "events_by_type_ga4": ev["counts"],
            "ga4_sessions": ev["sessions"],
            "orders": {"web": int((~orders.store).sum()), "store": int(orders.store.sum()),
                       "deals": k["deals"]["rows"], "deals_won": k["deals"]["won"]},
            "revenue_eur": {"web": round(float(orders.cents[~orders.store].sum() / 100), 2),
                            "store": round(float(orders.cents[orders.store].sum() / 100), 2)},
            "shopify_line_rows_after_first": k["shop"]["line_rows_after_first"],
            "pos_rows_with_loyalty_number": k["pos"]["with_card"],
            "nps_answers": len(nps["score"]),
            "customers_at_end_alive": int((buyers & (cu.death > cal.end_epoch)).sum()),
        },
    }
