"""Targeting: known answers on a hand-made warehouse, a look-alike model that recovers a
planted similarity, and the value lists equal to the value module's own on the S demo."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score
from value.tiny import orders

from cxlens.analytics.marketing import lookalike as lk
from cxlens.analytics.marketing.targeting import lookalike_features, targets
from cxlens.analytics.value._summary import ValueInputError
from cxlens.analytics.value.customers import customer_values
from cxlens.analytics.value.models import fit_value
from cxlens.warehouse.engine import DuckDBEngine

TODAY = date(2026, 2, 1)


def _customers(rows: list[tuple]) -> pa.Table:
    """(customer_id, name, email, phone, language, country, segment) rows."""
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 7
    names = ("customer_id", "name", "email", "phone", "language", "country", "segment")
    return pa.table({n: pa.array(list(c), pa.string()) for n, c in zip(names, cols,
                                                                         strict=True)})


def _feedback(rows: list[tuple]) -> pa.Table:
    """(customer_id, day, score) NPS answers."""
    return pa.table({
        "customer_id": pa.array([r[0] for r in rows], pa.string()),
        "ts": pa.array([datetime(r[1].year, r[1].month, r[1].day, 12) for r in rows],
                       pa.timestamp("us")),
        "metric": pa.array(["nps"] * len(rows), pa.string()),
        "score": pa.array([float(r[2]) for r in rows], pa.float64()),
        "_batch": pa.array([2] * len(rows), pa.int32()),
        "_line": pa.array(range(1, len(rows) + 1), pa.int64()),
    })


def _engine(order_rows: list[tuple], customer_rows: list[tuple],
            answers: list[tuple]) -> DuckDBEngine:
    eng = DuckDBEngine(duckdb.connect())
    eng.register("v_orders", orders(order_rows))
    eng.register("customers", _customers(customer_rows))
    eng.register("v_feedback", _feedback(answers))
    return eng


# --- known answers -----------------------------------------------------------------------

SHOP = [  # (customer, day, amount, channel)
    ("A", date(2025, 1, 10), 100, "web"), ("A", date(2025, 1, 10), 20, "web"),
    ("A", date(2025, 3, 1), 50, "store"), ("A", date(2025, 9, 1), 500, "web"),
    ("B", date(2025, 2, 1), 10, "store"),
    ("C", date(2025, 12, 20), 30, "email"),
]
PEOPLE = [("A", "Anna A", "anna@example.com", "+358401", "fi", "FI", "B2C"),
          ("B", "=HYPERLINK(\"x\")", "b@example.com", None, "sv", None, None)]
ANSWERS = [("A", date(2025, 2, 1), 10), ("A", date(2025, 2, 5), 3),  # first counts
           ("B", date(2025, 12, 1), 9),  # after B's window: not a feature
           ("C", date(2025, 12, 21), 6)]


def test_features_known_answers() -> None:
    eng = _engine(SHOP, PEOPLE, ANSWERS)
    cols = lookalike_features(eng, date(2026, 1, 31), window_days=180)
    rows = {c: {k: v[i] for k, v in cols.items()} for i, c in enumerate(cols["customer_id"])}
    a, b, c = rows["A"], rows["B"], rows["C"]
    assert a["channel"] == "web" and a["first_amount"] == 120.0  # one day's orders
    assert a["early"] == 170.0 and a["revenue"] == 670.0  # 2025-09-01 is past 180 days
    assert a["age_days"] == (date(2026, 1, 31) - date(2025, 1, 10)).days
    assert (a["segment"], a["language"], a["country"], a["nps_group"]) == (
        "B2C", "fi", "FI", "promoter")
    assert (b["nps_group"], b["country"], b["segment"], b["channel"]) == (
        "(none)", "(none)", "(none)", "store")
    assert c["nps_group"] == "detractor" and c["language"] == "(none)"
    mature, best, threshold = lk.labels(cols, 180, 0.5)
    assert list(mature) == [True, True, False] and threshold == 170.0
    assert list(best) == [True, False, False]


def test_hanley_mcneil_and_the_auc() -> None:
    e = lk.hanley_mcneil(0.8, 20, 30)  # by hand: Q1 = 2/3, Q2 = 0.7111…, var = 0.0045481
    assert e.se == pytest.approx(math.sqrt(2.728889 / 600), rel=1e-5)
    assert e.low == pytest.approx(0.8 - 1.96 * e.se) and e.high == pytest.approx(
        0.8 + 1.96 * e.se)
    rng = np.random.default_rng(3)
    y = rng.random(300) < 0.3
    s = rng.normal(size=300) + y + np.round(rng.random(300), 1) * 0  # ties included below
    s[:50] = np.round(s[:50])
    assert lk.auc_of(s, y) == pytest.approx(roc_auc_score(y, s))


def test_too_few_mature_customers_is_a_reason_not_an_error() -> None:
    eng = _engine(SHOP, PEOPLE, ANSWERS)
    t = targets(eng, "lookalike", TODAY)
    assert t.rows == [] and t.lookalike is not None and t.lookalike.auc is None
    assert "needs 40" in (t.lookalike.reason or "") and t.notes == [t.lookalike.reason]


@pytest.mark.parametrize(("kw", "msg"), [
    ({"segment": "vip"}, "segment must be one of"), ({"top": 0}, "top must be"),
    ({"top_share": 1.0}, "share of best"), ({"window_days": 7}, "window must be"),
])
def test_bad_parameters(kw: dict, msg: str) -> None:
    eng = _engine(SHOP, PEOPLE, ANSWERS)
    args = {"segment": "lookalike", **kw}
    with pytest.raises(ValueInputError, match=msg):
        targets(eng, args.pop("segment"), TODAY, **args)


# --- a planted similarity ----------------------------------------------------------------

def _planted(n: int = 900, seed: int = 5) -> tuple[DuckDBEngine, set[str]]:
    """Customers acquired over two years; those acquired by e-mail who speak Swedish buy
    four times as often in their first 180 days (the planted likeness); everything else —
    country, segment, first amount — is independent of it."""
    rng = np.random.default_rng(seed)
    start, days = date(2024, 1, 1), 760
    order_rows, people, planted = [], [], set()
    for i in range(n):
        cid = f"K{i:04d}"
        channel = str(rng.choice(["web", "store", "email"]))
        lang = str(rng.choice(["fi", "sv", "en"]))
        first = start + timedelta(days=int(rng.integers(0, days)))
        star = channel == "email" and lang == "sv"
        if star:
            planted.add(cid)
        order_rows.append((cid, first, float(rng.integers(20, 80)), channel))
        for _ in range(int(rng.poisson(6.0 if star else 1.0))):
            d = first + timedelta(days=int(rng.integers(1, 180)))
            if d <= date(2026, 1, 31):
                order_rows.append((cid, d, 50.0, "web"))
        people.append((cid, f"Name {i}", f"k{i}@example.com", None, lang,
                       str(rng.choice(["FI", "SE"])), str(rng.choice(["B2C", "B2B"]))))
    return _engine(order_rows, people, []), planted


def test_the_lookalike_recovers_a_planted_similarity() -> None:
    eng, planted = _planted()
    t = targets(eng, "lookalike", TODAY, top=40, top_share=0.15)
    fit = t.lookalike
    assert fit is not None and fit.reason is None and fit.auc is not None
    assert fit.auc.value > 0.8 and fit.auc.low > 0.65  # far from chance
    weights = {w.feature: w.coefficient for w in fit.weights}
    assert weights["channel=email"] > 0.5 and weights["language=sv"] > 0.5
    assert abs(weights["country=SE"]) < 0.5 and abs(weights["segment=B2B"]) < 0.5
    # the list: not-yet-best customers, and mostly of the planted kind
    assert len(t.rows) == 40 and t.matching == t.customers - fit.best
    flags = [r.customer_id in planted for r in t.rows]  # every planted one comes first
    assert flags == sorted(flags, reverse=True) and sum(flags) >= 20, flags
    assert all("channel=email" in r.reason or "language=sv" in r.reason for r in t.rows[:10])
    assert [r.score for r in t.rows] == sorted((r.score for r in t.rows), reverse=True)
    assert t.rows[0].email and t.rows[0].name  # contact details come along
    again = targets(eng, "lookalike", TODAY, top=40, top_share=0.15)  # seeded
    assert [r.customer_id for r in again.rows] == [r.customer_id for r in t.rows]


# --- the value lists are the value module's ----------------------------------------------

@pytest.fixture(scope="module")
def demo_engine(demo):
    ws, _ = demo
    con = duckdb.connect(str(ws / "warehouse.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    eng = DuckDBEngine(con)
    yield eng, fit_value(eng, date(2026, 12, 1))
    con.close()


def test_the_value_lists_are_the_value_modules(demo_engine) -> None:
    eng, v = demo_engine
    risk = targets(eng, "at_risk", date(2026, 12, 1), value_model=v, top=500)
    same = customer_values(eng, v, at_risk=True, top=500)
    assert [r.customer_id for r in risk.rows] == [r.customer_id for r in same.rows]
    assert risk.matching == same.matching and risk.rows
    assert all("P(alive) fell" in r.reason for r in risk.rows)
    top = targets(eng, "value", date(2026, 12, 1), value_model=v, top=30)
    listed = customer_values(eng, v, top=30)
    assert [r.customer_id for r in top.rows] == [
        r.customer_id for r in listed.rows if r.clv.value >= listed.high_value_clv]
    assert top.matching == math.ceil(0.2 * listed.customers)
    assert [r.score for r in top.rows] == [r.clv.value for r in listed.rows[:len(top.rows)]]
    assert all(r.email for r in top.rows)  # the demo's customers all have one
