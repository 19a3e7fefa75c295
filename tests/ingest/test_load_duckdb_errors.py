"""DuckDB errors while a load reads the file: an InputError (exit code 3) naming the file.

``load.py`` used to catch ``duckdb.InvalidInputError``, which DuckDB 2 does not have: the
``except`` clause itself raised ``AttributeError`` (masking the real error), and the
``finally`` behind it then failed on the aborted transaction. A Parquet file whose data
page is corrupt passes the staging (which reads only the footer) and fails in the load.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cxlens.errors import InputError
from cxlens.ingest import load
from cxlens.ingest.load import ingest
from helpers import corrupt_parquet


def test_a_corrupt_file_is_an_input_error_naming_it(con, tmp_path, unchanged) -> None:
    bad = corrupt_parquet(tmp_path / "answers.parquet")
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, bad, "feedback")
    assert ei.value.file == str(bad)
    assert ei.value.message.startswith("cannot read the file")
    assert ei.value.hint and ei.value.exit_code == 3
    # The connection is usable afterwards: no aborted transaction, the setting is back.
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchall() == [
        (True,)]
    assert con.execute("SELECT count(*) FROM batches").fetchall() == [(0,)]


def test_the_cli_exits_with_3_and_no_traceback(tmp_path: Path) -> None:
    bad = corrupt_parquet(tmp_path / "answers.parquet")
    env = {**os.environ, "CXLENS_HOME": str(tmp_path / "home"), "COLUMNS": "400",
           "NO_COLOR": "1"}
    r = subprocess.run([sys.executable, "-m", "cxlens.cli", "ingest", str(bad), "--kind",
                        "feedback", "--yes", "--workspace", str(tmp_path / "ws")],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env,
                       timeout=120)
    assert r.returncode == 3, r.stderr
    text = re.sub(r"\s+", " ", r.stdout + r.stderr)
    assert "cannot read the file" in text and "Traceback" not in text
    assert "AttributeError" not in text and "TransactionException" not in text


def test_the_line_duckdb_names_is_kept() -> None:
    exc = duckdb.InvalidInputException(
        "Invalid Input Error: CSV Error on Line: 7\nOriginal Line: a;b")
    err = load.unreadable(exc, "/data/x.csv")
    assert (err.file, err.line) == ("/data/x.csv", 7)
    assert err.message == "cannot read the file: Invalid Input Error: CSV Error on Line: 7"


def test_programming_errors_are_not_taken_for_a_bad_file() -> None:
    """A binder, catalog, parser or internal error is a bug in cxlens's SQL: it raises."""
    for bug in (duckdb.BinderException, duckdb.CatalogException, duckdb.ParserException,
                duckdb.InternalException):
        assert not issubclass(bug, load.FILE_ERRORS), bug
    for bad_file in (duckdb.InvalidInputException, duckdb.ConversionException,
                     duckdb.IOException, duckdb.OutOfRangeException):
        assert issubclass(bad_file, load.FILE_ERRORS), bad_file


def test_every_duckdb_name_used_in_src_exists() -> None:
    """``duckdb.<Name>`` in an ``except`` is only looked up when something is raised: a
    name that the installed DuckDB lacks hides the real error. Check them all."""
    src = Path(load.__file__).parents[1]
    names = set()
    for path in src.rglob("*.py"):
        names |= set(re.findall(r"\bduckdb\.([A-Z]\w+)", path.read_text(encoding="utf-8")))
    missing = sorted(n for n in names if not hasattr(duckdb, n))
    assert names and not missing, missing


def test_deeply_nested_ndjson_is_an_input_error(con, write, unchanged) -> None:
    """A record nested 10,000 levels deep used to end in RecursionError (a traceback)."""
    deep = "[" * 10_000 + "]" * 10_000
    p = write("deep.ndjson", '{"response_id": "r1", "email": "a@x.fi", "ts": "2026-01-01", '
              '"score": 9, "metric": "nps"}\n' + f'{{"response_id": "r2", "a": {deep}}}\n')
    with unchanged(), pytest.raises(InputError) as ei:
        ingest(con, p, "feedback")
    assert ei.value.file == str(p) and "too deeply" in ei.value.message
