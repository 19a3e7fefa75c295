"""Names of a scatter chart's points placed where they cover no other name."""

from __future__ import annotations

from itertools import combinations

from cxlens.web import chart_labels
from cxlens.web.chart_labels import _box

R = (-110.0, 110.0)


def _px(x: float, y: float) -> tuple[float, float]:
    return ((x - R[0]) * chart_labels.PLOT_W / 220, (y - R[0]) * chart_labels.PLOT_H / 220)


def test_names_of_points_close_together_do_not_cover_each_other() -> None:
    xs, ys = [10.0, 12.0, 14.0, 11.0, 60.0], [50.0, 48.0, 52.0, 45.0, -20.0]
    labels = ["Store team Turku Skanssi", "Store team Göteborg Nordstan",
              "Store team Helsinki<br>Kamppi", "E-commerce", "Customer service"]
    where = chart_labels.place(xs, ys, labels, R, R)
    boxes = [_box(*_px(x, y), s, w) for x, y, s, w in zip(xs, ys, labels, where, strict=True)
             if w]
    assert len(boxes) >= 3 and where[4] == "top right"  # the lone point keeps its place
    assert not any(a.meets(b) for a, b in combinations(boxes, 2))
    for b in boxes:
        assert b.left >= 0 and b.right <= chart_labels.PLOT_W
        assert b.bottom >= 0 and b.top <= chart_labels.PLOT_H


def test_a_flagged_point_is_named_first_and_a_crowd_leaves_some_to_the_hover() -> None:
    xs, ys = [0.0] * 12, [0.0] * 12
    labels = [f"Store team number {i}" for i in range(12)]
    flagged = [False] * 11 + [True]
    where = chart_labels.place(xs, ys, labels, R, R, flagged)
    assert where[11] == "top right"
    assert None in where  # twelve names on one point cannot all be drawn


def test_a_name_near_the_right_edge_goes_to_the_left_of_its_point() -> None:
    where = chart_labels.place([100.0], [0.0], ["Store team Stockholm Täby Centrum"], R, R)
    assert where == ["top left"]
