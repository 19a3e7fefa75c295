"""The SQL of the business moments: who met a moment, who is compared with them, and when.

Private to the journeys family (``moments.py``, ``survival.py`` and ``actions.py`` build on
it). One **unit** is a customer at an index time for one moment:

* **treated** (``g = 1``): the customer's first meeting of the moment, at ``t0``, when they
  were already known (a touchpoint before ``t0``) and ``t0`` is in ``[origin, last_index]``
  (the caller sets ``last_index`` so that the whole horizon after it is observed);
* **comparison** (``g = 0``): every customer of the selection — those who meet the moment
  later included — gets one index time, without randomness. The customers are ranked once by
  ``md5(customer_id)`` (``rk``); per moment the rank is turned by :data:`GOLDEN` of the
  customers times the moment's number, and its quantile ``u`` draws the time in the
  treated's stratum shares: treated whose last order came less than :data:`ANCHOR_DAYS`
  before their index ("just bought", ``s = 1``) are matched by a time the same delay after
  the comparison customer's own order with the same order number (the delay's day and the
  order number drawn from the treated's shares); the others (``s = 0``) by a bucket of
  ``width`` seconds with the treated's share of each bucket and a time inside it, as a
  stratified draw. They count when they were known before that time and had not met the
  moment by then ("not yet"); the rest are not comparable and left out.

A customer is in at most two units per moment: treated at their first meeting, and compared
before it. Drawing the comparison from everyone not yet met — not only from those who never
meet it — keeps it from leaning towards the customers who never do (for a moment that follows
an order, those who order less). The bootstrap resamples units; a customer's two units are
on opposite sides of the difference and positively correlated, so treating them as
independent errs towards wider intervals (docs/methods.md, coverage).

Everything is integer seconds (``ts_s``) and DOUBLE quantiles, the same on both
engines (docs/engine.md). The moments themselves come in ``$moments`` (touchpoint names and
``'A → B'`` pairs: A directly followed by B in the log's order).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any, Literal

from cxlens.analytics.journeys._log import WINDOW, Selection, log_sql
from cxlens.warehouse.engine import Engine

Outcome = Literal["purchase", "repurchase", "revenue", "promoter", "churn"]
OUTCOMES: tuple[str, ...] = ("purchase", "repurchase", "revenue", "promoter", "churn")
ARROW = " → "
DAY = 86400
BUCKET_DAYS = 30
"""Width of the index-time buckets the comparison's times are drawn in."""
ANCHOR_DAYS = 7
"""Treated whose last order is less than this many days before their index time are "just
bought": their comparison's index times are drawn as the same delays after the comparison
customer's own order of the same number (:data:`_UNITS`). Drawn at ordinary times instead,
the comparison has next to nobody days after an order (on the S demo 76 of 129 who met a
delivery delay were without comparable customers)."""
MIX = 1000003
"""A prime: ``rk · MIX + moment number`` modulo the customers gives the second quantile (the
order number's), spread independently of ``u``."""
GOLDEN = 0.6180339887498949
"""Each moment's draw turns the customers' one hash rank by this fraction of the customers
per moment number: a different, still evenly spread, quantile per customer and moment."""
MEMORY_CAP = 13 * 2**28
"""DuckDB's memory for the moments' queries, in bytes (3.25 GiB): beyond it their joins and
aggregates spill to disk. Uncapped, the cells query on the L demo (9 M units) peaked at
7 GB; with 3.25 GiB the cells query alone peaked at 3.74 GB of process memory on L, under the
4 GB target with less spilling than 3 GiB's (bench/journeys.py part e; 2 GiB ran out of
memory: a materialised CTE does not spill)."""


@contextmanager
def capped(engine: Engine) -> Iterator[None]:
    """The queries inside run with DuckDB's memory held to :data:`MEMORY_CAP` (an engine
    without ``memory_cap``, such as Spark, which has its own executors' limits: unchanged)."""
    cap = getattr(engine, "memory_cap", None)
    if cap is None:
        yield
        return
    with cap(MEMORY_CAP):
        yield

# The log rows that are the outcome's event (churn: the absence of a purchase).
EVENT: dict[str, str] = {
    "purchase": "l.kind = 3",
    "revenue": "l.kind = 3",
    "churn": "l.kind = 3",
    "repurchase": "l.kind = 3 AND l.touchpoint = 'repeat_purchase'",
    "promoter": "l.touchpoint = 'answer:promoter'",
}

_MET = f"""seqd AS (
    SELECT customer_id, touchpoint, ts_s, lag(touchpoint) OVER ({WINDOW}) AS prev FROM log
),
hits AS (
    SELECT customer_id, touchpoint AS moment, ts_s FROM log
    WHERE list_contains($moments, touchpoint)
    UNION ALL
    SELECT customer_id, prev || '{ARROW}' || touchpoint AS moment, ts_s FROM seqd
    WHERE prev IS NOT NULL AND list_contains($moments, prev || '{ARROW}' || touchpoint)
),
met AS (SELECT customer_id, moment, min(ts_s) AS t0 FROM hits GROUP BY customer_id, moment)"""
"""Each customer's first meeting (``t0``) of each moment in ``$moments``."""

# The units read a narrower log, ``lg``: the columns they need, with each row's previous
# touchpoint (``prev``) computed in the same pass. It is the one log the query materialises
# (the full log is read once, by it); on the L demo the full log's eleven columns were ~1 GB.
_LG = f"""lg AS (
    SELECT customer_id, ts_s, kind, touchpoint, channel, amount, tie, _line,
           lag(touchpoint) OVER ({WINDOW}) AS prev,
           max(CASE WHEN kind = 3 THEN ts_s END)
               OVER ({WINDOW} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS lo,
           count(CASE WHEN kind = 3 THEN 1 END)
               OVER ({WINDOW} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS nb
    FROM log
)"""

_UNITS = f"""{{log}},
{_LG},
cust AS (
    SELECT customer_id, min(ts_s) AS first_s,
           arg_min(channel, struct_pack(t := ts_s, k := tie, l := _line))
               FILTER (WHERE channel IS NOT NULL) AS ch,
           count(*) FILTER (WHERE kind = 3 AND ts_s <= $last_index) AS n_ord
    FROM lg GROUP BY customer_id
),
ranked AS (
    SELECT customer_id, first_s, n_ord,
           row_number() OVER (ORDER BY md5(customer_id), customer_id) - 1 AS rk,
           count(*) OVER () AS nc
    FROM cust
),
ords AS (
    SELECT customer_id, ts_s,
           row_number() OVER (PARTITION BY customer_id ORDER BY ts_s, tie, _line) - 1 AS k
    FROM lg WHERE kind = 3 AND ts_s <= $last_index
),
hits AS (
    SELECT customer_id, touchpoint AS moment, ts_s, tie, _line, lo, nb FROM lg
    WHERE list_contains($moments, touchpoint)
    UNION ALL
    SELECT customer_id, prev || '{ARROW}' || touchpoint AS moment, ts_s, tie, _line, lo, nb
    FROM lg
    WHERE prev IS NOT NULL AND list_contains($moments, prev || '{ARROW}' || touchpoint)
),
met AS (
    SELECT customer_id, moment, min(ts_s) AS t0,
           nullif(arg_min(coalesce(lo, -1), struct_pack(t := ts_s, k := tie, l := _line)),
                  -1) AS lo,
           arg_min(nb, struct_pack(t := ts_s, k := tie, l := _line)) AS nb
    FROM hits GROUP BY customer_id, moment
),
tr AS (
    SELECT m.customer_id AS customer_id, m.moment AS moment, m.t0 AS idx,
           CASE WHEN m.lo IS NOT NULL AND m.t0 - m.lo < {ANCHOR_DAYS * DAY} THEN 1 ELSE 0 END
               AS s,
           m.t0 - m.lo AS rec, m.nb - 1 AS j
    FROM met AS m JOIN ranked AS c ON c.customer_id = m.customer_id
    WHERE c.first_s < m.t0 AND m.t0 >= $origin AND m.t0 <= $last_index
),
tb AS (
    SELECT moment, s, b, count(*) AS n
    FROM (SELECT moment, s,
                 CASE WHEN s = 1 THEN CAST(floor(CAST(rec AS DOUBLE) / {DAY}) AS BIGINT)
                      ELSE CAST(floor(CAST(idx - $origin AS DOUBLE) / $width) AS BIGINT)
                 END AS b
          FROM tr) AS x
    GROUP BY moment, s, b
),
mm AS (
    SELECT moment, row_number() OVER (ORDER BY moment) AS mno, p1
    FROM (SELECT moment, CAST(sum(s * n) AS DOUBLE) / CAST(sum(n) AS DOUBLE) AS p1
          FROM tb GROUP BY moment) AS d
),
jc AS (
    SELECT moment, j,
           CAST(sum(n) OVER (PARTITION BY moment ORDER BY j
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - n AS DOUBLE)
               / CAST(sum(n) OVER (PARTITION BY moment) AS DOUBLE) AS lo,
           CAST(sum(n) OVER (PARTITION BY moment ORDER BY j
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS DOUBLE)
               / CAST(sum(n) OVER (PARTITION BY moment) AS DOUBLE) AS hi
    FROM (SELECT moment, j, count(*) AS n FROM tr WHERE s = 1 GROUP BY moment, j) AS x
),
cum AS (
    SELECT moment, s, b,
           CAST(sum(n) OVER (PARTITION BY moment, s ORDER BY b
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - n AS DOUBLE)
               / CAST(sum(n) OVER (PARTITION BY moment, s) AS DOUBLE) AS lo,
           CAST(sum(n) OVER (PARTITION BY moment, s ORDER BY b
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS DOUBLE)
               / CAST(sum(n) OVER (PARTITION BY moment, s) AS DOUBLE) AS hi
    FROM tb
),
cand AS (
    SELECT c.customer_id AS customer_id, mm.moment AS moment, mm.mno AS mno,
           c.first_s AS first_s, c.n_ord AS n_ord, c.rk AS rk, c.nc AS nc, mm.p1 AS p1,
           (CAST((c.rk + mm.mno * CAST(floor(c.nc * {GOLDEN}) AS BIGINT)) % c.nc AS DOUBLE)
            + 0.5) / CAST(c.nc AS DOUBLE) AS u
    FROM ranked AS c CROSS JOIN mm
),
pick AS (
    SELECT customer_id, moment, mno, first_s, n_ord, rk,
           (CAST((rk * {MIX} + mno) % nc AS DOUBLE) + 0.5) / CAST(nc AS DOUBLE) AS w,
           CASE WHEN n_ord > 0 AND u < p1 THEN 1 ELSE 0 END AS s,
           CASE WHEN n_ord > 0 AND u < p1 THEN u / p1
                WHEN n_ord > 0 THEN (u - p1) / (1.0 - p1) ELSE u END AS v
    FROM cand
),
drawn AS (
    SELECT k.customer_id AS customer_id, k.moment AS moment, k.mno AS mno,
           k.first_s AS first_s, k.s AS s, k.n_ord AS n_ord, k.rk AS rk, k.w AS w,
           CASE WHEN k.s = 1 THEN q.b * {DAY} ELSE $origin + q.b * $width END
               + CAST(floor((k.v - q.lo) / (q.hi - q.lo)
                            * CASE WHEN k.s = 1 THEN {DAY} ELSE $width END) AS BIGINT) AS dt
    FROM pick AS k
    JOIN cum AS q ON q.moment = k.moment AND q.s = k.s AND k.v >= q.lo AND k.v < q.hi
),
placed AS (
    SELECT customer_id, moment, mno, first_s, dt AS idx FROM drawn WHERE s = 0
    UNION ALL
    SELECT d.customer_id AS customer_id, d.moment AS moment, d.mno AS mno,
           d.first_s AS first_s, o.ts_s + d.dt AS idx
    FROM drawn AS d JOIN jc ON jc.moment = d.moment AND d.w >= jc.lo AND d.w < jc.hi
    JOIN ords AS o ON o.customer_id = d.customer_id AND o.k = jc.j
    WHERE d.s = 1
),
units AS (
    SELECT t.customer_id AS customer_id, t.moment AS moment, mm.mno AS mno, 1 AS g,
           t.idx AS idx
    FROM tr AS t JOIN mm ON mm.moment = t.moment
    UNION ALL
    SELECT d.customer_id AS customer_id, d.moment AS moment, d.mno AS mno, 0 AS g,
           d.idx AS idx
    FROM placed AS d LEFT JOIN met AS m ON m.customer_id = d.customer_id AND m.moment = d.moment
    WHERE d.first_s < d.idx AND d.idx <= $last_index AND (m.t0 IS NULL OR m.t0 > d.idx)
)"""

# Covariates up to a day before the index time (the session of the moment itself is part of
# the moment, not of the customer's past), and the outcome after it, one row per unit.
#
# The past is read off one window instead of a join: each unit is a *probe* row at its
# covariates' end ``idx - DAY`` among its customer's log rows, and running aggregates over the
# rows strictly before it give the counts, the spend and the worst answer. The order key ``k``
# is ``2 · second`` for a probe and ``2 · second + 1`` for a log row, so a probe comes before
# the log rows of its own second, which ``ts_s < idx - DAY`` leaves out: the running
# aggregates are plain ``ROWS … CURRENT ROW`` frames (the probe's own values are NULL), and
# only the 30 days' count needs a ``RANGE`` frame (log keys from ``2 · (t − 30 d) + 1`` to
# ``2t − 1``). ``k`` ties only among rows of one second, and none of them is between a probe
# and its frame's end, so the probes' values are the same in any order of the ties (house
# rule 2 is about results that depend on it). Five ``RANGE … 1 PRECEDING`` frames on seconds
# did the same at ~7 % more of the query's time on L. A join of each unit with every row of
# its customer, grouped per unit, did the same with units × rows pairs: on the L demo 83 M
# joined rows and a 9 M-group hash aggregate holding most of the query's 7 GB peak
# (bench/journeys.py part e). ``cx`` is each customer's first time, channel and segment in
# one small table, joined once (not ``cust`` and ``customers`` one after the other). ``fut`` joins
# the outcome's events only (orders or promoter answers, a few per customer) in the horizon.
# A unit without rows in one of them gets the empty values (0, or no outcome).
_ANS = """CASE WHEN touchpoint IN ('answer:detractor', 'answer:dissatisfied') THEN 3
                WHEN touchpoint IN ('answer:passive', 'answer:neutral') THEN 2
                WHEN touchpoint IN ('answer:promoter', 'answer:satisfied') THEN 1
                ELSE 0 END"""
_RUN = "PARTITION BY customer_id ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
_OBS = f"""{{units}},
pr AS (
    SELECT customer_id, 2 * ts_s + 1 AS k, 1 AS one,
           CASE WHEN kind = 3 THEN 1 ELSE 0 END AS buy, amount, {_ANS} AS ans,
           CAST(NULL AS BIGINT) AS mno, CAST(NULL AS INTEGER) AS g, CAST(NULL AS BIGINT) AS idx,
           CASE WHEN kind = 3 THEN ts_s END AS ot
    FROM lg
    UNION ALL
    SELECT customer_id, 2 * (idx - {DAY}) AS k, CAST(NULL AS INTEGER) AS one,
           CAST(NULL AS INTEGER) AS buy, CAST(NULL AS DECIMAL(18, 4)) AS amount,
           CAST(NULL AS INTEGER) AS ans, mno, g, idx, CAST(NULL AS BIGINT) AS ot
    FROM units
),
win AS (
    SELECT customer_id, mno, g, idx,
           count(one) OVER ({_RUN}) AS n_prior,
           count(one) OVER (PARTITION BY customer_id ORDER BY k
                            RANGE BETWEEN {60 * DAY - 1} PRECEDING AND 1 PRECEDING) AS n_recent,
           sum(buy) OVER ({_RUN}) AS n_buy,
           sum(amount) OVER ({_RUN}) AS spend,
           max(ans) OVER ({_RUN}) AS ans,
           max(ot) OVER ({_RUN}) AS last_buy
    FROM pr
),
past AS (SELECT * FROM win WHERE mno IS NOT NULL),
ev AS (SELECT customer_id, ts_s, amount FROM lg AS l WHERE {{event}}),
fut AS (
    SELECT u.customer_id AS customer_id, u.mno AS mno, u.g AS g, {{outcome}}
    FROM units AS u JOIN ev AS l
        ON l.customer_id = u.customer_id AND l.ts_s > u.idx AND l.ts_s <= u.idx + {{reach}}
    GROUP BY u.customer_id, u.mno, u.g
),
cx AS (
    SELECT c.customer_id AS customer_id, c.first_s AS first_s,
           coalesce(cu.segment, '') AS segment, coalesce(c.ch, '') AS channel
    FROM cust AS c LEFT JOIN customers AS cu ON cu.customer_id = c.customer_id
),
obs AS (
    SELECT p.customer_id AS customer_id, p.mno AS mno, p.g AS g, p.idx AS idx,
           p.n_prior AS n_prior, p.n_recent AS n_recent,
           coalesce(p.n_buy, 0) AS n_buy, CAST(coalesce(p.spend, 0) AS DOUBLE) AS spend,
           coalesce(p.ans, 0) AS ans, p.last_buy AS last_buy, {{fut_cols}}
    FROM past AS p
    LEFT JOIN fut AS f ON f.customer_id = p.customer_id AND f.mno = p.mno AND f.g = p.g
),
cells AS (
    SELECT o.mno AS mno, o.g AS g,
           CASE WHEN o.n_prior = 0 THEN 0 WHEN o.n_prior <= 3 THEN 1 WHEN o.n_prior <= 10
                THEN 2 WHEN o.n_prior <= 25 THEN 3 ELSE 4 END AS prior_touchpoints,
           CASE WHEN o.n_recent = 0 THEN 0 WHEN o.n_recent <= 2 THEN 1 WHEN o.n_recent <= 5
                THEN 2 ELSE 3 END AS recent_touchpoints,
           CASE WHEN o.n_buy = 0 THEN 0 WHEN o.n_buy = 1 THEN 1 WHEN o.n_buy <= 3 THEN 2
                ELSE 3 END AS prior_purchases,
           CASE WHEN o.spend <= 0 THEN 0 WHEN o.spend <= 50 THEN 1 WHEN o.spend <= 200
                THEN 2 ELSE 3 END AS prior_spend,
           o.ans AS prior_answer,
           CASE WHEN o.idx - c.first_s <= {7 * DAY} THEN 0
                WHEN o.idx - c.first_s <= {30 * DAY} THEN 1
                WHEN o.idx - c.first_s <= {90 * DAY} THEN 2
                WHEN o.idx - c.first_s <= {365 * DAY} THEN 3 ELSE 4 END AS tenure,
           CASE WHEN o.last_buy IS NULL THEN 0 WHEN o.idx - o.last_buy <= {7 * DAY} THEN 1
                WHEN o.idx - o.last_buy <= {30 * DAY} THEN 2
                WHEN o.idx - o.last_buy <= {90 * DAY} THEN 3 ELSE 4 END AS last_order,
           c.segment AS segment, c.channel AS channel,
           {{tail_cols}}
    FROM obs AS o JOIN cx AS c ON c.customer_id = o.customer_id
),
agg AS (
    SELECT mno, g, prior_touchpoints, recent_touchpoints, prior_purchases, prior_spend,
           prior_answer, tenure, last_order, segment, channel, {{tail_keys}}, count(*) AS n,
           CAST(sum(y) AS DOUBLE) AS s, CAST(sum(y * y) AS DOUBLE) AS ss
    FROM cells
    GROUP BY ALL
)
SELECT mm.moment AS moment, a.g AS g, a.prior_touchpoints AS prior_touchpoints,
       a.recent_touchpoints AS recent_touchpoints, a.prior_purchases AS prior_purchases,
       a.prior_spend AS prior_spend, a.prior_answer AS prior_answer, a.tenure AS tenure,
       a.last_order AS last_order, a.segment AS segment, a.channel AS channel, {{tail_sel}},
       a.n AS n, a.s AS s, a.ss AS ss
FROM agg AS a JOIN mm ON mm.mno = a.mno
ORDER BY moment, g, prior_touchpoints, recent_touchpoints, prior_purchases, prior_spend,
         prior_answer, tenure, last_order, segment, channel, {{tail_keys}}
"""

COVARIATES: tuple[str, ...] = ("prior_touchpoints", "recent_touchpoints", "prior_purchases",
                               "prior_spend", "prior_answer", "tenure", "last_order",
                               "channel")
"""The covariates, measured before the index time (bins: docs/methods.md). The segment is
returned by the query but not adjusted for: ``customers.segment`` is today's value, not the
value at the index time, and a lifecycle segment ("customer") is set *by* buying — adjusting
for it would adjust for the outcome. It stays a filter (``Selection.segment``)."""

LEVELS: dict[str, tuple[str, ...]] = {
    "prior_touchpoints": ("0", "1–3", "4–10", "11–25", "26+"),
    "recent_touchpoints": ("0", "1–2", "3–5", "6+"),
    "prior_purchases": ("0", "1", "2–3", "4+"),
    "prior_spend": ("0", "≤ 50", "≤ 200", "> 200"),
    "prior_answer": ("none", "promoter or satisfied", "passive or neutral",
                     "detractor or dissatisfied"),
    "tenure": ("≤ 7 d", "≤ 30 d", "≤ 90 d", "≤ 365 d", "> 365 d"),
    "last_order": ("none", "≤ 7 d", "≤ 30 d", "≤ 90 d", "> 90 d"),
}
"""Labels of the binned covariates' codes 0, 1, …; segment and channel are their values."""


def units_sql(log: str) -> str:
    """The ``units`` CTEs after the journey log's (parameters ``$moments``, ``$origin``,
    ``$last_index``, ``$width``)."""
    return _UNITS.format(log=log)


def cells_sql(log: str, outcome: str) -> str:
    """One row per (moment, group, covariate cell, ``pos``): ``n`` units, the sum ``s`` and
    sum of squares ``ss`` of the outcome ``y`` over the horizon ``$horizon`` (seconds);
    ``pos`` is ``y > 0``, so a binary outcome's rows are its classes."""
    if outcome == "revenue":
        fut, y = "sum(l.amount) AS y", "CAST(coalesce(f.y, 0) AS DOUBLE) AS y"
    elif outcome == "churn":  # no purchase in the horizon
        fut, y = "1 AS y", "CASE WHEN f.y IS NULL THEN 1 ELSE 0 END AS y"
    else:
        fut, y = "1 AS y", "coalesce(f.y, 0) AS y"
    return _OBS.format(units=units_sql(log), event=EVENT[outcome], outcome=fut, fut_cols=y,
                       reach="$horizon", tail_keys="pos", tail_sel="a.pos AS pos",
                       tail_cols="o.y AS y, CASE WHEN o.y > 0 THEN 1 ELSE 0 END AS pos")


def times_sql(log: str, outcome: str) -> str:
    """Like :func:`cells_sql`, per (moment, group, cell, ``day``, ``event``): the day after
    the index time when the outcome first happened (``event = 1``) or when follow-up ended
    (``$follow`` seconds after the index, or the data end ``$end_s``; ``event = 0``)."""
    stop = "least(o.idx + $follow, $end_s)"
    cols = (f"CASE WHEN o.t_ev IS NOT NULL AND o.t_ev <= {stop} "
            f"THEN CAST(floor(CAST(o.t_ev - o.idx AS DOUBLE) / {DAY}) AS BIGINT) "
            f"ELSE CAST(floor(CAST({stop} - o.idx AS DOUBLE) / {DAY}) AS BIGINT) END AS day, "
            f"CASE WHEN o.t_ev IS NOT NULL AND o.t_ev <= {stop} THEN 1 ELSE 0 END AS event, "
            "0 AS y")
    return _OBS.format(units=units_sql(log), event=EVENT[outcome],
                       outcome="min(l.ts_s) AS t_ev", fut_cols="f.t_ev AS t_ev",
                       reach="$follow", tail_cols=cols, tail_keys="day, event",
                       tail_sel="a.day AS day, a.event AS event")


_CANDIDATES = f"""{{log}},
seqd AS (
    SELECT customer_id, touchpoint, lag(touchpoint) OVER ({WINDOW}) AS prev FROM log
),
hits AS (
    SELECT customer_id, touchpoint AS moment, 1 AS pair FROM log
    UNION ALL
    SELECT customer_id, prev || '{ARROW}' || touchpoint AS moment, 2 AS pair FROM seqd
    WHERE prev IS NOT NULL AND prev <> touchpoint
)
SELECT moment, pair, count(DISTINCT customer_id) AS customers
FROM hits GROUP BY moment, pair
HAVING count(DISTINCT customer_id) >= $min_customers
ORDER BY pair, customers DESC, moment
"""


def candidates_sql(log: str) -> str:
    """Touchpoints (``pair = 1``) and two-step sequences (``pair = 2``, repeats of one
    touchpoint left out) met by at least ``$min_customers`` customers, the most met first."""
    return _CANDIDATES.format(log=log)


_ACTIONS = f"""{{log}},
{_MET},
after AS (
    SELECT m.customer_id AS customer_id, m.t0 AS t0,
           max(CASE WHEN l.ts_s > m.t0 AND l.ts_s <= m.t0 + $horizon AND l.ts_s < $end_s
                     AND {{event}} THEN 1 ELSE 0 END) AS hit
    FROM met AS m JOIN log AS l ON l.customer_id = m.customer_id
    WHERE m.t0 < $end_s
    GROUP BY m.customer_id, m.t0
)
{{tail}}
"""

_LIST = """SELECT customer_id, t0 FROM after WHERE hit = 0
ORDER BY t0 DESC, customer_id
LIMIT {limit}"""
_COUNT = """SELECT count(*) AS met, CAST(coalesce(sum(1 - hit), 0) AS BIGINT) AS total
FROM after"""


def actions_sql(log: str, outcome: str, limit: int | None) -> str:
    """Customers who met ``$moments``' one moment before ``$end_s`` and have not had the
    outcome's event in the ``$horizon`` seconds after (or until the data end, if sooner):
    the most recent first, at most ``limit`` (an int) rows; with ``limit=None`` instead how
    many ``met`` the moment and the ``total`` without the outcome."""
    tail = _COUNT if limit is None else _LIST.format(limit=int(limit))
    return _ACTIONS.format(log=log, event=EVENT[outcome], tail=tail)


def epoch_of(d: date) -> int:
    """Seconds since 1970 of a day's midnight (UTC), as the log's ``ts_s``."""
    return int((datetime(d.year, d.month, d.day) - datetime(1970, 1, 1)).total_seconds())


def day_of(s: int) -> date:
    """The day of a ``ts_s``."""
    return (datetime(1970, 1, 1) + timedelta(seconds=int(s))).date()


_SPAN = ("{log}\nSELECT min(ts_s) AS first_s, count(*) AS n, CAST(max(ts) AS DATE) AS last_day "
         "FROM log")


def frame(engine: Engine, sel: Selection, within: int,
          as_of: date | None) -> tuple[dict[str, Any], str | None]:
    """The time frame shared by moments and survival: ``origin`` (first touchpoint or the
    period's start), ``end_s`` (the data end) and ``last_index`` (``within`` days before it),
    as parameters, and why nothing can be estimated, if so."""
    log, params = log_sql(sel)
    span = engine.query(_SPAN.format(log=log), params).to_pylist()[0]
    if not span["n"]:
        return {}, "no touchpoints in the selection"
    # reference_end's rule (the period's end, or the day after the last touchpoint), read off
    # the same scan of the log instead of a second one
    end = as_of or sel.end or span["last_day"] + timedelta(days=1)
    origin = epoch_of(sel.start) if sel.start is not None else int(span["first_s"])
    end_s = epoch_of(end)
    last = end_s - int(within) * DAY
    frame = {"origin": origin, "end_s": end_s, "last_index": last, "width": BUCKET_DAYS * DAY}
    if last <= origin:
        return frame, (f"the data span {max(0, (end_s - origin) // DAY)} days, not more than "
                       f"the horizon of {within} days: no moment has its whole horizon "
                       "observed")
    return frame, None
