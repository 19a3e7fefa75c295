"""The Attribution page's figures: every model's share of conversions (or of revenue) per
channel as grouped bars, Markov and Shapley with their bootstrap intervals as error bars, and
Markov's removal effects.

Builders over the API's answer (:class:`~cxlens.web.api.marketing.AttributionOut`), so the
page shows what ``GET /api/w/{slug}/marketing/attribution`` gives. A share's interval is the
model's interval of the channel's credit divided by the model's attributed total (the bars'
shares sum to 100 %); no statistics are computed here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cxlens.web.api.marketing import AttributionOut, ChannelOut
from cxlens.web.charts import Chart, _plain, _tick

Translate = Callable[..., str]
Label = Callable[[str], str]

# one colour per model, rules in blues and greys, the data-driven ones stronger
COLOURS = {"first": "#9ab8e8", "last": "#5f8fd6", "linear": "#1f6feb", "position": "#7d8590",
           "time_decay": "#b0b7c3", "markov": "#11753a", "shapley": "#b35c00"}
LEGEND = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"}


def pct(value: float | None) -> str:
    """A share (0–1) as the table and the CSV show it: a percentage with one decimal."""
    return "" if value is None else f"{100 * value:.1f}"


def _total(rows: list[ChannelOut], measure: str) -> float:
    return sum(getattr(r, measure) for r in rows)


def share_bounds(rows: list[ChannelOut], r: ChannelOut, measure: str
                 ) -> tuple[float | None, float | None]:
    """The channel's interval of ``measure`` (conversions or revenue) as shares of the
    model's attributed total."""
    low, high = ((r.low, r.high) if measure == "conversions"
                 else (r.revenue_low, r.revenue_high))
    total = _total(rows, measure)
    if low is None or high is None or total <= 0:
        return None, None
    return low / total, high / total


def share_chart(key: str, title: str, t: Translate, a: AttributionOut, measure: str,
                label: Label) -> Chart:
    """Grouped (horizontal) bars: per channel one bar per model, the share of ``measure``
    (``conversions`` or ``revenue``); the table has every share and the intervals."""
    share = "conversion_share" if measure == "conversions" else "revenue_share"
    channels = list(a.channels_seen)
    names = [_tick(_plain(label(c))) for c in channels]
    data: list[dict[str, Any]] = []
    for m in a.models:
        by = {r.channel: r for r in m.channels}
        # horizontal bars: channel names stay readable on a phone, models in legend order
        trace: dict[str, Any] = {
            "type": "bar", "orientation": "h", "name": t(f"att.model.{m.model}"), "y": names,
            "x": [100 * getattr(by[c], share) for c in channels],
            "marker": {"color": COLOURS.get(m.model, "#1f6feb")},
            "hovertemplate": "%{y}: %{x:.1f} %<extra>" + t(f"att.model.{m.model}")
                             + "</extra>"}
        bounds = [share_bounds(m.channels, by[c], measure) for c in channels]
        if any(lo is not None for lo, _ in bounds):
            trace["error_x"] = {
                "type": "data", "symmetric": False, "color": "#30363d", "thickness": 1.2,
                "array": [None if hi is None else max(0.0, 100 * hi - x)
                          for (_, hi), x in zip(bounds, trace["x"], strict=True)],
                "arrayminus": [None if lo is None else max(0.0, x - 100 * lo)
                               for (lo, _), x in zip(bounds, trace["x"], strict=True)]}
        data.append(trace)
    layout = {"barmode": "group", "bargap": 0.25, "height": 140 + 9 * len(a.models) * max(
                  1, len(channels)),
              "margin": {"t": 40, "r": 10, "b": 40, "l": 10}, "legend": LEGEND,
              "yaxis": {"autorange": "reversed", "automargin": True},
              "xaxis": {"title": {"text": "%"}, "rangemode": "tozero"},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [t("att.channel")]
    for m in a.models:
        columns.append(f"{t(f'att.model.{m.model}')} %")
        if m.model in ("markov", "shapley"):
            columns += [f"{t(f'att.model.{m.model}')} {t('att.low')} %",
                        f"{t(f'att.model.{m.model}')} {t('att.high')} %"]
    rows = []
    for c in channels:
        row = [label(c)]  # the table is escaped by the page, not read by Plotly
        for m in a.models:
            r = next(r for r in m.channels if r.channel == c)
            row.append(pct(getattr(r, share)))
            if m.model in ("markov", "shapley"):
                lo, hi = share_bounds(m.channels, r, measure)
                row += [pct(lo), pct(hi)]
        rows.append(row)
    return Chart(key, title, columns, rows, {"data": data, "layout": layout},
                 note=t("att.interval_note", n=a.n_boot) if a.n_boot else None)


def removal_chart(key: str, title: str, t: Translate, a: AttributionOut,
                  label: Label) -> Chart | None:
    """Markov's removal effects per channel: the share of conversion probability and of
    expected revenue lost without the channel (``None`` without a Markov model)."""
    m = next((m for m in a.models if m.model == "markov"), None)
    if m is None:
        return None
    rows = sorted(m.channels, key=lambda r: (-(r.removal_effect or 0.0), r.channel))
    names = [_tick(_plain(label(r.channel))) for r in rows]
    data = [
        {"type": "bar", "orientation": "h", "name": t("att.removal_conversions"), "y": names,
         "x": [100 * (r.removal_effect or 0.0) for r in rows], "marker": {"color": "#11753a"},
         "hovertemplate": "%{y}: %{x:.1f} %<extra></extra>"},
        {"type": "bar", "orientation": "h", "name": t("att.removal_revenue"), "y": names,
         "x": [100 * (r.revenue_removal_effect or 0.0) for r in rows],
         "marker": {"color": "#7cc195"}, "hovertemplate": "%{y}: %{x:.1f} %<extra></extra>"}]
    layout = {"barmode": "group", "height": max(260, 90 + 44 * len(rows)),
              "margin": {"t": 40, "r": 10, "b": 40, "l": 10}, "legend": LEGEND,
              "yaxis": {"autorange": "reversed", "automargin": True},
              "xaxis": {"title": {"text": "%"}, "rangemode": "tozero"},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [t("att.channel"), f"{t('att.removal_conversions')} %",
               f"{t('att.removal_revenue')} %"]
    table = [[label(r.channel), pct(r.removal_effect), pct(r.revenue_removal_effect)]
             for r in rows]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("att.removal_note", order=a.order))
