"""Charts of the Marketing ROI page, built from the API's model (no statistics here).

Each :class:`~cxlens.web.charts.Chart` carries its table and CSV: return by paid channel
and by campaign (ROAS and the CLV return with their 95 % intervals), spend against the
revenue of the customers it bought per month with the workspace's notes on the timeline,
and the ad platforms' own conversion counts beside cxlens's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from cxlens.web.charts import PALETTE, Chart, Translate, annotation_layers, cell
from cxlens.web.notes import Annotation

Label = Callable[[Any], str]


def _up(v: float | None, hi: float | None) -> float | None:
    return None if v is None or hi is None else hi - v


def _down(v: float | None, lo: float | None) -> float | None:
    return None if v is None or lo is None else v - lo


def _flags(t: Translate, flags: Sequence[str]) -> str:
    return ", ".join(t(f"mr.flag.{f}") for f in flags)


def _columns(t: Translate, first: str, currency: str) -> list[str]:
    return [first, t("mr.spend", currency=currency), t("mr.customers"), t("nps.low"),
            t("nps.high"), t("mr.cac", currency=currency), t("nps.low"), t("nps.high"),
            t("mr.roas_first"), t("mr.roas"), t("nps.low"), t("nps.high"), t("mr.roi"),
            t("nps.low"), t("nps.high"), t("mr.clv_return"), t("nps.low"), t("nps.high"),
            t("mr.payback"), t("mr.platform"), "n", t("mr.flags")]


def _cells(t: Translate, name: str, x: Any) -> list[str]:
    return [name, cell(x.spend), cell(x.customers), cell(x.customers_low),
            cell(x.customers_high), cell(x.cac.value), cell(x.cac.low), cell(x.cac.high),
            cell(x.roas_first_order.value), cell(x.roas.value), cell(x.roas.low),
            cell(x.roas.high), cell(x.roi.value), cell(x.roi.low), cell(x.roi.high),
            cell(x.clv_return.value), cell(x.clv_return.low), cell(x.clv_return.high),
            cell(x.payback_months), cell(x.platform_conversions), cell(x.n),
            _flags(t, x.flags)]


def _layout(y_title: str, height: int = 340) -> dict[str, Any]:
    # campaign names are long: the legend goes on top and the axis makes room for them
    return {"margin": {"l": 60, "r": 10, "t": 30, "b": 40}, "height": height,
            "barmode": "group", "showlegend": True,
            "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
            "xaxis": {"type": "category", "automargin": True, "tickangle": -30},
            "yaxis": {"title": {"text": y_title}, "zeroline": True, "rangemode": "tozero"},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}


def _bars(name: str, x: list[str], ests: Sequence[Any], colour: str,
          n: Sequence[int]) -> dict[str, Any]:
    return {"type": "bar", "name": name, "x": x, "y": [e.value for e in ests],
            "marker": {"color": colour},
            "error_y": {"type": "data", "symmetric": False, "color": "#5b6473",
                        "array": [_up(e.value, e.high) for e in ests],
                        "arrayminus": [_down(e.value, e.low) for e in ests]},
            "customdata": list(n),
            "hovertemplate": "%{x}: %{y:.2f} (n %{customdata})<extra></extra>"}


def return_chart(key: str, title: str, t: Translate, rows: Sequence[Any], total: Any,
                 currency: str, first: str, label: Label, note: str,
                 short: Label | None = None) -> Chart:
    """ROAS over the horizon and the CLV return per row (channel or campaign), with their
    intervals; the table holds every figure of the rows and the total. ``short`` names a
    bar (default ``label``, which names a table row)."""
    shown = [r for r in rows if r.spend > 0]
    x = [(short or label)(r) for r in shown]
    n = [r.n for r in shown]
    data = [_bars(t("mr.roas"), x, [r.roas for r in shown], PALETTE[0], n)]
    if any(r.clv_return.value is not None for r in shown):
        data.append(_bars(t("mr.clv_return"), x, [r.clv_return for r in shown], PALETTE[1], n))
    layout = _layout(t("mr.per_euro", currency=currency))
    layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y",
                         "y0": 1, "y1": 1, "line": {"color": "#b42318", "dash": "dot",
                                                    "width": 1}}]
    table = [_cells(t, label(r), r) for r in rows]
    if total is not None:
        table.append(_cells(t, t("mr.total"), total))
    return Chart(key, title, _columns(t, first, currency), table,
                 {"data": data, "layout": layout} if shown else {}, note=note)


def months_chart(key: str, title: str, t: Translate, rows: Sequence[Any], currency: str,
                 horizon_days: int, notes: Sequence[Annotation], note: str) -> Chart:
    """Spend per month (bars) against the first-order and horizon revenue of the customers
    acquired that month (lines), with the workspace's notes as dotted vertical lines."""
    x = [f"{r.month}-01" for r in rows]
    young = [("young" in r.flags) for r in rows]
    data = [
        {"type": "bar", "name": t("mr.spend", currency=currency), "x": x,
         "y": [r.spend for r in rows], "marker": {"color": "#8a94a6"}},
        {"type": "scatter", "mode": "lines+markers", "x": x,
         "name": t("mr.horizon_revenue", days=horizon_days, currency=currency),
         "y": [r.horizon_revenue for r in rows],
         "marker": {"color": PALETTE[0], "size": 7,
                    "symbol": ["circle-open" if y else "circle" for y in young]}},
        {"type": "scatter", "mode": "lines+markers", "x": x,
         "name": t("mr.first_revenue", currency=currency),
         "y": [r.first_order_revenue for r in rows], "marker": {"color": PALETTE[2]}},
    ]
    start = date.fromisoformat(x[0]) if x else None
    shapes, labels = annotation_layers(notes, start, None)
    layout = {"margin": {"l": 60, "r": 10, "t": 10, "b": 40}, "height": 320,
              "hovermode": "x unified", "showlegend": True,
              "legend": {"orientation": "h", "y": -0.2},
              "xaxis": {"type": "date"}, "yaxis": {"title": {"text": currency},
                                                   "rangemode": "tozero"},
              "shapes": shapes, "annotations": labels,
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [t("mr.month"), t("mr.spend", currency=currency), t("mr.customers"),
               t("mr.all_customers"), t("mr.first_revenue", currency=currency),
               t("mr.horizon_revenue", days=horizon_days, currency=currency), t("mr.roas"),
               t("nps.low"), t("nps.high"), t("mr.flags")]
    table = [[r.month, cell(r.spend), cell(r.customers), cell(r.all_customers),
              cell(r.first_order_revenue), cell(r.horizon_revenue), cell(r.roas.value),
              cell(r.roas.low), cell(r.roas.high), _flags(t, r.flags)] for r in rows]
    return Chart(key, title, columns, table, {"data": data, "layout": layout} if rows else {},
                 note=note)


def platform_chart(key: str, title: str, t: Translate, rows: Sequence[Any],
                   label: Label, note: str, short: Label | None = None) -> Chart:
    """The platforms' own conversions beside the customers cxlens credits, per campaign."""
    shown = [r for r in rows if r.platform_conversions is not None or r.customers > 0]
    x = [(short or label)(r) for r in shown]
    data = [
        {"type": "bar", "name": t("mr.platform"), "x": x,
         "y": [r.platform_conversions for r in shown], "marker": {"color": "#8a94a6"}},
        {"type": "bar", "name": t("mr.customers"), "x": x, "y": [r.customers for r in shown],
         "marker": {"color": PALETTE[0]},
         "error_y": {"type": "data", "symmetric": False, "color": "#5b6473",
                     "array": [_up(r.customers, r.customers_high) for r in shown],
                     "arrayminus": [_down(r.customers, r.customers_low) for r in shown]}},
    ]
    columns = [t("mr.campaign"), t("mr.platform"), t("mr.customers"), t("nps.low"),
               t("nps.high")]
    table = [[label(r), cell(r.platform_conversions), cell(r.customers),
              cell(r.customers_low), cell(r.customers_high)] for r in shown]
    return Chart(key, title, columns, table,
                 {"data": data, "layout": _layout(t("mr.conversions"))} if shown else {},
                 note=note)
