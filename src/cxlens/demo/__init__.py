"""The demo company generator: realistic exports of a Nordic omnichannel retailer.

``generate(out_dir, size, seed)`` writes one file per source system in the format of that
system's real export (each matching a preset in ``cxlens/sources/presets``), plus
``manifest.json`` (the files in ingest order, with kind and preset) and ``truths.json`` (the
parameters planted in the data, which cxlens' analytics must recover). Everything is drawn
with NumPy from one seed, so the same seed gives byte-identical files.

See docs/demo.md for the company, the files and the planted truths.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from cxlens.demo import behaviour as bh
from cxlens.demo import company as co
from cxlens.demo import delivery as dl
from cxlens.demo import exports as ex
from cxlens.demo import feedback as fb
from cxlens.demo import ga4
from cxlens.demo import value_link as vl
from cxlens.demo.calendar import DEFAULT_TODAY, Calendar
from cxlens.demo.people import make_people
from cxlens.demo.truths import build_truths

__all__ = ["SIZES", "DemoFile", "Manifest", "generate"]

# Persons per size; chosen so that S ~ 20 k, M ~ 1 M and L ~ 10 M events.
SIZES: dict[str, int] = {"S": 850, "M": 44_000, "L": 440_000}

# (file name, kind, preset) in ingest order: people and customers first, then facts.
FILES: tuple[tuple[str, str, str], ...] = (
    ("hr_employees.xlsx", "employees", "hr_employees"),
    ("hubspot_contacts.csv", "customers", "hubspot_contacts"),
    ("hubspot_deals.csv", "orders", "hubspot_deals"),
    ("shopify_orders.csv", "orders", "shopify_orders"),
    ("pos_sales.csv", "orders", "pos_sales"),
    ("ga4_events.csv", "events", "ga4_events"),
    ("mailchimp_activity.ndjson", "events", "mailchimp_activity"),
    ("zendesk_tickets.csv", "events", "zendesk_tickets"),
    ("meta_ads.csv", "spend", "meta_ads"),
    ("google_ads.csv", "spend", "google_ads"),
    ("typeform_nps.csv", "feedback", "typeform_responses"),
    ("google_forms_csat.csv", "feedback", "google_forms_responses"),
    ("typeform_ces.csv", "feedback", "typeform_ces"),
    ("google_reviews.csv", "feedback", "google_reviews"),
    ("trustpilot_reviews.csv", "feedback", "trustpilot_reviews"),
    ("enps_responses.csv", "feedback", "enps_responses"),
)


# One random stream per part of the generator, in a fixed order: a part draws only from its
# own stream, so a new part (appended here) never changes what the others draw.
STREAMS: tuple[str, ...] = (
    "people", "spend", "customers", "orders", "emails", "tickets", "lift_newsletter",
    "lift_tickets", "employees", "hubspot_contacts", "hubspot_deals", "shopify", "pos",
    "ga4", "zendesk", "ads", "nps", "csat", "ces", "google_reviews", "trustpilot", "enps",
    "delivery", "carryover", "pauses",
)


@dataclass
class DemoFile:
    path: Path
    kind: str
    preset: str


@dataclass
class Manifest:
    files: list[DemoFile] = field(default_factory=list)
    truths: dict = field(default_factory=dict)


def generate(
    out_dir: Path,
    size: str = "S",
    seed: int = 7,
    progress: Callable[[str, float], None] | None = None,
    today: date = DEFAULT_TODAY,
) -> Manifest:
    """Write the demo company's exports to ``out_dir`` and return the manifest.

    The data end the day before ``today`` (given by the edge: the CLI passes the real date,
    tests the default); another day moves every date and changes nothing else.
    ``progress(stage, fraction)`` is called as the work advances (fraction in 0..1).
    """
    if size not in SIZES:
        from cxlens.errors import UserError

        raise UserError(f"unknown demo size {size!r}", hint="use S, M or L")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seqs = np.random.SeedSequence([seed, 20261127]).spawn(len(STREAMS))

    def rng(name: str) -> np.random.Generator:
        return np.random.default_rng(seqs[STREAMS.index(name)])

    def step(stage: str, frac: float) -> None:
        if progress:
            progress(stage, frac)

    n = SIZES[size]
    cal = Calendar(today)
    path = {name: out_dir / name for name, _, _ in FILES}
    step("people", 0.0)
    pp = make_people(rng("people"), n)
    scale = float(pp.buyer.sum()) / 1000.0
    sp = bh.make_spend(rng("spend"), scale, bh.search_pauses(rng("pauses")))
    bh.carry_over(rng("carryover"), sp)
    cu = bh.make_customers(rng("customers"), pp.buyer, sp, cal)
    base = bh.baseline_orders(rng("orders"), pp.buyer, cu, pp.home_store, pp.store_share,
                              cal)
    step("orders", 0.1)
    em = bh.make_emails(rng("emails"), pp.subscribed, cu, cal)
    tk = bh.make_tickets(rng("tickets"), base, cal)
    clicks = em.action == 1
    lift_nl = bh.lift_orders(rng("lift_newsletter"), em.person[clicks], em.t[clicks],
                             "newsletter_click", 1, cu, pp.home_store, pp.store_share, cal)
    resolved = tk.status < 2
    lift_tk = bh.lift_orders(rng("lift_tickets"), tk.person[resolved], tk.resolved_t[resolved],
                             "support_ticket_resolved", 2, cu, pp.home_store, pp.store_share,
                             cal)
    drawn = bh.concat_orders([base, lift_nl, lift_tk])
    # The NPS answers are drawn on these orders; then the value link moves each answering
    # customer's later purchases by their first answer (docs/demo.md, value_link).
    nps_rng = rng("nps")
    answers = fb.nps_answers(nps_rng, pp, drawn, cal)
    first = vl.first_answers(answers, drawn, pp.n)
    linked_orders, moved = vl.plant(drawn, first, cal)
    # The planted harm (docs/demo.md, touchpoint_lifts): late deliveries put some customers
    # off; its own stream, so that every other draw stays as it was.
    delays = dl.draw(rng("delivery"), pp, linked_orders, cal)
    orders, held = dl.plant(linked_orders, delays, pp.n, cal)
    ids = ex.order_ids(orders)

    counts: dict[str, object] = {}
    emp_rows, staff = fb.employees(path["hr_employees.xlsx"], rng("employees"), cal)
    counts["hr_employees.xlsx"] = len(emp_rows)
    counts["hubspot_contacts.csv"] = ex.hubspot_contacts(
        path["hubspot_contacts.csv"], rng("hubspot_contacts"), pp, cu.birth)
    deals = ex.hubspot_deals(path["hubspot_deals.csv"], rng("hubspot_deals"), pp, cu.birth,
                             cal)
    counts["hubspot_deals.csv"] = deals["rows"]
    shop = ex.shopify_orders(path["shopify_orders.csv"], rng("shopify"), pp, orders, ids, cal)
    counts["shopify_orders.csv"] = shop["rows"]
    pos = ex.pos_sales(path["pos_sales.csv"], rng("pos"), pp, orders, staff, ids)
    counts["pos_sales.csv"] = pos["rows"]
    step("events", 0.2)
    ev = ga4.write_events(path["ga4_events.csv"], rng("ga4"), pp, cu, orders, ids,
                          lambda f: step("events", 0.2 + 0.6 * f), drawn_t=drawn.t,
                          extra=dl.ga4_rows(delays, pp, cu, orders, ids),
                          end=cal.end_epoch)
    counts["ga4_events.csv"] = ev["rows"]
    counts["mailchimp_activity.ndjson"] = ex.mailchimp_activity(
        path["mailchimp_activity.ndjson"], pp, em)
    counts["zendesk_tickets.csv"] = ex.zendesk_tickets(path["zendesk_tickets.csv"],
                                                       rng("zendesk"), pp, tk)
    ads = ex.ad_reports(path["meta_ads.csv"], path["google_ads.csv"], rng("ads"), sp, cal)
    counts["meta_ads.csv"], counts["google_ads.csv"] = ads["meta"], ads["google"]
    step("feedback", 0.85)
    nps = fb.typeform_nps(path["typeform_nps.csv"], nps_rng, answers, pp, orders, ids)
    counts["typeform_nps.csv"] = nps["rows"]
    csat = fb.forms_csat(path["google_forms_csat.csv"], rng("csat"), pp, orders, ids, cal,
                         drawn_t=drawn.t)
    counts["google_forms_csat.csv"] = csat["rows"]
    counts["typeform_ces.csv"] = fb.typeform_ces(path["typeform_ces.csv"], rng("ces"), pp,
                                                 tk, cal)["rows"]
    gr = fb.google_reviews(path["google_reviews.csv"], rng("google_reviews"), pp, orders, cal)
    counts["google_reviews.csv"] = gr["rows"]
    counts["trustpilot_reviews.csv"] = fb.trustpilot_reviews(
        path["trustpilot_reviews.csv"], rng("trustpilot"), pp, orders, ids, cal)["rows"]
    en = fb.enps(path["enps_responses.csv"], rng("enps"), emp_rows, cal)
    counts["enps_responses.csv"] = en["rows"]
    linked = np.zeros(len(orders.t), bool)  # orders the files tie to their customer
    linked[~orders.store] = ~shop["refunded"]
    linked[orders.store] = pos["card"]
    value = {"moved": moved, "before": vl.realised(drawn, first, linked, cal),
             "after": vl.realised(orders, vl.first_answers(answers, orders, pp.n), linked,
                                  cal)}
    harm = {"delays": delays, "held": held,
            "realised": dl.realised(linked_orders, orders, delays, linked, pp.n, cal)}

    truths = build_truths(
        size=size, seed=seed, pp=pp, cu=cu, sp=sp, orders=orders, em=em, tk=tk, ev=ev,
        shop=shop, pos=pos, deals=deals, nps=nps, csat=csat, enps=en, counts=counts,
        value=value, harm=harm, cal=cal,
    )
    files = [DemoFile(path[name], kind, preset) for name, kind, preset in FILES]
    manifest = Manifest(files=files, truths=truths)
    meta = {
        "company": co.COMPANY,
        "size": size,
        "seed": seed,
        "files": [{"path": f.path.name, "kind": f.kind, "preset": f.preset,
                   "rows": counts[f.path.name], "bytes": f.path.stat().st_size}
                  for f in files],
        "counts": truths["counts"],
    }
    (out_dir / "manifest.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    (out_dir / "truths.json").write_text(json.dumps(truths, indent=2, ensure_ascii=False))
    step("done", 1.0)
    return manifest


def manifest_dict(m: Manifest) -> dict:
    """The manifest as plain JSON-able data (paths as strings)."""
    d = asdict(m)
    for f in d["files"]:
        f["path"] = str(f["path"])
    return d
