"""The words and lines that keep a page readable on a phone and in the reader's language:
long group names broken into lines on a category chart (its rows tall enough for them), and
a survey answer in a customer's timeline written as the reader writes numbers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cxlens.web import charts, i18n

LONG = "Oulu Kauppakeskus Valkea, myymälä ja verkkokaupan noutopiste"


def test_a_long_name_is_broken_into_lines_and_a_short_one_is_not() -> None:
    assert charts._tick("Tampere Ratina") == "Tampere Ratina"
    lines = charts._tick(LONG).split("<br>")
    assert " ".join(lines) == LONG
    assert len(lines) > 1 and all(len(x) <= charts.TICK_CHARS for x in lines)
    assert charts._tick("Pohjoispohjalaisenkauppakeskuksenmyymälä") == \
        "Pohjoispohjalaisenkauppakeskuksenmyymälä"  # one word stays whole


def test_the_breakdown_chart_grows_with_its_labels_lines() -> None:
    def row(group: str) -> SimpleNamespace:
        value = SimpleNamespace(value=10.0, low=0.0, high=20.0)
        return SimpleNamespace(group=group, value=value, n=40, too_small=False)

    def t(key: str, **_: object) -> str:
        return key

    short = charts.breakdown_chart("b", "", t, "nps", "store", [row("A"), row("B")])
    named = charts.breakdown_chart("b", "", t, "nps", "store", [row("A"), row("B")],
                                   names={"A": LONG})
    assert named.figure["data"][0]["y"][0] == charts._tick(LONG)
    assert named.figure["layout"]["height"] >= short.figure["layout"]["height"]
    many = [row(f"G{i}") for i in range(20)]
    tall = charts.breakdown_chart("b", "", t, "nps", "store", many,
                                  names={f"G{i}": f"{LONG} {i}" for i in range(20)})
    lines = tall.figure["data"][0]["y"][0].count("<br>") + 1
    assert tall.figure["layout"]["height"] >= 40 + 20 * charts.LINE_PX * lines
    # the table keeps the whole name and its code
    assert named.rows[0][0] == f"{LONG} (A)"


@pytest.mark.parametrize(("lang", "what", "shown"), [
    ("fi", "nps 2.0", "NPS 2"), ("en", "nps 2.0", "NPS 2"), ("fi", "ces 5.5", "CES 5,5"),
    ("sv", "csat 4.0", "CSAT 4"), ("fi", "rating 4.0", "arvosana 4"),
    ("fi", "nps not-a-number", "nps not-a-number"), ("fi", "order 1005", "tilaus 1005"),
])
def test_an_answer_in_the_timeline_reads_in_the_readers_numbers(lang: str, what: str,
                                                                shown: str) -> None:
    assert i18n.timeline_label(lang, what) == shown
