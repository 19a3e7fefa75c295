"""Plotly figures and their tables, built from analytics results (no statistics here).

A :class:`Chart` is what a page shows: a Plotly figure (JSON for ``Plotly.newPlot``), the
same numbers as a table under it and as CSV (``chart.csv()``). Cells are formatted once
(:func:`cell`), so the HTML table and the CSV download hold the same text. Every time chart
draws the workspace's annotations as dotted vertical lines with their labels.

Plotly.js itself is served by the app from the installed ``plotly`` package
(web/assets.py): no CDN, works offline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cxlens.analytics.overview import NpsResult, TrendRow
from cxlens.csv_out import csv_text
from cxlens.web.notes import Annotation

Translate = Callable[..., str]
PALETTE = ("#1f6feb", "#11753a", "#b35c00", "#7b3fbf")
NOTE_COLOUR = "#b42318"


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
        """The table as CSV, through the one safe writer (no cell runs as a formula)."""
        return csv_text(self.columns, self.rows)


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
    """One line (or bar) per named field of :class:`TrendRow`, over its buckets.

    A bucket only partly inside the period (the first or last week or month) is drawn pale
    (bars) or hollow (lines) and its days are in the table, so that it does not read as a
    drop.
    """
    x = [r.bucket.isoformat() for r in rows]
    data = []
    for i, name in enumerate(series):
        values = [getattr(r, name) for r in rows]
        colour = PALETTE[i % len(PALETTE)]
        trace: dict[str, Any] = {"x": x, "y": values, "name": t(f"metric.{name}")}
        if bars:
            trace.update(type="bar", marker={"color": colour, "opacity": [
                1.0 if r.complete else 0.4 for r in rows]})
        else:
            trace.update(type="scatter", mode="lines+markers", marker={
                "color": colour, "size": 7,
                "symbol": ["circle" if r.complete else "circle-open" for r in rows]})
        data.append(trace)
    partial = any(not r.complete for r in rows)
    columns = [t("chart.bucket"), *(t(f"metric.{s}") for s in series)]
    table = [[cell(r.bucket), *(cell(getattr(r, s)) for s in series)] for r in rows]
    if partial:
        columns.append(t("chart.days_in_period"))
        for row, r in zip(table, rows, strict=True):
            row.append("" if r.complete else cell(r.days))
    return Chart(key, title, columns, table,
                 {"data": data, "layout": _layout(y_title, notes, start, end)},
                 note=t("chart.partial_note") if partial else None)


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


# --- experience, drivers and people (issue 4) -------------------------------------------------
# Builders over the results of cxlens.analytics.experience / drivers / people: they only
# lay out numbers the analytics functions computed (no statistics here).


def _up(value: float | None, high: float | None) -> float | None:
    return None if value is None or high is None else high - value


def _down(value: float | None, low: float | None) -> float | None:
    return None if value is None or low is None else value - low


def _label(value: Any, names: Mapping[str, str] | None = None, code: bool = False) -> str:
    """A group as a reader knows it: its name where it has one (``group_names``), else the
    code; with ``code``, the name and the code (for tables, which are also downloaded)."""
    if value is None:
        return "–"
    name = (names or {}).get(str(value))
    if not name:
        return _plain(str(value))
    return _plain(f"{name} ({value})" if code else name)


def score_trend_chart(key: str, title: str, t: Translate, metric: str, rows: Sequence[Any],
                      notes: Sequence[Annotation], start: date, end: date) -> Chart:
    """A metric per bucket (``experience.Score`` rows) with its 95 % interval as a band."""
    name = t(f"exp.metric.{metric}")
    x = [r.bucket.isoformat() if r.bucket else "" for r in rows]
    value = [r.value.value for r in rows]
    band = {"type": "scatter", "mode": "lines", "line": {"width": 0}, "x": x,
            "hoverinfo": "skip"}
    data = [
        {**band, "name": t("nps.high"), "y": [r.value.high for r in rows], "showlegend": False},
        {**band, "name": t("exp.interval"), "y": [r.value.low for r in rows], "fill": "tonexty",
         "fillcolor": "rgba(31,111,235,0.15)"},
        {"type": "scatter", "mode": "lines+markers", "name": name, "x": x, "y": value,
         "marker": {"color": PALETTE[0], "size": 8,
                    "symbol": ["circle-open" if r.too_small else "circle" for r in rows]},
         "customdata": [r.n for r in rows],
         "hovertemplate": "%{y:.1f} (n %{customdata})<extra></extra>"},
    ]
    layout = _layout(name, notes, start, end)
    layout["yaxis"] = {"title": {"text": name}, "zeroline": True}
    columns = [t("chart.bucket"), name, t("nps.low"), t("nps.high"), "n",
               t("nps.too_small")]
    table = [[cell(r.bucket), cell(r.value.value), cell(r.value.low), cell(r.value.high),
              cell(r.n), cell(r.too_small)] for r in rows]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("exp.band_note"))


def breakdown_chart(key: str, title: str, t: Translate, metric: str, group_title: str,
                    rows: Sequence[Any], names: Mapping[str, str] | None = None) -> Chart:
    """A metric per group (``experience.Score`` rows with ``group``), points with intervals;
    groups by their ``names`` where they have one."""
    name = t(f"exp.metric.{metric}")
    labels = [_label(r.group, names) for r in rows]
    data = [{
        "type": "scatter", "mode": "markers", "name": name, "y": labels,
        "x": [r.value.value for r in rows], "orientation": "h",
        "marker": {"color": PALETTE[0], "size": 9,
                   "symbol": ["circle-open" if r.too_small else "circle" for r in rows]},
        "error_x": {"type": "data", "symmetric": False, "color": "#8a94a6",
                    "array": [_up(r.value.value, r.value.high) for r in rows],
                    "arrayminus": [_down(r.value.value, r.value.low) for r in rows]},
        "customdata": [r.n for r in rows],
        "hovertemplate": "%{y}: %{x:.1f} (n %{customdata})<extra></extra>",
    }]
    layout = {"margin": {"l": 120, "r": 10, "t": 10, "b": 40},
              "height": max(220, 40 + 28 * len(rows)), "showlegend": False,
              "xaxis": {"title": {"text": name}, "zeroline": True},
              "yaxis": {"type": "category", "automargin": True},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [group_title, "n", name, t("nps.low"), t("nps.high"), t("nps.too_small")]
    table = [[_label(r.group, names, code=True), cell(r.n), cell(r.value.value),
              cell(r.value.low),
              cell(r.value.high), cell(r.too_small)] for r in rows]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("exp.breakdown_note"))


def segment_tests_chart(key: str, title: str, t: Translate, metric: str, group_title: str,
                        tests: Sequence[Any], names: Mapping[str, str] | None = None) -> Chart:
    """Each group against the rest (``experience.SegmentTest``): difference with interval,
    p, Benjamini–Hochberg q and the significance mark."""
    name = t(f"exp.metric.{metric}")
    labels = [_label(s.group, names) for s in tests]
    d = [s.difference for s in tests]
    data = [{
        "type": "scatter", "mode": "markers", "name": t("exp.difference"), "y": labels,
        "x": [e.value for e in d], "orientation": "h",
        "marker": {"size": 9, "color": [PALETTE[2] if s.significant else "#8a94a6"
                                        for s in tests]},
        "error_x": {"type": "data", "symmetric": False, "color": "#8a94a6",
                    "array": [_up(e.value, e.high) for e in d],
                    "arrayminus": [_down(e.value, e.low) for e in d]},
        "hovertemplate": "%{y}: %{x:+.1f}<extra></extra>",
    }]
    layout = {"margin": {"l": 120, "r": 10, "t": 10, "b": 40},
              "height": max(220, 40 + 28 * len(tests)), "showlegend": False,
              "xaxis": {"title": {"text": t("exp.difference")}, "zeroline": True},
              "yaxis": {"type": "category", "automargin": True},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [group_title, "n", name, t("exp.rest"), t("exp.difference"), t("nps.low"),
               t("nps.high"), "p", "q (BH)", t("exp.significant")]
    table = [[_label(s.group, names, code=True), cell(s.segment.n),
              cell(s.segment.value.value),
              cell(s.rest.value.value), cell(s.difference.value), cell(s.difference.low),
              cell(s.difference.high), _p(s.p_value), _p(s.q_value), cell(s.significant)]
             for s in tests]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("exp.tests_note") if tests else t("exp.tests_one_group"))


def _p(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def drivers_chart(key: str, title: str, t: Translate, kd: Any) -> Chart:
    """The priority matrix of ``drivers.KeyDrivers``: performance on x, importance on y, the
    two lines that split it into quadrants, and error bars from the intervals."""
    ds = kd.drivers
    perf = [dr.performance for dr in ds]
    imp = [dr.importance for dr in ds]
    data = [{
        "type": "scatter", "mode": "markers+text", "name": t("drv.attribute"),
        "x": [e.value for e in perf], "y": [e.value for e in imp],
        # above and to the right of the point: clear of both error bars through it
        "text": [_plain(dr.attribute) for dr in ds], "textposition": "top right",
        "marker": {"color": PALETTE[0], "size": 10},
        "error_x": {"type": "data", "symmetric": False, "color": "#8a94a6",
                    "array": [_up(e.value, e.high) for e in perf],
                    "arrayminus": [_down(e.value, e.low) for e in perf]},
        "error_y": {"type": "data", "symmetric": False, "color": "#8a94a6",
                    "array": [_up(e.value, e.high) for e in imp],
                    "arrayminus": [_down(e.value, e.low) for e in imp]},
        "customdata": [t(f"drv.q.{dr.quadrant}") for dr in ds],
        "hovertemplate": "%{text}: %{x:.2f}, %{y:.3f} (%{customdata})<extra></extra>",
    }]
    line = {"color": NOTE_COLOUR, "width": 1, "dash": "dash"}
    shapes = [
        {"type": "line", "xref": "x", "yref": "paper", "x0": kd.performance_line,
         "x1": kd.performance_line, "y0": 0, "y1": 1, "line": line},
        {"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1,
         "y0": kd.importance_line, "y1": kd.importance_line, "line": line},
    ]
    # The quadrants named in their corners: top left is where to act first.
    corners = [("improve", 0.01, 0.99, "left", "top"), ("maintain", 0.99, 0.99, "right", "top"),
               ("monitor", 0.01, 0.01, "left", "bottom"),
               ("overinvest?", 0.99, 0.01, "right", "bottom")]
    labels = [{"xref": "paper", "yref": "paper", "x": x, "y": y, "xanchor": xa, "yanchor": ya,
               "text": f"<b>{_plain(t(f'drv.q.{q}'))}</b>", "showarrow": False,
               "font": {"color": "#5b6472", "size": 12}} for q, x, y, xa, ya in corners]
    scale = t("drv.performance_scale", max=kd.scale_max) if kd.scale_max else \
        t("drv.performance")
    layout = {"margin": {"l": 60, "r": 10, "t": 10, "b": 50}, "height": 420,
              "showlegend": False, "shapes": shapes, "annotations": labels,
              "xaxis": {"title": {"text": scale}},
              "yaxis": {"title": {"text": t("drv.importance")}, "rangemode": "tozero"},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [t("drv.rank"), t("drv.attribute"), t("drv.importance"), t("nps.low"),
               t("nps.high"), t("drv.share"), t("drv.performance"), t("nps.low"),
               t("nps.high"), t("drv.quadrant")]
    table = [[cell(dr.rank), dr.attribute, f"{dr.importance.value:.3f}",
              _f3(dr.importance.low), _f3(dr.importance.high), cell(dr.share),
              cell(dr.performance.value), cell(dr.performance.low), cell(dr.performance.high),
              t(f"drv.q.{dr.quadrant}")] for dr in ds]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("drv.note"))


def _f3(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def people_chart(key: str, title: str, t: Translate, teams: Sequence[Any]) -> Chart:
    """eNPS per team (x) beside its customers' NPS (y), both with their 95 % intervals
    (``people.TeamLink`` rows); teams flagged low drawn in the warning colour."""
    both = [tm for tm in teams if tm.enps is not None and tm.customer_nps is not None]
    ex = [tm.enps.value for tm in both]
    cy = [tm.customer_nps.value for tm in both]
    data = [{
        "type": "scatter", "mode": "markers+text", "name": t("ppl.team"),
        "x": [e.value for e in ex], "y": [e.value for e in cy],
        "text": [_plain(tm.team_name or tm.team_id) for tm in both],
        "textposition": "top right", "textfont": {"size": 11},
        "marker": {"size": 10, "color": [NOTE_COLOUR if tm.low_enps else PALETTE[0]
                                         for tm in both]},
        "error_x": {"type": "data", "symmetric": False, "color": "#8a94a6",
                    "array": [_up(e.value, e.high) for e in ex],
                    "arrayminus": [_down(e.value, e.low) for e in ex]},
        "error_y": {"type": "data", "symmetric": False, "color": "#8a94a6",
                    "array": [_up(e.value, e.high) for e in cy],
                    "arrayminus": [_down(e.value, e.low) for e in cy]},
        "hovertemplate": "%{text}: eNPS %{x:.0f}, NPS %{y:.0f}<extra></extra>",
    }]
    layout = {"margin": {"l": 60, "r": 10, "t": 10, "b": 50}, "height": 420,
              "showlegend": False,
              "xaxis": {"title": {"text": "eNPS"}, "range": [-100, 100], "zeroline": True},
              "yaxis": {"title": {"text": t("ppl.customer_nps")}, "range": [-100, 100],
                        "zeroline": True},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [t("ppl.team"), t("ppl.team_name"), t("ppl.store"), "eNPS", t("nps.low"),
               t("nps.high"), "n", t("ppl.customer_nps"), t("nps.low"), t("nps.high"),
               "n", "q (BH)", t("ppl.low_enps")]

    def sc(s: Any) -> list[str]:
        if s is None:
            return ["", "", "", ""]
        return [cell(s.value.value), cell(s.value.low), cell(s.value.high), cell(s.n)]

    table = [[tm.team_id, cell(tm.team_name), cell(tm.store_id), *sc(tm.enps),
              *sc(tm.customer_nps), _p(tm.enps_test.q_value if tm.enps_test else None),
              cell(tm.low_enps)] for tm in teams]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("ppl.note"))


def value_chart(key: str, title: str, t: Translate, groups: Sequence[Any],
                n_boot: int) -> Chart:
    """Revenue per customer after the answer, per NPS group and horizon, with 95 % intervals
    (``experience.GroupValue`` rows; BCa bootstraps of ``n_boot`` replicates, asymmetric);
    repurchase rates in the table."""
    horizons = sorted({g.days for g in groups})
    data = []
    for i, days in enumerate(horizons):
        rows = [g for g in groups if g.days == days]
        data.append({
            "type": "bar", "name": t("val.horizon", days=days),
            "x": [t(f"val.group.{g.group}") for g in rows],
            "y": [g.revenue.value for g in rows],
            "marker": {"color": PALETTE[i % len(PALETTE)],
                       "opacity": [0.45 if g.too_small else 1.0 for g in rows]},
            "error_y": {"type": "data", "symmetric": False, "color": "#5b6473",
                        "array": [_up(g.revenue.value, g.revenue.high) for g in rows],
                        "arrayminus": [_down(g.revenue.value, g.revenue.low) for g in rows]},
            "customdata": [g.n for g in rows],
            "hovertemplate": "%{x}: %{y:.2f} (n %{customdata})<extra></extra>",
        })
    layout = {"margin": {"l": 60, "r": 10, "t": 10, "b": 40}, "height": 320,
              "barmode": "group", "showlegend": True, "legend": {"orientation": "h", "y": -0.2},
              "yaxis": {"title": {"text": t("val.revenue")}, "zeroline": True},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [t("val.days"), t("val.group"), "n", t("val.revenue"), t("nps.low"),
               t("nps.high"), t("val.repurchase"), t("nps.low"), t("nps.high"),
               t("nps.too_small")]
    table = [[cell(g.days), t(f"val.group.{g.group}"), cell(g.n), cell(g.revenue.value),
              cell(g.revenue.low), cell(g.revenue.high), cell(g.repurchase.value),
              cell(g.repurchase.low), cell(g.repurchase.high), cell(g.too_small)]
             for g in groups]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("val.note", b=f"{n_boot:,}"))


def worth_chart(key: str, title: str, t: Translate, worth: Sequence[Any]) -> Chart:
    """The worth of one detractor turned promoter per horizon (``experience.Worth`` rows):
    promoters' minus detractors' revenue per customer with its Welch interval; the table
    adds the difference of their repurchase rates (Newcombe)."""
    x = [t("val.horizon", days=w.days) for w in worth]
    d = [w.difference for w in worth]
    data = [{
        "type": "scatter", "mode": "markers", "name": t("val.worth"), "x": x,
        "y": [e.value for e in d],
        "marker": {"size": 11, "color": PALETTE[1],
                   "symbol": ["circle-open" if w.too_small else "circle" for w in worth]},
        "error_y": {"type": "data", "symmetric": False, "color": "#8a94a6",
                    "array": [_up(e.value, e.high) for e in d],
                    "arrayminus": [_down(e.value, e.low) for e in d]},
        "hovertemplate": "%{x}: %{y:+.2f}<extra></extra>",
    }]
    layout = {"margin": {"l": 60, "r": 10, "t": 10, "b": 40}, "height": 260,
              "showlegend": False, "xaxis": {"type": "category"},
              "yaxis": {"title": {"text": t("val.worth")}, "zeroline": True},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [t("val.days"), t("val.worth"), t("nps.low"), t("nps.high"), "p",
               t("val.repurchase_diff"), t("nps.low"), t("nps.high"), "p",
               t("val.n_promoters"), t("val.n_detractors"), t("nps.too_small")]
    table = [[cell(w.days), cell(w.difference.value), cell(w.difference.low),
              cell(w.difference.high), _p(w.p_value), cell(w.repurchase_difference.value),
              cell(w.repurchase_difference.low), cell(w.repurchase_difference.high),
              _p(w.repurchase_p_value), cell(w.n_promoters), cell(w.n_detractors),
              cell(w.too_small)] for w in worth]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("val.worth_note"))


# --- surveys (issue 4) ------------------------------------------------------------------------

def _stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def response_rate_chart(key: str, title: str, t: Translate, rows: Sequence[Any],
                        min_sample: int) -> Chart:
    """The response rate of each survey (``analytics.surveys.SurveyActivity`` rows) with its
    95 % interval, labelled by survey id as in the table, which holds every count behind
    it; rates from fewer than ``min_sample`` sent are drawn hollow, surveys never sent are
    only in the table."""
    shown = [r for r in rows if r.delivered]
    rates = [r.response.rate for r in shown]
    labels = [_plain(r.survey_id) for r in shown]
    data = [{
        "type": "scatter", "mode": "markers", "name": t("srv.rate"), "y": labels,
        "x": [e.value for e in rates], "orientation": "h",
        "marker": {"color": PALETTE[0], "size": 9,
                   "symbol": ["circle-open" if r.response.too_small else "circle"
                              for r in shown]},
        "error_x": {"type": "data", "symmetric": False, "color": "#8a94a6",
                    "array": [_up(e.value, e.high) for e in rates],
                    "arrayminus": [_down(e.value, e.low) for e in rates]},
        "customdata": [r.delivered for r in shown],
        "hovertemplate": "%{y}: %{x:.1f} % (n %{customdata})<extra></extra>",
    }]
    layout = {"margin": {"l": 90, "r": 10, "t": 10, "b": 40},
              "height": max(300, 60 + 32 * len(shown)), "showlegend": False,
              "xaxis": {"title": {"text": t("srv.rate")}, "range": [0, 101]},
              "yaxis": {"type": "category", "automargin": True},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [t("srv.survey"), t("srv.invitations"), t("srv.waiting"), t("srv.sent"),
               t("srv.reminders"), t("srv.opened"), t("srv.answered"), t("srv.expired"),
               t("srv.opted_out"), t("srv.public_answers"), t("srv.rate"), t("nps.low"),
               t("nps.high"), t("nps.too_small"), t("srv.last_sent")]
    table = [[r.survey_id, cell(r.invitations), cell(r.waiting), cell(r.delivered),
              cell(r.reminders), cell(r.opened), cell(r.answered), cell(r.expired),
              cell(r.opted_out), cell(r.public_answers), cell(r.response.rate.value),
              cell(r.response.rate.low), cell(r.response.rate.high),
              cell(r.response.too_small), _stamp(r.last_sent)] for r in rows]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("srv.rate_note", n=min_sample))
