"""The lake on a real Spark: local, a standalone cluster, and Spark Connect (issue 8.3).

The cluster is started here with the ``spark-class`` script that ships in the pyspark
package: one master and one worker (1 core, 512 MB executors) on free ports of 127.0.0.1,
stopped at the end. The drivers run in child processes, as ``cxlens`` would: this process
already holds the local session of the ``spark`` fixture, and a JVM has one SparkContext.
Every reference query of analytics/queries.py (reading the warehouse's views) must give
the same rows on the cluster as on DuckDB.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from cxlens.analytics.queries import QUERIES
from cxlens.warehouse import lake
from cxlens.warehouse.store import open_engine, open_warehouse
from demo_cache import s_demo

pytestmark = pytest.mark.spark

CLI = [sys.executable, "-m", "cxlens.cli"]
VIEWS = ["v_orders", "v_events", "v_feedback", "v_spend", "v_employees",
         "v_customer_records", "customers", "identities"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def wait_for_port(port: int, proc: subprocess.Popen, what: str, log: Path,
                  seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{what} did not listen on {port} within {seconds} s:\n"
                f"{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    """Stop a JVM we started (its process group: spark-class execs java)."""
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=30)


def start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    with log.open("w") as fh:
        return subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The S demo (seed 11) with its lake written."""
    if shutil.which("java") is None:
        pytest.skip("Spark tests need Java 17")
    root = tmp_path_factory.mktemp("spark-lake")
    s_demo(root / "ws", 11)  # loaded through ingest, once per process (demo_cache)
    with open_warehouse(root / "ws") as con:
        lake.sync(con, lake.lake_path(root / "ws"))
    return root / "ws"


def view_sql(workspace: Path, *, duckdb: bool) -> dict[str, str]:
    """``SELECT`` of every column of each view; on DuckDB the 128-bit hash as the lake's
    hex text (the lake, and so Spark, has it as text already)."""
    with open_warehouse(workspace, read_only=True) as con:
        out = {}
        for v in VIEWS:
            cols = con.execute(f"DESCRIBE {v}").fetchall()
            out[v] = "SELECT " + ", ".join(
                f"{lake.hash_text(c)} AS {c}" if duckdb and t in ("UHUGEINT", "HUGEINT")
                else c for c, t, *_ in cols) + f" FROM {v}"
    return out


@pytest.fixture(scope="module")
def queries(workspace: Path) -> dict[str, tuple[str, dict | None]]:
    """name -> (SQL, parameters): the reference queries on the views, and each view."""
    todo = {n: (lake.on_views(q), lake.REFERENCE_PARAMS.get(n)) for n, q in QUERIES.items()}
    todo.update({v: (sql, None) for v, sql in view_sql(workspace, duckdb=False).items()})
    return todo


@pytest.fixture(scope="module")
def duck_results(workspace: Path, queries) -> dict[str, pa.Table]:
    todo = {**queries, **{v: (sql, None) for v, sql in
                          view_sql(workspace, duckdb=True).items()}}
    with open_engine(workspace) as eng:
        return {n: eng.query(sql, params) for n, (sql, params) in todo.items()}


def assert_same(left: pa.Table, right: pa.Table, what: str) -> None:
    """Same schema and rows (both sorted on every column), floats to 1e-9 relative."""
    assert left.schema == right.schema, f"{what}:\n{left.schema}\n!=\n{right.schema}"
    assert left.num_rows == right.num_rows, what
    keys = [(f.name, "ascending") for f in left.schema if not pa.types.is_nested(f.type)]
    left, right = left.sort_by(keys), right.sort_by(keys)
    for name in left.column_names:
        a, b = left[name].to_pylist(), right[name].to_pylist()
        if pa.types.is_floating(left.schema.field(name).type):
            bad = [(x, y) for x, y in zip(a, b, strict=True) if not (x is None and y is None)
                   and (x is None or y is None or not math.isclose(x, y, rel_tol=1e-9))]
        else:
            bad = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        assert not bad, f"{what}.{name} differs: {bad[:3]}"


# The child that drives the cluster: every reference query and view, as Arrow IPC files.
CLIENT = """
import json
import sys
from pathlib import Path
import pyarrow.ipc as ipc
from cxlens.warehouse.spark import engine_for
ws, out, todo = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
eng = engine_for(ws, conf={"spark.executor.memory": "512m", "spark.cores.max": "1"})
for name, (sql, params) in todo.items():
    table = eng.query(sql, params)
    with ipc.new_file(out / f"{name}.arrow", table.schema) as w:
        w.write_table(table)
print(eng.spark.version if hasattr(eng.spark, "version") else "")
eng.spark.stop()
"""


def run_client(workspace: Path, out: Path, master: str, queries) -> None:
    out.mkdir()
    env = {**os.environ, "CXLENS_SPARK": master, "SPARK_LOCAL_IP": "127.0.0.1"}
    r = subprocess.run([sys.executable, "-c", CLIENT, str(workspace), str(out),
                        json.dumps(queries)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-5000:]


def compare(out: Path, duck_results: dict[str, pa.Table]) -> None:
    for name, want in duck_results.items():
        with ipc.open_file(out / f"{name}.arrow") as f:
            assert_same(want, f.read_all(), name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A standalone master and one worker on 127.0.0.1, stopped at the end."""
    if shutil.which("java") is None:
        pytest.skip("Spark tests need Java 17")
    tmp = tmp_path_factory.mktemp("cluster")
    home = spark_home()
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_DAEMON_MEMORY": "256m", "SPARK_WORKER_DIR": str(tmp / "work"),
           "SPARK_LOG_DIR": str(tmp), "SPARK_PID_DIR": str(tmp)}
    port, ui, wport, wui = free_port(), free_port(), free_port(), free_port()
    cls = str(home / "bin" / "spark-class")
    procs = []
    try:
        master = start([cls, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                        "--port", str(port), "--webui-port", str(ui)], tmp / "master.log", env)
        procs.append(master)
        wait_for_port(port, master, "the Spark master", tmp / "master.log")
        url = f"spark://127.0.0.1:{port}"
        worker = start([cls, "org.apache.spark.deploy.worker.Worker", url, "--host",
                        "127.0.0.1", "--port", str(wport), "--webui-port", str(wui),
                        "--cores", "1", "--memory", "1g"], tmp / "worker.log", env)
        procs.append(worker)
        wait_for_port(wport, worker, "the Spark worker", tmp / "worker.log")
        deadline = time.monotonic() + 60  # the worker registered with the master
        while "Successfully registered with master" not in (tmp / "worker.log").read_text():
            if time.monotonic() > deadline:
                pytest.fail("the worker did not register:\n" + (tmp / "worker.log").read_text())
            time.sleep(0.5)
        yield {"url": url, "tmp": str(tmp), **{k: v for k, v in env.items()
                                                if k.startswith("SPARK")}}
    finally:
        for proc in reversed(procs):
            stop(proc)


def test_lake_on_local_spark_equals_duckdb(workspace: Path, queries, duck_results,
                                           spark) -> None:
    """The session-wide local session reading the lake: the same rows as DuckDB."""
    from cxlens.warehouse.spark import lake_engine

    eng = lake_engine(spark.newSession(), lake.lake_path(workspace))
    for name, (sql, params) in queries.items():
        assert_same(duck_results[name], eng.query(sql, params), name)


def test_standalone_cluster_equals_duckdb(workspace: Path, queries, duck_results, cluster,
                                          tmp_path: Path) -> None:
    run_client(workspace, tmp_path / "out", cluster["url"], queries)
    compare(tmp_path / "out", duck_results)


def test_spark_connect_equals_duckdb(workspace: Path, queries, duck_results, cluster,
                                     tmp_path: Path) -> None:
    """A Spark Connect server on the cluster (started with spark-submit, in the foreground
    so that it can be stopped by its id), and the cxlens CLI as its client."""
    pytest.importorskip("grpc", reason="Spark Connect's client needs pyspark[connect]")
    home = spark_home()
    port = free_port()
    env = {**os.environ, **{k: v for k, v in cluster.items() if k.startswith("SPARK")
                            and k != "SPARK_DAEMON_MEMORY"}}  # it would cap the driver too
    log = Path(cluster["tmp"]) / "connect.log"
    server = start([str(home / "bin" / "spark-submit"), "--class",
                    "org.apache.spark.sql.connect.service.SparkConnectServer",
                    "--master", cluster["url"], "--driver-memory", "1g",
                    "--conf", "spark.executor.memory=512m", "--conf", "spark.cores.max=1",
                    "--conf", f"spark.connect.grpc.binding.port={port}",
                    "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
                    "--conf", "spark.ui.enabled=false",
                    "--conf", "spark.sql.session.timeZone=UTC"], log, env)
    try:
        wait_for_port(port, server, "the Spark Connect server", log, seconds=120)
        run_client(workspace, tmp_path / "out", f"sc://127.0.0.1:{port}", queries)
        compare(tmp_path / "out", duck_results)
        r = subprocess.run([*CLI, "lake", "query", "--reference", "cohort_retention",
                            "-w", str(workspace), "--json"], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "CXLENS_SPARK":
                                             f"sc://127.0.0.1:{port}"})
        assert r.returncode == 0, r.stderr[-3000:]
        got = json.loads(r.stdout)
        assert got["engine"] == "spark"
        assert got["total"] == duck_results["cohort_retention"].num_rows
    finally:
        stop(server)
