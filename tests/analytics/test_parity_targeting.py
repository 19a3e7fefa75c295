"""DuckDB/Spark parity of targeting: the look-alike's features per customer, the contact
details, and the whole look-alike list (model, held-out AUC, rows), on the S demo."""

from __future__ import annotations

from datetime import date

import pytest

from cxlens.analytics.marketing.targeting import CONTACTS_SQL, lookalike_features, targets
from helpers import assert_same

pytestmark = pytest.mark.spark

END = date(2026, 11, 30)


def test_features_and_contacts_parity(engines) -> None:
    duck, spark = engines
    for window in (90, 180):
        left = lookalike_features(duck, END, window)
        assert len(left["customer_id"]) > 300
        assert_same(left, lookalike_features(spark, END, window), f"features {window}")
    ids = left["customer_id"][:25]
    assert_same(duck.query(CONTACTS_SQL, {"ids": ids}).to_pylist(),
                spark.query(CONTACTS_SQL, {"ids": ids}).to_pylist(), "contacts")


def test_lookalike_list_parity(engines) -> None:
    duck, spark = engines
    left = targets(duck, "lookalike", date(2026, 12, 1), top=50)
    assert left.lookalike is not None and left.lookalike.auc is not None and left.rows
    assert_same(left.as_dict(), targets(spark, "lookalike", date(2026, 12, 1),
                                        top=50).as_dict(), "lookalike")
