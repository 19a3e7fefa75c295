"""DuckDB/Spark parity of the Overview, the customer profile and survey activity.

Each public function runs on the S demo on both engines (the ``engines`` fixture) with the
same parameters; the whole results must be equal: the same rows in the same order, numbers
to 1e-9 relative. Survey activity needs survey tables, which the demo does not have, so it
runs on a small hand-built survey workspace on DuckDB and on a Spark session of its own
(``newSession``: the demo's views of the shared session stay untouched).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from cxlens.analytics import overview as ov
from cxlens.analytics.profile import find_customer, profile
from cxlens.analytics.surveys import survey_activity
from cxlens.errors import UserError
from cxlens.surveys import answers, definitions, store
from cxlens.warehouse.engine import DuckDBEngine, Engine
from cxlens.warehouse.store import open_warehouse
from helpers import assert_same

pytestmark = pytest.mark.spark



def _as_of(duck: Engine) -> date:
    """The last day with an order in the demo: the periods below end there."""
    return duck.query("SELECT CAST(max(ts) AS DATE) AS d FROM v_orders").to_pylist()[0]["d"]


def test_totals_parity(engines) -> None:
    duck, spark = engines
    end = _as_of(duck)
    for days in (30, 365):
        p = ov.period_ending(end, days)
        left = ov.totals(duck, p)
        assert any(c.current for c in left)
        assert_same(left, ov.totals(spark, p), f"totals {days} days")


def test_data_until_parity(engines) -> None:
    duck, spark = engines
    last = ov.data_until(duck)
    assert last is not None and last == ov.data_until(spark)
    assert_same(ov.default_end(duck, date(2030, 1, 1)), ov.default_end(spark, date(2030, 1, 1)),
                "default_end")


def test_insights_parity(engines) -> None:
    from cxlens.analytics.insights import insights

    duck, spark = engines
    # The S demo (seed 11) has no finding that passes the thresholds in any of these periods
    # since its newsletter reaches the window's last week (the draws moved; the Delivery
    # driver's performance is no longer below the line). Each finding's parts have their own
    # parity tests (drivers, changes, segment tests, value by group); here the assembled
    # list must be the same, findings or none.
    for days in (90, 365, 730):
        p = ov.period_ending(_as_of(duck), days)
        assert_same(insights(duck, p), insights(spark, p), f"insights {days} days")


def test_trends_parity(engines) -> None:
    duck, spark = engines
    end = _as_of(duck)
    for days, grain in ((30, "day"), (90, "week")):  # months: test_nps_trend_parity
        p = ov.period_ending(end, days)
        left = ov.trends(duck, p, grain)
        assert sum(r.orders for r in left) > 0
        assert_same(left, ov.trends(spark, p, grain), f"trends {grain}")


def test_nps_parity(engines) -> None:
    duck, spark = engines
    end = _as_of(duck)
    for days in (90, 365):
        p = ov.period_ending(end, days)
        left = ov.nps(duck, p)
        assert left.n > 0
        assert_same(left, ov.nps(spark, p), f"nps {days} days")


def test_nps_trend_parity(engines) -> None:
    duck, spark = engines
    p = ov.period_ending(_as_of(duck), 365)
    for grain in ("month", "week"):
        left = ov.nps_trend(duck, p, grain)
        assert len(left) > 1
        assert_same(left, ov.nps_trend(spark, p, grain), f"nps_trend {grain}")


_BUSIEST = """
SELECT c.customer_id AS customer_id, c.email AS email, count(*) AS events
FROM customers AS c JOIN v_events AS e ON e.customer_id = c.customer_id
WHERE c.email IS NOT NULL
GROUP BY c.customer_id, c.email
ORDER BY events DESC, c.customer_id
LIMIT 1
"""


def test_find_customer_parity(engines) -> None:
    duck, spark = engines
    busiest = duck.query(_BUSIEST).to_pylist()[0]
    for ident in (busiest["email"], busiest["customer_id"]):
        assert find_customer(duck, ident) == find_customer(spark, ident) == \
            busiest["customer_id"]
    for eng in engines:
        with pytest.raises(UserError, match="no customer found"):
            find_customer(eng, "nobody@nowhere.invalid")


def test_search_customers_parity(engines) -> None:
    from cxlens.analytics.profile import search_customers

    duck, spark = engines
    for text in ("nen", "@gmail", "040 1", "crm_id:"):
        left = search_customers(duck, text, limit=15)
        assert left, text
        assert_same(left, search_customers(spark, text, limit=15), f"search {text}")


def test_profile_parity(engines) -> None:
    duck, spark = engines
    busiest = duck.query(_BUSIEST).to_pylist()[0]
    for limit in (7, 500):
        left = profile(duck, busiest["email"], limit=limit)
        assert 0 < len(left["timeline"]) <= limit
        assert_same(left, profile(spark, busiest["email"], limit=limit), f"profile {limit}")
    full = profile(duck, busiest["email"], limit=500)
    s = full["summary"]
    assert len(full["timeline"]) < 500
    assert len(full["timeline"]) >= s["orders"] + s["events"] + s["feedback"]


T = datetime(2026, 11, 20, 9, 0)
# (survey, state, sent, opened, reminded, answered), as in test_surveys.py
INVITATIONS = [
    ("nps", "created", None, None, None, None),
    ("nps", "sent", T, None, None, None),
    ("nps", "sent", T, None, T, None),
    ("nps", "opened", None, T, None, None),
    ("nps", "answered", T, T, None, T),
    ("nps", "answered", None, None, None, T),
    ("nps", "expired", T, None, None, None),
    ("nps", "opted_out", T, None, None, None),
    ("legacy", "sent", datetime(2026, 11, 21), None, None, None),
]


@pytest.fixture(scope="module")
def survey_engines(tmp_path_factory: pytest.TempPathFactory, spark) -> Iterator[
        tuple[DuckDBEngine, Engine]]:
    """A workspace with stored surveys, invitations, opt-outs and a public answer, on
    DuckDB and on a Spark session of its own with the same tables registered."""
    from cxlens.warehouse.spark import SparkEngine

    ws = tmp_path_factory.mktemp("surveys") / "ws"
    with open_warehouse(ws) as con:
        for name in ("nps", "ces"):
            store.save_survey(con, definitions.builtin_source(name), now=T)
        con.executemany(
            "INSERT INTO survey_invitations (invitation_id, nonce, token_hash, survey_id, "
            "language, invited_on, state, created_at, sent_at, opened_at, reminded_at, "
            "answered_at, expires_at) VALUES (?, 'n', 'h', ?, 'fi', DATE '2026-11-20', ?, "
            "TIMESTAMP '2026-11-20', ?, ?, ?, ?, TIMESTAMP '2026-12-20')",
            [(i, *row) for i, row in enumerate(INVITATIONS, 1)])
        con.executemany("INSERT INTO survey_optouts VALUES (?, ?, TIMESTAMP '2026-11-20', "
                        "'test')", [("email:a@x.fi", "C1"), ("email:b@x.fi", None)])
        nps = store.require_survey(con, "nps").survey
        answers.submit_public(con, nps, {"score": 9}, language="fi", now=T)
    with open_warehouse(ws, read_only=True) as con:
        sparkeng = SparkEngine(spark.newSession())
        for name in ("surveys", "survey_invitations", "survey_optouts", "v_feedback"):
            cols = con.sql(f'DESCRIBE SELECT * FROM "{name}"').fetchall()
            exprs = [f'CAST("{c}" AS VARCHAR) AS "{c}"' if t in ("HUGEINT", "UHUGEINT")
                     else f'"{c}"' for c, t, *_ in cols]
            sparkeng.register(name, con.sql(f'SELECT {", ".join(exprs)} FROM "{name}"')
                              .to_arrow_table())
        yield DuckDBEngine(con), sparkeng


def test_survey_activity_parity(survey_engines, engines) -> None:
    duck, spark = survey_engines
    left = survey_activity(duck)
    assert [s.survey_id for s in left.surveys] == ["ces", "legacy", "nps"]
    assert left.surveys[2].public_answers == 1 and left.surveys[2].last_sent == T
    assert left.opted_out_customers == 2
    assert_same(left, survey_activity(spark))
    # The demo has no survey tables: both engines say so the same way.
    assert_same(survey_activity(engines[0]), survey_activity(engines[1]))


def test_survey_engine_kept_its_own_views(survey_engines, engines) -> None:
    """The survey workspace's Spark session did not replace the demo's shared views."""
    assert "survey_invitations" not in engines[1].tables()
    assert "survey_invitations" in survey_engines[1].tables()


def test_assert_same_catches_differences() -> None:
    """The comparison itself is strict: order, types and numbers beyond 1e-9 count."""
    a = ov.nps_from_counts(5, 3, 2)
    assert_same(a, ov.nps_from_counts(5, 3, 2))
    for left, right in ((a, ov.nps_from_counts(5, 2, 3)), ([1, 2], [2, 1]), (1, 1.0),
                        (1.0, 1.0 + 1e-6), ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
                        (Path("x"), "x")):
        with pytest.raises(AssertionError):
            assert_same(left, right)
