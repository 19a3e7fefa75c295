"""Where the names of a scatter chart's points go, so that they do not cover each other.

Plotly draws a point's text at one of a few places around it and never moves it out of the
way of another, so ten teams close together print their names over each other. Here each
name gets the first of those places where it covers no name placed before it and stays in
the plot; a name with no such place is left out of the drawing (the hover text and the
table beside the chart still give it). The chart's size in pixels is not known on the
server (it follows the window), so the boxes are measured for a laptop-wide chart: at wider
charts names only get more room, and on a phone the names are not drawn at all
(``cxlens-charts.js``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The plot a laptop shows (px) and the text's size: 11 px type is about 6 px a character.
PLOT_W, PLOT_H = 640, 360
CHAR_PX, LINE_PX = 6.2, 14
GAP_PX = 6  # between a point and its name
POSITIONS = ("top right", "bottom right", "top left", "bottom left", "middle right",
             "middle left", "top center", "bottom center")


@dataclass(frozen=True)
class Box:
    left: float
    bottom: float
    right: float
    top: float

    def meets(self, other: Box) -> bool:
        return (self.left < other.right and other.left < self.right
                and self.bottom < other.top and other.bottom < self.top)


def _box(px: float, py: float, label: str, position: str) -> Box:
    lines = label.split("<br>")
    w = max(len(x) for x in lines) * CHAR_PX
    h = len(lines) * LINE_PX
    vertical, horizontal = position.split(" ")
    left = {"right": px + GAP_PX, "left": px - GAP_PX - w, "center": px - w / 2}[horizontal]
    bottom = {"top": py + GAP_PX, "bottom": py - GAP_PX - h, "middle": py - h / 2}[vertical]
    return Box(left, bottom, left + w, bottom + h)


def place(xs: Sequence[float], ys: Sequence[float], labels: Sequence[str],
          x_range: tuple[float, float], y_range: tuple[float, float],
          first: Sequence[bool] = ()) -> list[str | None]:
    """A text position for each point's label (Plotly's ``textposition``), or None where it
    fits nowhere. Points marked in ``first`` (the flagged teams) are placed before the
    others, then from the top of the chart down."""
    sx = PLOT_W / (x_range[1] - x_range[0])
    sy = PLOT_H / (y_range[1] - y_range[0])
    plot = Box(0, 0, PLOT_W, PLOT_H)
    order = sorted(range(len(labels)),
                   key=lambda i: (not (first[i] if i < len(first) else False), -ys[i]))
    placed: list[Box] = []
    out: list[str | None] = [None] * len(labels)
    for i in order:
        px, py = (xs[i] - x_range[0]) * sx, (ys[i] - y_range[0]) * sy
        for position in POSITIONS:
            b = _box(px, py, labels[i], position)
            inside = (b.left >= plot.left and b.right <= plot.right
                      and b.bottom >= plot.bottom and b.top <= plot.top)
            if inside and not any(b.meets(o) for o in placed):
                placed.append(b)
                out[i] = position
                break
    return out
