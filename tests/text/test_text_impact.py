"""Known-answer tests of the theme impact on a tiny hand-made set."""

from __future__ import annotations

import numpy as np

from cxlens.text.impact import _impact, from_cells

# Cells: groups A (negative mentions), B (other comments), C (the rest) × v = −1, 0, +1.


def test_known_answer() -> None:
    # 20 answers. A: 4 detractors. B: 2 detractors, 2 passives, 6 promoters (mean v 0.4).
    # C: 6 passives. Impact = 100 · 4/20 · (−1 − 0.4) = −28 points.
    cells = np.array([4, 0, 0, 2, 2, 6, 0, 6, 0])
    assert _impact(cells) == -28.0
    # Check against NPS computed both ways: observed −2/20·… and the counterfactual.
    v = np.array([-1, 0, 1])
    observed = 100 * (cells.reshape(3, 3) * v).sum() / 20
    counterfactual = 100 * ((cells[3:6] * v).sum() + 4 * 0.4 + 0) / 20
    assert np.isclose(observed - counterfactual, -28.0)


def test_no_negative_mentions_is_no_impact_and_no_comparison_is_unknown() -> None:
    assert _impact(np.array([0, 0, 0, 1, 1, 1, 3, 3, 3])) == 0.0
    assert np.isnan(_impact(np.array([2, 0, 0, 0, 0, 0, 3, 3, 3])))
    r = from_cells("x", "nps", np.array([2, 0, 0, 0, 0, 0, 3, 3, 3]))
    assert r.impact is None and r.low is None


def test_interval_is_seeded_and_covers_the_estimate() -> None:
    cells = np.array([30, 5, 0, 40, 60, 120, 20, 60, 80])
    a = from_cells("delivery", "nps", cells)
    b = from_cells("delivery", "nps", cells)
    assert a == b and a.low < a.impact < a.high < 0
    assert a.n == int(cells.sum()) and a.negative_mentions == 35 and a.without == 220


def test_few_negative_mentions_get_no_interval() -> None:
    r = from_cells("t", "nps", np.array([3, 0, 0, 10, 10, 10, 5, 5, 5]))
    assert r.impact is not None and r.low is None and r.high is None
