"""The Planner page's figure: each ad channel's response curve with its 95 % band.

Built over a fitted :class:`~cxlens.analytics.marketing.mmm.MMMFit`, like
:mod:`cxlens.web.charts`: the steady outcome per day at each daily spend from 0 to twice the
most the channel ever spent in a day, the estimate as a line and the bootstrap draws'
2.5–97.5 percentiles as a band, the current spend marked. The curve values are the
analytics' :func:`~cxlens.analytics.marketing.mmm.response`; only the grid is made here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cxlens.analytics.marketing.mmm import MMMFit, response
from cxlens.web.charts import PALETTE, Chart, cell

Translate = Callable[..., str]
POINTS = 41


def curves_chart(key: str, title: str, t: Translate, fit: MMMFit) -> Chart:
    data: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    for i, ch in enumerate(fit.fitted):
        c = fit.curve(ch)
        colour = PALETTE[i % len(PALETTE)]
        grid = np.linspace(0.0, 2 * c.max_spend_per_day, POINTS)
        est = response(fit.params[i], grid)
        if fit.n_boot:
            draws = response(fit.draws[:, i, :][:, None, :], grid[None, :])
            low, high = np.quantile(draws, 0.025, axis=0), np.quantile(draws, 0.975, axis=0)
        else:
            low = high = est
        x = [round(float(v), 2) for v in grid]
        data.append({"type": "scatter", "mode": "lines", "x": x + x[::-1],
                     "y": [float(v) for v in high] + [float(v) for v in low[::-1]],
                     "fill": "toself", "fillcolor": colour + "22", "line": {"width": 0},
                     "hoverinfo": "skip", "showlegend": False})
        data.append({"type": "scatter", "mode": "lines", "name": ch, "x": x,
                     "y": [float(v) for v in est], "line": {"color": colour},
                     "hovertemplate": "%{x:,.0f}: %{y:.2f}<extra>" + ch + "</extra>"})
        data.append({"type": "scatter", "mode": "markers", "name": t("pl.current"),
                     "x": [c.current_spend_per_day], "y": [c.current_response_per_day],
                     "marker": {"color": colour, "size": 9, "symbol": "diamond"},
                     "showlegend": i == 0,
                     "hovertemplate": "%{x:,.0f}: %{y:.2f}<extra>" + t("pl.current")
                                      + "</extra>"})
        for s, e, lo, hi in zip(grid[::4], est[::4], low[::4], high[::4], strict=True):
            rows.append([ch, cell(float(s)), cell(float(e)), cell(float(lo)), cell(float(hi))])
    layout = {"margin": {"l": 55, "r": 10, "t": 10, "b": 60}, "height": 360,
              "showlegend": True, "legend": {"orientation": "h", "y": -0.25},
              "xaxis": {"title": {"text": t("pl.spend_per_day", currency=fit.series.currency)},
                        "rangemode": "tozero"},
              "yaxis": {"title": {"text": t("pl.outcome_per_day." + fit.series.outcome_name)},
                        "rangemode": "tozero"},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [t("pl.channel"), t("pl.spend_per_day", currency=fit.series.currency),
               t("pl.outcome_per_day." + fit.series.outcome_name), t("pl.low"), t("pl.high")]
    return Chart(key, title, columns, rows, {"data": data, "layout": layout},
                 note=t("pl.curves_note"))
