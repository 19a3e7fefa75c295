"""``cxlens sql`` sees the warehouse and nothing else: no local files, no URLs, no
extension installs, and the query cannot switch that back on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cxlens.errors import UserError
from cxlens.warehouse.readonly import run_readonly
from cxlens.warehouse.store import open_warehouse


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    with open_warehouse(tmp_path / "ws") as con:
        con.execute("SELECT 1")
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return tmp_path / "ws"


@pytest.mark.parametrize("query", [
    "SELECT * FROM read_csv('{secret}')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/root/*')",
    "SELECT * FROM glob('{dir}/*')",
    "SELECT * FROM read_csv('https://example.com/x.csv')",
    "SELECT * FROM read_parquet('s3://bucket/x.parquet')",
])
def test_files_and_urls_are_refused_with_a_clear_message(ws: Path, query: str) -> None:
    query = query.format(secret=ws.parent / "secret.csv", dir=ws.parent)
    with open_warehouse(ws, read_only=True) as con, pytest.raises(UserError) as ei:
        run_readonly(con, query)
    assert "only the warehouse" in ei.value.message and ei.value.hint


def test_the_lock_holds_and_the_warehouse_is_still_readable(ws: Path) -> None:
    with open_warehouse(ws, read_only=True) as con:
        cols, rows = run_readonly(con, "SELECT count(*) AS n FROM v_orders")
        assert cols == ["n"] and rows == [(0,)]
        settings = dict(con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ("
            "'enable_external_access', 'autoinstall_known_extensions', "
            "'autoload_known_extensions', 'lock_configuration')").fetchall())
        assert settings == {"enable_external_access": "false",
                            "autoinstall_known_extensions": "false",
                            "autoload_known_extensions": "false",
                            "lock_configuration": "true"}
        with pytest.raises(UserError):  # only a SELECT runs; SET is refused before DuckDB
            run_readonly(con, "SET enable_external_access = true")


def test_a_negative_limit_is_a_user_error(ws: Path) -> None:
    with open_warehouse(ws, read_only=True) as con, pytest.raises(UserError):
        run_readonly(con, "SELECT 1", limit=-1)


def test_the_cli_answers_exit_code_2_without_a_traceback(ws: Path) -> None:
    env = {**os.environ, "CXLENS_HOME": str(ws.parent / "home"), "COLUMNS": "400",
           "NO_COLOR": "1"}
    r = subprocess.run([sys.executable, "-m", "cxlens.cli", "sql",
                        "SELECT * FROM read_csv('/etc/passwd')", "--workspace", str(ws)],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env,
                       timeout=120)
    assert r.returncode == 2, r.stderr
    assert "only the warehouse" in r.stderr and "root:" not in r.stdout + r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("command", [["sql", "SELECT 1"], ["quarantine", "list"],
                                     ["customer", "show", "x"]])
def test_a_negative_limit_on_the_command_line_is_a_usage_error(ws: Path,
                                                                command: list[str]) -> None:
    """It used to reach DuckDB (``LIMIT -1``: a BinderException and a traceback)."""
    env = {**os.environ, "CXLENS_HOME": str(ws.parent / "home"), "NO_COLOR": "1"}
    r = subprocess.run([sys.executable, "-m", "cxlens.cli", *command, "--limit", "-1",
                        "--workspace", str(ws)], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, env=env, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "--limit" in r.stderr and "Traceback" not in r.stderr
