"""An :class:`~cxlens.analytics.insights.Insight` as one sentence in the reader's language,
and the page that holds its evidence.

The sentences are locale templates (``insight.<kind>.<direction>``) filled with the
finding's numbers formatted for the language; the page, the API and ``cxlens insights`` all
phrase a finding through :func:`sentence`, so they say the same thing.
"""

from __future__ import annotations

from urllib.parse import urlencode

from cxlens.analytics.insights import Insight
from cxlens.web import formats
from cxlens.web.i18n import translate
from cxlens.web.i18n import value_label as translate_value

_DIGITS = {"nps": 0, "enps": 0, "csat": 0, "ces": 2}


def _amount(ins: Insight, value: float | None, lang: str, sign: bool = False) -> str:
    if ins.kind == "worth":
        return formats.money(value, lang, ins.currency or formats.CURRENCY, sign=sign)
    if ins.kind == "driver":
        return formats.num(value, lang, 2, sign=sign)
    return formats.num(value, lang, _DIGITS.get(ins.metric, 1), sign=sign)


def sentence(ins: Insight, lang: str) -> str:
    """The finding in one sentence with its number, interval and n."""
    e = ins.effect
    magnitude = None if e.value is None else abs(e.value)
    effect = _amount(ins, magnitude, lang)
    if ins.kind in ("group", "change"):
        effect += " " + translate(lang, f"insight.unit.{ins.metric}")
    values = {
        "metric": ins.metric.upper(),
        "effect": effect,
        "low": _amount(ins, e.low, lang, sign=True),
        "high": _amount(ins, e.high, lang, sign=True),
        "value": _amount(ins, ins.value, lang), "other": _amount(ins, ins.other, lang),
        "n": formats.num(ins.n, lang), "n_other": formats.num(ins.n_other, lang),
        "group": translate_value(lang, ins.subject) if ins.dimension in ("touchpoint", "channel")
        else ins.subject_name or str(ins.subject), "attribute": str(ins.subject),
        "days": ins.days,
        "dimension": translate(lang, f"exp.by.{ins.dimension}") if ins.dimension else "",
    }
    if ins.period:
        values["days"] = (ins.period[1] - ins.period[0]).days
    if ins.kind == "driver":
        perf = ins.details.get("performance", {})
        values.update(share=formats.num(ins.details.get("share"), lang),
                      share_low=formats.num(ins.details.get("share_low"), lang),
                      share_high=formats.num(ins.details.get("share_high"), lang),
                      low=formats.num(perf.get("low"), lang, 2),
                      high=formats.num(perf.get("high"), lang, 2))
        return translate(lang, "insight.driver", **values)
    if ins.kind == "worth":
        values["days"] = ins.days
        return translate(lang, "insight.worth", **values)
    return translate(lang, f"insight.{ins.kind}.{ins.direction}", **values)


def evidence(ins: Insight, slug: str) -> str:
    """The page that shows the finding in full, with the same choices."""
    base = f"/w/{slug}"
    if ins.kind == "group":
        q = {"metric": ins.metric, "by": ins.dimension}
        return f"{base}/experience?{urlencode(q)}#chart-tests"
    if ins.kind == "change":
        return f"{base}/experience?{urlencode({'metric': ins.metric})}#chart-trend"
    if ins.kind == "driver":
        return f"{base}/drivers"
    return f"{base}/experience#value"
