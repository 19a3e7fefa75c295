"""A finding's sentence names the group as people know it, in every language."""

from __future__ import annotations

from datetime import date

from cxlens.analytics._intervals import Estimate
from cxlens.analytics.insights import Insight
from cxlens.web.insight_text import sentence


def _store(name: str | None) -> Insight:
    return Insight("group", "nps", Estimate(-31.0, 5.0, -41.0, -21.0, "x"), 300, 900, 0.001,
                   1.05, "store_id", "FI-TRE", name, -12.0, 19.0,
                   period=(date(2026, 9, 1), date(2026, 11, 30)))


def test_a_group_is_named_by_its_name_where_it_has_one() -> None:
    for lang in ("en", "fi", "sv"):
        named = sentence(_store("Tampere Ratina"), lang)
        assert "Tampere Ratina" in named and "FI-TRE" not in named, named
        assert "FI-TRE" in sentence(_store(None), lang)  # no name: the code
