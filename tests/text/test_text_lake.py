"""The analysis tables in the Parquet lake (warehouse/lake.py, derived tables): written when
``cxlens text analyse`` commits, not again when nothing changed, without the results of
removed answers, and added to a lake written before they were mirrored.

No Spark here: the lake is read back with DuckDB (tests/text/test_text_parity.py reads it on
Spark).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from text_fixtures import NOW

from cxlens.ingest.batches import rollback
from cxlens.schema import DERIVED
from cxlens.text.analyse import analyse
from cxlens.warehouse import lake
from cxlens.warehouse.spark import lake_behind
from cxlens.warehouse.store import open_warehouse


@pytest.fixture
def ws(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the analysed S demo with a lake (so batches and analyses keep it current)."""
    monkeypatch.delenv(lake.LAKE_ENV, raising=False)
    monkeypatch.delenv("CXLENS_SPARK", raising=False)
    with open_warehouse(demo_copy) as con:
        lake.sync(con, lake.lake_path(demo_copy))
    return demo_copy


def mirrored(lake_dir: Path, table: str) -> str:
    pointer = lake.current(lake_dir)
    assert pointer is not None
    return (f"read_parquet('{lake.table_dir(lake_dir, pointer, table)}/**/*.parquet', "
            "hive_partitioning = false)")


def assert_mirrored(con: duckdb.DuckDBPyConnection, lake_dir: Path) -> None:
    """Every derived table of the lake equals the warehouse's (hash as hex text, times as
    UTC instants, as the lake writes them), and the pointer records their content."""
    con.execute("SET TimeZone = 'UTC'")
    for name in DERIVED:
        cols = con.execute(f"DESCRIBE {name}").fetchall()
        want = ", ".join(
            f'{lake.hash_text(c)} AS "{c}"' if t in ("UHUGEINT", "HUGEINT")
            else f'CAST("{c}" AS TIMESTAMPTZ) AS "{c}"' if t == "TIMESTAMP" else f'"{c}"'
            for c, t, *_ in cols)
        got = f"SELECT * FROM {mirrored(lake_dir, name)}"
        diff = con.execute(f"SELECT count(*) FROM ((SELECT {want} FROM {name}) EXCEPT ALL "
                           f"({got})) UNION ALL SELECT count(*) FROM (({got}) EXCEPT ALL "
                           f"(SELECT {want} FROM {name}))").fetchall()
        assert diff == [(0,), (0,)], f"{name}: {diff}"
    assert lake.current(lake_dir)["derived"] == lake.derived_state(con)
    assert not lake_behind(con, lake_dir)


def test_the_lake_holds_the_analysis_and_a_second_analyse_writes_nothing(ws: Path) -> None:
    lake_dir = lake.lake_path(ws)
    with open_warehouse(ws) as con:
        assert con.execute("SELECT count(*) FROM comment_analysis").fetchone()[0] > 100
        assert_mirrored(con, lake_dir)
        version = lake.current(lake_dir)["version"]
        again = analyse(con, now=NOW)
        assert again.analysed == 0 and again.lake_notes == []
        assert lake.current(lake_dir)["version"] == version
        assert lake.sync(con, lake_dir).version == version  # nothing to do
        full = lake.sync(con, lake_dir, full=True)  # the whole rewrite has them too
        assert full.full and set(DERIVED) <= set(full.written)
        assert_mirrored(con, lake_dir)


def test_an_analyse_writes_only_the_derived_tables_that_changed(ws: Path) -> None:
    lake_dir = lake.lake_path(ws)
    with open_warehouse(ws) as con:
        before = lake.current(lake_dir)
        rid = con.execute("SELECT response_id FROM v_feedback WHERE metric = 'nps' AND "
                          "comment IS NOT NULL ORDER BY response_id LIMIT 1").fetchone()[0]
        con.execute("UPDATE feedback SET comment = 'Toimitus myöhästyi viikolla.', "
                    "_hash = _hash + 1 WHERE response_id = ?", [rid])
        res = analyse(con, now=NOW)
        assert res.analysed == 1 and res.lake_notes == []
        after = lake.current(lake_dir)
        assert after["version"] == before["version"] + 1
        # the kinds, identities and batches stay where they were; the model did not change
        changed = {t for t, v in after["tables"].items() if v != before["tables"][t]}
        assert changed == {"comment_analysis"}
        assert after["state"] == before["state"]
        assert_mirrored(con, lake_dir)
        got = con.execute(f"SELECT themes FROM {mirrored(lake_dir, 'comment_analysis')} "
                          "WHERE response_id = ?", [rid]).fetchone()[0]
        assert "delivery" in got


def test_removed_answers_vanish_from_the_lake(ws: Path) -> None:
    lake_dir = lake.lake_path(ws)
    with open_warehouse(ws) as con:
        batch = con.execute("SELECT max(batch_id) FROM batches WHERE kind = 'feedback'"
                            ).fetchone()[0]
        gone = {r[0] for r in con.execute(
            "SELECT a.response_id FROM comment_analysis a JOIN feedback f "
            "ON f.response_id = a.response_id WHERE f._batch = ?", [batch]).fetchall()}
        assert gone
        rollback(con, batch)
        res = analyse(con, now=NOW)
        assert res.removed >= len(gone) and res.lake_notes == []
        assert_mirrored(con, lake_dir)
        left = {r[0] for r in con.execute(
            f"SELECT response_id FROM {mirrored(lake_dir, 'comment_analysis')}").fetchall()}
        assert left and not left & gone


def test_a_lake_written_before_the_tables_were_mirrored_is_completed(ws: Path) -> None:
    """A lake of format 4 written by a cxlens that did not mirror the derived tables (its
    pointer names neither them nor their content): the next check finds it behind, and the
    sync writes those tables alone."""
    lake_dir = lake.lake_path(ws)
    pointer = json.loads((lake_dir / "CURRENT").read_text())
    for name in DERIVED:
        del pointer["tables"][name]
    del pointer["derived"]
    (lake_dir / "CURRENT").write_text(json.dumps(pointer))
    assert set(lake.missing_tables(lake_dir)) == set(DERIVED)
    with open_warehouse(ws, read_only=True) as con:
        assert lake_behind(con, lake_dir)
        res = lake.sync(con, lake_dir)
        assert not res.full and set(res.written) == set(DERIVED)
        assert_mirrored(con, lake_dir)
    assert lake.missing_tables(lake_dir) == []


def test_a_derived_table_changed_behind_the_lake_is_found(ws: Path) -> None:
    """An analysis committed without its mirror (a run that stopped halfway, a lake that
    was not writable then): the content differs from what the pointer records."""
    lake_dir = lake.lake_path(ws)
    with open_warehouse(ws) as con:
        con.execute("DELETE FROM comment_analysis WHERE response_id = (SELECT "
                    "min(response_id) FROM comment_analysis)")
        assert lake_behind(con, lake_dir)
        assert lake.sync(con, lake_dir).written == {"comment_analysis": "all"}
        assert_mirrored(con, lake_dir)


def test_a_warehouse_without_the_tables_gets_empty_ones(tmp_path: Path) -> None:
    """A warehouse of schema 6 read without migrating (``cxlens lake sync`` opens it
    read-only) has no analysis tables: the lake holds them empty, with their columns."""
    ws = tmp_path / "ws"
    with open_warehouse(ws) as con:
        for name in DERIVED:
            con.execute(f"DROP TABLE {name}")
        assert lake.derived_state(con) == {name: None for name in DERIVED}
        lake.sync(con, lake.lake_path(ws))
        for name in DERIVED:
            cols = [c for c, *_ in con.execute(
                f"DESCRIBE SELECT * FROM {mirrored(lake.lake_path(ws), name)}").fetchall()]
            assert cols == [c for c, _, _ in DERIVED[name]]
            assert con.execute(f"SELECT count(*) FROM {mirrored(lake.lake_path(ws), name)}"
                               ).fetchone()[0] == 0


def test_a_theme_edit_reaches_the_lake(ws: Path, tmp_path: Path) -> None:
    """``edits.run`` (the CLI's and the web's edits): the edit, the re-assigned comments and
    the edits table are in the lake once it returns — also in a workspace whose comments were
    never analysed, where only the edits table changes."""
    from cxlens.text import edits

    with open_warehouse(ws) as con:
        done = edits.run(con, lambda c: edits.rename(c, "delivery", "Shipping", now=NOW),
                         now=NOW)
        assert done.reassigned and not done.lake_notes
        assert_mirrored(con, lake.lake_path(ws))
        undone = edits.run(con, lambda c: (edits.undo(c, done.edit_id), done.edit_id)[1],
                           now=NOW)
        assert undone.reassigned and not undone.lake_notes
        assert_mirrored(con, lake.lake_path(ws))
    fresh = tmp_path / "fresh"
    with open_warehouse(fresh) as con:
        lake.sync(con, lake.lake_path(fresh))
        done = edits.run(con, lambda c: edits.rule(c, "parking", ["parkkimaksu"], now=NOW),
                         now=NOW)
        assert done.reassigned is None
        assert_mirrored(con, lake.lake_path(fresh))
