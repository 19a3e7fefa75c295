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
Label = Callable[[str], str]


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


# --- the Retention page: cohorts and RFM, from the API's models ----------------------------

_LAYOUT = {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}


def _plain(text: str) -> str:
    """Plotly reads a few HTML-like tags in text; a channel or campaign name must not."""
    return text.replace("<", "‹").replace(">", "›")


def _pct(v: float | None) -> float | None:
    """A share as the analytics give it (already in %, Wilson's), rounded for the figure."""
    return None if v is None else round(v, 2)


def retention_heatmap(cohorts: Any, t: Translate, label: Label = str) -> Chart:
    """Share of each cohort (rows) who bought in each month since their first purchase
    (columns, from month 1; the table has month 0 too), with n and the Wilson interval in
    the hover and the table. ``label`` names a
    cohort in the reader's language (a common channel's name)."""
    width = max((len(c.cells) for c in cohorts.cohorts), default=0)
    x = list(range(1, width))  # month 0 is always 100 %: drawn, it would wash out the rest
    y = [_plain(label(c.key)) for c in cohorts.cohorts]
    z, hover = [], []
    for c in cohorts.cohorts:
        by = {cell_.months_since: cell_ for cell_ in c.cells}
        z.append([_pct(by[k].retention.value) if k in by else None for k in x])
        hover.append([[by[k].customers, _pct(by[k].retention.low), _pct(by[k].retention.high)]
                      if k in by else [None, None, None] for k in x])
    figure = {"data": [{
        "type": "heatmap", "x": x, "y": y, "z": z, "customdata": hover,
        "colorscale": "Blues", "reversescale": True, "zmin": 0, "hoverongaps": False,
        "colorbar": {"title": {"text": "%"}},
        "hovertemplate": (f"%{{y}}, {t('rp.months_since')} %{{x}}: %{{z:.1f}} % "
                          "(%{customdata[1]:.1f}–%{customdata[2]:.1f} %, n %{customdata[0]})"
                          "<extra></extra>")}],
        "layout": {**_LAYOUT, "margin": {"l": 90, "r": 10, "t": 10, "b": 50},
                   "height": max(300, 22 * len(y) + 100),
                   "xaxis": {"title": {"text": t("rp.months_since")}, "tickformat": "d"},
                   "yaxis": {"type": "category", "autorange": "reversed"}}}
    columns = [t(f"rp.by.{cohorts.by}"), t("rp.months_since"), t("vp.customers_col"),
               t("rp.active"), t("rp.retention"), t("rp.low"), t("rp.high")]
    rows = [[label(c.key), str(k.months_since), cell(k.customers), cell(k.active),
             cell(_pct(k.retention.value)), cell(_pct(k.retention.low)),
             cell(_pct(k.retention.high))] for c in cohorts.cohorts for k in c.cells]
    note = (t("rp.partial_note", month=cohorts.partial_month) if cohorts.partial_month
            else None)
    return Chart("heatmap", t("rp.heatmap_title"), columns, rows, figure, note=note)


def cohort_lines(key: str, title: str, t: Translate, cohorts: Any, what: str,
                 label: Label = str) -> Chart:
    """One line per cohort over the months since the first purchase: ``what`` is
    ``retention`` or ``repeat`` (shares, %) or ``revenue_per_customer``."""
    share = what != "revenue_per_customer"
    data = []
    for i, c in enumerate(cohorts.cohorts):
        ys = [_pct(getattr(k, what).value) if share else k.revenue_per_customer
              for k in c.cells]
        name = _plain(label(c.key))
        data.append({"type": "scatter", "mode": "lines", "name": name,
                     "x": [k.months_since for k in c.cells], "y": ys,
                     "line": {"color": PALETTE[i % len(PALETTE)], "width": 1.5},
                     "customdata": [k.customers for k in c.cells],
                     "hovertemplate": f"{name}: %{{y:.1f}} (n %{{customdata}})"
                                      "<extra></extra>"})
    unit = "%" if share else cohorts.currency
    figure = {"data": data, "layout": {
        **_LAYOUT, "margin": {"l": 50, "r": 10, "t": 10, "b": 50}, "height": 350,
        "showlegend": len(data) <= 12,
        "xaxis": {"title": {"text": t("rp.months_since")}, "tickformat": "d"},
        "yaxis": {"title": {"text": unit}, "rangemode": "tozero"}}}
    columns = [t(f"rp.by.{cohorts.by}"), t("rp.months_since"), t("vp.customers_col"),
               t(f"rp.{what}")]
    if share:
        columns += [t("rp.low"), t("rp.high")]
    rows = []
    for c in cohorts.cohorts:
        for k in c.cells:
            if share:
                e = getattr(k, what)
                rows.append([label(c.key), str(k.months_since), cell(k.customers),
                             cell(_pct(e.value)),
                             cell(_pct(e.low)), cell(_pct(e.high))])
            else:
                rows.append([label(c.key), str(k.months_since), cell(k.customers),
                             cell(k.revenue_per_customer)])
    return Chart(key, title, columns, rows, figure)


def rfm_grid(rfm: Any, t: Translate) -> Chart:
    """Customers per recency (rows, 5 = most recent) and frequency score (columns)."""
    scores = [1, 2, 3, 4, 5]
    z = [rfm.grid[r - 1] for r in scores]
    figure = {"data": [{"type": "heatmap", "x": scores, "y": scores, "z": z,
                        "colorscale": "Blues", "reversescale": True, "zmin": 0,
                        "hovertemplate": "R %{y}, F %{x}: %{z}<extra></extra>"}],
              "layout": {**_LAYOUT, "margin": {"l": 50, "r": 10, "t": 10, "b": 50},
                         "height": 320,
                         "xaxis": {"title": {"text": t("rp.f_score")}, "dtick": 1},
                         "yaxis": {"title": {"text": t("rp.r_score")}, "dtick": 1}}}
    columns = [t("rp.r_score"), *(f"F {f}" for f in scores)]
    rows = [[str(r), *(cell(n) for n in rfm.grid[r - 1])] for r in scores]
    return Chart("grid", t("rp.grid_title"), columns, rows, figure)


# --- the Value page: how CLV is spread over the customers ----------------------------------

def clv_histogram(dist: Any, t: Translate, money: Callable[[float | None], str]) -> Chart:
    """Customers per CLV bin (bars) and the share of all CLV each bin holds (a line on the
    right axis), from :func:`cxlens.analytics.value.distribution.clv_distribution`; the
    last bin is open ("2 000 € +"); a bar is named by its lower end, its hover gives the
    span. ``money`` writes an amount in the reader's way."""
    ticks = [f"{money(b.low)}" + (" +" if b.high is None else "") for b in dist.bins]
    spans = [f"{money(b.low)} +" if b.high is None else f"{money(b.low)} – {money(b.high)}"
             for b in dist.bins]
    total = sum(b.value for b in dist.bins) or 1.0
    shares = [round(100 * b.value / total, 2) for b in dist.bins]
    data = [{"type": "bar", "name": t("vp.dist_customers"), "x": ticks,
             "y": [b.customers for b in dist.bins], "marker": {"color": "#6f8fc0"},
             "customdata": spans, "hovertemplate": "%{customdata}: %{y}<extra></extra>"},
            {"type": "scatter", "mode": "lines+markers", "name": t("vp.dist_value_share"),
             "x": ticks, "y": shares, "yaxis": "y2", "line": {"color": PALETTE[1]},
             "customdata": spans, "hovertemplate": "%{customdata}: %{y:.1f} %<extra></extra>"}]
    layout = {**_LAYOUT, "margin": {"l": 55, "r": 55, "t": 10, "b": 110}, "height": 380,
              "bargap": 0.05, "showlegend": True, "legend": {"orientation": "h", "y": -0.5},
              "xaxis": {"type": "category", "title": {"text": t(
                  "vp.dist_axis", months=dist.horizon_months, currency=dist.currency)}},
              "yaxis": {"title": {"text": t("vp.customers_col")}, "rangemode": "tozero"},
              "yaxis2": {"title": {"text": t("vp.dist_value_share")}, "overlaying": "y",
                         "side": "right", "rangemode": "tozero", "showgrid": False,
                         "tickmode": "auto", "nticks": 6, "tickformat": ".0f"}}
    columns = [t("vp.dist_from"), t("vp.dist_to"), t("vp.customers_col"),
               t("vp.dist_customer_share"), t("vp.dist_value", currency=dist.currency),
               t("vp.dist_value_share")]
    rows = [[cell(b.low), cell(b.high), cell(b.customers),
             cell(round(100 * b.customers / dist.customers, 2)), cell(b.value), cell(s)]
            for b, s in zip(dist.bins, shares, strict=True)]
    return Chart("distribution", t("vp.dist_title"), columns, rows,
                 {"data": data, "layout": layout}, note=t("vp.dist_note"))
