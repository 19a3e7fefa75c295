"""Cohorts, RFM, per-customer values, the CLV distribution and the worth by channel and NPS
group are the same on DuckDB and on Spark (the S demo on both): every query of theirs runs on
both engines."""

from __future__ import annotations

import pytest

from cxlens.analytics.value.channels import clv_by_channel, clv_by_nps_group
from cxlens.analytics.value.cohorts import cohorts
from cxlens.analytics.value.customers import customer_values
from cxlens.analytics.value.distribution import clv_distribution
from cxlens.analytics.value.models import fit_value
from cxlens.analytics.value.rfm import rfm
from cxlens.demo.calendar import DEFAULT_TODAY as TODAY
from helpers import assert_same

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def model(engines):
    return fit_value(engines[0], TODAY)


@pytest.mark.parametrize("by", ["month", "channel", "campaign"])
def test_cohorts(engines, by) -> None:
    duck, spark = engines
    left = cohorts(duck, TODAY, by=by)
    assert left.customers > 200
    assert_same(left, cohorts(spark, TODAY, by=by))


def test_rfm(engines) -> None:
    duck, spark = engines
    left = rfm(duck, TODAY, months=6)
    assert left.moves
    assert_same(left, rfm(spark, TODAY, months=6))


@pytest.mark.parametrize("at_risk", [False, True])
def test_customers(engines, model, at_risk) -> None:
    duck, spark = engines
    left = customer_values(duck, model, at_risk=at_risk, top=20, draws=20)
    assert left.rows
    assert_same(left, customer_values(spark, model, at_risk=at_risk, top=20, draws=20))


@pytest.mark.parametrize("by", ["channel", "campaign", "nps_group"])
def test_worth(engines, model, by) -> None:
    duck, spark = engines

    def worth(eng):
        if by == "nps_group":
            return clv_by_nps_group(eng, model, draws=20)
        return clv_by_channel(eng, model, by=by, draws=20)

    left = worth(duck)
    assert left.rows
    assert_same(left, worth(spark))


def test_clv_distribution(engines, model) -> None:
    duck, spark = engines
    left = clv_distribution(duck, model, draws=20)
    assert left.bins and left.customers > 200
    assert_same(left, clv_distribution(spark, model, draws=20))
