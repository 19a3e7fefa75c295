"""The text tests run with the network blocked (conftest's ``no_network``): check the guard
itself, and that a whole analysis pass runs under it from a cold start of its models."""

from __future__ import annotations

import socket

import pytest

from cxlens.text.language import detector
from cxlens.text.lemmas import lemma
from cxlens.text.sentiment import lexicon
from cxlens.text.themes import taxonomy


def test_the_guard_refuses_the_internet() -> None:
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("203.0.113.5", 443), timeout=1)


def test_models_load_without_the_network() -> None:
    for cached in (detector, lexicon, taxonomy, lemma):
        cached.cache_clear()
    assert detector().detect_language_of("Toimitus myöhästyi viikolla.") is not None
    assert lemma("toimituksen", "fi") == "toimitus"
    assert lexicon().polarity["sv"]["bra"] == 1.0
    assert "delivery" in taxonomy().names()
