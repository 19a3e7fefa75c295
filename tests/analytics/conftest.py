"""One S demo warehouse for all analytics tests (built once per test session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from demo_cache import s_demo

if TYPE_CHECKING:
    from cxlens.warehouse.engine import DuckDBEngine
    from cxlens.warehouse.spark import SparkEngine


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """(workspace path, planted truths) of the S demo, seed 11, loaded through ingest (a
    copy of the one built first in this process, ``demo_cache``)."""
    root = tmp_path_factory.mktemp("demo")
    truths = s_demo(root / "ws", 11)
    return root / "ws", truths


@pytest.fixture(scope="session")
def engines(demo, spark) -> Iterator[tuple[DuckDBEngine, SparkEngine]]:
    """The S demo on both engines: (DuckDB on the warehouse file, Spark local with every
    table and view of the warehouse registered), for the DuckDB/Spark parity tests.

    Spark reads copies of the warehouse's tables and views (the views materialised), so both
    engines answer the same SQL from the same rows. 128-bit integers (the content hash
    ``_hash``) become hex text, as the lake writes them: Arrow gives them to Spark as
    decimal(38), which they overflow.
    """
    import duckdb

    from cxlens.warehouse.engine import DuckDBEngine
    from cxlens.warehouse.spark import SparkEngine

    ws, _ = demo
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    # its own session: temporary views are per session, so no other test's views replace
    # the demo's whatever order the tests run in
    sparkeng = SparkEngine(spark.newSession())
    names = [r[0] for r in con.sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "ORDER BY 1").fetchall()]
    for name in names:
        cols = con.sql(f'DESCRIBE SELECT * FROM "{name}"').fetchall()
        exprs = [f'lower(to_hex("{c}")) AS "{c}"' if t in ("HUGEINT", "UHUGEINT")
                 else f'"{c}"' for c, t, *_ in cols]
        sparkeng.register(name, con.sql(f'SELECT {", ".join(exprs)} FROM "{name}"')
                          .to_arrow_table())
    try:
        yield DuckDBEngine(con), sparkeng
    finally:
        con.close()
