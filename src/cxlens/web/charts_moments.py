"""The Moments page's figures: the ranked moments as a forest plot, the covariate balance as a
Love plot, and the time to outcome as Kaplan–Meier curves.

Builders over the journeys API's answers (:class:`~cxlens.web.api.journeys.MomentsOut`,
:class:`~cxlens.web.api.journeys.MomentOut`, :class:`~cxlens.web.api.journeys.SurvivalOut`),
so the page shows exactly what ``GET /api/w/{slug}/journeys/moments|survival`` gives. Each
returns a :class:`~cxlens.web.charts.Chart` (figure, the same numbers as a table, CSV), as
:mod:`cxlens.web.charts_journeys` does. No statistics here: an interval "holds zero" and a
covariate level is "within the line" are comparisons of numbers the analytics computed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cxlens.analytics.journeys._units import ARROW
from cxlens.analytics.journeys.moments import SMD_WARN
from cxlens.web.api.journeys import MomentOut, MomentsOut, SurvivalOut
from cxlens.web.charts import (
    NOTE_COLOUR,
    PALETTE,
    Chart,
    _down,
    _plain,
    _tick,
    _up,
    cell,
)

Translate = Callable[..., str]
Label = Callable[[str], str]  # a touchpoint's name in the page's language

UNSURE_COLOUR = "#8a94a6"
PP = "percentage points"  # MomentsOut.scale of the binary outcomes
# Above the plot, left: below it the legend would stand among the rotated category labels.
LEGEND = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1, "yanchor": "bottom"}


def moment_text(name: str, label: Label) -> str:
    """A moment as a reader says it: a touchpoint by its label, a sequence ``A → B`` as
    both labels joined by the arrow."""
    return ARROW.join(label(part) for part in name.split(ARROW))


def unsure(r: MomentOut) -> bool:
    """The 95 % interval holds zero: no evidence of an effect either way."""
    return r.low is not None and r.high is not None and r.low <= 0 <= r.high


def unit(m: MomentsOut, t: Translate) -> str:
    """The effects' unit as a column heading writes it: "pp", or the currency code."""
    return t("mo.pp") if m.scale == PP else m.scale


def _height(labels: list[str]) -> int:
    """A category chart tall enough that labels of two or three lines (Plotly's ``<br>``)
    do not run into their neighbours, the legend above it included."""
    lines = max((label.count("<br>") + 1 for label in labels), default=1)
    return max(260, 100 + max(28, 17 * lines + 10) * len(labels))


def _bg() -> dict[str, Any]:
    return {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}


def _zero_line(x: float = 0.0, dash: str = "solid") -> dict[str, Any]:
    return {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
            "line": {"color": "#5b6472" if x == 0 else NOTE_COLOUR, "width": 1, "dash": dash}}


def moments_chart(key: str, title: str, t: Translate, m: MomentsOut, label: Label,
                  why: Callable[[MomentOut], str]) -> Chart:
    """The ranked moments: per moment with an estimate, the adjusted effect and its 95 %
    interval (grey and hollow when the interval holds zero: "not sure") and the naive
    difference as a second marker, against the zero line. The table has every moment, a
    moment without an estimate with ``why(row)``."""
    u = unit(m, t)
    shown = [r for r in m.moments if r.effect is not None]
    names = [_tick(_plain(moment_text(r.touchpoint, label))) for r in shown]
    hover = ("%{y}: %{x:+.1f} " + _plain(u)
             + " (n %{customdata[0]} / %{customdata[1]})<extra></extra>")

    def effects(sure: bool, legend: str, colour: str, symbol: str) -> list[dict[str, Any]]:
        pairs = [(r, n) for r, n in zip(shown, names, strict=True) if unsure(r) != sure]
        rows = [r for r, _ in pairs]
        return [{"type": "scatter", "mode": "markers", "name": legend, "orientation": "h",
                "y": [n for _, n in pairs], "x": [r.effect for r in rows],
                "marker": {"size": 10, "color": colour, "symbol": symbol,
                           "line": {"width": 2, "color": colour}},
                "error_x": {"type": "data", "symmetric": False, "color": colour,
                            "array": [_up(r.effect, r.high) for r in rows],
                            "arrayminus": [_down(r.effect, r.low) for r in rows]},
                "customdata": [[r.customers, r.comparison] for r in rows],
                "hovertemplate": hover}] if rows else []
    # one trace for the sure, one for the not sure: the legend shows each as drawn
    data = [
        *effects(True, t("mo.effect_legend"), PALETTE[0], "circle"),
        *effects(False, t("mo.unsure_legend"), UNSURE_COLOUR, "circle-open"),
        {"type": "scatter", "mode": "markers", "name": t("mo.naive_legend"), "y": names,
         "x": [r.naive for r in shown], "orientation": "h",
         "marker": {"size": 9, "color": PALETTE[2], "symbol": "x-thin-open",
                    "line": {"width": 2, "color": PALETTE[2]}},
         "hovertemplate": "%{y}: %{x:+.1f} " + _plain(u) + "<extra></extra>"},
    ] if shown else []
    layout = {"margin": {"l": 10, "r": 10, "t": 50, "b": 40},
              "height": _height(names), "showlegend": True, "legend": LEGEND,
              "shapes": [_zero_line()],
              "xaxis": {"title": {"text": t("mo.axis_effect", unit=u)}, "zeroline": False},
              "yaxis": {"type": "category", "automargin": True, "autorange": "reversed",
                        "categoryorder": "array", "categoryarray": names},
              **_bg()}
    columns = [t("jv.rank"), t("mo.moment"), t("mo.met"), t("mo.compared"),
               t("mo.naive", unit=u), t("mo.effect", unit=u), t("nps.low"), t("nps.high"),
               t("mo.sure"), t("mo.max_smd"), t("mo.why_none")]
    table = []
    for i, r in enumerate(m.moments, 1):
        sure = "" if r.effect is None else (t("mo.not_sure") if unsure(r) else t("mo.sure_yes"))
        table.append([str(i), moment_text(r.touchpoint, label), cell(r.customers),
                      cell(r.comparison), cell(r.naive), cell(r.effect), cell(r.low),
                      cell(r.high), sure, cell(r.max_smd_after),
                      "" if r.effect is not None else why(r)])
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("mo.chart_note"))


def balance_chart(key: str, title: str, t: Translate, r: MomentOut,
                  level: Callable[[str, str], str], covariate: Label) -> Chart:
    """The covariate balance of one moment (a Love plot): per covariate level the
    standardised mean difference before weighting (hollow) and after (filled), with the
    lines at ±:data:`~cxlens.analytics.journeys.moments.SMD_WARN`."""
    names = [_tick(_plain(f"{covariate(b.covariate)}: {level(b.covariate, b.level)}"))
             for b in r.balance]
    after_colour = [PALETTE[0] if abs(b.after) <= SMD_WARN else NOTE_COLOUR
                    for b in r.balance]
    data = [
        {"type": "scatter", "mode": "markers", "name": t("mo.before"), "y": names,
         "x": [b.before for b in r.balance], "orientation": "h",
         "marker": {"size": 9, "symbol": "circle-open", "color": UNSURE_COLOUR,
                    "line": {"width": 2, "color": UNSURE_COLOUR}},
         "hovertemplate": "%{y}: %{x:+.2f}<extra></extra>"},
        {"type": "scatter", "mode": "markers", "name": t("mo.after"), "y": names,
         "x": [b.after for b in r.balance], "orientation": "h",
         "marker": {"size": 9, "color": after_colour},
         "hovertemplate": "%{y}: %{x:+.2f}<extra></extra>"},
    ] if r.balance else []
    layout = {"margin": {"l": 10, "r": 10, "t": 50, "b": 40},
              "height": _height(names), "showlegend": True, "legend": LEGEND,
              "shapes": [_zero_line(), _zero_line(-SMD_WARN, "dash"),
                         _zero_line(SMD_WARN, "dash")],
              "xaxis": {"title": {"text": t("mo.smd")}, "zeroline": False},
              "yaxis": {"type": "category", "automargin": True, "autorange": "reversed"},
              **_bg()}
    columns = [t("mo.covariate"), t("mo.level"), t("mo.before"), t("mo.after"),
               t("mo.within_line", line=f"{SMD_WARN:.1f}")]
    table = [[covariate(b.covariate), level(b.covariate, b.level), cell(b.before),
              cell(b.after), cell(abs(b.after) <= SMD_WARN)] for b in r.balance]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("mo.balance_note", line=f"{SMD_WARN:.1f}"))


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _day(value: int | None) -> str:
    return "–" if value is None else str(value)


def survival_chart(key: str, title: str, t: Translate, s: SurvivalOut) -> Chart:
    """Both Kaplan–Meier curves of a moment: the share still without the outcome day by day
    (a step line) inside its pointwise 95 % band (a shaded area), the numbers at risk in the
    hover, and in the table each day's share, band, and the median with its interval."""
    names = {"met": t("mo.group_met"), "comparison": t("mo.group_comparison")}
    data = []
    for i, c in enumerate(s.curves):
        colour = PALETTE[i % len(PALETTE)]
        name = names.get(c.group, c.group)
        x = [p.day for p in c.steps]
        # the band: its lower edge (no line), then its upper edge filled down to it
        data.append({"type": "scatter", "mode": "lines", "x": x,
                     "y": [100 * p.low for p in c.steps], "line": {"shape": "hv", "width": 0},
                     "legendgroup": c.group, "showlegend": False, "hoverinfo": "skip"})
        data.append({"type": "scatter", "mode": "lines", "x": x,
                     "y": [100 * p.high for p in c.steps], "line": {"shape": "hv", "width": 0},
                     "fill": "tonexty", "fillcolor": _rgba(colour, 0.15),
                     "legendgroup": c.group, "showlegend": False, "hoverinfo": "skip",
                     "name": t("mo.band_of", group=name)})
        data.append({
            "type": "scatter", "mode": "lines", "line": {"shape": "hv", "width": 2,
                                                         "color": colour},
            "name": name, "legendgroup": c.group, "x": x,
            "y": [100 * p.survival for p in c.steps],
            "customdata": [[p.at_risk, 100 * p.low, 100 * p.high] for p in c.steps],
            "hovertemplate": "%{x}: %{y:.1f} % (%{customdata[1]:.1f}–%{customdata[2]:.1f}, "
                             "n %{customdata[0]})<extra></extra>"})
    layout = {"margin": {"l": 50, "r": 10, "t": 10, "b": 40}, "height": 320,
              "showlegend": True, "legend": {"orientation": "h", "y": -0.25},
              "hovermode": "x unified",
              "xaxis": {"title": {"text": t("mo.days_after")}, "rangemode": "tozero"},
              "yaxis": {"title": {"text": t("mo.share_without")}, "range": [0, 101]},
              **_bg()}
    columns = [t("mo.day")]
    for c in s.curves:
        g = names.get(c.group, c.group)
        columns += [t("mo.at_risk_of", group=g), t("mo.events_of", group=g),
                    t("mo.without_of", group=g), t("mo.low_of", group=g),
                    t("mo.high_of", group=g)]
    table = []
    for steps in zip(*(c.steps for c in s.curves), strict=True):
        row = [str(steps[0].day)]
        for p in steps:
            row += [cell(p.at_risk), cell(p.events), cell(100 * p.survival),
                    cell(100 * p.low), cell(100 * p.high)]
        table.append(row)
    # the medians and their intervals, as the table's last row ("–": not within the horizon)
    median = [t("mo.median_row")]
    for c in s.curves:
        median += ["", "", _day(c.median_days), _day(c.median_low), _day(c.median_high)]
    if s.curves:
        table.append(median)
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("mo.survival_note"))
