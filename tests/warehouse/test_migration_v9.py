"""Schema 8 -> 9: the discovered-theme and theme-edit tables are added, nothing else moves."""

from __future__ import annotations

from pathlib import Path

from cxlens.schema import DERIVED
from cxlens.warehouse.store import SCHEMA_VERSION, open_warehouse


def test_a_version_8_warehouse_gets_the_theme_tables(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    with open_warehouse(ws) as con:
        con.execute("INSERT INTO feedback (response_id, ts, metric, score, comment, _batch, "
                    "_line, _hash) VALUES ('r1', TIMESTAMP '2026-05-01 10:00:00', 'nps', 9, "
                    "'Hyvä palvelu', 1, 2, 1)")
        con.execute("DROP TABLE text_themes")
        con.execute("DROP TABLE text_theme_edits")
        con.execute("UPDATE meta SET value = '8' WHERE key = 'schema_version'")
    with open_warehouse(ws) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'"
                           ).fetchone()[0] == str(SCHEMA_VERSION) == "9"
        for name in ("text_themes", "text_theme_edits"):
            got = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
            assert got == [c for c, _, _ in DERIVED[name]], name
            assert con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM v_feedback").fetchone()[0] == 1
