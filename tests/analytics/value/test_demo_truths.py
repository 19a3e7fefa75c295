"""What the S demo plants, seen through cohorts and the worth by campaign: customers bought by
ads make their first order in the web shop, under the campaign names the spend rows carry
(docs/demo.md, ``spend_response``)."""

from __future__ import annotations

from cxlens.analytics.value.cohorts import cohorts
from cxlens.demo.calendar import DEFAULT_TODAY
from cxlens.warehouse.store import open_engine


def test_ad_acquired_customers_first_buy_on_the_web(demo) -> None:
    ws, _ = demo
    with open_engine(ws) as eng:
        ads = {r["campaign"] for r in eng.query(
            "SELECT DISTINCT campaign FROM v_spend WHERE campaign IS NOT NULL").to_pylist()}
        every = {c.key: c.customers for c in cohorts(eng, DEFAULT_TODAY, by="campaign").cohorts}
        web = {c.key: c.customers
               for c in cohorts(eng, DEFAULT_TODAY, by="campaign", channel="web").cohorts}
        by_channel = {c.key: c.customers for c in cohorts(eng, DEFAULT_TODAY, by="channel").cohorts}
    bought = ads & set(every)
    assert len(bought) >= 4, (ads, every)  # the spend's campaign names are the customers'
    for name in bought:
        assert web.get(name) == every[name], name
    assert sum(every.values()) == sum(by_channel.values())  # every customer in one campaign
    assert every.get("(none)", 0) > 0  # store customers without web events
