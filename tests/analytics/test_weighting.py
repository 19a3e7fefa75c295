"""Response weights: keys found in the answers, and post-stratification to a population,
with hand-computed weights and scores on a five-answer warehouse."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from cxlens.analytics import experience as ex
from cxlens.analytics import weighting as W
from cxlens.warehouse.engine import DuckDBEngine


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """Customers c1–c3 in FI and c4 in SE (75 % / 25 %); NPS answers:

        r1  c1 FI 10  January      r3  c4 SE 10  January
        r2  c2 FI  0  January      r4  c4 SE  9  February
        r5  —  (no customer) 0  February: cannot be weighted by country
    """
    c = duckdb.connect()
    c.execute("CREATE TABLE customers (customer_id VARCHAR, country VARCHAR, segment VARCHAR)")
    c.executemany("INSERT INTO customers VALUES (?, ?, ?)", [
        ("c1", "FI", "B2C"), ("c2", "FI", "B2C"), ("c3", "FI", None), ("c4", "SE", "B2B")])
    c.execute("CREATE TABLE v_feedback (response_id VARCHAR, ts TIMESTAMP, metric VARCHAR, "
              "score DECIMAL(18,4), scale_max INTEGER, customer_id VARCHAR, touchpoint VARCHAR,"
              " properties JSON)")
    c.executemany("INSERT INTO v_feedback VALUES (?, ?, 'nps', ?, NULL, ?, 'web', ?)", [
        ("r1", "2026-01-05", 10, "c1", '{"weight": 2, "Order number": 7, "Paino": "x"}'),
        ("r2", "2026-01-06", 0, "c2", '{"weight": 1}'),
        ("r3", "2026-01-07", 10, "c4", '{"weight": 1}'),
        ("r4", "2026-02-03", 9, "c4", None),
        ("r5", "2026-02-04", 0, None, '{"weight": 0.5}'),
    ])
    return c


def test_weights_to_the_customer_base(con) -> None:
    w = W.poststratify(DuckDBEngine(con), "nps", "country")
    assert (w.answers, w.left_out, w.uncovered, w.population) == (5, 1, 0.0, "customers")
    assert [(c.group, c.population, c.answers, c.sample, c.weight) for c in w.cells] == [
        ("FI", 75.0, 2, 50.0, 1.5), ("SE", 25.0, 2, 50.0, 0.5)]
    assert w.weights == pytest.approx({"r1": 1.5, "r2": 1.5, "r3": 0.5, "r4": 0.5})
    s = ex.score(DuckDBEngine(con), "nps", weights=w.weights)[0]
    # promoters 1.5 + 0.5 + 0.5, detractors 1.5, of 4: NPS 25 (unweighted: 50 of r1–r4)
    assert s.value.value == pytest.approx(25.0)
    assert s.n == 4 and s.n_eff == pytest.approx(16 / 5)  # (Σw)² / Σw²
    # r5 counts unweighted
    assert ex.score(DuckDBEngine(con), "nps")[0].value.value == pytest.approx(20.0)
    # the Weighting itself: the same weights, joined inside the score's query
    assert ex.score(DuckDBEngine(con), "nps", weights=w) == [s]


def test_given_shares_and_an_uncovered_group(con) -> None:
    w = W.poststratify(DuckDBEngine(con), "nps", "country", shares={"FI": 1, "SE": 3, "NO": 4})
    assert w.population == "given" and w.uncovered == pytest.approx(50.0)
    cells = {c.group: c for c in w.cells}
    assert cells["NO"].answers == 0 and cells["NO"].weight is None
    # FI 12.5 % and SE 37.5 %, renormalised over the covered half, each half of the answers
    assert cells["FI"].weight == pytest.approx(0.5) and cells["SE"].weight == pytest.approx(1.5)
    with pytest.raises(ValueError, match="positive numbers"):
        W.poststratify(DuckDBEngine(con), "nps", "country", shares={"FI": -1})


def test_weights_per_bucket_with_a_grain(con) -> None:
    w = W.poststratify(DuckDBEngine(con), "nps", "country", grain="month")
    # January: FI 2 of 3 answers, SE 1 of 3 → 0.75 / (2/3) and 0.25 / (1/3);
    # February: only SE answered → the covered population is SE alone, weight 1
    assert w.weights == pytest.approx({"r1": 1.125, "r2": 1.125, "r3": 0.75, "r4": 1.0})
    assert [c.weight for c in w.cells] == [1.5, 0.5]  # the cells describe the whole window
    trend = ex.score(DuckDBEngine(con), "nps", period="month", weights=w.weights)
    assert [s.bucket for s in trend] == [date(2026, 1, 1), date(2026, 2, 1)]
    assert trend[0].value.value == pytest.approx(100 * (1.125 + 0.75 - 1.125) / 3)
    # a score with its own window and filters, weighted by a whole-window Weighting
    assert ex.score(DuckDBEngine(con), "nps", period="month", weights=w) == trend
    feb = ex.score(DuckDBEngine(con), "nps", start=date(2026, 2, 1), weights=w,
                   filters={"country": "SE"})
    assert feb == ex.score(DuckDBEngine(con), "nps", start=date(2026, 2, 1),
                           weights=w.weights, filters={"country": "SE"})
    assert feb[0].n == 1


def test_weights_follow_the_window_and_filters(con) -> None:
    w = W.poststratify(DuckDBEngine(con), "nps", "country", start=date(2026, 2, 1))
    assert w.answers == 2 and w.left_out == 1 and w.weights == {"r4": 1.0}
    w = W.poststratify(DuckDBEngine(con), "nps", "segment", filters={"country": "FI"})
    assert w.weights == {"r1": 1.0, "r2": 1.0}


def test_what_cannot_be_weighted_is_a_clear_error(con) -> None:
    with pytest.raises(ValueError, match="customer attribute"):
        W.poststratify(DuckDBEngine(con), "nps", "touchpoint")
    con.execute("UPDATE customers SET segment = NULL")
    with pytest.raises(ValueError, match="no customer has a segment"):
        W.poststratify(DuckDBEngine(con), "nps", "segment")
    con.execute("UPDATE v_feedback SET metric = 'enps', customer_id = NULL")
    with pytest.raises(ValueError, match="none of the 5 enps answers"):
        W.poststratify(DuckDBEngine(con), "enps", "country")


def test_weight_keys_are_named_as_weights_and_hold_numbers(con) -> None:
    # not 'Order number', not 'Paino' = "x"
    assert W.weight_keys(DuckDBEngine(con), "nps") == ["weight"]
    s = ex.score(DuckDBEngine(con), "nps", weights="weight")[0]
    assert s.n == 4  # r4 carries no weight: left out


def test_a_weights_key_with_a_quote_is_only_a_name(con) -> None:
    s = ex.score(DuckDBEngine(con), "nps", weights="it's")[0]
    assert s.n == 0


def test_answers_without_a_response_id_carry_their_weight() -> None:
    """A form export without answer ids (the S demo's Google Forms CSAT) is keyed by the
    record's content hash: its answers are weighted and counted, not silently dropped."""
    c = duckdb.connect()
    c.execute("CREATE TABLE customers (customer_id VARCHAR, country VARCHAR)")
    c.executemany("INSERT INTO customers VALUES (?, ?)", [("c1", "FI"), ("c2", "SE")])
    c.execute("CREATE TABLE v_feedback (response_id VARCHAR, ts TIMESTAMP, metric VARCHAR, "
              "score DECIMAL(18,4), scale_max INTEGER, customer_id VARCHAR, "
              "properties VARCHAR, _hash UHUGEINT)")
    c.executemany("INSERT INTO v_feedback VALUES (?, ?, 'csat', ?, NULL, ?, NULL, ?)", [
        (None, "2026-01-05", 5, "c1", 11), (None, "2026-01-06", 1, "c1", 12),
        ("r3", "2026-01-07", 5, "c2", 13)])
    eng = DuckDBEngine(c)
    w = W.poststratify(eng, "csat", "country")
    # keyed by the hash as the lake writes it (hex), so Spark on the lake finds the same keys
    assert w.weights == pytest.approx({"content:b": 0.75, "content:c": 0.75, "r3": 1.5})
    (s,) = ex.score(eng, "csat", weights=w.weights)
    assert s.n == 3 and s.value.value == pytest.approx(100 * (0.75 + 1.5) / 3)
    assert ex.score(eng, "csat", weights=w) == [s]
