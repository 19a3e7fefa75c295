"""The user's theme edits live in the warehouse and survive re-runs and new data."""

from __future__ import annotations

from pathlib import Path

import pytest
from text_fixtures import NOW, insert_rows, planted_rows

from cxlens.errors import UserError
from cxlens.text import edits
from cxlens.text.analyse import analyse
from cxlens.text.discover import discover
from cxlens.text.report import theme_report
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import open_warehouse


def _themes(con) -> dict[str, list[str]]:
    return dict(con.execute("SELECT f.comment, any_value(a.themes) FROM comment_analysis a "
                            "JOIN v_feedback f ON f.response_id = a.response_id "
                            "GROUP BY 1").fetchall())


def _check(con) -> None:
    got = _themes(con)
    # merge: queue's comments count as store_environment's
    assert got["Pitkä jono kassalla."] == ["store_environment", "checkout"]
    assert got["Long queue at the till."] == ["store_environment", "checkout"]
    # split: tent comments moved from product_quality to tents (Finnish only)
    assert got["Teltta on kestänyt hyvin, hyvä laatu."] == ["tents"]
    assert "product_quality" in got["The tent has held up well, great quality."]
    # rule: a new theme from keywords
    assert "checkout" in got["Appen kraschade i kassan."]
    rep = {t["theme"]: t for t in theme_report(DuckDBEngine(con))["themes"]}
    assert "queue" not in rep
    assert rep["delivery"]["label"] == "Shipping"  # rename
    assert rep["tents"]["source"] == "user" and rep["tents"]["mentions"] > 0
    assert rep["checkout"]["terms"]["sv"] == ["kassa"]
    assert "jono" in rep["store_environment"]["terms"]["fi"]


def test_every_edit_survives_reruns_new_data_and_rediscovery(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "ws") as con:
        insert_rows(con, planted_rows(300))
        analyse(con, now=NOW)
        edits.rename(con, "delivery", "Shipping", now=NOW)
        edits.merge(con, "queue", "store_environment", now=NOW)
        edits.split(con, "product_quality", "tents", ["teltta"], language="fi", now=NOW)
        edits.rule(con, "checkout", ["kassa"], language="fi", now=NOW)
        edits.rule(con, "checkout", ["kassa"], language="sv", now=NOW)
        edits.rule(con, "checkout", ["till", "checkout"], language="en", now=NOW)
        assert analyse(con, now=NOW).analysed == 300  # the catalogue changed: all again
        _check(con)
        assert analyse(con, now=NOW).analysed == 0  # nothing new: nothing done
    with open_warehouse(tmp_path / "ws") as con:  # a new session, new data, re-discovery
        insert_rows(con, planted_rows(150, seed=9, prefix="q"))
        analyse(con, now=NOW)
        discover(con, now=NOW)
        analyse(con, now=NOW)
        _check(con)
        assert con.execute("SELECT count(*) FROM comment_analysis").fetchone()[0] == 450


def test_undo_and_listing(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "ws") as con:
        insert_rows(con, planted_rows(60))
        analyse(con, now=NOW)
        n = edits.merge(con, "queue", "store_environment", now=NOW)
        edits.undo(con, n)
        analyse(con, now=NOW)
        rep = {t["theme"] for t in theme_report(DuckDBEngine(con))["themes"]}
        assert "queue" in rep
        rows = edits.listing(con)
        assert rows[0]["op"] == "merge" and rows[0]["active"] is False
        assert rows[0]["args"] == {"into": "store_environment"}


@pytest.mark.parametrize(("call", "message"), [
    (lambda con: edits.rename(con, "nope", "X", now=NOW), "no theme 'nope'"),
    (lambda con: edits.merge(con, "price", "price", now=NOW), "into itself"),
    (lambda con: edits.split(con, "price", "Bad Name", ["x"], now=NOW), "not allowed"),
    (lambda con: edits.split(con, "price", "staff", ["x"], now=NOW), "exists already"),
    (lambda con: edits.rule(con, "parking", [" "], now=NOW), "no keyword"),
    (lambda con: edits.rule(con, "parking", ["!!"], now=NOW), "no word"),
    (lambda con: edits.rule(con, "parking", ["parkki"], language="de", now=NOW), "language"),
    (lambda con: edits.pin(con, "price", now=NOW), "not a discovered one"),
    (lambda con: edits.rename(con, "price", "", now=NOW), "1 to 80"),
    (lambda con: edits.undo(con, 99), "no active edit 99"),
])
def test_bad_edits_are_clear_user_errors(tmp_path: Path, call, message: str) -> None:
    with open_warehouse(tmp_path / "ws") as con:
        with pytest.raises(UserError, match=message):
            call(con)
        assert con.execute("SELECT count(*) FROM text_theme_edits").fetchone()[0] == 0
