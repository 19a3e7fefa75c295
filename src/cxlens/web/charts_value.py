"""The Value page's figures: predicted against actual repeat purchases in the holdout.

Builders over :class:`cxlens.analytics.value.models.ValueModel` results, like
:mod:`cxlens.web.charts`: a :class:`~cxlens.web.charts.Chart` per grouping (the frequency
groups of the papers' conditional-expectation plot, and the cohorts of first-purchase
month), each with the customers' mean actual purchases and every candidate model's mean
prediction, in a figure and a table. No statistics here: the means are the analytics'.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cxlens.web.charts import PALETTE, Chart, cell

Translate = Callable[..., str]


def holdout_chart(key: str, title: str, t: Translate, candidates: Sequence[Any],
                  grouping: str, chosen: str) -> Chart:
    """Mean holdout purchases per group (``Candidate.by_frequency`` or ``by_cohort``):
    what the customers did as bars, each candidate's prediction as a line, the chosen
    model's solid and the other's dashed."""
    groups: list[str] = []
    customers: dict[str, int] = {}
    actual: dict[str, float] = {}
    predicted: dict[str, dict[str, float]] = {}
    for c in candidates:
        for r in getattr(c, grouping):
            if r.group not in customers:
                groups.append(r.group)
            customers[r.group] = r.customers
            actual[r.group] = r.actual
            predicted.setdefault(c.model, {})[r.group] = r.predicted
    x = groups
    data: list[dict[str, Any]] = [{
        "type": "bar", "name": t("vp.actual"), "x": x, "y": [actual[g] for g in groups],
        "marker": {"color": "#c9d3e3"}, "customdata": [customers[g] for g in groups],
        "hovertemplate": "%{x}: %{y:.2f} (n %{customdata})<extra></extra>"}]
    for i, c in enumerate(candidates):
        data.append({
            "type": "scatter", "mode": "lines+markers", "name": t(f"vp.model.{c.model}"),
            "x": x, "y": [predicted[c.model].get(g) for g in groups],
            "line": {"color": PALETTE[i % len(PALETTE)],
                     "dash": "solid" if c.model == chosen else "dash"},
            "hovertemplate": "%{x}: %{y:.2f}<extra></extra>"})
    layout = {"margin": {"l": 50, "r": 10, "t": 10, "b": 90}, "height": 350,
              "showlegend": True, "legend": {"orientation": "h", "y": -0.38},
              "xaxis": {"type": "category", "title": {"text": t(f"vp.{grouping}")}},
              "yaxis": {"title": {"text": t("vp.per_customer")}, "rangemode": "tozero"},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    columns = [t(f"vp.{grouping}"), t("vp.customers_col"), t("vp.actual"),
               *(t(f"vp.model.{c.model}") for c in candidates)]
    table = [[g, cell(customers[g]), cell(actual[g]),
              *(cell(predicted[c.model].get(g)) for c in candidates)] for g in groups]
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("vp.holdout_note"))
