"""Plotly figures and their tables, built from analytics results (no statistics here).

A :class:`Chart` is what a page shows: a Plotly figure (JSON for ``Plotly.newPlot``), the
same numbers as a table under it and as CSV (``chart.csv()``). Cells are formatted once
(:func:`cell`), so the HTML table and the CSV download hold the same text. Every time chart
draws the workspace's annotations as dotted vertical lines with their labels.

Plotly.js itself is served by the app from the installed ``plotly`` package
(``/assets/plotly.min.js``): no CDN, works offline.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cxlens.analytics.overview import NpsResult, TrendRow
from cxlens.web.notes import Annotation

Translate = Callable[..., str]
PALETTE = ("#1f6feb", "#11753a", "#b35c00", "#7b3fbf")
NOTE_COLOUR = "#b42318"


def plotly_js() -> Path:
    """The minified Plotly.js bundled with the ``plotly`` Python package."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def cell(value: Any) -> str:
    """One value as the table and the CSV show it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class Chart:
    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    figure: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    def csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        w.writerows(self.rows)
        return buf.getvalue()


def _plain(text: str) -> str:
    """Plotly reads a few HTML-like tags in text; user text must not become markup."""
    return text.replace("<", "‹").replace(">", "›")


def _note_text(a: Annotation) -> str:
    tags = ", ".join(t for t in (a.channel, a.campaign) if t)
    return _plain(f"{a.label} ({tags})" if tags else a.label)


def annotation_layers(notes: Sequence[Annotation], start: date | None = None,
                      end: date | None = None) -> tuple[list[dict[str, Any]],
                                                        list[dict[str, Any]]]:
    """Vertical lines (shapes) and their labels for the notes within ``[start, end)``."""
    shapes, labels = [], []
    for a in notes:
        if (start and a.day < start) or (end and a.day >= end):
            continue
        x = a.day.isoformat()
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x,
                       "y0": 0, "y1": 1, "line": {"color": NOTE_COLOUR, "width": 1,
                                                  "dash": "dot"}})
        labels.append({"x": x, "y": 1, "xref": "x", "yref": "paper", "text": _note_text(a),
                       "showarrow": False, "textangle": -90, "xanchor": "right",
                       "yanchor": "top", "font": {"size": 10, "color": NOTE_COLOUR}})
    return shapes, labels


def _layout(y_title: str, notes: Sequence[Annotation], start: date | None,
            end: date | None) -> dict[str, Any]:
    shapes, labels = annotation_layers(notes, start, end)
    return {"margin": {"l": 50, "r": 10, "t": 10, "b": 40}, "height": 300,
            "hovermode": "x unified", "showlegend": True,
            "legend": {"orientation": "h", "y": -0.2},
            "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
            "xaxis": {"type": "date"}, "shapes": shapes, "annotations": labels,
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}


def trend_chart(key: str, title: str, t: Translate, rows: Sequence[TrendRow],
                series: Sequence[str], notes: Sequence[Annotation], start: date,
                end: date, y_title: str = "", bars: bool = False) -> Chart:
    """One line (or bar) per named field of :class:`TrendRow`, over its buckets."""
    x = [r.bucket.isoformat() for r in rows]
    data = []
    for i, name in enumerate(series):
        values = [getattr(r, name) for r in rows]
        trace: dict[str, Any] = {"x": x, "y": values, "name": t(f"metric.{name}"),
                                 "marker": {"color": PALETTE[i % len(PALETTE)]}}
        trace.update({"type": "bar"} if bars else {"type": "scatter", "mode": "lines+markers"})
        data.append(trace)
    columns = [t("chart.bucket"), *(t(f"metric.{s}") for s in series)]
    table = [[cell(r.bucket), *(cell(getattr(r, s)) for s in series)] for r in rows]
    return Chart(key, title, columns, table,
                 {"data": data, "layout": _layout(y_title, notes, start, end)})


def nps_chart(key: str, title: str, t: Translate, rows: Sequence[NpsResult],
              notes: Sequence[Annotation], start: date, end: date) -> Chart:
    """NPS per bucket with its 95 % interval as error bars; small samples drawn hollow."""
    x = [r.bucket.isoformat() if r.bucket else "" for r in rows]
    score = [r.score for r in rows]
    data = [{
        "type": "scatter", "mode": "lines+markers", "name": "NPS", "x": x, "y": score,
        "marker": {"color": PALETTE[0], "size": 8,
                   "symbol": ["circle-open" if r.too_small else "circle" for r in rows]},
        "error_y": {"type": "data", "symmetric": False,
                    "array": [(r.high - r.score) if r.score is not None and r.high is not None
                              else None for r in rows],
                    "arrayminus": [(r.score - r.low) if r.score is not None and r.low is not None
                                   else None for r in rows],
                    "color": "#8a94a6"},
        "customdata": [r.n for r in rows],
        "hovertemplate": "NPS %{y:.1f} (n %{customdata})<extra></extra>",
    }]
    layout = _layout("NPS", notes, start, end)
    layout["yaxis"] = {"title": {"text": "NPS"}, "range": [-100, 100], "zeroline": True}
    columns = [t("chart.bucket"), "NPS", t("nps.low"), t("nps.high"), "n", t("nps.promoters"),
               t("nps.passives"), t("nps.detractors"), t("nps.too_small")]
    table = [[cell(r.bucket), cell(r.score), cell(r.low), cell(r.high), cell(r.n),
              cell(r.promoters), cell(r.passives), cell(r.detractors), cell(r.too_small)]
             for r in rows]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("nps.chart_note"))
