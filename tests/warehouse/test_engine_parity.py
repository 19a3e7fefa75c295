"""The same DuckDB-dialect SQL gives the same answer on DuckDB and on Spark.

One seeded synthetic data set (ties in timestamps, NULLs, sub-second times, Nordic text) is
registered in both engines. Every query of ``cxlens.analytics.queries`` and every construct
that docs/engine.md calls safe runs on both, and the normalised results must be equal. The
constructs docs/engine.md calls unsafe must be refused by the Spark translation, and a test
shows that the raw SQLGlot translation really does give another answer (when SQLGlot fixes
one, that test fails and the guard and the doc can be relaxed).

Golden files under tests/warehouse/sql/ hold the Spark SQL that each query becomes, so a
reviewer sees what runs; regenerate them with ``CXLENS_UPDATE_GOLDEN=1 pytest tests/warehouse``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import random
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from sqlglot.errors import UnsupportedError

from cxlens.analytics import queries
from cxlens.warehouse.engine import DuckDBEngine, Engine, ReadOnlyError, normalize_arrow
from cxlens.warehouse.spark import SparkEngine, to_spark_sql

GOLDEN_DIR = Path(__file__).parent / "sql"
SEED = 20261127

EVENT_TYPES = (
    "page_view",
    "email_click",
    "add_to_cart",
    "order",
    "Päivämäärä valittu",
    "Åsa-kampanja",
    "tuki_yhteydenotto",
)
CHANNELS = ("web", "app", "email", "myymälä", "support", None)
STATUSES = ("paid", "paid", "paid", "refunded", None)
# Seconds between a customer's consecutive events: ties (0), exactly the session gap (1800)
# and one second over it, minutes, hours and days.
GAPS = (0, 0, 1, 59, 300, 1799, 1800, 1801, 3600, 86400, 3 * 86400)


def make_dataset(seed: int = SEED) -> dict[str, pa.Table]:
    """Synthetic ``events`` and ``orders`` tables, deterministic for a seed.

    Rows are shuffled so that physical order tells nothing; event ids are random, and each
    event's arrival (``_batch``, ``_line``: the reference queries' tie-breaker, unique per
    row) is a random permutation, so that neither is the insertion order either.
    """
    rng = random.Random(seed)
    start = dt.datetime(2025, 1, 1)
    ev: dict[str, list] = {
        k: [] for k in ("event_id", "customer_id", "ts", "event_type", "channel")
    }
    od: dict[str, list] = {
        k: [] for k in ("order_id", "customer_id", "ts", "amount", "currency", "channel", "status")
    }
    ids = rng.sample(range(100_000, 999_999), 4000)
    for c in range(1, 251):
        customer = f"C{c:04d}"
        ts = start + dt.timedelta(days=rng.randrange(0, 300), seconds=rng.randrange(86400))
        for _ in range(rng.randrange(1, 22)):
            ts += dt.timedelta(seconds=rng.choice(GAPS))
            if rng.random() < 0.1:  # some sources send milliseconds
                ts += dt.timedelta(milliseconds=rng.randrange(1, 1000))
            ev["event_id"].append(f"e{ids.pop()}")
            ev["customer_id"].append(customer)
            ev["ts"].append(ts)
            ev["event_type"].append(rng.choice(EVENT_TYPES))
            ev["channel"].append(rng.choice(CHANNELS))
        ots = start + dt.timedelta(days=rng.randrange(0, 200), seconds=rng.randrange(86400))
        for n in range(rng.choice((0, 1, 1, 2, 3, 5))):
            ots += dt.timedelta(days=rng.choice((0, 3, 20, 35, 70, 120)))
            od["order_id"].append(f"{customer}-{n}")
            od["customer_id"].append(customer)
            od["ts"].append(ots)
            od["amount"].append(Decimal(rng.randrange(100, 50_000)) / 100)
            od["currency"].append(rng.choice(("EUR", "EUR", "SEK", None)))
            od["channel"].append(rng.choice(CHANNELS))
            od["status"].append(rng.choice(STATUSES))
    for i in range(60):  # anonymous events, not yet resolved to a customer
        ev["event_id"].append(f"e{ids.pop()}")
        ev["customer_id"].append(None)
        ev["ts"].append(start + dt.timedelta(minutes=17 * i))
        ev["event_type"].append(rng.choice(EVENT_TYPES))
        ev["channel"].append(rng.choice(CHANNELS))
    lines = list(range(2, len(ev["event_id"]) + 2))  # line 1 is a file's header
    rng.shuffle(lines)
    events = pa.table(
        {
            "event_id": pa.array(ev["event_id"], pa.string()),
            "customer_id": pa.array(ev["customer_id"], pa.string()),
            "ts": pa.array(ev["ts"], pa.timestamp("us")),
            "event_type": pa.array(ev["event_type"], pa.string()),
            "channel": pa.array(ev["channel"], pa.string()),
            "_batch": pa.array([line % 3 + 1 for line in lines], pa.int32()),
            "_line": pa.array(lines, pa.int64()),
        }
    )
    orders = pa.table(
        {
            "order_id": pa.array(od["order_id"], pa.string()),
            "customer_id": pa.array(od["customer_id"], pa.string()),
            "ts": pa.array(od["ts"], pa.timestamp("us")),
            "amount": pa.array(od["amount"], pa.decimal128(18, 4)),
            "currency": pa.array(od["currency"], pa.string()),
            "channel": pa.array(od["channel"], pa.string()),
            "status": pa.array(od["status"], pa.string()),
        }
    )

    def shuffled(t: pa.Table) -> pa.Table:
        order = list(range(t.num_rows))
        rng.shuffle(order)
        return t.take(order)

    return {"events": shuffled(events), "orders": shuffled(orders)}


@pytest.fixture(scope="module")
def dataset() -> dict[str, pa.Table]:
    return make_dataset()


@pytest.fixture(scope="module")
def duck(dataset: dict[str, pa.Table]) -> DuckDBEngine:
    engine = DuckDBEngine(duckdb.connect())
    for name, table in dataset.items():
        engine.register(name, table)
    return engine


@pytest.fixture(scope="module")
def sparkeng(spark, dataset: dict[str, pa.Table]) -> SparkEngine:
    engine = SparkEngine(spark.newSession())  # own temporary views
    for name, table in dataset.items():
        engine.register(name, table)
    return engine


def assert_same_result(left: pa.Table, right: pa.Table, *, ordered: bool = False) -> None:
    """Equal schemas, equal rows (sorted on every column unless ``ordered``), floats ±1e-9."""
    assert left.schema == right.schema, f"\n{left.schema}\n!=\n{right.schema}"
    assert left.num_rows == right.num_rows
    if not ordered:
        keys = [(f.name, "ascending") for f in left.schema if not pa.types.is_nested(f.type)]
        left = left.sort_by(keys)
        right = right.sort_by(keys)
    for name in left.column_names:
        a, b = left[name].to_pylist(), right[name].to_pylist()
        if pa.types.is_floating(left.schema.field(name).type):
            bad = [
                (i, x, y)
                for i, (x, y) in enumerate(zip(a, b, strict=True))
                if not (x is None and y is None)
                and (x is None or y is None or not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12))
            ]
        else:
            bad = [(i, x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        assert not bad, f"column {name!r} differs at (row, left, right): {bad[:5]}"


# ---------------------------------------------------------------------------------------
# The analytic queries
# ---------------------------------------------------------------------------------------

QUERY_FUNCTIONS = {name: getattr(queries, name) for name in queries.QUERIES}


def test_dataset_has_the_hard_cases(dataset: dict[str, pa.Table]) -> None:
    events = dataset["events"]
    assert events.num_rows > 2000
    keyed = [
        (c, t)
        for c, t in zip(events["customer_id"].to_pylist(), events["ts"].to_pylist(), strict=True)
        if c
    ]
    assert len(keyed) > len(set(keyed)), "no timestamp ties"
    assert events["customer_id"].null_count > 0 and events["channel"].null_count > 0
    assert any("ä" in t for t in events["event_type"].to_pylist())


@pytest.mark.parametrize("name", sorted(QUERY_FUNCTIONS))
def test_query_runs_on_duckdb(duck: Engine, name: str) -> None:
    result = QUERY_FUNCTIONS[name](duck)
    assert result.num_rows > 0


@pytest.mark.spark
@pytest.mark.parametrize("name", sorted(QUERY_FUNCTIONS))
def test_query_parity(duck: Engine, sparkeng: Engine, name: str) -> None:
    assert_same_result(QUERY_FUNCTIONS[name](duck), QUERY_FUNCTIONS[name](sparkeng))


@pytest.mark.spark
def test_sessions_parameter_is_bound_on_both(duck: Engine, sparkeng: Engine) -> None:
    five = queries.sessions(duck, gap_minutes=5)
    assert five.num_rows > queries.sessions(duck).num_rows
    assert_same_result(five, queries.sessions(sparkeng, gap_minutes=5))


def test_ties_are_resolved_by_arrival(duck: Engine, dataset: dict[str, pa.Table]) -> None:
    """Events of one customer at the same moment follow each other in arrival order
    (``_batch``, ``_line``), whatever their event ids say."""
    arrival = {r["event_id"]: (r["_batch"], r["_line"])
               for r in dataset["events"].select(["event_id", "_batch", "_line"]).to_pylist()}
    gaps = queries.event_gaps(duck)
    tied = [s for s in gaps["seconds_since_prev"].to_pylist() if s == 0]
    assert tied, "the data set should contain events at the same second"
    rows = gaps.to_pylist()
    against_ids = 0
    for prev, cur in itertools.pairwise(rows):
        if prev["customer_id"] == cur["customer_id"] and prev["ts"] == cur["ts"]:
            assert arrival[prev["event_id"]] < arrival[cur["event_id"]]
            assert cur["prev_event_type"] == prev["event_type"]
            against_ids += prev["event_id"] > cur["event_id"]
    assert against_ids, "some ties should go against the event ids' order"


def test_session_gap_is_exclusive(duck: DuckDBEngine) -> None:
    """A gap of exactly 30 minutes continues the session; 30 min 1 s starts a new one."""
    con = duckdb.connect()
    engine = DuckDBEngine(con)
    t0 = dt.datetime(2025, 5, 1, 12)
    engine.register(
        "events",
        pa.table(
            {
                "event_id": ["a", "b", "c"],
                "customer_id": ["Åsa", "Åsa", "Åsa"],
                "ts": pa.array(
                    [t0, t0 + dt.timedelta(seconds=1800), t0 + dt.timedelta(seconds=3601)],
                    pa.timestamp("us"),
                ),
                "event_type": ["x", "y", "z"],
                "_batch": [1, 1, 1],
                "_line": [2, 3, 4],
            }
        ),
    )
    result = queries.sessions(engine).to_pylist()
    assert [(r["session_no"], r["events"], r["path"]) for r in result] == [
        (1, 2, "x > y"),
        (2, 1, "z"),
    ]


@pytest.mark.spark
def test_ties_without_event_ids_are_the_same_on_both(spark) -> None:
    """Two events of one customer at the same moment, neither with an ``event_id`` (as GA4
    and Mailchimp send them): both engines put them in arrival order (``_batch``, ``_line``),
    which here is neither the rows' physical order nor the order of their types."""
    t0 = dt.datetime(2025, 5, 1, 12)
    events = pa.table({
        "event_id": pa.array([None] * 5, pa.string()),
        "customer_id": ["Åsa", "Åsa", "Åsa", "Bo", "Bo"],
        "ts": pa.array([t0, t0, t0 + dt.timedelta(minutes=1), t0, t0], pa.timestamp("us")),
        "event_type": ["b", "a", "c", "y", "x"],
        "channel": ["web", "email", None, "app", "web"],
        "_batch": pa.array([2, 1, 2, 3, 3], pa.int32()),
        "_line": pa.array([5, 9, 3, 7, 4], pa.int64()),
    })
    duck_eng = DuckDBEngine(duckdb.connect())
    spark_eng = SparkEngine(spark.newSession())  # the shared session's views stay as they are
    for eng in (duck_eng, spark_eng):
        eng.register("events", events)
    paths = queries.event_paths(duck_eng).to_pylist()
    assert [(r["customer_id"], r["path"], r["first_event_type"]) for r in paths] == [
        ("Bo", "x > y", "x"), ("Åsa", "a > b > c", "a")]
    gaps = queries.event_gaps(duck_eng).to_pylist()
    assert [(r["event_type"], r["prev_event_type"], r["prev_channel"]) for r in gaps] == [
        ("x", None, "none"), ("y", "x", "web"),
        ("a", None, "none"), ("b", "a", "email"), ("c", "b", "web")]
    assert [r["path"] for r in queries.sessions(duck_eng).to_pylist()] == ["x > y", "a > b > c"]
    for fn in (queries.event_gaps, queries.event_paths, queries.sessions):
        assert_same_result(fn(duck_eng), fn(spark_eng), ordered=True)


@pytest.mark.parametrize("name", sorted(queries.QUERIES))
def test_golden_spark_sql(name: str) -> None:
    """The transpiled Spark SQL is what the golden file says (review changes to it)."""
    path = GOLDEN_DIR / f"{name}.sql"
    text = to_spark_sql(queries.QUERIES[name]) + "\n"
    if os.environ.get("CXLENS_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}; run with CXLENS_UPDATE_GOLDEN=1"
    assert path.read_text(encoding="utf-8") == text, (
        f"{path.name} is out of date; review the change and regenerate with CXLENS_UPDATE_GOLDEN=1"
    )


# ---------------------------------------------------------------------------------------
# Constructs that translate correctly (docs/engine.md, "safe"): one case per pitfall checked
# ---------------------------------------------------------------------------------------

SAFE: dict[str, str] = {
    "qualify": """
        SELECT customer_id, event_id AS last_event FROM events WHERE customer_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY ts DESC, event_id DESC) = 1
    """,
    "lag_lead_with_default": """
        SELECT event_id, lag(event_type, 2, '-') OVER w AS lag2, lead(ts) OVER w AS next_ts
        FROM events WINDOW w AS (PARTITION BY customer_id ORDER BY ts, event_id)
    """,
    "lag_ignore_nulls": """
        SELECT event_id,
               lag(channel IGNORE NULLS) OVER (PARTITION BY customer_id ORDER BY ts, event_id)
                   AS last_known_channel
        FROM events
    """,
    "date_trunc_timestamp": """
        SELECT event_id, date_trunc('month', ts) AS m, date_trunc('week', ts) AS w,
               date_trunc('day', ts) AS d, date_trunc('hour', ts) AS h
        FROM events
    """,
    "date_trunc_to_date": """
        SELECT event_id, CAST(date_trunc('month', CAST(ts AS DATE)) AS DATE) AS m,
               CAST(ts AS DATE) AS d
        FROM events
    """,
    "epoch_whole_seconds": """
        SELECT event_id, CAST(floor(epoch(ts)) AS BIGINT) AS s FROM events
    """,
    "string_agg_ordered": """
        SELECT customer_id, string_agg(channel, '|' ORDER BY ts DESC, event_id DESC) AS chans
        FROM events GROUP BY customer_id
    """,
    "regexp_match_extract": """
        SELECT event_id, regexp_matches(event_type, '^[a-z]+_') AS m,
               regexp_extract(event_type, '([a-z]+)_([a-z]+)', 2) AS second_word,
               event_type ~ '^[PÅ]' AS nordic_start
        FROM events
    """,
    "regexp_replace_global": """
        SELECT event_id, regexp_replace(event_type, '[aä]', '*', 'g') AS r FROM events
    """,
    "try_cast": """
        SELECT event_id, try_cast(substr(event_id, 2) AS INTEGER) AS n,
               try_cast(channel AS INTEGER) AS bad
        FROM events
    """,
    "strptime_strftime_roundtrip": """
        SELECT event_id, strftime(ts, '%Y-%m') AS ym,
               strptime(strftime(ts, '%d.%m.%Y %H:%M:%S'), '%d.%m.%Y %H:%M:%S') AS parsed
        FROM events
    """,
    "md5_sha256": """
        SELECT event_id, md5(coalesce(customer_id, '') || '|' || event_type) AS k,
               sha256(event_id) AS h
        FROM events
    """,
    "count_distinct_and_filter": """
        SELECT customer_id, count(DISTINCT event_type) AS types,
               count(DISTINCT (event_type, channel)) AS pairs,
               count(*) FILTER (WHERE channel = 'myymälä') AS store_events,
               count(channel) AS with_channel
        FROM events GROUP BY customer_id
    """,
    "arg_max_struct_tiebreak": """
        SELECT customer_id,
               arg_max(event_type, struct_pack(t := ts, id := event_id)) AS last_type,
               max_by(channel, event_id) FILTER (WHERE channel IS NOT NULL) AS last_channel
        FROM events GROUP BY customer_id
    """,
    "concat_with_nulls": """
        SELECT event_id, concat(channel, '/', event_type) AS c, channel || '/' || event_type AS p
        FROM events
    """,
    "nullif_division": """
        SELECT customer_id,
               count(*) / NULLIF(count(*) FILTER (WHERE event_type = 'order'), 0) AS per_order
        FROM events GROUP BY customer_id
    """,
    "explicit_result_types": """
        SELECT customer_id, CAST(sum(length(event_type)) AS BIGINT) AS chars
        FROM events GROUP BY customer_id
    """,
    "decimal_sum_avg": """
        SELECT status, sum(amount) AS total, CAST(avg(amount) AS DOUBLE) AS mean,
               CAST(amount * 2 AS DECIMAL(18, 4)) AS twice
        FROM orders GROUP BY status, amount
    """,
    "date_diff_days_on_dates": """
        SELECT event_id, date_diff('day', CAST(ts AS DATE), DATE '2026-01-01') AS days_left,
               (2026 - year(ts)) * 12 + 1 - month(ts) AS months_left,
               date_diff('day', DATE '2024-01-01', CAST(ts AS DATE)) % 7 AS weekday_mon0
        FROM events
    """,
    "interval_arithmetic": """
        SELECT event_id, ts + INTERVAL 30 MINUTE AS later, ts - INTERVAL '1 day' AS earlier,
               CAST(ts AS DATE) + 1 AS next_day
        FROM events
    """,
    "median": """
        SELECT channel, CAST(median(amount) AS DOUBLE) AS med FROM orders GROUP BY channel
    """,
    "nordic_strings": """
        SELECT event_id, upper(event_type) AS u, lower(event_type) AS l,
               length(event_type) AS n, strpos(event_type, 'ä') AS p,
               replace(event_type, 'ä', 'a') AS r, left(event_type, 3) AS l3,
               split_part(event_type, ' ', 2) AS w2, event_type ILIKE 'PÄIV%' AS il
        FROM events
    """,
    "exclude_and_group_by_all": """
        SELECT * EXCLUDE (ts) FROM (
            SELECT customer_id, channel, count(*) AS n, max(ts) AS ts FROM events GROUP BY ALL
        )
    """,
    "cumulative_window_sum": """
        SELECT event_id,
               CAST(sum(CASE WHEN channel IS NULL THEN 1 ELSE 0 END) OVER (
                   PARTITION BY customer_id ORDER BY ts, event_id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS no_channel,
               count(*) OVER (PARTITION BY customer_id) AS n
        FROM events
    """,
}

ORDERED_SAFE: dict[str, str] = {
    # sqlglot writes NULLS LAST explicitly: DuckDB sorts NULLs last, Spark first by default.
    "null_ordering": """
        SELECT event_id, channel FROM events
        ORDER BY channel, event_id
    """,
    "null_ordering_desc": """
        SELECT event_id, channel FROM events
        ORDER BY channel DESC, event_id DESC
    """,
}


@pytest.mark.spark
@pytest.mark.parametrize("case", sorted(SAFE))
def test_safe_construct_parity(duck: Engine, sparkeng: Engine, case: str) -> None:
    assert_same_result(duck.query(SAFE[case]), sparkeng.query(SAFE[case]))


@pytest.mark.spark
@pytest.mark.parametrize("case", sorted(ORDERED_SAFE))
def test_ordering_parity(duck: Engine, sparkeng: Engine, case: str) -> None:
    assert_same_result(
        duck.query(ORDERED_SAFE[case]), sparkeng.query(ORDERED_SAFE[case]), ordered=True
    )


@pytest.mark.spark
def test_named_parameters(duck: Engine, sparkeng: Engine) -> None:
    sql = "SELECT count(*) AS n FROM events WHERE channel = $ch AND ts >= $since"
    params = {"ch": "myymälä", "since": dt.datetime(2025, 6, 1)}
    assert_same_result(duck.query(sql, params), sparkeng.query(sql, params))
    assert duck.query(sql, params)["n"][0].as_py() > 0


@pytest.mark.spark
def test_list_parameter_and_days_from_a_column(duck: Engine, sparkeng: Engine) -> None:
    """A list parameter unnested into rows (``EXPLODE(:days)`` on Spark), and a number of
    days from a column added to a timestamp (``d * INTERVAL 1 DAY``): what
    ``value_by_group`` uses for its horizons."""
    sql = """
        WITH h AS (SELECT unnest($days) AS d)
        SELECT h.d AS d, count(*) AS n, max(o.ts + h.d * INTERVAL 1 DAY) AS last_end
        FROM orders AS o CROSS JOIN h
        WHERE o.ts + h.d * INTERVAL 1 DAY <= $until
        GROUP BY h.d ORDER BY d
    """
    params = {"days": [1, 30, 90], "until": dt.datetime(2025, 9, 1, 12, 30)}
    left = duck.query(sql, params)
    assert_same_result(left, sparkeng.query(sql, params), ordered=True)
    assert left["d"].to_pylist() == [1, 30, 90] and left["n"][2].as_py() > 0


@pytest.mark.spark
def test_naive_datetime_parameters_mean_utc_in_any_local_zone(
        duck: Engine, sparkeng: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A naive datetime parameter is UTC on both engines whatever the process's TZ is
    (PySpark alone would read it in the local zone: 10:00 became 07:00 in Helsinki)."""
    sql = "SELECT $at AS at, $days AS days"
    params = {"at": dt.datetime(2026, 4, 1, 10), "days": [dt.datetime(2026, 7, 1, 0, 30)]}
    monkeypatch.setenv("TZ", "Europe/Helsinki")
    time.tzset()
    try:
        right = sparkeng.query(sql, params)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert_same_result(duck.query(sql, params), right)
    assert right["at"][0].as_py() == dt.datetime(2026, 4, 1, 10, tzinfo=dt.UTC)
    assert right["days"][0].as_py() == [dt.datetime(2026, 7, 1, 0, 30, tzinfo=dt.UTC)]


# ---------------------------------------------------------------------------------------
# Constructs SQLGlot translates without error into something else: refused
# ---------------------------------------------------------------------------------------

UNSAFE: dict[str, str] = {
    "ordered_list": """
        SELECT customer_id, list(event_type ORDER BY ts, event_id) AS path
        FROM events GROUP BY customer_id
    """,
    "regexp_replace_first": """
        SELECT event_id, regexp_replace(event_type, '[aä]', '*') AS r FROM events
    """,
    "date_diff_boundaries": """
        SELECT event_id, date_diff('hour', ts, TIMESTAMP '2026-01-01 00:30:00') AS h
        FROM events
    """,
    "percentile_within_group": """
        SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY amount) AS p90 FROM orders
    """,
    "day_of_week": """
        SELECT event_id, dayofweek(ts) AS dow, isodow(ts) AS iso FROM events
    """,
    "at_time_zone": """
        SELECT event_id, ts AT TIME ZONE 'Europe/Helsinki' AS local_ts FROM events
    """,
}


# Translated without complaint and not refused (the difference depends on the data), so
# docs/engine.md tells how to write them; these tests prove the difference is real.
UNGUARDED: dict[str, str] = {
    # DuckDB's arg_max skips rows whose value is NULL; Spark's max_by returns that NULL.
    "arg_max_null_values": """
        SELECT customer_id, arg_max(channel, event_id) AS last_channel
        FROM events GROUP BY customer_id
    """,
    # DuckDB keeps the fraction of a second, Spark's UNIX_TIMESTAMP truncates to BIGINT.
    "epoch_fraction": "SELECT event_id, epoch(ts) AS s FROM events",
    # Division by zero: DuckDB gives NULL/inf, Spark (ANSI mode) raises.
    "division_by_zero": """
        SELECT customer_id, count(*) / count(*) FILTER (WHERE event_type = 'nope') AS r
        FROM events GROUP BY customer_id
    """,
    # Decimal division: DuckDB gives DOUBLE, Spark DECIMAL(38, 6).
    "decimal_division": "SELECT order_id, amount / 3 AS third FROM orders",
    # sum of integers: DuckDB HUGEINT (Arrow decimal(38,0)), Spark BIGINT.
    "sum_of_integers": """
        SELECT customer_id, sum(length(event_type)) AS chars FROM events GROUP BY customer_id
    """,
}


@pytest.mark.spark
@pytest.mark.parametrize("case", sorted(UNGUARDED))
def test_unguarded_difference_is_real(duck: Engine, sparkeng: SparkEngine, case: str) -> None:
    left = duck.query(UNGUARDED[case])
    try:
        right = sparkeng.query(UNGUARDED[case])
    except Exception as exc:  # Spark refuses at run time: also a difference
        assert "DIVIDE_BY_ZERO" in str(exc)
        return
    with pytest.raises(AssertionError):
        assert_same_result(left, right)


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_construct_is_refused(case: str) -> None:
    with pytest.raises(UnsupportedError, match="not portable to Spark"):
        to_spark_sql(UNSAFE[case])


@pytest.mark.spark
@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_construct_really_differs(duck: Engine, sparkeng: SparkEngine, case: str) -> None:
    """Without the guard, the Spark answer differs. If this fails, SQLGlot fixed it."""
    raw = sqlglot.transpile(UNSAFE[case], read="duckdb", write="spark")[0]
    left = duck.query(UNSAFE[case])
    right = normalize_arrow(sparkeng.spark.sql(raw).toArrow())
    with pytest.raises(AssertionError):
        assert_same_result(left, right)


# ---------------------------------------------------------------------------------------
# Engine behaviour that needs no Spark
# ---------------------------------------------------------------------------------------


def test_engines_refuse_writes(duck: DuckDBEngine) -> None:
    with pytest.raises(ReadOnlyError):
        duck.query("CREATE TABLE x AS SELECT 1 AS a")
    with pytest.raises(ReadOnlyError):
        duck.query("SELECT 1 AS a; SELECT 2 AS b")
    with pytest.raises(ReadOnlyError):
        to_spark_sql("DELETE FROM events")


def test_duckdb_tables_lists_registered_and_created(dataset: dict[str, pa.Table]) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE customers (customer_id VARCHAR)")
    engine = DuckDBEngine(con)
    engine.register("events", dataset["events"])
    assert engine.tables() == ["customers", "events"]
    assert isinstance(engine, Engine)


def test_normalize_arrow_unifies_types() -> None:
    table = pa.table(
        {
            "n": pa.array([1], pa.int32()),
            "ts": pa.array([dt.datetime(2025, 1, 1, 12)], pa.timestamp("ns")),
            "d": pa.array([Decimal("1.5")], pa.decimal128(28, 4)),
            "s": pa.array(["Åsa"], pa.large_string()),
            "l": pa.array([[1, 2]], pa.large_list(pa.int32())),
        },
    )
    table = table.cast(table.schema.set(0, pa.field("n", pa.int32(), nullable=False)))
    out = normalize_arrow(table)
    assert out.schema == pa.schema(
        {
            "n": pa.int64(),
            "ts": pa.timestamp("us", tz="UTC"),
            "d": pa.decimal128(38, 4),
            "s": pa.string(),
            "l": pa.list_(pa.int64()),
        }
    )
    assert out["ts"][0].as_py() == dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)


@pytest.mark.spark
def test_spark_engine_needs_utc(spark) -> None:
    session = spark.newSession()  # its own settings: the shared session stays in UTC
    session.conf.set("spark.sql.session.timeZone", "Europe/Helsinki")
    with pytest.raises(ValueError, match="UTC"):
        SparkEngine(session)


@pytest.mark.spark
def test_spark_tables(sparkeng: SparkEngine) -> None:
    assert {"events", "orders"} <= set(sparkeng.tables())
