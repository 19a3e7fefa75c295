"""Discovery: a planted demo theme hidden from the taxonomy is found again in each language,
pure, and aligned across fi/sv/en; pinned themes survive re-discovery."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from text_fixtures import NOW, insert_rows, planted_rows

from cxlens.errors import UserError
from cxlens.text import catalogue, themes
from cxlens.text import discover as dsc
from cxlens.text.analyse import analyse
from cxlens.text.edits import pin
from cxlens.warehouse.store import open_warehouse

ROWS = planted_rows(900)
PLANTED = dict(zip(ROWS.column("response_id").to_pylist(), ROWS.column("planted").to_pylist(),
                   strict=True))


def hide(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Run with the taxonomy minus ``names`` (and nothing cached from the full one)."""
    full = themes.taxonomy()
    less = themes.Taxonomy(tuple(t for t in full.themes if t.theme not in names),
                           full.digest + "-" + "-".join(names))
    for mod in (themes, catalogue, dsc):
        monkeypatch.setattr(mod, "taxonomy", lambda: less)
    themes._index.cache_clear()
    dsc._lexicon.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    themes._index.cache_clear()
    dsc._lexicon.cache_clear()


def _run(ws: Path) -> tuple[dsc.Discovery, list[tuple]]:
    with open_warehouse(ws) as con:
        insert_rows(con, ROWS)
        analyse(con, now=NOW)
        found = dsc.discover(con, now=NOW)
        analyse(con, now=NOW)
        got = con.execute("SELECT response_id, language, themes FROM comment_analysis"
                          ).fetchall()
    return found, got


def _check(found: dsc.Discovery, got: list[tuple], planted: str) -> list[str]:
    """The discovered themes of ``planted``; each pure (>= 0.8) in every language, and
    together covering >= 0.8 of its comments in each language."""
    names = []
    for th in found.themes:
        mine = [PLANTED[r] for r, _, ts in got if th["theme"] in ts]
        if Counter(mine).most_common(1)[0][0] == planted:
            names.append(th["theme"])
    assert names
    for lang in ("fi", "sv", "en"):
        for name in names:
            mine = [PLANTED[r] for r, lg, ts in got if lg == lang and name in ts]
            assert mine and Counter(mine)[planted] / len(mine) >= 0.8, (name, lang)
        truth = [ts for r, lg, ts in got if lg == lang and PLANTED[r] == planted]
        covered = sum(bool(set(names) & set(ts)) for ts in truth)
        assert covered / len(truth) >= 0.8, (lang, covered, len(truth))
    return names


def test_a_hidden_queue_theme_is_found_in_each_language_and_aligned(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    hide(monkeypatch, "queue")
    found, got = _run(tmp_path / "ws")
    names = _check(found, got, "long_queue")
    assert len(names) == 1  # one theme, three languages
    th = next(t for t in found.themes if t["theme"] == names[0])
    assert th["languages"] == ["en", "fi", "sv"]
    assert "jono" in th["terms"]["fi"] and "queue" in th["terms"]["en"]
    assert th["label"] == "jono / kö / queue" and th["theme"] == "d_queue"
    with open_warehouse(tmp_path / "ws") as con:  # the same data: the same themes
        assert dsc.discover(con, now=NOW).themes == found.themes


def test_a_hidden_delivery_theme_comes_back_as_aligned_facets(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    hide(monkeypatch, "delivery")
    found, got = _run(tmp_path / "ws")
    names = _check(found, got, "delivery_delay")
    for th in found.themes:
        if th["theme"] in names:
            assert th["languages"] == ["en", "fi", "sv"]


def test_a_hidden_staff_theme_is_found_also_where_only_a_weak_keyword_themed_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """"Kiitos ystävällisestä palvelusta myymälässä" is store environment by the word for
    the shop alone: it is re-examined, so the hidden staff theme reaches it (coverage was
    0.55–0.68 per language when it was not); no theme is named or keyed by a weak word."""
    hide(monkeypatch, "staff")
    found, got = _run(tmp_path / "ws")
    _check(found, got, "friendly_staff")
    for th in found.themes:
        for lang, words in th["keys"].items():
            assert not set(words) & dsc.WEAK[lang], th
    thanks = [ts for r, lg, ts in got if PLANTED[r] == "friendly_staff" and lg == "fi"
              and "store_environment" in ts]
    assert thanks and all(len(ts) == 2 for ts in thanks)  # it keeps its theme too


def test_the_pool_takes_comments_whose_themes_hang_on_weak_keywords_only() -> None:
    base = catalogue.build()
    assert dsc._open(base, ["kiitos", "kiva", "käynti", "myymälä"], "fi")
    assert not dsc._open(base, ["kiitos", "ystävällinen", "myymälä"], "fi")  # staff's word
    assert not dsc._open(base, ["myymälä", "olla", "siisti"], "fi")  # siisti: a real keyword
    assert not dsc._open(base, ["toimitus", "myymälä"], "fi")
    assert dsc._open(base, ["hej"], "sv") and not dsc._open(base, ["butik", "stökig"], "sv")


def test_discovered_themes_reach_the_reports_and_pins_survive(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from cxlens.text.report import theme_report
    from cxlens.warehouse.engine import DuckDBEngine

    hide(monkeypatch, "queue")
    ws = tmp_path / "ws"
    found, _ = _run(ws)
    name = found.themes[0]["theme"]
    with open_warehouse(ws) as con:
        rep = {t["theme"]: t for t in theme_report(DuckDBEngine(con))["themes"]}
        assert rep[name]["source"] == "discovered" and rep[name]["mentions"] > 0
        assert rep[name]["impact"] is not None and rep[name]["trend"]
        pin(con, name, now=NOW)
        again = dsc.discover(con, now=NOW)
        assert again.kept == [name]
        assert name not in [t["theme"] for t in again.themes]  # its comments left the pool
        kept = catalogue.load(DuckDBEngine(con)).get(name)
        assert kept.pinned and kept.terms["fi"] == tuple(found.themes[0]["terms"]["fi"])


def test_discovery_needs_an_analysis_and_sane_options(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "ws") as con:
        con.execute("DROP TABLE comment_analysis")
        with pytest.raises(UserError, match="not been analysed"):
            dsc.discover(con, now=NOW)
    with open_warehouse(tmp_path / "ws2") as con:
        with pytest.raises(UserError, match="k-max"):
            dsc.discover(con, now=NOW, k_max=1)
        empty = dsc.discover(con, now=NOW)  # no comments: nothing found, nothing fails
        assert empty.themes == [] and empty.pool == {"fi": 0, "sv": 0, "en": 0}
