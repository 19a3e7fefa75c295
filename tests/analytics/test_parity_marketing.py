"""DuckDB/Spark parity of attribution: the distinct paths, the time-decay credit and every
model with its bootstrap intervals, on the S demo (the ``engines`` fixture: the shared demo
read-only, Spark on its own ``newSession()``).

The paths are equal row for row; the whole :class:`Attribution` is then equal too, since
every model and the seeded bootstrap work on those rows alone (numbers to 1e-9 relative:
time decay's sums of powers may add up in another order).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cxlens.analytics.journeys import Selection
from cxlens.analytics.marketing import PathOptions, attribute
from cxlens.analytics.marketing._paths import paths_sql
from helpers import assert_same

pytestmark = pytest.mark.spark

CAMPAIGNS = {"%Search%": "search_ads", "%Prospecting%": "social_ads",
             "%Retargeting%": "social_ads"}


def test_paths_parity(engines) -> None:
    duck, spark = engines
    last = duck.query("SELECT CAST(max(ts) AS DATE) AS d FROM v_events").to_pylist()[0]["d"]
    cases = [
        (Selection(), PathOptions()),
        (Selection(), PathOptions(lookback_days=7, conversion="first", sale_touch=False,
                                  campaigns=PathOptions.mapping(CAMPAIGNS))),
        (Selection(start=last - timedelta(days=120), end=last + timedelta(days=1),
                   channel="email"), PathOptions(conversion="first")),
        (Selection(start=date(1990, 1, 1), end=date(1990, 2, 1)), PathOptions()),  # nobody
    ]
    for sel, opts in cases:
        sql, params = paths_sql(sel, opts)
        left = duck.query(sql, params).to_pylist()
        assert_same(left, spark.query(sql, params).to_pylist(), f"paths {sel} {opts}")
    assert len(duck.query(*paths_sql(*cases[0])).to_pylist()) > 20


def test_attribution_parity(engines) -> None:
    duck, spark = engines
    for kw in ({"order": 1}, {"order": 2, "campaigns": CAMPAIGNS, "half_life_days": 3.0}):
        left = attribute(duck, n_boot=50, **kw)
        assert left.reason is None and len(left.channels) >= 5
        assert_same(left.as_dict(), attribute(spark, n_boot=50, **kw).as_dict(),
                    f"attribute {kw}")


def test_roi_parity(engines) -> None:
    """Spend and return: the credit and order queries row for row, then the whole result
    (its seeded bootstrap works on those rows alone) by channel, campaign and month."""
    from cxlens.analytics.marketing import roi
    from cxlens.analytics.marketing._paths import PathOptions as Opts
    from cxlens.analytics.marketing._spend import spend_campaigns, spend_sql
    from cxlens.analytics.marketing.roi import credit_sql

    duck, spark = engines
    assert spend_campaigns(duck) == spend_campaigns(spark)
    opts = Opts(30, "first", (), spend_campaigns(duck), sale_touch=False)
    for model, since in (("last_paid", False), ("position", True)):
        sql, params = credit_sql(opts, model, "EUR", ["search_ads", "social_ads"], since)
        params = {**params, "last": date(2026, 11, 27),
                  **({"first": date(2025, 3, 1)} if since else {})}
        left = duck.query(sql, params).to_pylist()
        assert sum(1 for r in left if r["kind"] == 1) > 50
        assert_same(left, spark.query(sql, params).to_pylist(), f"roi credit {model}")
    for since, currency, rates in ((False, "EUR", None), (True, "EUR", None),
                                   (True, "SEK", {"EUR": 11.49})):
        sql, rp = spend_sql(since, rates)
        p = {**rp, "currency": currency, "end": date(2026, 11, 27),
             **({"start": date(2025, 3, 1)} if since else {})}
        left = duck.query(sql, p).to_pylist()
        assert left
        assert_same(left, spark.query(sql, p).to_pylist(), f"spend {currency}")
    today = date(2026, 11, 27)
    for kw in ({"by": "channel"}, {"by": "campaign", "model": "linear", "horizon_days": 90},
               {"by": "month", "start": date(2025, 6, 1), "end": date(2026, 6, 1)},
               # the demo's EUR converted in the engine's SQL (issue 14): spend, the
               # paths' order amounts and the customers' revenue, each row at the rate
               {"by": "channel", "currency": "SEK", "rates": {"EUR": 11.49}}):
        left = roi(duck, today=today, n_boot=50, **kw)
        assert left.reason is None and left.rows
        assert_same(left.as_dict(), roi(spark, today=today, n_boot=50, **kw).as_dict(),
                    f"roi {kw}")


def test_mmm_series_parity(engines) -> None:
    """The planner's daily series (spend per channel, new customers, revenue) are equal on
    both engines, so the fit is (it works on those arrays alone)."""
    import numpy as np

    from cxlens.analytics.marketing.mmm import read_series

    duck, spark = engines
    for outcome in ("new_customers", "revenue"):
        left, right = read_series(duck, outcome), read_series(spark, outcome)
        assert (left.start, left.channels, left.currency) == (right.start, right.channels,
                                                              right.currency)
        np.testing.assert_allclose(left.spend, right.spend, rtol=1e-12)
        np.testing.assert_allclose(left.outcome, right.outcome, rtol=1e-12)
        assert left.outcome.sum() > 0
    left = read_series(duck, "revenue", currency="SEK", rates={"EUR": 11.49})
    right = read_series(spark, "revenue", currency="SEK", rates={"EUR": 11.49})
    np.testing.assert_allclose(left.spend, right.spend, rtol=1e-12)
    np.testing.assert_allclose(left.outcome, right.outcome, rtol=1e-12)
    assert left.currency == "SEK" and left.spend.sum() > 10 * read_series(duck).spend.sum()
