"""Stable reason codes on the Moments page: every code the journeys analytics give has a
locale string in en, fi and sv that formats with the values the page passes, and the page
translates by the code, not by the English text (tests/analytics/test_reason_codes.py
checks that the results and the API carry the codes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cxlens.analytics.journeys import reasons as rs
from cxlens.web.i18n import translate
from cxlens.web.pages.moments import REASON_KEY, reason_text

LOCALES = Path(__file__).resolve().parents[2] / "src" / "cxlens" / "web" / "locales"
VALUES = {"n": 30, "within": 90, "outcome": "x", "trimmed": 3, "met": 40, "compared": 50}


@pytest.mark.parametrize("lang", ["en", "fi", "sv"])
def test_every_code_has_a_locale_string(lang: str) -> None:
    catalogue = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    for code in rs.CODES:
        key = REASON_KEY.format(code)
        assert catalogue.get(key), (lang, code)
        text = translate(lang, key, **VALUES)
        assert "{" not in text, (lang, code, text)  # every placeholder has its value
    assert len(set(rs.CODES)) == len(rs.CODES)
    assert all(re.fullmatch(r"[a-z_]+", c) for c in rs.CODES)


def test_the_page_translates_by_code_not_by_text() -> None:
    def t(key: str, **values: object) -> str:
        return translate("fi", key, **values)

    # the English text is ignored when there is a code, and shown when there is none
    assert reason_text(rs.NOBODY_MET, "whatever the analytics said", t) == \
        "Kukaan tässä valinnassa ei kohdannut tätä hetkeä."
    assert reason_text(None, "an uncoded reason", t) == "an uncoded reason"
    assert reason_text(None, None, t) is None
