"""Experience metrics — NPS, CSAT, CES and eNPS — with intervals, change tests and value.

Every function takes an :class:`~cxlens.warehouse.engine.Engine` (DuckDB or Spark), aggregates
in SQL to a few sums per group, and computes the statistics on those sums; nothing here reads
files or renders. The SQL is written once in DuckDB's dialect and keeps to the portable subset
of docs/engine.md, so both engines give the same numbers. Formulas and references:
docs/methods.md ("Experience metrics" onwards).

Scales (``v_feedback.metric``; ``scale_max`` overrides the top for CSAT and CES):

* ``nps`` and ``enps`` (0–10): promoters 9–10, passives 7–8, detractors 0–6; the headline is
  NPS = 100·(p_P − p_D) with the adjusted Wald interval (Rocks 2016).
* ``csat`` (1–5): the headline is the top-two-box share (4–5) in % with Wilson's interval;
  the mean score has a t interval.
* ``ces`` (1–7): the headline is the mean with a t interval; "% easy" is the share of 5–7.

With response ``weights`` the shares and means are weighted and every interval uses Kish's
effective sample size n_eff = (Σw)²/Σw² in place of n. Answers without a usable weight
(NULL, not a number, ≤ 0) are left out and not counted in n.

Periods are half-open ``[start, end)`` dates in the warehouse's time (UTC).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from cxlens.analytics._intervals import (
    Estimate,
    benjamini_hochberg,
    empty,
    mean_interval,
    n_effective,
    newcombe_difference,
    nps_difference,
    nps_interval,
    welch_difference,
    wilson,
)
from cxlens.analytics._value_link import GroupValue, ValueByGroup, Worth, value_by_group
from cxlens.warehouse.engine import Engine

if TYPE_CHECKING:
    from cxlens.analytics.weighting import Weighting

__all__ = [
    "ALPHA",
    "DIMENSIONS",
    "GRAINS",
    "METRICS",
    "MIN_SAMPLE",
    "Comparison",
    "Estimate",
    "GroupValue",
    "Score",
    "SegmentTest",
    "ValueByGroup",
    "Worth",
    "compare_periods",
    "compare_segments",
    "most_informative",
    "score",
    "value_by_group",
]

METRICS: dict[str, int] = {"nps": 10, "enps": 10, "csat": 5, "ces": 7}
"""The metrics measured here and the top of their default scale."""

MIN_SAMPLE = 30
"""Below this many (effective) answers a value is flagged ``too_small`` to act on.

Thirty is where the normal approximations behind the intervals become reasonable for
shares away from 0 and 1, and where an NPS interval is still about ±35 points wide: a
value from fewer answers is shown, but nobody should act on its movement.
"""

ALPHA = 0.05
"""False discovery rate at which ``compare_segments`` calls a difference significant."""

GRAINS = ("day", "week", "month", "quarter")
FEEDBACK_DIMENSIONS = ("touchpoint", "channel", "store_id", "team_id", "language",
                       "survey_id", "source")
CUSTOMER_SHORTCUTS = ("segment", "country", "city")
DIMENSIONS = FEEDBACK_DIMENSIONS + CUSTOMER_SHORTCUTS
"""Names accepted by ``by`` and ``filters``; also ``customer.<column>`` for any column of
``customers`` (``customer.language`` is the customer's language, ``language`` the answer's)."""


# --- results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Agg:
    """Sufficient statistics of one group: counts and weighted sums from the engine."""

    n: int
    sw: float
    sw2: float
    good: float  # Σw over promoters / top-two-box / easy answers
    bad: float  # Σw over detractors (NPS, eNPS)
    sx: float
    sxx: float

    def __sub__(self, o: _Agg) -> _Agg:
        return _Agg(self.n - o.n, self.sw - o.sw, self.sw2 - o.sw2, self.good - o.good,
                    self.bad - o.bad, self.sx - o.sx, self.sxx - o.sxx)

    @property
    def n_eff(self) -> float:
        return n_effective(self.sw, self.sw2)

    @property
    def p_good(self) -> float:
        return self.good / self.sw if self.sw > 0 else math.nan

    @property
    def p_bad(self) -> float:
        return self.bad / self.sw if self.sw > 0 else math.nan

    @property
    def mean(self) -> float:
        return self.sx / self.sw if self.sw > 0 else math.nan

    @property
    def var(self) -> float:
        """Sample variance of the score with the effective n (s² when unweighted)."""
        ne = self.n_eff
        if ne <= 1:
            return math.nan
        pop = max(self.sxx / self.sw - self.mean ** 2, 0.0)
        return pop * ne / (ne - 1)


@dataclass(frozen=True)
class Score:
    """One metric for one group (or overall), with its sample size and intervals.

    ``value`` is the headline: NPS/eNPS in points, CSAT top-two-box %, CES mean.
    ``mean`` is the mean score on the metric's scale (t interval). ``share`` is the %
    of promoters (NPS, eNPS), of top-two-box answers (CSAT; equals ``value``) or of easy
    answers 5–7 (CES), with Wilson's interval. ``detractors`` is the % of detractors (NPS,
    eNPS only).
    """

    metric: str
    n: int
    n_eff: float
    value: Estimate
    mean: Estimate
    share: Estimate
    detractors: Estimate | None
    bucket: date | None = None
    group: Any = None

    @property
    def too_small(self) -> bool:
        """Fewer than MIN_SAMPLE (effective) answers: too uncertain to act on."""
        return self.n_eff < MIN_SAMPLE

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "bucket": self.bucket, "group": self.group,
                "n": self.n, "n_eff": self.n_eff, "too_small": self.too_small,
                "value": self.value.as_dict(), "mean": self.mean.as_dict(),
                "share": self.share.as_dict(),
                "detractors": None if self.detractors is None else self.detractors.as_dict()}


def _score(metric: str, a: _Agg, bucket: date | None = None, group: Any = None) -> Score:
    ne = a.n_eff
    if a.n == 0 or ne <= 0:
        e = empty("none")
        return Score(metric, a.n, ne, e, e, e, None if metric in ("csat", "ces") else e,
                     bucket, group)
    mean = mean_interval(a.mean, a.var, ne)
    share = wilson(a.p_good, ne)
    if metric in ("nps", "enps"):
        return Score(metric, a.n, ne, nps_interval(a.p_good, a.p_bad, ne), mean, share,
                     wilson(a.p_bad, ne), bucket, group)
    return Score(metric, a.n, ne, share if metric == "csat" else mean, mean, share, None,
                 bucket, group)


# --- SQL -------------------------------------------------------------------------------------

def _check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {tuple(METRICS)}, not {metric!r}")
    return metric


def _columns(engine: Engine, table: str) -> set[str]:
    """Column names of a warehouse table or view (from an empty result: portable, unlike
    DESCRIBE)."""
    return set(engine.query(f"SELECT * FROM {table} LIMIT 0").column_names)


def _dimension(engine: Engine, name: str) -> tuple[str, bool]:
    """SQL expression of a grouping or filter dimension and whether it needs ``customers``."""
    if name in FEEDBACK_DIMENSIONS:
        return f"f.{name}", False
    col = name.removeprefix("customer.") if name.startswith("customer.") else name
    if (name in CUSTOMER_SHORTCUTS or name.startswith("customer.")) \
            and col in _columns(engine, "customers"):
        return f'c."{col}"', True
    raise ValueError(f"unknown dimension {name!r}: use one of {DIMENSIONS} "
                     "or customer.<column of customers>")


def _categories(metric: str) -> tuple[str, str]:
    """SQL conditions of a 'good' and a 'bad' answer of the metric."""
    if metric in ("nps", "enps"):
        return "f.score >= 9", "f.score <= 6"
    top = METRICS[metric]
    smax = f"coalesce(f.scale_max, {top})"
    good = f"f.score >= {smax} - 1" if metric == "csat" else f"f.score >= {smax} - 2"
    return good, "false"


def _json_path(key: str) -> str:
    """A JSON path literal selecting the top-level ``key`` (SQLGlot rewrites it for Spark)."""
    return "'$.\"" + key.replace('"', '\\"').replace("'", "''") + "\"'"


def _answer_key(engine: Engine) -> str:
    """SQL of the key a weights mapping uses for an answer: its ``response_id``, or for an
    answer without one (a form export without ids) ``content:`` and its content hash, the
    warehouse's own identity of such a record — so these answers can carry weights too.

    The hash is written as lower-case hex, as the lake stores it (``lake.hash_text``): the
    warehouse holds a 128-bit integer, the lake its hex text, and the key must be the same
    text on both engines."""
    schema = engine.query("SELECT * FROM v_feedback LIMIT 0").schema
    if "_hash" not in schema.names:
        return "f.response_id"
    kind = schema.field("_hash").type
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    hex_hash = "f._hash" if text else "lower(to_hex(f._hash))"
    return f"coalesce(f.response_id, 'content:' || {hex_hash})"


def _weight_expr(engine: Engine, weights: Any) -> tuple[str, str | None]:
    """SQL of the weight and the name of a registered temporary relation (joined as ``wt``,
    to drop afterwards). A :class:`~cxlens.analytics.weighting.Weighting` is joined from its
    own CTEs instead (see ``_aggregate``)."""
    from cxlens.analytics.weighting import Weighting

    if weights is None:
        return "1.0", None
    if isinstance(weights, Weighting):
        return "wt.w", None
    if isinstance(weights, str):
        if weights in _columns(engine, "v_feedback"):
            return f'TRY_CAST(f."{weights}" AS DOUBLE)', None
        return f"TRY_CAST(json_extract_string(f.properties, {_json_path(weights)}) AS DOUBLE)", \
            None
    if isinstance(weights, Mapping):
        name = "_cx_w_" + uuid.uuid4().hex[:12]
        tbl = pa.table({"response_id": pa.array([str(k) for k in weights], pa.string()),
                        "w": pa.array([float(v) for v in weights.values()], pa.float64())})
        engine.register(name, tbl)
        return "wt.w", name
    raise TypeError("weights must be a column or property name, a Weighting, or a mapping "
                    "response_id → weight")


def _bucket(grain: str) -> str:
    """SQL of the start day of an answer's ``grain`` bucket (weeks start on Monday)."""
    if grain not in GRAINS:
        raise ValueError(f"period must be one of {GRAINS}, not {grain!r}")
    return f"CAST(date_trunc('{grain}', f.ts) AS DATE)"


def _answers_where(engine: Engine, metric: str, start: date | None,
                   end: date | None, filters: Mapping[str, Any] | None, prefix: str = "",
                   ) -> tuple[list[str], dict[str, Any], bool]:
    """Conditions (on ``v_feedback f``, maybe ``customers c``) that select the metric's answers
    in ``[start, end)`` matching ``filters``; their parameters; whether ``c`` is needed.
    Shared by the scores and the weighting, so both see exactly the same answers.
    ``prefix`` starts every parameter's name, so that two sets of conditions (a score's and
    its weighting's) can share one query."""
    _check_metric(metric)
    x = prefix
    where = [f"f.metric = ${x}m", "f.score IS NOT NULL"]
    params: dict[str, Any] = {f"{x}m": metric}
    join = False
    if start is not None:
        where.append(f"f.ts >= ${x}s")
        params[f"{x}s"] = start
    if end is not None:
        where.append(f"f.ts < ${x}e")
        params[f"{x}e"] = end
    for i, (k, v) in enumerate((filters or {}).items()):
        e, j = _dimension(engine, k)
        join |= j
        if isinstance(v, (list, tuple, set, frozenset)):
            values = sorted({str(x) for x in v})
            if not values:
                where.append("false")
            else:  # one parameter per value: IN (...) reads the same on both engines
                names = [f"{x}f{i}_{n}" for n in range(len(values))]
                where.append(f"{e} IN ({', '.join('$' + m for m in names)})")
                params.update(zip(names, values, strict=True))
        else:
            where.append(f"{e} = ${x}f{i}")
            params[f"{x}f{i}"] = str(v)
    return where, params, join


def _drop(engine: Engine, name: str) -> None:
    """Forget a relation registered for one query (engines without ``unregister`` keep it
    until their connection or session ends)."""
    unregister = getattr(engine, "unregister", None)
    if unregister is not None:
        unregister(name)


def _aggregate(engine: Engine, metric: str, keys: Sequence[str],
               start: date | None, end: date | None, weights: Any,
               filters: Mapping[str, Any] | None, grain: str | None = None,
               ) -> list[tuple[tuple[Any, ...], _Agg]]:
    """Sums per group of (bucket?, *keys) for the metric's answers in [start, end)."""
    exprs: list[str] = []
    if grain is not None:
        exprs.append(_bucket(grain))
    where, params, join = _answers_where(engine, metric, start, end, filters)
    for k in keys:
        e, j = _dimension(engine, k)
        exprs.append(e)
        join |= j
    good, bad = _categories(metric)
    wexpr, registered = _weight_expr(engine, weights)
    sel = ", ".join(f"{e} AS k{i}" for i, e in enumerate(exprs))
    kcols = ", ".join(f"k{i}" for i in range(len(exprs)))
    ctes, wjoin = "", ""
    if registered:
        wjoin = f"LEFT JOIN {registered} wt ON wt.response_id = {_answer_key(engine)}"
    elif wexpr == "wt.w":  # a Weighting: its weights are computed in the same query
        ctes = weights.sql_for(engine) + ","
        params = {**params, **weights.params}
        wjoin = f"LEFT JOIN _wts wt ON wt.r = {_answer_key(engine)}"
    sql = f"""
        WITH {ctes} a AS (
          SELECT {sel + ',' if sel else ''} CAST(f.score AS DOUBLE) AS x, {wexpr} AS w,
                 CAST({good} AS INTEGER) AS g, CAST({bad} AS INTEGER) AS b
          FROM v_feedback f
          {'LEFT JOIN customers c ON c.customer_id = f.customer_id' if join else ''}
          {wjoin}
          WHERE {' AND '.join(where)}
        )
        SELECT {kcols + ',' if kcols else ''} count(*) AS n, sum(w) AS sw, sum(w * w) AS sw2,
               sum(w * g) AS good, sum(w * b) AS bad, sum(w * x) AS sx, sum(w * x * x) AS sxx
        FROM a WHERE w > 0 AND w < CAST('Infinity' AS DOUBLE)
        {'GROUP BY ' + kcols + ' ORDER BY ' + kcols + ' NULLS LAST' if kcols else ''}
    """
    # w < Infinity also drops NaN: both engines order NaN above every other double.
    try:
        rows = engine.query(sql, params).to_pylist()
    finally:
        if registered:
            _drop(engine, registered)
    k = len(exprs)
    out = []
    for r in rows:
        n = int(r["n"])
        vals = [0.0 if r[c] is None else float(r[c])
                for c in ("sw", "sw2", "good", "bad", "sx", "sxx")]
        out.append((tuple(r[f"k{i}"] for i in range(k)), _Agg(n, *vals)))
    return out


# --- scores ----------------------------------------------------------------------------------

def score(engine: Engine, metric: str, by: str | None = None,
          period: str | None = None, start: date | None = None, end: date | None = None,
          weights: str | Weighting | Mapping[str, float] | None = None,
          filters: Mapping[str, Any] | None = None) -> list[Score]:
    """The metric overall, or per group of ``by`` and/or per ``period`` bucket.

    ``by``: a dimension (``touchpoint``, ``channel``, ``store_id``, ``team_id``,
    ``language``, ``survey_id``, ``source``, ``segment``, ``country``, ``city`` or
    ``customer.<column>``); answers whose group is NULL form the group ``None``.
    ``period``: ``day``, ``week`` (Monday), ``month`` or ``quarter`` buckets (``bucket``).
    ``filters``: dimension → value or list of values, e.g. ``{"segment": "B2B"}``.
    ``weights``: a ``v_feedback`` column or ``properties`` key holding the weight, a
    :class:`~cxlens.analytics.weighting.Weighting` (computed in the same query, nothing
    per answer leaves the engine), or a mapping ``response_id → weight`` (an answer
    without a ``response_id`` is keyed ``content:<its content hash>``, as
    :func:`cxlens.analytics.weighting.poststratify` does).

    Without ``by`` and ``period`` the list has one Score (n = 0 when there are no answers).
    Groups without answers are absent.
    """
    keys = [by] if by else []
    rows = _aggregate(engine, metric, keys, start, end, weights, filters, grain=period)
    if not keys and period is None:
        agg = rows[0][1] if rows else _Agg(0, 0, 0, 0, 0, 0, 0)
        return [_score(metric, agg)]
    out = []
    for k, a in rows:
        bucket = k[0] if period else None
        group = k[-1] if by else None
        out.append(_score(metric, a, bucket, group))
    return out


# --- change tests ------------------------------------------------------------------------

def _difference(metric: str, on: str, a: _Agg, b: _Agg) -> tuple[Estimate, float | None]:
    na, nb = a.n_eff, b.n_eff
    if na < 2 or nb < 2:
        return empty("none"), None
    if on == "value" and metric in ("nps", "enps"):
        return nps_difference(a.p_good, a.p_bad, na, b.p_good, b.p_bad, nb)
    if on == "share" or (on == "value" and metric == "csat"):
        return newcombe_difference(a.p_good, na, b.p_good, nb)
    return welch_difference(a.mean, a.var, na, b.mean, b.var, nb)


def _check_on(on: str) -> str:
    if on not in ("value", "mean", "share"):
        raise ValueError(f"on must be 'value', 'mean' or 'share', not {on!r}")
    return on


@dataclass(frozen=True)
class Comparison:
    """The metric in two periods and their difference (current − previous)."""

    metric: str
    on: str
    current_period: tuple[date, date]
    previous_period: tuple[date, date]
    current: Score
    previous: Score
    difference: Estimate
    p_value: float | None


def _grain_start(d: date, grain: str) -> date:
    if grain == "day":
        return d
    if grain == "week":
        return d - timedelta(days=d.weekday())
    if grain == "month":
        return d.replace(day=1)
    if grain == "quarter":
        return d.replace(month=3 * ((d.month - 1) // 3) + 1, day=1)
    raise ValueError(f"grain must be one of {GRAINS}, not {grain!r}")


def _shift(d: date, grain: str, steps: int) -> date:
    if grain == "day":
        return d + timedelta(days=steps)
    if grain == "week":
        return d + timedelta(weeks=steps)
    months = steps * (1 if grain == "month" else 3)
    m = d.year * 12 + d.month - 1 + months
    return date(m // 12, m % 12 + 1, 1)


def compare_periods(engine: Engine, metric: str, grain: str = "month",
                    as_of: date | None = None, *, on: str = "value",
                    current: tuple[date, date] | None = None,
                    previous: tuple[date, date] | None = None,
                    weights: str | Weighting | Mapping[str, float] | None = None,
                    filters: Mapping[str, Any] | None = None,
                    today: date | None = None) -> Comparison:
    """Is this period different from the last? ``current − previous`` with interval and p.

    By default the current period is the ``grain`` (day/week/month/quarter) containing
    ``as_of`` (default: the day of the metric's latest answer; without answers ``today``, the
    edge's day, or else the first of January 1970: the periods are empty either way, and
    this function never reads the clock) and the previous one is the
    ``grain`` before it; pass ``current`` and ``previous`` as ``(start, end)`` to choose.
    ``on``: ``value`` (the headline: NPS difference via the variance of a difference of two
    independent NPS; CSAT top-two-box via Newcombe and a two-proportion z-test; CES mean via
    Welch), ``mean`` (Welch t) or ``share`` (Newcombe / z-test).
    """
    _check_metric(metric)
    _check_on(on)
    if current is None:
        if as_of is None:
            last = engine.query("SELECT max(ts) AS last FROM v_feedback WHERE metric = $m",
                                {"m": metric}).column("last")[0].as_py()
            as_of = ((last.date() if isinstance(last, datetime) else last) or today
                     or date(1970, 1, 1))
        s = _grain_start(as_of, grain)
        current = (s, _shift(s, grain, 1))
        previous = previous or (_shift(s, grain, -1), s)
    if previous is None:
        span = current[1] - current[0]
        previous = (current[0] - span, current[0])
    zero = _Agg(0, 0, 0, 0, 0, 0, 0)
    aggs = []
    for s, e in (current, previous):
        rows = _aggregate(engine, metric, [], s, e, weights, filters)
        aggs.append(rows[0][1] if rows else zero)
    diff, p = _difference(metric, on, aggs[0], aggs[1])
    return Comparison(metric, on, current, previous, _score(metric, aggs[0]),
                      _score(metric, aggs[1]), diff, p)


@dataclass(frozen=True)
class SegmentTest:
    """One segment against all the others: difference (segment − rest), p and BH q."""

    group: Any
    segment: Score
    rest: Score
    difference: Estimate
    p_value: float | None
    q_value: float | None
    significant: bool


def compare_segments(engine: Engine, metric: str, by: str = "store_id",
                     start: date | None = None, end: date | None = None, *,
                     on: str = "value",
                     weights: str | Weighting | Mapping[str, float] | None = None,
                     filters: Mapping[str, Any] | None = None,
                     alpha: float = ALPHA) -> list[SegmentTest]:
    """Each group of ``by`` against the rest, with Benjamini–Hochberg control of the FDR.

    The rest is every other answer with a non-NULL group (answers without a group are left
    out of the comparison). Every test with enough answers on both sides (n_eff ≥ 2) enters
    the BH adjustment; ``significant`` is ``q < alpha``. Differences are ``segment − rest``
    on ``on`` as in :func:`compare_periods`. Sorted by p-value. With fewer than two groups
    there is no rest to compare with, and the list is empty.
    """
    _check_metric(metric)
    _check_on(on)
    rows = [(k[0], a) for k, a in _aggregate(engine, metric, [by], start, end, weights, filters)
            if k[0] is not None]
    if len(rows) < 2:
        return []
    total = rows[0][1]
    for _, a in rows[1:]:
        total = _Agg(total.n + a.n, total.sw + a.sw, total.sw2 + a.sw2, total.good + a.good,
                     total.bad + a.bad, total.sx + a.sx, total.sxx + a.sxx)
    tests = []
    for g, a in rows:
        rest = total - a
        diff, p = _difference(metric, on, a, rest)
        tests.append((g, a, rest, diff, p))
    ps = np.array([t[4] for t in tests if t[4] is not None], dtype=float)
    qs = iter(benjamini_hochberg(ps))
    out = []
    for g, a, rest, diff, p in tests:
        q = None if p is None else float(next(qs))
        out.append(SegmentTest(g, _score(metric, a, group=g), _score(metric, rest), diff, p,
                               q, q is not None and q < alpha))
    # p rounded for the order: with two groups both tests are the same test, and their
    # p-values differ only in the last bits, differently on each engine
    out.sort(key=lambda t: (t.p_value is None,
                            round(t.p_value, 12) if t.p_value is not None else 0.0,
                            str(t.group)))
    return out


def most_informative(engine: Engine, metric: str, dimensions: Sequence[str],
                     start: date | None = None, end: date | None = None) -> str | None:
    """The grouping to open a page on: the dimension with the most groups significantly
    different from the rest (ties: the smallest q, then the order given); among dimensions
    without any, the first with two groups or more; None when no dimension has two groups.

    A page grouped by a dimension with one value shows one dot; one grouped where nothing
    differs shows nothing to act on.
    """
    best: tuple[int, float, int] | None = None
    chosen = None
    for i, dim in enumerate(dimensions):
        try:
            tests = compare_segments(engine, metric, by=dim, start=start, end=end)
        except ValueError:
            continue
        if not tests:
            continue
        significant = [t.q_value for t in tests if t.significant and t.q_value is not None]
        key = (-len(significant), min(significant, default=1.0), i)
        if best is None or key < best:
            best, chosen = key, dim
    return chosen
