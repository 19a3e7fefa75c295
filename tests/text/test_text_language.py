"""Language per comment: fi/sv/en detected, neighbours flagged, short texts declared."""

from __future__ import annotations

import pytest

from cxlens.text.language import detect, detector, letters


def test_the_three_languages_and_neighbours() -> None:
    texts = ["Toimitus myöhästyi viikolla.", "Leveransen var en vecka försenad.",
             "The delivery was a week late.", "Das Paket kam viel zu spät an.",
             "Pakken kom for sent til meg"]
    assert detect(texts) == ["fi", "sv", "en", "other", "other"]


def test_short_texts_take_the_answers_own_language_or_are_unknown() -> None:
    texts = ["ok", "Hyvä!", "👍👍", "", None, "bra", "Kiitos!"]
    declared = ["en", None, "fi", "sv", "en", "SV", "de"]
    assert detect(texts, declared) == ["en", "unknown", "fi", "sv", "en", "sv", "unknown"]


def test_detected_language_wins_over_the_declared_one_for_long_texts() -> None:
    assert detect(["Personalen var väldigt trevlig och hjälpsam."], ["fi"]) == ["sv"]


def test_short_mixed_comments_get_one_of_their_languages() -> None:
    # The bulk of the words decides; a mixed comment is never "other".
    got = detect(["Toimitus oli nopea, great service!", "Bra service men dålig leverans",
                  "Great staff but the kassa was slow"], ["fi", "sv", "en"])
    assert got[0] in ("fi", "en") and got[1] == "sv" and got[2] in ("en", "sv", "fi")


def test_emoji_html_and_a_huge_comment() -> None:
    huge = "Toimitus myöhästyi taas. " * 4000  # 100 000 characters
    assert len(huge) == 100_000
    assert detect(["😡😡😡", "<script>alert(1)</script> Toimitus myöhästyi viikolla", huge]
                  ) == ["unknown", "fi", "fi"]
    assert letters("😀 12 ab!") == 2


def test_the_detector_is_built_once() -> None:
    assert detector() is detector()


def test_lengths_must_agree() -> None:
    with pytest.raises(ValueError):
        detect(["a"], [None, None])
