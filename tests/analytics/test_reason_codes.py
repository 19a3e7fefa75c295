"""Stable reason codes: the moments, their curves and their customers carry a
``reason_code`` beside the English ``reason``, and the API's models (the JSON of the API and
of ``--json``) pass it on."""

from __future__ import annotations

import pytest

from cxlens.analytics import journeys as j
from cxlens.analytics.journeys import reasons as rs
from cxlens.web.api.journeys import customers_out, moments_out, survival_out


def test_codes_are_in_the_results_and_the_api(small) -> None:
    m = j.moments(small, "promoter", 90, touchpoints=["demo"])
    assert m.reason_code == rs.NO_OUTCOME and "never happens" in m.reason
    assert moments_out(m).reason_code == rs.NO_OUTCOME
    m = j.moments(small, "purchase", 90, touchpoints=["demo", "nothing"], n_boot=100)
    assert m.reason_code is None and m.rows[0].reason_code is None
    assert m.rows[-1].reason_code == rs.NOBODY_MET
    assert moments_out(m).model_dump(mode="json")["moments"][-1]["reason_code"] == "nobody_met"
    nobody = j.Selection(segment="no such segment")
    assert j.moments(small, "purchase", 90, nobody).reason_code == rs.NO_TOUCHPOINTS
    assert j.moments(small, "purchase", 400).reason_code == rs.HORIZON_NOT_OBSERVED
    assert survival_out(j.survival(small, "demo", sel=nobody)).reason_code == rs.NO_TOUCHPOINTS
    assert j.survival(small, "nothing").reason_code == rs.NOBODY_MET
    assert customers_out(j.customers(small, "nothing")).reason_code == rs.NOBODY_MET
    assert j.customers(small, "demo", sel=nobody).reason_code == rs.NO_TOUCHPOINTS


@pytest.fixture(scope="module")
def small():
    from moments_sim import engine
    from test_moments import tiny

    return engine(tiny())
