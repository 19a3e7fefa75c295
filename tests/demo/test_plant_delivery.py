"""The demo's planted harm, delayed deliveries: which orders move, on a hand-built timeline,
and that the files differ from a demo without it only where it acts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cxlens.demo import delivery as dl
from cxlens.demo import generate
from cxlens.demo.behaviour import DAY, Orders
from cxlens.demo.calendar import DEFAULT as CAL


def _orders(person: list[int], day: list[float], origin: list[int],
            ticket: list[bool]) -> Orders:
    n = len(person)
    return Orders(np.array(person), CAL.start_epoch + np.array(day) * DAY, np.zeros(n, bool),
                  np.full(n, -1), np.full(n, 5000), np.array(origin), np.array(ticket))


def _delays(order: list[int], person: list[int], first: list[bool], put_off: list[bool]
            ) -> dl.Delays:
    n = len(order)
    return dl.Delays(np.array(order), np.array(person), np.full(n, 3.0 * DAY),
                     np.array(first), np.array(put_off))


def test_plant_holds_back_the_later_orders_of_the_put_off() -> None:
    last = (CAL.end_epoch - CAL.start_epoch) / DAY
    orders = _orders(
        # person 0 is put off by the delay of order 0 (notice on day 13); person 1's first
        # delay (order 4) does not put them off, so their second one (order 6) does nothing
        person=[0, 0, 0, 0, 0, 1, 1, 1],
        day=[10.0, 12.0, 40.0, 50.0, last - 150, 20.0, 30.0, 60.0],
        origin=[0, 0, 0, 1, 0, 0, 0, 0],
        ticket=[False, False, False, False, False, False, False, False])
    d = _delays(order=[0, 5, 6], person=[0, 1, 1], first=[True, True, False],
                put_off=[True, False, False])
    held, moved = dl.plant(orders, d, 2, CAL)
    day = (held.t - CAL.start_epoch) / DAY
    hold = dl.DELIVERY["hold_days"]
    # before the notice (day 12) stays; day 40 moves; a lift order stays; an order that
    # would land within 60 days of the end stays; person 1 is not put off
    assert day.tolist() == [10.0, 12.0, 40.0 + hold, 50.0, last - 150, 20.0, 30.0, 60.0]
    assert moved.tolist() == [False, False, True, False, False, False, False, False]
    assert d.times(held)[0] == pytest.approx(CAL.start_epoch + 13 * DAY)


def test_realised_compares_the_same_customers_with_and_without() -> None:
    before = _orders(person=[0, 0, 1, 1], day=[10.0, 20.0, 10.0, 30.0], origin=[0] * 4,
                     ticket=[False] * 4)
    d = _delays(order=[0, 2], person=[0, 1], first=[True, True], put_off=[True, False])
    after, _ = dl.plant(before, d, 2, CAL)
    r = dl.realised(before, after, d, np.ones(4, bool), 2, CAL)
    assert r["30"] == {"customers": 2, "bought_pct_with_harm": 50.0,
                       "bought_pct_without_harm": 100.0, "effect_pp": -50.0}


def _rows(path: Path, key: str) -> dict[str, list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        out: dict[str, list[str]] = {}
        for row in csv.DictReader(fh):
            out.setdefault(row[key], []).append(str(sorted(row.items())))
        return out


def test_the_harm_changes_only_what_it_acts_on(tmp_path: Path, monkeypatch) -> None:
    with_harm = generate(tmp_path / "with", "S", seed=7).truths
    monkeypatch.setitem(dl.DELIVERY, "delay_probability", 0.0)
    without = generate(tmp_path / "without", "S", seed=7).truths
    harm = with_harm["touchpoint_lifts"]["delivery_delayed"]
    assert without["touchpoint_lifts"]["delivery_delayed"]["delays"] == 0
    assert harm["delays"] > 100 and harm["orders_moved"] > 30
    assert harm["realised"]["30"]["effect_pp"] < 0 and harm["realised"]["90"]["effect_pp"] < 0
    same = ("hr_employees.xlsx", "hubspot_contacts.csv", "hubspot_deals.csv",
            "mailchimp_activity.ndjson", "zendesk_tickets.csv", "meta_ads.csv",
            "google_ads.csv", "typeform_ces.csv", "enps_responses.csv")
    for name in same:
        assert (tmp_path / "with" / name).read_bytes() == \
            (tmp_path / "without" / name).read_bytes(), name
    # a moved order changes its own rows only: the Shopify orders whose rows differ are
    # moved orders (the POS receipts, in cp1252, are the rest of orders_moved)
    a = _rows(tmp_path / "with" / "shopify_orders.csv", "Name")
    b = _rows(tmp_path / "without" / "shopify_orders.csv", "Name")
    assert a.keys() == b.keys()
    changed = [k for k in a if a[k] != b[k]]
    assert 0 < len(changed) <= harm["orders_moved"]
    # GA4: the delay notices are added (one per delay, each naming a Shopify order and the
    # customer's CRM id); every other event is kept, a moved order's purchase session moved
    ev_a = (tmp_path / "with" / "ga4_events.csv").read_text().splitlines()
    ev_b = (tmp_path / "without" / "ga4_events.csv").read_text().splitlines()
    notices = [r for r in csv.DictReader(ev_a) if r["event_name"] == dl.EVENT]
    assert len(notices) == harm["delays"] == len(ev_a) - len(ev_b)
    assert all(r["user_id"] and r["transaction_id"] in a for r in notices)
    assert ev_a[-2:] == ev_b[-2:]  # the bad rows stay last
    kept = [r for r in ev_a if f'"{dl.EVENT}"' not in r]
    assert len(kept) == len(ev_b)
    assert sum(x != y for x, y in zip(kept, ev_b, strict=True)) < 20 * harm["orders_moved"]
