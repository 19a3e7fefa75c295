"""Representative quotes (text/quotes.py) on a tiny hand-made set with known answers, and
the selection's theme table (text/selection.py) against the report on the analysed demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxlens.errors import UserError
from cxlens.text.quotes import quotes, quotes_json
from cxlens.text.report import theme_report
from cxlens.text.selection import Selection, comment_page, theme_table
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import open_engine, open_warehouse

# (id, employee, store, language, comment, themes, sentiment, p_negative, p_neutral, p_positive)
ROWS = [
    ("r1", "e1", "A", "fi", "Toimitus oli todella hidas ja myöhässä", ["delivery"],
     "negative", 0.90, 0.05, 0.05),
    ("r2", "e1", "A", "fi", "Paketti tuli viikon myöhässä kotiin asti", ["delivery"],
     "negative", 0.95, 0.03, 0.02),
    ("r3", "e2", "A", "fi", "paketti  tuli viikon myöhässä KOTIIN asti ", ["delivery"],
     "negative", 0.92, 0.04, 0.04),
    ("r4", "e3", "B", "fi", "Toimitus ja hinta olivat molemmat huonoja", ["delivery", "price"],
     "negative", 0.90, 0.05, 0.05),
    ("r5", "e4", "B", "fi", "Toimitus hidas", ["delivery"], "negative", 0.99, 0.005, 0.005),
    ("r6", "e5", "B", "fi", "Toimitus tuli nopeasti ja hyvin pakattuna", ["delivery"],
     "positive", 0.10, 0.10, 0.80),
    ("r7", "e6", "A", "sv", "Leveransen kom i tid som den skulle", ["delivery"],
     "neutral", 0.20, 0.60, 0.20),
    ("r8", "e7", "A", "en", "The price is fine for what you get", ["price"],
     "neutral", 0.10, 0.70, 0.20),
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("quotes") / "ws"
    with open_warehouse(ws) as con:
        for i, (rid, emp, store, lang, text, themes, snt, pn, pu, pp) in enumerate(ROWS, 1):
            con.execute("INSERT INTO feedback (response_id, ts, metric, score, comment, "
                        "employee_id, store_id, _batch, _line, _hash) VALUES "
                        "(?, TIMESTAMP '2026-05-01 10:00:00' + INTERVAL (?) DAY, 'nps', 5, ?, "
                        "?, ?, 1, ?, ?)", [rid, i, text, emp, store, i + 1, i])
            con.execute("INSERT INTO comment_analysis (response_id, _hash, version, language, "
                        "sentiment, p_negative, p_neutral, p_positive, sentiment_source, "
                        "themes, analysed_at) VALUES (?, ?, 'test', ?, ?, ?, ?, ?, 'model', ?, "
                        "TIMESTAMP '2026-06-01 00:00:00')",
                        [rid, i, lang, snt, pn, pu, pp, themes])
    return ws


def _ids(ws: Path, theme: str, sel: Selection | None = None, k: int = 3) -> dict[str, list]:
    with open_engine(ws) as eng:
        return {lang: [q.response_id for q in qs]
                for lang, qs in quotes(eng, theme, sel, k=k).items()}


def test_the_most_representative_first_and_no_voice_or_text_twice(tiny: Path) -> None:
    """fi delivery: r2 (0.95, one theme) first; r1 is the same person and r3 the same text
    (case and spacing aside), so both are passed over; r4 mentions two themes (0.90 / 2),
    r5 is two words (0.99 · 2/6); r6 is positive in a negative theme (its p_negative 0.10)."""
    assert _ids(tiny, "delivery") == {"fi": ["r2", "r4", "r5"], "sv": ["r7"]}
    assert _ids(tiny, "delivery", k=4)["fi"] == ["r2", "r4", "r5", "r6"]
    assert _ids(tiny, "delivery", k=1) == {"fi": ["r2"], "sv": ["r7"]}


def test_scores_and_the_typical_class(tiny: Path) -> None:
    with open_engine(tiny) as eng:
        got = quotes(eng, "delivery", k=4)
    fi = {q.response_id: q for q in got["fi"]}
    assert {q.typical for q in got["fi"]} == {"negative"}
    assert fi["r2"].score == pytest.approx(0.95) and fi["r4"].score == pytest.approx(0.45)
    assert fi["r5"].score == pytest.approx(0.99 * 2 / 6, abs=1e-4)
    assert fi["r6"].probability == pytest.approx(0.10) and fi["r6"].sentiment == "positive"
    assert got["sv"][0].typical == "neutral" and got["sv"][0].probability == pytest.approx(0.6)


def test_the_selection_narrows_the_quotes(tiny: Path) -> None:
    assert _ids(tiny, "delivery", Selection(metric=None, store="B")) == {
        "fi": ["r4", "r5", "r6"]}
    assert _ids(tiny, "delivery", Selection(metric=None, language="sv")) == {"sv": ["r7"]}
    assert _ids(tiny, "queue") == {}
    with open_engine(tiny) as eng, pytest.raises(UserError, match="nope"):
        quotes(eng, "nope")


def test_the_cli_prints_the_same_json(tiny: Path) -> None:
    from cxlens.cli import app

    r = CliRunner().invoke(app, ["text", "quotes", "--theme", "delivery", "--store", "B",
                                 "-w", str(tiny), "--json"])
    assert r.exit_code == 0, r.output
    with open_engine(tiny) as eng:
        want = quotes_json(eng, "delivery", Selection(metric=None, store="B"))
    assert json.loads(r.stdout) == want
    assert [q["response_id"] for q in want["languages"]["fi"]] == ["r4", "r5", "r6"]


def test_the_cli_names_an_unknown_theme(tiny: Path) -> None:
    from cxlens.cli import app

    r = CliRunner().invoke(app, ["text", "quotes", "--theme", "nope", "-w", str(tiny)])
    assert isinstance(r.exception, UserError) and "nope" in r.exception.message  # main prints it


def test_the_comment_page_pages_and_counts(tiny: Path) -> None:
    with open_engine(tiny) as eng:
        first = comment_page(eng, "delivery", Selection(metric=None), limit=4)
        second = comment_page(eng, "delivery", Selection(metric=None), offset=4, limit=4)
    assert first.total == second.total == 7
    assert [r["response_id"] for r in first.rows + second.rows] == [
        "r7", "r6", "r5", "r4", "r3", "r2", "r1"]


def test_an_empty_selection_gives_the_reports_numbers(text_demo) -> None:
    """The selection's SQL is the report's with conditions added: with none, equal numbers."""
    ws, _ = text_demo
    with open_warehouse(ws) as con:
        eng = DuckDBEngine(con)
        for metric in ("nps", "csat"):
            rep = theme_report(eng, metric=metric)
            tab = theme_table(eng, Selection(metric=metric))
            assert tab.comments == rep["comments"]
            got = [(r.theme, r.mentions, r.negative, r.neutral, r.positive, r.sentiment,
                    r.impact, r.low, r.high, r.n, r.negative_mentions,
                    [(m.isoformat(), n, k) for m, n, k in r.trend]) for r in tab.themes]
            want = [(t["theme"], t["mentions"], t["negative"], t["neutral"], t["positive"],
                     t["sentiment"], t["impact"], t["low"], t["high"], t["n"],
                     t["negative_mentions"],
                     [(m["month"], m["mentions"], m["negative"]) for m in t["trend"]])
                    for t in rep["themes"]]
            assert got == want
        fi = theme_table(eng, Selection(metric="nps", language="fi"))
        assert 0 < fi.comments < theme_table(eng, Selection(metric="nps")).comments


@pytest.mark.spark
@pytest.mark.slow
def test_the_selection_and_the_quotes_are_equal_on_spark(text_demo, spark) -> None:
    """The same SQL on Spark, with the tables registered as test_text_parity.py does."""
    import duckdb

    from cxlens.warehouse.spark import SparkEngine

    ws, _ = text_demo
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        se = SparkEngine(spark)
        for name in ("v_feedback", "comment_analysis"):
            cols = con.sql(f"DESCRIBE SELECT * FROM {name}").fetchall()
            exprs = [f'lower(to_hex("{c}")) AS "{c}"' if t in ("HUGEINT", "UHUGEINT")
                     else f'"{c}"' for c, t, *_ in cols]
            se.register(name, con.sql(f"SELECT {', '.join(exprs)} FROM {name}")
                        .to_arrow_table())
        duck = DuckDBEngine(con)
        for sel in (Selection(metric="nps"), Selection(metric="enps", language="fi",
                                                       store="FI-TRE")):
            assert theme_table(duck, sel) == theme_table(se, sel)
        sel = Selection(metric=None)
        a, b = (comment_page(e, "delivery", sel, offset=5, limit=10) for e in (duck, se))
        assert (a.total, [r["response_id"] for r in a.rows]) == (
            b.total, [r["response_id"] for r in b.rows])
        assert quotes_json(duck, "delivery", sel) == quotes_json(se, "delivery", sel)
    finally:
        con.close()
