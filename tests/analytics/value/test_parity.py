"""The value models give the same results on DuckDB and on Spark (the S demo on both): the
engine's summary is equal row for row, so the fits on it are equal too."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from cxlens.analytics.value._summary import purchase_summary
from cxlens.analytics.value.models import fit_value
from cxlens.demo.calendar import DEFAULT_TODAY as TODAY
from cxlens.web.api.value import value_fit_out
from helpers import assert_same

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("kwargs", [
    {},
    {"holdout_end": date(2026, 11, 1), "rates": {"SEK": 0.087, "NOK": 0.085}},
])
def test_summary_is_the_same(engines, kwargs) -> None:
    duck, spark = engines
    left = purchase_summary(duck, date(2026, 5, 31), TODAY, **kwargs)
    right = purchase_summary(spark, date(2026, 5, 31), TODAY, **kwargs)
    assert left.customers > 200 and left.repeat_customers > 50
    for name in ("x", "t_x", "T", "x_holdout", "spend", "n"):
        np.testing.assert_array_equal(getattr(left, name), getattr(right, name), name)
    assert left.left_out == right.left_out


def test_fit_is_the_same(engines) -> None:
    duck, spark = engines
    left = value_fit_out(fit_value(duck, TODAY)).model_dump()
    right = value_fit_out(fit_value(spark, TODAY)).model_dump()
    assert left["customers"] > 200
    assert_same(left, right)
