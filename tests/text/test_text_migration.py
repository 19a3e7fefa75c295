"""Migration 6 -> 7 adds the derived text tables and touches nothing else."""

from __future__ import annotations

from pathlib import Path

from cxlens.schema import DERIVED
from cxlens.warehouse.store import SCHEMA_VERSION, open_warehouse


def test_a_version_6_warehouse_gets_the_text_tables(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    with open_warehouse(ws) as con:
        con.execute("INSERT INTO feedback (response_id, ts, metric, score, comment, _batch, "
                    "_line, _hash) VALUES ('r1', TIMESTAMP '2026-05-01 10:00:00', 'nps', 9, "
                    "'Hyvä palvelu', 1, 2, 1)")
        con.execute("DROP TABLE comment_analysis")
        con.execute("DROP TABLE text_models")
        con.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    with open_warehouse(ws) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'"
                           ).fetchone()[0] == str(SCHEMA_VERSION)
        for name, cols in DERIVED.items():
            got = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
            assert got == [c for c, _, _ in cols], name
        assert con.execute("SELECT count(*) FROM v_feedback").fetchone()[0] == 1
