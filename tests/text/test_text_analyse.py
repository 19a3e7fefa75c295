"""The per-comment pass on the S demo and on hand-made bad input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from text_fixtures import NOW, PLANTED

from cxlens.analytics._bootstrap import MIN_BOOTSTRAP
from cxlens.demo import company as co
from cxlens.text.analyse import analyse
from cxlens.text.impact import impacts
from cxlens.text.report import sentiment_report, theme_report
from cxlens.text.themes import ANSWER_KEY
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import open_engine, open_warehouse

PLANTED_OF = {text: name for name, spec in co.THEMES.items()
              for lang in ("fi", "sv", "en") for text in spec[lang]}


def _rows(ws: Path) -> list[dict]:
    with open_engine(ws) as eng:
        return eng.query(f"""
            SELECT a.*, f.comment AS comment, f.metric AS metric FROM comment_analysis a
            JOIN v_feedback f ON a.response_id = {ANSWER_KEY}
            ORDER BY a.response_id""").to_pylist()


def test_planted_themes_are_recovered_in_each_language(text_demo) -> None:
    ws, _ = text_demo
    rows = [r for r in _rows(ws) if r["comment"] in PLANTED_OF]
    assert len(rows) > 100
    for lang in ("fi", "sv", "en"):
        mine = [r for r in rows if r["language"] == lang]
        assert len(mine) >= 5, lang  # the S demo has few English answers
        matched = correct = 0
        for tax in {t for ts in PLANTED.values() for t in ts}:
            hits = [r for r in mine if tax in r["themes"]]
            matched += len(hits)
            correct += sum(tax in PLANTED[PLANTED_OF[r["comment"]]] for r in hits)
        purity = correct / matched
        assert purity >= 0.8, (lang, purity)
        found = sum(bool(PLANTED[PLANTED_OF[r["comment"]]] & set(r["themes"])) for r in mine)
        assert found == len(mine), lang  # every planted comment got its theme


def test_planted_languages_are_detected(text_demo) -> None:
    ws, _ = text_demo
    rows = [r for r in _rows(ws) if r["comment"] in PLANTED_OF]
    for r in rows:
        truth = next(lg for lg in ("fi", "sv", "en")
                     if r["comment"] in co.THEMES[PLANTED_OF[r["comment"]]][lg])
        assert r["language"] == truth, r["comment"]


def test_delivery_has_the_largest_negative_impact_on_nps(text_demo) -> None:
    ws, _ = text_demo
    with open_engine(ws) as eng:
        got = {i.theme: i for i in impacts(eng, metric="nps")}
    worst = min((i for i in got.values() if i.impact is not None), key=lambda i: i.impact)
    assert worst.theme == "delivery" and worst.impact < 0
    # its interval excludes zero; with too few mentions to resample (S since search pauses,
    # issue 14: 9 of 150 answers) it has none rather than one that means nothing
    if worst.low is None:
        assert worst.negative_mentions < MIN_BOOTSTRAP and worst.high is None
    else:
        assert worst.high < 0
    assert got["staff"].impact == 0.0 and got["product_quality"].impact == 0.0


def test_theme_report_and_sentiment_report(text_demo) -> None:
    ws, _ = text_demo
    with open_engine(ws) as eng:
        rep = theme_report(eng, metric="nps")
        sent = sentiment_report(eng)
    by = {t["theme"]: t for t in rep["themes"]}
    assert rep["themes"][0]["theme"] == "delivery"
    assert by["delivery"]["mentions"] >= by["delivery"]["negative"] > 0
    assert by["delivery"]["sentiment"] < 0 < by["staff"]["sentiment"]
    assert by["delivery"]["trend"] and sum(m["mentions"] for m in by["delivery"]["trend"]) \
        == by["delivery"]["mentions"]
    assert set(by["delivery"]["terms"]) == {"fi", "sv", "en"}
    langs = {r["language"]: r for r in sent["languages"]}
    assert {"fi", "sv", "en"} <= set(langs)
    if sent["source"] == "model":
        assert all(langs[lg]["accuracy"]["n"] > 0 for lg in ("fi", "sv", "en"))
    else:
        assert "lexicon" in sent["note"]


def test_a_rerun_does_nothing_and_a_changed_answer_is_analysed_again(demo_copy) -> None:
    with open_warehouse(demo_copy) as con:
        again = analyse(con, now=NOW)
        assert again.analysed == 0 and again.unchanged == again.comments > 0
        assert not again.refitted
        rid = con.execute("SELECT response_id FROM v_feedback WHERE metric = 'nps' AND "
                          "comment IS NOT NULL ORDER BY response_id LIMIT 1").fetchone()[0]
        con.execute("UPDATE feedback SET comment = 'Asiakaspalvelu ei vastannut ikinä.', "
                    "_hash = _hash + 1 WHERE response_id = ?", [rid])
        con.execute("UPDATE feedback SET comment = NULL WHERE response_id = (SELECT "
                    "max(response_id) FROM v_feedback WHERE metric = 'nps' AND comment "
                    "IS NOT NULL)")
        third = analyse(con, now=NOW)
        assert third.analysed == 1 and third.removed == 1
        themes = con.execute("SELECT themes FROM comment_analysis WHERE response_id = ?",
                             [rid]).fetchone()[0]
        assert themes == ["customer_service"]


def _insert(con, rows: list[tuple]) -> None:
    for i, (comment, language, score) in enumerate(rows, start=2):
        con.execute("INSERT INTO feedback (response_id, ts, metric, score, comment, language, "
                    "_batch, _line, _hash) VALUES (?, TIMESTAMP '2026-05-01 10:00:00', 'nps', "
                    "?, ?, ?, 1, ?, ?)", [f"r{i}", score, comment, language, i, i])


def test_bad_input_has_clear_results(tmp_path: Path) -> None:
    huge = "Toimitus myöhästyi taas ja taas. " * 3100
    with open_warehouse(tmp_path / "ws") as con:
        _insert(con, [("", "fi", 9), ("   ", None, 9), ("😡😡", None, 2), ("🙂", "sv", 10),
                      ("<script>alert('x')</script> Toimitus myöhästyi viikolla", "fi", 3),
                      (huge, None, 1), ("toimitus kesti ihan sikana", "fi", 4),
                      ("Die Lieferung kam viel zu spät an", None, 2)])
        res = analyse(con, now=NOW)
        assert res.comments == 6  # blank comments are no comments
        assert res.analysed == 6 and res.sentiment_source == "lexicon"
        assert "the model needs" in res.model_note
        assert Counter(res.languages) == Counter({"fi": 3, "unknown": 1, "sv": 1, "other": 1})
        got = {r[0]: r[1:] for r in con.execute(
            "SELECT response_id, language, sentiment, themes FROM comment_analysis").fetchall()}
        assert got["r4"] == ("unknown", None, [])
        assert got["r6"][0] == "fi" and got["r6"][2] == ["delivery"]
        assert got["r7"][0] == "fi" and got["r7"][2] == ["delivery"]
        assert got["r8"] == ("fi", "neutral", ["delivery"])  # slang: the theme, no verdict
        assert got["r9"] == ("other", None, [])
        stored = con.execute("SELECT comment FROM v_feedback WHERE response_id = 'r6'"
                             ).fetchone()[0]
        assert stored.startswith("<script>")  # stored as written; outputs escape it


def test_a_workspace_without_comments(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "ws") as con:
        res = analyse(con, now=NOW)
        assert (res.comments, res.analysed, res.languages) == (0, 0, {})
        rep = theme_report(DuckDBEngine(con))
    assert rep["comments"] == 0 and rep["notes"]
    assert all(t["mentions"] == 0 and t["impact"] is None for t in rep["themes"])


@pytest.mark.parametrize("metric", ["csat", "enps"])
def test_impact_on_other_metrics_runs(text_demo, metric: str) -> None:
    ws, _ = text_demo
    with open_engine(ws) as eng:
        got = impacts(eng, metric=metric)
    assert len(got) >= 10 and all(i.metric == metric for i in got)


def test_assign_bounds_a_huge_comment_and_reads_mixed_and_slang() -> None:
    # The hot path alone: a 100 000-character paste is read up to its first pages, so it
    # costs about what a page costs; mixed-language and slang comments get their themes.
    import time

    from cxlens.text.analyse import assign
    from cxlens.text.sentiment import Model

    huge = "Toimitus myöhästyi taas ja taas. " * 3100
    texts = [huge, "Toimitus oli nopea, great service!", "toimitus kesti ihan sikana",
             "<b>Leveransen</b> var sen", "🙂"]
    t0 = time.process_time()
    probs, themes = assign(texts, ["fi", "fi", "fi", "sv", "unknown"], Model())
    assert time.process_time() - t0 < 5.0
    assert probs.shape == (5, 3) and abs(probs.sum(axis=1) - 1).max() < 1e-9
    assert themes[:4] == [["delivery"]] * 4 and themes[4] == []
    assert probs[0].argmax() == 0  # late, again and again: negative
