"""The dashboard on Spark (issue 8): a real ``cxlens serve`` with ``CXLENS_SPARK=local[1]``
gives the same Experience API results and Overview numbers as a server on DuckDB, for the
same S demo warehouse; a workspace whose setting says DuckDB stays on DuckDB there; a table
missing from the lake is mirrored again before Spark reads.

Two servers, each in its own home with a copy of one warehouse. Spark starts in the server
when the first request needs it (one session for the process), so the first answer takes
seconds; the rest reuse it.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from web_helpers import figure, table_rows, text

from helpers import assert_same
from served import cli, make_home, serve

pytestmark = pytest.mark.spark
PASSWORD = "engine served password"
API = [
    "score?metric=nps&by=touchpoint&period=quarter",
    "changes?metric=nps&by=store_id&grain=month&as_of={today}",
    "drivers?metric=csat&n_boot=100&seed=3",
    "people?min_answers=10",
    "value?days=90&n_boot=300&seed=1&as_of={today}",
]
CHARTS = ("orders", "revenue", "customers", "nps")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The S demo (seed 5) loaded through ingest; servers get copies of the file."""
    from cxlens.demo import generate
    from cxlens.ingest.load import ingest
    from cxlens.warehouse.store import open_warehouse

    root = tmp_path_factory.mktemp("engine_served")
    manifest = generate(root / "files", size="S", seed=5)
    with open_warehouse(root / "ws") as con:
        for f in manifest.files:
            ingest(con, f.path, f.kind, preset=f.preset)
    return root / "ws" / "warehouse.duckdb"


def home_with(root: Path, warehouse: Path, slugs: tuple[str, ...]) -> Path:
    """A home with workspace ``slugs[0]`` on the server's engine and the others set to
    DuckDB, each holding a copy of ``warehouse``."""
    home = root / "home"
    make_home(home, PASSWORD, slug=slugs[0])
    for slug in slugs[1:]:
        r = cli("admin", "create-workspace", slug, "--owner", "ops@acme.fi", "--engine",
                "duckdb", home=home)
        assert r.returncode == 0, r.stderr
    for slug in slugs:
        shutil.copy2(warehouse, home / "workspaces" / slug / "warehouse.duckdb")
    return home


class Server:
    def __init__(self, home: Path, url: str) -> None:
        token = json.loads((home / "server.json").read_text())["local_token"]
        self.home = home
        self.api = httpx.Client(base_url=url, timeout=300,
                                headers={"Authorization": f"Bearer {token}"})
        self.web = httpx.Client(base_url=url, timeout=300)
        page = self.web.get("/signin").text
        csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
        assert self.web.post("/signin", data={"email": "ops@acme.fi", "password": PASSWORD,
                                              "csrf_token": csrf}).status_code == 303

    def results(self, slug: str, today: str) -> dict[str, object]:
        """Every API result of the list, and the numbers of every Overview chart."""
        out: dict[str, object] = {}
        for q in API:
            r = self.api.get(f"/api/w/{slug}/experience/{q.format(today=today)}")
            assert r.status_code == 200, (q, r.text[:2000])
            out[q] = r.json()
        page = self.web.get(f"/w/{slug}/?days=365&grain=month&as_of={today}")
        assert page.status_code == 200 and 'class="error' not in page.text, page.text[-2000:]
        # the totals and the NPS as shown: the visible text after the period form (the
        # menu lists the server's workspaces), the charts' JSON left out
        shown = text(re.sub(r"<script.*?</script>", "", page.text, flags=re.S))
        out["page"] = shown.split(" Show ", 1)[1]
        for key in CHARTS:  # each chart's numbers unrounded, and its table
            out[key] = (figure(page.text, key)["data"], table_rows(page.text, key))
        return out


@pytest.fixture(scope="module")
def servers(warehouse: Path, tmp_path_factory: pytest.TempPathFactory,
            ) -> Iterator[tuple[Server, Server]]:
    """(a server on Spark local[1] with workspaces acme and plain — plain set to DuckDB —,
    a server on DuckDB with workspace acme)."""
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 ('java' is not on PATH)")
    root = tmp_path_factory.mktemp("servers")
    spark_home = home_with(root / "spark", warehouse, ("acme", "plain"))
    duck_home = home_with(root / "duck", warehouse, ("acme",))
    with serve(spark_home, root / "spark.log", env={"CXLENS_SPARK": "local[1]"}) as (s_url, _), \
            serve(duck_home, root / "duck.log", env={"CXLENS_SPARK": ""}) as (d_url, _):
        yield Server(spark_home, s_url), Server(duck_home, d_url)


def test_api_and_overview_on_spark_equal_duckdb(servers) -> None:
    from cxlens.demo.calendar import DEFAULT_TODAY as TODAY

    on_spark, on_duckdb = servers
    lake = on_spark.home / "workspaces" / "acme" / "lake"
    assert not lake.exists()
    today = TODAY.isoformat()
    duck = on_duckdb.results("acme", today)
    assert duck["drivers?metric=csat&n_boot=100&seed=3"]["drivers"]  # real content
    assert len(duck["orders"][1]) > 10  # a year of months in the table
    assert_same(on_spark.results("acme", today), duck)
    assert (lake / "CURRENT").exists()  # Spark read the lake, which the server wrote
    # a workspace set to DuckDB stays there on a Spark server: same numbers, no lake
    assert_same(on_spark.results("plain", today), duck)
    assert not (on_spark.home / "workspaces" / "plain" / "lake").exists()


def test_a_table_missing_from_the_lake_is_mirrored_again(servers) -> None:
    from cxlens.warehouse import lake as lk

    on_spark, on_duckdb = servers
    lake = on_spark.home / "workspaces" / "acme" / "lake"
    pointer = lk.current(lake)
    assert pointer is not None  # the test above read through it
    shutil.rmtree(lk.table_dir(lake, pointer, "feedback"))
    assert lk.missing_tables(lake) == ["feedback"]
    q = "score?metric=nps&by=touchpoint&period=quarter"
    spark = on_spark.api.get(f"/api/w/acme/experience/{q}")
    assert spark.status_code == 200, spark.text[:2000]
    assert_same(spark.json(), on_duckdb.api.get(f"/api/w/acme/experience/{q}").json())
    assert not lk.missing_tables(lake)


RESTART = """
from cxlens.web.warehouses import SharedSpark

shared = SharedSpark()
with shared.session() as s:
    first = s.sql("SELECT 1 AS x").collect()[0].x
shared._started().sparkContext.stop()  # the cluster went away under the server
with shared.session() as s:  # a new session, not an error on every later request
    again = s.sql("SELECT 2 AS x").collect()[0].x
shared.stop()
print(first, again)
"""


def test_a_stopped_spark_session_is_started_again(tmp_path: Path) -> None:
    """In a child process: this one holds the tests' session, and a JVM has one context."""
    import os
    import subprocess
    import sys

    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 ('java' is not on PATH)")
    r = subprocess.run([sys.executable, "-c", RESTART], capture_output=True, text=True,
                       timeout=300, env={**os.environ, "CXLENS_SPARK": "local[1]"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ["1", "2"]
