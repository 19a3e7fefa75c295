"""The Journeys page's figures: top paths as a Sankey chart and the process map as a graph.

Builders over :mod:`cxlens.analytics.journeys` results, like :mod:`cxlens.web.charts`: each
returns a :class:`~cxlens.web.charts.Chart` (figure, the same numbers as a table, CSV). No
statistics here. The one computation is the process map's **layout**, which is drawing
code: where each touchpoint stands, decided from the map itself so that the same map is
drawn the same way every time.

The layout, "layered by typical position": a touchpoint's position is the mean, over the
times it happened, of how far into the journey it stands — 0 where a journey starts with it,
else one more than the touchpoint right before it. Over the map's counts that is one linear
system (``p_v · count_v = Σ_u n_uv · (p_u + 1)`` over the edges into v, self-loops left
out), solved exactly. That position is the touchpoint's x; its row (y) is the one nearest
the middle line that is free there, the most frequent touchpoints placed first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from cxlens.web.charts import PALETTE, Chart, _plain, cell

Translate = Callable[..., str]
Label = Callable[[str], str]  # a touchpoint's name in the page's language

LOOP = "↻"
MAP_EDGES = 40  # transitions drawn in the graph (all are in the table)
SANKEY_ROW_PX = 30  # height per touchpoint in the Sankey chart's busiest column
MIN_DX = 1.0  # touchpoints in one row of the map stand at least this far apart
DROP_COLOUR, END_COLOUR = "#b42318", "#8a94a6"


def _bg() -> dict[str, Any]:
    return {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}


def duration(seconds: float, t: Translate, lang_num: Callable[[float, int], str]) -> str:
    """Seconds as a reader says them: "31 s", "12 min", "3,5 h", "14 d" (units translated,
    the number in the page's language)."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            value = seconds / size
            return t(f"jv.dur.{unit}", n=lang_num(value, 1 if value < 10 else 0))
    return t("jv.dur.s", n=lang_num(seconds, 0))


def path_text(steps: Sequence[str], loops: Sequence[bool], label: Label) -> str:
    """A path as one line: its touchpoints by name, a loop marked ↻, joined by →."""
    return " → ".join(_plain(label(s)) + (f" {LOOP}" if lp else "")
                      for s, lp in zip(steps, loops, strict=True))


def paths_chart(key: str, title: str, t: Translate, p: Any, label: Label) -> Chart:
    """The top paths (``journeys.Paths``) as a Sankey chart and a table.

    Columns of the Sankey are the steps, aligned on the anchor (first column for paths
    *from* it, last for paths *to* it); a path that drops off flows on into a "dropped off"
    node. The "other" row (every path below the top ones) is only in the table."""
    drop = t("jv.dropped_off")
    nodes: dict[tuple[int, str], int] = {}
    links: dict[tuple[int, int], int] = {}

    def node(column: int, name: str) -> int:
        return nodes.setdefault((column, name), len(nodes))

    for r in p.rows:
        if r.other or not r.steps:
            continue
        shift = 0 if p.direction == "from" else p.steps - len(r.steps)
        ids = [node(shift + i, s) for i, s in enumerate(r.steps)]
        if r.dropped_off:
            ids.append(node(shift + len(r.steps), "\0drop"))
        for a, b in pairwise(ids):
            links[(a, b)] = links.get((a, b), 0) + r.customers
    names = sorted(nodes, key=nodes.__getitem__)
    node_labels = [drop if n == "\0drop" else _plain(label(n)) for _, n in names]
    colours = [DROP_COLOUR if n == "\0drop" else
               (PALETTE[1] if n == p.anchor else PALETTE[0]) for _, n in names]
    data = [{
        "type": "sankey", "arrangement": "snap", "valueformat": "d",
        "node": {"label": node_labels, "color": colours, "pad": 12, "thickness": 14,
                 "hovertemplate": "%{label}: %{value}<extra></extra>"},
        "link": {"source": [a for a, _ in links], "target": [b for _, b in links],
                 "value": list(links.values()), "color": "rgba(31,111,235,0.25)",
                 "hovertemplate": "%{source.label} → %{target.label}: %{value}<extra></extra>"},
    }] if links else []
    per_column: dict[int, int] = {}
    for column, _ in nodes:
        per_column[column] = per_column.get(column, 0) + 1
    # tall enough that the busiest column's names do not run into each other
    tallest = max(per_column.values(), default=1)
    layout = {"margin": {"l": 10, "r": 10, "t": 10, "b": 10},
              "height": max(320, min(900, 60 + SANKEY_ROW_PX * tallest)),
              "font": {"size": 11}, **_bg()}
    columns = [t("jv.rank"), t("jv.path"), t("jv.customers"), t("jv.share"),
               t("jv.ended"), t("jv.dropped_off")]
    table = []
    for i, r in enumerate(p.rows, 1):
        text = t("jv.other_paths") if r.other else path_text(r.steps, r.loops, label)
        table.append(["" if r.other else str(i), text, cell(r.customers),
                      cell(100 * r.share), cell(r.ended), cell(r.dropped_off)])
    return Chart(key, title, columns, table, {"data": data, "layout": layout},
                 note=t("jv.paths_note", loop=LOOP))


# --- the process map ------------------------------------------------------------------------

def positions(m: Any) -> dict[str, float]:
    """Each touchpoint's typical position in the journey (see the module's docstring)."""
    names = [n.touchpoint for n in m.nodes]
    if not names:
        return {}
    index = {n: i for i, n in enumerate(names)}
    k = len(names)
    a = np.zeros((k, k))
    b = np.zeros(k)
    for n in m.nodes:
        a[index[n.touchpoint], index[n.touchpoint]] += n.starts
    for e in m.edges:
        if e.source == e.target:
            continue
        v, u = index[e.target], index[e.source]
        a[v, v] += e.transitions
        a[v, u] -= e.transitions
        b[v] += e.transitions
    for i in range(k):  # a touchpoint only ever repeated in place: position 0
        if a[i, i] == 0:
            a[i, i] = 1.0
    try:
        p = np.linalg.solve(a, b)
    except np.linalg.LinAlgError:  # cannot happen for a real map; draw it anyway
        p = np.linalg.lstsq(a, b, rcond=None)[0]
    return {n: float(p[index[n]]) for n in names}


def layout_xy(m: Any) -> dict[str, tuple[float, float]]:
    """x = the touchpoint's typical position; y = a row, the most frequent touchpoints
    first, each in the row nearest the middle (0, 1, −1, 2, −2 …) where no touchpoint
    placed before it stands within :data:`MIN_DX` — so the busiest touchpoints run along
    the middle line and the rare ones around them. Deterministic: ties go by name."""
    pos = positions(m)
    placed: dict[str, tuple[float, float]] = {}
    for n in sorted(m.nodes, key=lambda n: (-n.count, n.touchpoint)):
        x = pos[n.touchpoint]
        for i in range(len(pos) + 1):
            y = float((i + 1) // 2 * (1 if i % 2 else -1))
            if all(py != y or abs(px - x) >= MIN_DX for px, py in placed.values()):
                placed[n.touchpoint] = (x, y)
                break
    return placed


def process_map_chart(key: str, title: str, t: Translate, m: Any, label: Label,
                      dur: Callable[[float], str]) -> Chart:
    """The directly-follows graph (``journeys.ProcessMap``): touchpoints as circles sized by
    how often they happened, the :data:`MAP_EDGES` most frequent transitions as arrows as
    wide as their count, each with its count and median / 90th-percentile time in the hover
    of its middle. The table has every transition."""
    xy = layout_xy(m)
    drawn = [e for e in m.edges if e.source != e.target][:MAP_EDGES]
    top = max((e.transitions for e in drawn), default=1)
    biggest = max((n.count for n in m.nodes), default=1)
    arrows, mid_x, mid_y, mid_text = [], [], [], []
    for e in drawn:
        (x0, y0), (x1, y1) = xy[e.source], xy[e.target]
        # two opposite transitions between the same pair are drawn side by side
        off = 0.08 if e.source < e.target else -0.08
        dx, dy = x1 - x0, y1 - y0
        length = max((dx * dx + dy * dy) ** 0.5, 1e-9)
        ox, oy = -dy / length * off, dx / length * off
        arrows.append({"x": x1 + ox, "y": y1 + oy, "ax": x0 + ox, "ay": y0 + oy,
                       "xref": "x", "yref": "y", "axref": "x", "ayref": "y", "text": "",
                       "showarrow": True, "arrowhead": 2, "arrowsize": 1,
                       "standoff": 12, "startstandoff": 12,
                       "arrowwidth": 0.8 + 4.2 * e.transitions / top,
                       "arrowcolor": "rgba(91,100,114,0.55)"})
        mid_x.append((x0 + x1) / 2 + ox)
        mid_y.append((y0 + y1) / 2 + oy)
        mid_text.append(t("jv.edge_hover", source=_plain(label(e.source)),
                          target=_plain(label(e.target)), n=e.transitions,
                          customers=e.customers, median=dur(e.median_s), p90=dur(e.p90_s)))
    names = [n.touchpoint for n in m.nodes]
    loops = {e.source: e.transitions for e in m.edges if e.source == e.target}
    data = [
        {"type": "scatter", "mode": "markers", "x": mid_x, "y": mid_y, "hovertext": mid_text,
         "hoverinfo": "text", "marker": {"size": 8, "color": "rgba(91,100,114,0.35)"},
         "name": t("jv.transitions"), "showlegend": False},
        {"type": "scatter", "mode": "markers+text", "showlegend": False,
         "name": t("jv.touchpoint"),
         "x": [xy[n][0] for n in names], "y": [xy[n][1] for n in names],
         "text": [_plain(label(n)) for n in names], "textposition": "bottom center",
         "textfont": {"size": 10},
         "meta": {"narrow_mode": "markers"},  # names by hover on a phone (cxlens-charts.js)
         "hovertext": [t("jv.node_hover", name=_plain(label(n.touchpoint)), n=n.count,
                         starts=n.starts, ends=n.ends, loops=loops.get(n.touchpoint, 0))
                       for n in m.nodes],
         "hoverinfo": "text",
         "marker": {"size": [12 + 30 * (n.count / biggest) ** 0.5 for n in m.nodes],
                    "color": [PALETTE[1] if n.starts > n.count / 2 else PALETTE[0]
                              for n in m.nodes], "line": {"color": "#ffffff", "width": 1}}},
    ] if names else []
    ys = [y for _, y in xy.values()] or [0.0]
    xs = [x for x, _ in xy.values()] or [0.0]
    layout = {"margin": {"l": 10, "r": 10, "t": 10, "b": 10},
              "height": max(360, 90 * (max(ys) - min(ys) + 1)),
              "showlegend": False, "annotations": arrows, "hovermode": "closest",
              "xaxis": {"visible": False, "range": [min(xs) - 0.6, max(xs) + 0.6]},
              "yaxis": {"visible": False, "range": [min(ys) - 0.8, max(ys) + 0.6]},
              **_bg()}
    columns = [t("jv.from"), t("jv.to"), t("jv.transitions"), t("jv.customers"),
               t("jv.median"), t("jv.p90"), t("jv.median_s"), t("jv.p90_s")]
    table = [[_plain(label(e.source)), _plain(label(e.target)), cell(e.transitions),
              cell(e.customers), dur(e.median_s), dur(e.p90_s), f"{e.median_s:.0f}",
              f"{e.p90_s:.0f}"] for e in m.edges]
    note = t("jv.map_note", shown=len(drawn), total=len(m.edges))
    return Chart(key, title, columns, table, {"data": data, "layout": layout}, note=note)

