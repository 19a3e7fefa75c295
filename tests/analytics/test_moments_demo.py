"""The business moments on the S demo against its planted truths (docs/demo.md,
``touchpoint_lifts``): each ``newsletter_click`` causes an extra order within 14 days with
probability 0.08; a ``delivery_delayed`` notice (GA4, 30 % of the webshop orders of CRM
contacts, at random) puts 70 % of the customers it first reaches off buying for 120 days;
``add_to_wishlist`` has no effect but follows the latent purchase intent.

What is recovered, and what is not (docs/methods.md, "Business moments"): the click's
effect on a purchase within 30 days is below its naive difference (part of that was intent)
and its interval holds the planted lift (at most 8 pp: the extra order's 0.08, less those
who would have bought anyway). On S that interval is wide (about 190 clickers, ±10 pp). The
delay's naive difference is *positive* — a delay notice comes days after an order, and
customers who have just bought buy again more than the average customer — and the
adjustment brings it down, nearer the realised harm that ``truths.json`` states, which
lies inside its interval (on M the estimate lands on it, docs/demo.md). Since issue 11's
comparison — drawn days after the comparison customers' own orders for "just bought"
treated — the delay has comparable customers on S (before it, 76 of the 129 who met a delay
had none). The wishlist decoy: the adjustment does not remove it (the limit in
docs/methods.md); its adjusted effect lies inside its interval with the naive difference.
"""

from __future__ import annotations

from cxlens.analytics import journeys as j
from cxlens.warehouse.store import open_engine


def test_the_demo_moments(demo) -> None:
    ws, truths = demo
    lifts = truths["touchpoint_lifts"]
    assert lifts["harmful"] == ["delivery_delayed"]
    harm = lifts["delivery_delayed"]["realised"]["30"]
    assert harm["effect_pp"] < -5  # planted: fewer of those who met a delay buy again
    with open_engine(ws) as eng:
        m = j.moments(eng, "purchase", 30,
                      touchpoints=["newsletter_click", "add_to_wishlist", "delivery_delayed"])
    rows = {r.touchpoint: r for r in m.rows}
    click, wish = rows["newsletter_click"], rows["add_to_wishlist"]
    delay = rows["delivery_delayed"]
    assert click.customers > 150 and click.low < 8.0 < click.high
    assert click.effect < click.naive  # part of the naive difference was intent
    # the harm: the adjustment brings a positive naive difference down, nearer the truth
    # below the effective click (on S the decoy's interval, ±20 pp, can rank it lower still)
    assert delay.customers > 100 and delay.effect < click.effect
    assert delay.naive > 0 and delay.effect is not None and delay.trimmed < 10
    assert delay.effect < delay.naive
    assert abs(delay.effect - harm["effect_pp"]) < abs(delay.naive - harm["effect_pp"])
    assert delay.low < harm["effect_pp"] < delay.high
    # the decoy: no effect planted, but intent leaves almost no trace in the prior activity
    # adjusted for, so the adjustment hardly moves its naive difference (the limit)
    assert wish.naive > 5 and wish.low < wish.naive < wish.high
