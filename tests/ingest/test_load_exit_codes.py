"""Every failure during a load ends in a message and a documented exit code (0, 2, 3, 4),
never a traceback or exit 1 (issue 9, item 9). Run with the real CLI in a process."""

from __future__ import annotations

import re

import duckdb
import pytest
from test_propose_values import run_cli

from cxlens.errors import InputError
from cxlens.ingest.load import _database_errors


def _text(r) -> str:
    return re.sub(r"\s+", " ", r.stdout + r.stderr)


def test_a_preset_whose_encoding_does_not_fit_exits_3(tmp_path) -> None:
    """google_ads reads UTF-16; a UTF-8 file raised UnicodeError (exit 1) before."""
    f = tmp_path / "report.csv"
    f.write_text("Campaign;Day;Cost\nx;2024-01-01;1\n", encoding="utf-8")
    r = run_cli(tmp_path, "ingest", str(f), "--preset", "google_ads", "--yes")
    text = _text(r)
    assert r.returncode == 3, text
    assert "Traceback" not in text and "cannot be read as utf-16" in text
    assert "google_ads" in text


def test_a_preset_whose_columns_are_missing_exits_3(tmp_path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("foo,bar\n1,2\n", encoding="utf-8")
    r = run_cli(tmp_path, "ingest", str(f), "--preset", "hubspot_contacts", "--yes")
    assert r.returncode == 3 and "is not in the file" in _text(r)


def test_an_unknown_preset_exits_2(tmp_path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("foo,bar\n1,2\n", encoding="utf-8")
    r = run_cli(tmp_path, "ingest", str(f), "--preset", "nope", "--yes")
    assert r.returncode == 2 and "unknown preset" in _text(r)


def test_a_missing_file_exits_3(tmp_path) -> None:
    r = run_cli(tmp_path, "ingest", str(tmp_path / "none.csv"), "--kind", "orders", "--yes")
    assert r.returncode in (2, 3) and "Traceback" not in _text(r)


@pytest.mark.parametrize("sql", ["SELECT * FROM no_such_table", "SELECT 1 +* 2",
                                 "SELECT 'x'::INTEGER"])
def test_any_duckdb_error_in_a_load_becomes_an_input_error(con, sql) -> None:
    """A DuckDB error of any class (catalog, parser, conversion …) met in a load is a
    message with exit code 3 naming the file, not a traceback."""
    with pytest.raises(InputError) as ei, _database_errors("/data/x.csv"):
        con.execute(sql)
    assert ei.value.exit_code == 3 and ei.value.file == "/data/x.csv"
    assert ei.value.hint
    assert isinstance(ei.value.__context__, duckdb.Error)
