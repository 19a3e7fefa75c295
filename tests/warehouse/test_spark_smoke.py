"""Proves that Java and a local Spark work on this machine, before any parity test runs.

Skips only when ``java`` is missing on a developer machine (see the ``spark`` fixture); on
CI a missing Java fails instead.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.spark


def test_local_spark_runs_a_query(spark) -> None:
    rows = spark.sql("SELECT 1 + 1 AS two, 'Åsa' AS name").collect()
    assert rows[0]["two"] == 2
    assert rows[0]["name"] == "Åsa"


def test_session_is_configured_for_cxlens(spark) -> None:
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "4"
    assert spark.sparkContext.master == "local[2]"
