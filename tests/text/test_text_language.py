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


def test_the_cheap_screen_agrees_with_the_full_detector() -> None:
    # The screen's fi/sv/en answers are taken as they are; the rest are re-read in full. On
    # the demo's sentences and the neighbours, the result is the full detector's.
    from cxlens.demo import company as co
    from cxlens.text.language import _CODES, LANGUAGES, OTHER

    texts = [s for t in co.THEMES.values() for lg in LANGUAGES for s in t[lg]]
    texts += ["Pakken kom for sent til meg", "Varerne var af god kvalitet og hurtig levering.",
              "Kaup jõudis kohale liiga hilja.", "Доставка была очень долгой.",
              "Jeg er fornøyd med servicen i butikken."]
    full = [_CODES.get(x.name, OTHER) if x else None
            for x in detector().detect_languages_in_parallel_of(texts)]
    got = detect(texts)
    assert [g for g, f in zip(got, full, strict=True) if f is not None] == [
        f for f in full if f is not None]


def test_a_huge_comment_is_detected_from_its_start() -> None:
    huge = "Leveransen var en vecka försenad. " * 3000 + "Toimitus myöhästyi. " * 3000
    assert detect([huge]) == ["sv"]
