"""Shared test fixtures. Keep each fixture small and documented; add new ones below."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local Spark session (local[2], 4 shuffle partitions, UTC, no UI) for the run.

    Starting Spark costs several seconds, so every ``@pytest.mark.spark`` test shares this
    one; it is stopped when the run ends so pytest exits without a lingering JVM. Without
    ``java`` the Spark tests skip on a developer machine but fail on CI (CI=true), where
    Java 17 is part of the contract and a silent skip would hide a broken setup.
    """
    if shutil.which("java") is None:
        message = "Spark tests need Java 17 ('java' is not on PATH)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from cxlens.warehouse.spark import local_session

    # 3 GB for the driver: with Spark's default 1 GB the business moments' survival query
    # on the S demo hangs (a task runs out of memory and local mode waits for it forever).
    session = local_session("cxlens-tests", extra_conf={"spark.driver.memory": "3g"})
    yield session
    session.stop()
