"""Themes from the shipped taxonomy, the same across languages."""

from __future__ import annotations

from importlib import resources

import pytest
from text_fixtures import PLANTED

from cxlens.demo import company as co
from cxlens.errors import UserError
from cxlens.text.lemmas import lemmas
from cxlens.text.themes import match, taxonomy


def _themes(text: str, lang: str) -> list[str]:
    return match(lemmas(text, lang), lang)


def test_the_taxonomy_is_package_data_in_three_languages() -> None:
    assert resources.files("cxlens.text").joinpath("taxonomy.yaml").is_file()
    tax = taxonomy()
    assert len(tax.themes) >= 10
    assert {"delivery", "price", "staff", "product_quality", "returns", "customer_service",
            "availability", "payment", "website_app", "store_environment"} <= set(tax.names())
    for t in tax.themes:
        assert all(t.terms[lg] for lg in ("fi", "sv", "en")), t.theme


@pytest.mark.parametrize("planted", list(PLANTED))
def test_every_planted_comment_gets_its_theme_in_every_language(planted: str) -> None:
    for lang in ("fi", "sv", "en"):
        for text in co.THEMES[planted][lang]:
            assert PLANTED[planted] & set(_themes(text, lang)), (lang, text)


def test_one_theme_across_languages_and_inflections() -> None:
    for text, lang in (("Toimituksen kanssa oli ongelmia", "fi"),
                       ("Toimitukseen meni viikko", "fi"),
                       ("Leveransen dröjde", "sv"), ("Deliveries are slow", "en")):
        assert _themes(text, lang) == ["delivery"], text


def test_compounds_and_phrases() -> None:
    assert _themes("Pakettitoimitus kesti", "fi") == ["delivery"]
    assert _themes("Hemleveransen var snabb", "sv") == ["delivery"]
    # A keyword of its own wins over a compound head: asiakaspalvelu is not staff.
    assert _themes("Asiakaspalvelu ei vastannut", "fi") == ["customer_service"]
    assert "customer_service" in _themes("Customer service never replied", "en")
    assert "availability" in _themes("The tent was out of stock", "en")


def test_no_themes_for_empty_other_or_unknown_text() -> None:
    assert match([], "fi") == []
    assert _themes("Die Lieferung war spät", "other") == []
    assert _themes("🙂", "fi") == []


def test_an_unknown_theme_is_a_user_error() -> None:
    with pytest.raises(UserError, match="no theme 'nope'"):
        taxonomy().get("nope")
