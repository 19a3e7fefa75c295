"""``properties`` on Spark equals DuckDB's, byte for byte, on nasty values (lake format 4).

The lake mirrors a row's unmapped values (``_extra``) and Spark's ``v_<kind>`` builds the
JSON from them and the batch's column names (``spark._PROPERTIES``), where the warehouse's
view uses DuckDB's ``to_json(map(...))``. Analytics read keys out of that text (drivers'
attribute ratings, weights), so the two must give the same text: the same key order, the same
escapes for quotes, backslashes and control characters, non-ASCII text, NULLs and empty
strings, a row's own JSON (``_extra`` NULL), a batch without unmapped columns.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cxlens.ingest.load import ingest
from cxlens.warehouse import lake
from cxlens.warehouse.store import open_engine, open_warehouse

pytestmark = pytest.mark.spark

# Column names and values that JSON writers are known to differ on.
NASTY = [
    ("plain", "text"),
    ('quo"te', 'say "hi"'),
    ("back\\slash", "C:\\temp\\new"),
    ("new\nline", "two\nlines\r\nand\ttab"),
    ("ctl", "\x01\x08\x0c\x1f\x7f"),
    ("nul", "a\x00b"),
    ("äöå ÄÖÅ", "Hyvää päivää, Åsa"),
    ("emoji", "😀 👍🏽"),
    ("separators", "a\u2028b\u2029c\u00a0d"),
    ("html", "</script><b>&amp;</b>"),
    ("", "empty name"),
    ("a.b[0]", "it's"),
    ("empty", ""),
    ("null", None),
    ("zzz", "{\"not\": \"json\"}"),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Events from a small CSV (its unmapped columns become ``_extra``), then the values
    and the batch's column names set to the nasty ones in SQL (no CSV reader in between);
    one row with its own JSON and no ``_extra``, one batch without unmapped columns."""
    root = tmp_path_factory.mktemp("spark-props")
    src = root / "events.csv"
    src.write_text("ts;event;email;x\n" + "".join(
        f"2026-0{m}-0{d} 10:00:00;view;p{m}{d}@example.fi;v{m}{d}\n"
        for m in (1, 2) for d in (1, 2, 3)), encoding="utf-8")
    plain = root / "plain.csv"
    plain.write_text("ts;event;email\n2026-03-01 10:00:00;buy;q@example.fi\n", encoding="utf-8")
    ws = root / "ws"
    with open_warehouse(ws) as con:
        first = ingest(con, src, "events").batch_id
        ingest(con, plain, "events")
        names = [n for n, _ in NASTY]
        con.execute("UPDATE batches SET extra_columns = ? WHERE batch_id = ?", [names, first])
        values = [v for _, v in NASTY]
        con.execute("UPDATE events SET _extra = ? WHERE _batch = ?",
                    [list(reversed(values)), first])
        con.execute("UPDATE events SET _extra = ? WHERE _batch = ? AND _line = 2",
                    [values, first])
        con.execute("UPDATE events SET _extra = ? WHERE _batch = ? AND _line = 3",
                    [[None] * len(NASTY), first])
        con.execute("UPDATE events SET _extra = NULL, properties = '{\"own\":\"ä\\\\n\"}' "
                    "WHERE _batch = ? AND _line = 4", [first])
        lake.sync(con, lake.lake_path(ws))
    return ws


SQL = ("SELECT _batch, _line, properties, json_keys(properties) AS keys "
       "FROM v_events ORDER BY _batch, _line")


def test_properties_on_spark_are_the_same_text(workspace: Path, spark) -> None:
    from cxlens.warehouse.spark import lake_engine

    with open_engine(workspace) as duck:
        want = duck.query(SQL).to_pylist()
    got = lake_engine(spark.newSession(), lake.lake_path(workspace)).query(SQL).to_pylist()
    assert [r["properties"] for r in got] == [r["properties"] for r in want]
    assert got == want
    nasty = next(r for r in want if r["_line"] == 2)
    assert nasty["keys"] == [n for n, _ in NASTY]  # every key, in the batch's order
    assert next(r for r in want if r["_line"] == 3)["properties"].count(":null") == len(NASTY)
    assert next(r for r in want if r["_line"] == 4)["properties"] == '{"own":"ä\\\\n"}'
    assert [r["properties"] for r in want if r["_batch"] != nasty["_batch"]] == [None]


def test_a_key_read_from_properties_is_the_same(workspace: Path, spark) -> None:
    """What the analytics do with the text: read one value by its key."""
    from cxlens.warehouse.spark import lake_engine

    sql = ("SELECT _line, json_extract_string(properties, '$.\"äöå ÄÖÅ\"') AS v "
           "FROM v_events WHERE _line = 2 ORDER BY _batch, _line")
    with open_engine(workspace) as duck:
        want = duck.query(sql).to_pylist()
    got = lake_engine(spark.newSession(), lake.lake_path(workspace)).query(sql).to_pylist()
    assert got == want


def test_a_kind_without_rows_reads_as_empty_on_spark(workspace: Path, spark) -> None:
    """The workspace holds events only: the other kinds are 0-row files, which Spark must
    find (it skips folders named ``_…`` without ``=``, as the lake's first one was)."""
    from cxlens.warehouse.spark import lake_engine

    eng = lake_engine(spark.newSession(), lake.lake_path(workspace))
    with open_engine(workspace) as duck:
        for view in ("v_orders", "v_feedback", "v_spend", "v_employees"):
            sql = f"SELECT * FROM {view}"
            assert eng.query(sql).num_rows == 0
            assert eng.query(sql).column_names == duck.query(sql).column_names, view
