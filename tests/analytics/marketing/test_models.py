"""Known answers for every attribution model on hand-made paths (no warehouse).

The paths of ``PATHS`` (channels, conversions, revenue, non-conversions) were worked by
hand for each rule; the Markov chain of ``CHAIN`` was solved by hand (below), and Shapley
is checked against the textbook formula over every coalition.
"""

from __future__ import annotations

import numpy as np
import pytest

from cxlens.analytics.marketing import attribute_paths
from cxlens.analytics.marketing._paths import from_counts
from cxlens.analytics.marketing.markov import MarkovAttribution
from cxlens.analytics.marketing.rules import rule_credit
from cxlens.analytics.marketing.shapley import coalition_shapley, shapley_credit

PATHS = from_counts([
    (["A", "B", "C"], 1, 10.0, 0),
    (["A"], 2, 20.0, 0),
    (["B", "C"], 1, 4.0, 0),
    (["C"], 0, 0.0, 5),
    (["A", "B", "A"], 1, 6.0, 0),
])


def _approx(credit: dict[str, tuple[float, float]], want: dict[str, tuple[float, float]]):
    assert set(credit) == set(want)
    for c, (conv, rev) in want.items():
        assert credit[c][0] == pytest.approx(conv), c
        assert credit[c][1] == pytest.approx(rev), c


def test_first_touch_gives_everything_to_the_first_channel() -> None:
    _approx(rule_credit(PATHS, "first"), {"A": (4, 36), "B": (1, 4), "C": (0, 0)})


def test_last_touch_gives_everything_to_the_last_channel() -> None:
    _approx(rule_credit(PATHS, "last"), {"A": (3, 26), "B": (0, 0), "C": (2, 14)})


def test_linear_splits_evenly_over_the_touches_a_repeated_channel_twice() -> None:
    _approx(rule_credit(PATHS, "linear"), {
        "A": (1 / 3 + 2 + 2 / 3, 10 / 3 + 20 + 4),
        "B": (1 / 3 + 1 / 2 + 1 / 3, 10 / 3 + 2 + 2),
        "C": (1 / 3 + 1 / 2, 10 / 3 + 2)})


def test_position_based_is_40_20_40_and_halves_a_path_of_two() -> None:
    _approx(rule_credit(PATHS, "position"), {
        "A": (0.4 + 2 + 0.8, 4 + 20 + 4.8),
        "B": (0.2 + 0.5 + 0.2, 2 + 2 + 1.2),
        "C": (0.4 + 0.5, 4 + 2)})


def test_shapley_shares_each_channel_set_equally_order_and_repeats_aside() -> None:
    _approx(shapley_credit(PATHS), {
        "A": (1 / 3 + 2 + 1 / 2, 10 / 3 + 20 + 3),
        "B": (1 / 3 + 1 / 2 + 1 / 2, 10 / 3 + 2 + 3),
        "C": (1 / 3 + 1 / 2, 10 / 3 + 2)})


def test_shapley_equals_the_textbook_formula_over_all_coalitions() -> None:
    rng = np.random.default_rng(3)
    players = [f"c{i}" for i in range(8)]
    rows = []
    for _ in range(300):
        k = int(rng.integers(1, 6))
        rows.append((list(rng.choice(players, k)), float(rng.integers(0, 4)),
                     float(rng.integers(0, 100)), float(rng.integers(0, 3))))
    table = from_counts(rows)
    fast = shapley_credit(table)
    sets = [frozenset(p) for p in table.paths]
    worth: dict[frozenset[str], float] = {}
    from itertools import combinations
    used = table.channels
    for size in range(len(used) + 1):
        for s in combinations(used, size):
            fs = frozenset(s)
            worth[fs] = float(sum(c for t, c in zip(sets, table.conversions, strict=True)
                                  if t <= fs))
    slow = coalition_shapley(worth, used)
    for c in used:
        assert fast[c][0] == pytest.approx(slow[c])
    assert sum(v[0] for v in fast.values()) == pytest.approx(table.conversions.sum())


# start → A 5, B 1, C 3 (of 9); A → B 1, C 3, null 1; B → conv 4, null 1; C → B 3, null 3.
# P(B) = 4/5, P(C) = 1/2 · 4/5 = 2/5, P(A) = 1/5 · 4/5 + 3/5 · 2/5 = 2/5,
# P(start) = (5 · 2/5 + 4/5 + 3 · 2/5) / 9 = 4/9.
# Without A: (4/5 + 3 · 2/5) / 9 = 2/9 → RE 1/2. Without B: 0 → RE 1.
# Without C: P(A) = 4/25, (5 · 4/25 + 4/5) / 9 = 1.6/9 → RE 3/5.
CHAIN = from_counts([
    (["A", "B"], 1, 10.0, 0),
    (["A"], 0, 0.0, 1),
    (["B"], 1, 5.0, 0),
    (["A", "C", "B"], 2, 20.0, 1),
    (["C"], 0, 0.0, 3),
])


def test_markov_removal_effects_are_the_exact_absorbing_chain_solved_by_hand() -> None:
    m = MarkovAttribution(1).fit(CHAIN)
    assert m.conversion_probability_ == pytest.approx(4 / 9)
    assert dict(zip(m.channels_, m.removal_effects_, strict=True)) == pytest.approx(
        {"A": 0.5, "B": 1.0, "C": 0.6})
    credit = m.credit(CHAIN)
    assert credit["A"] == pytest.approx((4 * 0.5 / 2.1, 35 * 0.5 / 2.1))
    assert credit["C"] == pytest.approx((4 * 0.6 / 2.1, 35 * 0.6 / 2.1))


def test_markov_states_of_higher_order_are_the_last_k_channels() -> None:
    m = MarkovAttribution(2).fit(CHAIN)
    assert set(m.states_) == {("A",), ("B",), ("C",), ("A", "B"), ("A", "C"), ("C", "B")}
    # order 2 tells "B after C" from "B after A"; the answer is still a probability
    assert 0 < m.conversion_probability_ <= 1
    assert m.removal_effects_[m.channels_.index("B")] == pytest.approx(1.0)


def test_markov_large_chains_are_solved_sparse_with_the_same_answer(monkeypatch) -> None:
    from cxlens.analytics.marketing import markov

    dense = MarkovAttribution(3).fit(PATHS).removal_effects_
    monkeypatch.setattr(markov, "SPARSE_FROM", 1)
    sparse = MarkovAttribution(3).fit(PATHS).removal_effects_
    assert sparse == pytest.approx(dense)


@pytest.mark.parametrize("order", [0, 4])
def test_markov_order_outside_1_to_3_is_refused(order: int) -> None:
    with pytest.raises(ValueError, match="order must be 1 to 3"):
        MarkovAttribution(order)


def test_all_models_side_by_side_with_intervals_for_the_data_driven_ones() -> None:
    a = attribute_paths(PATHS, models=["first", "markov", "shapley"], n_boot=100)
    assert [m.model for m in a.models] == ["first", "markov", "shapley"]
    assert a.conversions == 5 and a.non_conversions == 5 and a.untouched_conversions == 0
    first = {r.channel: r for r in a.model("first").rows}
    assert first["A"].conversion_share == pytest.approx(0.8) and first["A"].low is None
    for name in ("markov", "shapley"):
        rows = a.model(name).rows
        assert sum(r.conversion_share for r in rows) == pytest.approx(1.0)
        for r in rows:
            assert r.low is not None and r.high is not None
            assert r.low <= r.high and r.revenue_low <= r.revenue_high
    assert all(r.removal_effect is not None for r in a.model("markov").rows)
    assert a.table()[0]["channel"] == "A"
    again = attribute_paths(PATHS, models=["first", "markov", "shapley"], n_boot=100)
    assert again.as_dict() == a.as_dict()  # seeded


def test_paths_without_conversions_say_so_and_credit_nothing() -> None:
    table = from_counts([(["A", "B"], 0, 0.0, 3), (["B"], 0, 0.0, 1)])
    a = attribute_paths(table)
    assert a.reason == "no conversions in the selection: nothing to attribute"
    for m in a.models:
        assert [r.channel for r in m.rows] == ["A", "B"]
        assert all(r.conversions == 0 and r.low is None for r in m.rows)


def test_a_channel_met_only_on_paths_without_conversion_gets_nothing() -> None:
    # X only ever leads nowhere (in a Markov chain a channel on a non-converting path can
    # still earn credit when it leads to a channel that converts elsewhere: X → A would)
    table = from_counts([(["A"], 3, 30.0, 1), (["A", "B"], 2, 20.0, 0), (["X"], 0, 0.0, 4),
                         (["A", "X"], 0, 0.0, 2)])
    a = attribute_paths(table, n_boot=50)
    for m in a.models:
        x = next(r for r in m.rows if r.channel == "X")
        assert x.conversions == pytest.approx(0.0), m.model
    assert next(r for r in a.model("markov").rows if r.channel == "X").removal_effect == 0


def test_no_paths_at_all() -> None:
    a = attribute_paths(from_counts([]))
    assert a.reason == "no touchpoints or orders in the selection"
    assert a.channels == [] and all(m.rows == [] for m in a.models)


def test_conversions_without_a_touchpoint_are_reported_apart() -> None:
    a = attribute_paths(from_counts([([], 4, 40.0, 0), (["A"], 1, 10.0, 1)]), n_boot=20)
    assert a.untouched_conversions == 4 and a.untouched_revenue == 40
    assert a.model("linear").rows[0].conversions == 1
    assert a.model("markov").rows[0].conversions == pytest.approx(1)


@pytest.mark.parametrize(("kw", "msg"), [
    ({"models": ["magic"]}, "model must be one of"),
    ({"order": 5}, "order must be 1 to 3"),
    ({"n_boot": -1}, "bootstrap replicates"),
    ({"half_life_days": 0}, "half-life"),
])
def test_bad_parameters_are_refused_with_a_message(kw, msg) -> None:
    with pytest.raises(ValueError, match=msg):
        attribute_paths(PATHS, **kw)


def test_markov_recovers_the_removal_effects_of_the_chain_that_made_the_paths() -> None:
    """Walks simulated from a known first-order chain: the fitted chain's exact removal
    effects converge to the true chain's (maximum likelihood), within 0.01 at 200 000."""
    rng = np.random.default_rng(5)
    names = ["A", "B", "C", "D"]
    start = np.array([0.4, 0.3, 0.2, 0.1])
    # rows A–D: to A, B, C, D, conversion, null (no self-loops: repeats are one touch)
    move = np.array([[0.0, 0.3, 0.2, 0.1, 0.05, 0.35],
                     [0.2, 0.0, 0.2, 0.1, 0.10, 0.40],
                     [0.1, 0.3, 0.0, 0.1, 0.15, 0.35],
                     [0.2, 0.2, 0.2, 0.0, 0.02, 0.38]])
    q, r = move[:, :4], move[:, 4]

    def p(keep: np.ndarray) -> float:
        return float(start[keep] @ np.linalg.solve(np.eye(keep.sum()) - q[keep][:, keep],
                                                   r[keep]))

    truth = [1 - p(np.arange(4) != c) / p(np.ones(4, bool)) for c in range(4)]
    counts: dict[tuple[str, ...], list[float]] = {}
    n = 200_000
    state = rng.choice(4, n, p=start)
    walks = [[names[s]] for s in state]
    alive = np.arange(n)
    cum = np.cumsum(move, axis=1)
    while len(alive):  # one step of every walk still going, drawn from its row
        nxt = np.minimum((rng.random(len(alive))[:, None] > cum[state]).sum(axis=1), 5)
        for i, x in zip(alive, nxt, strict=True):
            if x >= 4:
                c = counts.setdefault(tuple(walks[i]), [0.0, 0.0])
                c[0 if x == 4 else 1] += 1
            else:
                walks[i].append(names[x])
        keep = nxt < 4
        alive, state = alive[keep], nxt[keep]
    table = from_counts([(k, v[0], 0.0, v[1]) for k, v in counts.items()])
    fitted = MarkovAttribution(1).fit(table).removal_effects_
    assert fitted == pytest.approx(truth, abs=0.01)
