"""`--engine spark` on the analytics commands when Spark cannot run (issue 8, "Bad input"):
a master that does not answer, PySpark missing, a lake that cannot be written — each a
message naming the cause and how to fix it, exit code 2, no traceback, within seconds.
Each command runs in a child process, as a user runs it; no Spark starts (every failure
comes before a JVM would)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "cxlens.cli"]
# `sys.modules[name] = None` makes `import pyspark` raise ImportError, as when it is absent
NO_PYSPARK = [sys.executable, "-c", "import sys; sys.modules['pyspark'] = None; "
              "sys.argv = ['cxlens'] + sys.argv[1:]; from cxlens.cli import main; main()"]


@pytest.fixture(scope="module")
def ws(demo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    src, _ = demo
    dst = tmp_path_factory.mktemp("cli_engine_errors") / "ws"
    dst.mkdir()
    shutil.copy2(src / "warehouse.duckdb", dst / "warehouse.duckdb")
    return dst


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed when the block ends: nobody listens


def run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args", [
    ["experience", "score", "nps"], ["experience", "drivers"], ["overview"],
    ["customer", "show", "x@example.fi"]], ids=lambda a: "-".join(a[:2]))
def test_a_master_that_does_not_answer(ws: Path, args: list[str]) -> None:
    url = f"spark://127.0.0.1:{closed_port()}"
    r = run([*CLI, *args, "-w", str(ws)], env={"CXLENS_SPARK": url})  # default: spark
    assert r.returncode == 2, r.stderr
    assert url in r.stderr and "does not answer" in r.stderr and "Traceback" not in r.stderr
    assert "--engine duckdb" in r.stderr


def test_without_pyspark_it_says_how_to_install(ws: Path) -> None:
    r = run([*NO_PYSPARK, "experience", "people", "--engine", "spark", "-w", str(ws)])
    assert r.returncode == 2, r.stderr
    assert "pip install 'cxlens[spark]'" in r.stderr and "Traceback" not in r.stderr
    r = run([*NO_PYSPARK, "experience", "people", "--engine", "duckdb", "-w", str(ws),
             "--json"])  # DuckDB needs no PySpark
    assert r.returncode == 0 and '"teams"' in r.stdout, r.stderr


def test_a_lake_that_cannot_be_written(ws: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the lake root should be", encoding="utf-8")
    r = run([*CLI, "experience", "value", "--engine", "spark", "-w", str(ws), "--json"],
            env={"CXLENS_LAKE": str(blocker)})
    assert r.returncode == 2, r.stderr
    body = json.loads(r.stdout)
    assert not body["ok"] and "cannot write the lake" in body["error"]
