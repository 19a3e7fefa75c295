"""The Comments page's charts: what each theme does to the score (a forest plot with
bootstrap intervals) and its mentions per month. Only layout: the numbers are
:func:`cxlens.text.selection.theme_table`'s. Each is a :class:`~cxlens.web.charts.Chart`
(figure, the same numbers as a table and as CSV)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from cxlens.text.selection import ThemeRow, ThemeTable
from cxlens.web.charts import (
    PALETTE,
    Chart,
    Translate,
    _category_height,
    _down,
    _plain,
    _tick,
    _up,
    cell,
)

Label = Callable[[str], str]
TREND_THEMES = 5  # lines on the trend chart: the most mentioned themes


def theme_columns(t: Translate, metric: str) -> list[str]:
    name = t(f"exp.metric.{metric}")
    return [t("txt.theme"), t("txt.mentions"), t("txt.share"), t("txt.negative"),
            t("txt.neutral"), t("txt.positive"), t("txt.sentiment"),
            t("txt.impact", metric=name), t("nps.low"), t("nps.high"),
            t("txt.negative_mentions"), "n"]


def theme_cells(row: ThemeRow, label: str) -> list[str]:
    return [label, cell(row.mentions), "" if row.share is None else f"{row.share:.4f}",
            cell(row.negative), cell(row.neutral), cell(row.positive), cell(row.sentiment),
            cell(row.impact), cell(row.low), cell(row.high), cell(row.negative_mentions),
            cell(row.n)]


def impact_chart(key: str, title: str, t: Translate, table: ThemeTable, label: Label
                 ) -> Chart:
    """Each mentioned theme's impact on the score with its 95 % interval, most costly at the
    top; a hollow point has no interval (fewer than 10 negative mentions)."""
    rows = [r for r in table.themes if r.mentions and r.impact is not None]
    shown = list(reversed(rows))  # Plotly draws the first category at the bottom
    labels = [_tick(_plain(label(r.theme))) for r in shown]
    data = [{
        "type": "scatter", "mode": "markers", "name": t("txt.impact_short"), "y": labels,
        "x": [r.impact for r in shown], "orientation": "h",
        "marker": {"size": 9, "color": [PALETTE[2] if (r.impact or 0) < 0 else PALETTE[0]
                                        for r in shown],
                   "symbol": ["circle" if r.low is not None else "circle-open"
                              for r in shown]},
        "error_x": {"type": "data", "symmetric": False, "color": "#8a94a6",
                    "array": [_up(r.impact, r.high) for r in shown],
                    "arrayminus": [_down(r.impact, r.low) for r in shown]},
        "customdata": [r.negative_mentions for r in shown],
        "hovertemplate": "%{y}: %{x:+.1f} (k %{customdata})<extra></extra>",
    }]
    layout = {"margin": {"l": 120, "r": 10, "t": 10, "b": 40},
              "height": _category_height(labels), "showlegend": False,
              "xaxis": {"title": {"text": t("txt.impact", metric=t(
                  f"exp.metric.{table.metric}"))}, "zeroline": True},
              "yaxis": {"type": "category", "automargin": True},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    return Chart(key, title, theme_columns(t, table.metric),
                 [theme_cells(r, label(r.theme)) for r in table.themes
                  if r.mentions], {"data": data, "layout": layout} if rows else {},
                 note=t("txt.impact_note"))


def _months(start: date, end: date) -> list[date]:
    """The first days of the calendar months that [start, end) touches."""
    out, m = [], start.year * 12 + start.month - 1
    while date(m // 12, m % 12 + 1, 1) < end:
        out.append(date(m // 12, m % 12 + 1, 1))
        m += 1
    return out


def trend_chart(key: str, title: str, t: Translate, table: ThemeTable, label: Label,
                start: date, end: date) -> Chart:
    """Mentions per month of the most mentioned themes (a month without any is 0)."""
    top = sorted((r for r in table.themes if r.mentions),
                 key=lambda r: (-r.mentions, r.theme))[:TREND_THEMES]
    months = _months(start, end)
    x = [m.isoformat() for m in months]
    data: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    for i, r in enumerate(top):
        by_month = {m: (n, k) for m, n, k in r.trend}
        data.append({"type": "scatter", "mode": "lines+markers", "name": _plain(label(r.theme)),
                     "x": x, "y": [by_month.get(m, (0, 0))[0] for m in months],
                     "marker": {"color": PALETTE[i % len(PALETTE)], "size": 6},
                     "line": {"color": PALETTE[i % len(PALETTE)]}})
    for r in top:
        for m, n, k in r.trend:
            rows.append([cell(m), label(r.theme), cell(n), cell(k)])
    rows.sort(key=lambda row: (row[0], row[1]))
    layout = {"margin": {"l": 50, "r": 10, "t": 10, "b": 40}, "height": 300,
              "hovermode": "x unified", "showlegend": True,
              "legend": {"orientation": "h", "y": -0.2},
              "yaxis": {"title": {"text": t("txt.mentions")}, "rangemode": "tozero"},
              "xaxis": {"type": "date"},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    return Chart(key, title, [t("chart.bucket"), t("txt.theme"), t("txt.mentions"),
                              t("txt.negative_mentions")], rows,
                 {"data": data, "layout": layout} if data else {}, note=t("txt.trend_note"))

