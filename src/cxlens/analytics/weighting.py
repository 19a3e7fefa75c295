"""Response weights for the experience metrics: found in the answers, or made to match a
known population.

The warehouse has no weight column, so weights reach :func:`cxlens.analytics.experience.score`
in one of two ways (docs/methods.md, "Response weights"):

* **carried by the answers** — a number in ``v_feedback.properties`` under a key whose name
  says it is a weight (``weight``, ``paino``, ``vikt`` …), as a panel provider or a survey
  tool's export delivers it. :func:`weight_keys` finds such keys; the key itself is passed as
  ``score(weights=key)``.
* **to a known population** (post-stratification) — each answer gets the weight that makes
  one customer attribute (segment, country, language …) as common among the weighted answers
  as in the population: by default the workspace's own customers, or shares the caller knows.
  :func:`poststratify` returns a :class:`Weighting`: the cells it was built from, for
  showing, and the SQL of the weights, which ``score(weights=weighting)`` runs inside its
  own query (no weight per answer travels through Python; ``Weighting.weights`` reads the
  mapping ``response_id → weight`` only when asked).

Nothing here renders or reads files; the weighting is computed from the same answers the
scores use (same window, metric and filters), through an :class:`~cxlens.warehouse.engine.Engine`
(DuckDB or Spark) in the portable SQL of docs/engine.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cxlens.analytics.experience import (
    _answer_key,
    _answers_where,
    _bucket,
    _check_metric,
    _dimension,
    _json_path,
)
from cxlens.warehouse.engine import Engine

__all__ = ["WEIGHT_NAMES", "Cell", "Weighting", "poststratify", "weight_keys"]

WEIGHT_NAMES = ("weight", "paino", "vikt")
"""A properties key whose name contains one of these (any case) may hold response weights."""
# Stands for an answer's key in a Weighting's SQL until an engine runs it (Weighting.sql_for).
ANSWER_KEY = "__cx_answer_key__"


def parse_shares(text: str) -> dict[str, float]:
    """``"FI:60,SE:40"`` → ``{"FI": 60.0, "SE": 40.0}``: the given population shares as the
    API (``shares=``) and the CLI (``--shares``) take them; normalised by poststratify.
    Raises ValueError naming the part that is not ``group:positive number``."""
    out: dict[str, float] = {}
    for part in text.split(","):
        group, sep, value = part.strip().rpartition(":")
        try:
            share = float(value)
        except ValueError:
            share = -1.0
        if not sep or not group or not 0 < share < math.inf:
            raise ValueError(f"{part.strip()!r} is not group:share with a positive number "
                             "(e.g. FI:60,SE:40)")
        out[group] = share
    return out


def weight_keys(engine: Engine, metric: str) -> list[str]:
    """Keys of the metric's ``properties`` that hold response weights.

    A key qualifies when its name contains one of :data:`WEIGHT_NAMES` and at least half of
    the answers carrying it hold a positive number there. The name rule keeps ordinary
    numbers (order numbers, attribute ratings) from being offered as weights.

    Two queries: the keys named like weights, then the share of positive numbers under
    each of them. A JSON path cannot come from a column portably (Spark's path syntax
    differs from DuckDB's), so each candidate's path is written into the second query as a
    literal that SQLGlot rewrites for Spark.
    """
    _check_metric(metric)
    answers = ("FROM v_feedback WHERE metric = $m AND properties IS NOT NULL "
               "AND json_valid(properties)")
    names = engine.query(
        f"""
        WITH k AS (SELECT unnest(json_keys(properties)) AS key {answers})
        SELECT key FROM k WHERE regexp_matches(lower(key), $names)
        GROUP BY key ORDER BY key
        """, {"m": metric, "names": "|".join(WEIGHT_NAMES)}).column("key").to_pylist()
    if not names:
        return []
    shares = ", ".join(
        f"CAST(avg(CASE WHEN TRY_CAST(json_extract_string(properties, {_json_path(k)}) "
        f"AS DOUBLE) > 0 THEN 1 ELSE 0 END) FILTER (WHERE list_contains("
        f"json_keys(properties), $k{i})) AS DOUBLE) AS s{i}" for i, k in enumerate(names))
    row = engine.query(f"SELECT {shares} {answers}",
                       {"m": metric, **{f"k{i}": k for i, k in enumerate(names)}}).to_pylist()[0]
    return [k for i, k in enumerate(names) if (row[f"s{i}"] or 0.0) >= 0.5]


@dataclass(frozen=True)
class Cell:
    """One group of the weighting attribute over the whole window.

    ``population`` and ``sample`` are shares in %: of the population (customers with a value,
    or the shares given) and of the answers that could be weighted. ``weight`` is what each
    of the group's answers counts for (population share, renormalised over the groups with
    answers, divided by the sample share); ``None`` for a group without answers.
    """

    group: str
    population: float
    answers: int
    sample: float
    weight: float | None


@dataclass(frozen=True)
class Weighting:
    """Post-stratification weights and the cells they come from.

    Pass the Weighting itself as ``score(weights=…)``; ``weights`` maps ``response_id``
    (``content:<hash>`` for an answer without one) to its weight. With a ``grain`` the
    weights are made within each bucket (each month's answers match the population), while
    ``cells`` always describe the whole window. ``left_out`` answers have no value of ``by``
    in the population (no customer, an empty attribute, or a group the given shares lack):
    they get no weight and are not counted. ``uncovered`` is the % of the population in
    groups without any answer — a part the weighted result cannot represent.
    """

    by: str
    population: str  # "customers" or "given"
    answers: int
    left_out: int
    uncovered: float
    cells: list[Cell]
    sql: str = field(repr=False, compare=False)
    """CTEs (DuckDB dialect) ending in ``_wts(r, w)``: each answer's key and weight."""
    params: dict[str, Any] = field(repr=False, compare=False)
    engine: Engine = field(repr=False, compare=False)

    def sql_for(self, engine: Engine) -> str:
        """The CTEs for ``engine``: an answer's key is written per engine (the content hash
        is a 128-bit integer in the warehouse, hex text in the lake)."""
        return self.sql.replace(ANSWER_KEY, _answer_key(engine))

    @functools.cached_property
    def weights(self) -> dict[str, float]:
        """``response_id`` (``content:<hash>``) → weight, read through the engine the
        weighting was made on (so while it is open). Only for showing or exporting them:
        ``score(weights=weighting)`` joins the same weights inside its own query instead of
        pulling one row per answer into Python."""
        rows = self.engine.query(f"WITH {self.sql_for(self.engine)} SELECT r, w FROM _wts "
                                 "ORDER BY r",
                                 self.params)
        return dict(zip(rows.column("r").to_pylist(),
                        (float(w) for w in rows.column("w").to_pylist()), strict=True))


def _population(expr: str, shares: Mapping[str, float] | None,
                prefix: str) -> tuple[str, dict[str, Any]]:
    """SQL of the population's shares (``g``, ``p``; p sums to 1) and its parameters.

    Given shares are one ``SELECT $g, $p`` per group joined by UNION ALL: a list parameter
    would need two ``unnest`` side by side, which Spark refuses (one generator per SELECT).
    """
    if shares is None:
        return (f"SELECT CAST({expr} AS VARCHAR) AS g, "
                f"CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS p "
                f"FROM customers c WHERE {expr} IS NOT NULL GROUP BY 1"), {}
    clean = {str(k): float(v) for k, v in shares.items()}
    if not clean or any(not math.isfinite(v) or v <= 0 for v in clean.values()):
        raise ValueError("population shares must be positive numbers, e.g. "
                         "{'FI': 0.6, 'SE': 0.4}")
    total = sum(clean.values())
    x = prefix
    sql = " UNION ALL ".join(f"SELECT CAST(${x}pg{i} AS VARCHAR) AS g, "
                             f"CAST(${x}ps{i} AS DOUBLE) AS p" for i in range(len(clean)))
    params: dict[str, Any] = {}
    for i, (g, v) in enumerate(clean.items()):
        params[f"{x}pg{i}"], params[f"{x}ps{i}"] = g, v / total
    return sql, params


def poststratify(engine: Engine, metric: str, by: str,
                 start: date | None = None, end: date | None = None, *,
                 shares: Mapping[str, float] | None = None,
                 filters: Mapping[str, Any] | None = None,
                 grain: str | None = None) -> Weighting:
    """Weights that give the answers the population's mix of the customer attribute ``by``.

    ``by``: ``segment``, ``country``, ``city`` or ``customer.<column>`` (a customer
    attribute: answers are matched to their customer). ``shares``: the population's shares
    per group (any positive numbers, normalised); by default the shares among the
    workspace's customers with a value. An answer in group g gets
    w = P(g) / Σ P(groups with answers) ÷ (n_g / n), so the weights average 1. With
    ``grain`` (``day`` … ``quarter``) n_g and n are counted per bucket.
    """
    _check_metric(metric)
    expr, customer = _dimension(engine, by)
    if not customer:
        raise ValueError(f"weights need a customer attribute (segment, country, city or "
                         f"customer.<column>), not the answer's {by!r}")
    # Names and parameters start with _w / w_, so that score() can put these CTEs in front
    # of its own query (``Weighting.sql``) without a clash.
    pop_sql, pop_params = _population(expr, shares, "w_")
    where, params, _ = _answers_where(engine, metric, start, end, filters, prefix="w_")
    params = {**params, **pop_params}
    answers = f"""
        _wpop AS ({pop_sql}),
        _wa AS (
          SELECT {ANSWER_KEY} AS r, {_bucket(grain) if grain else '0'} AS b,
                 CAST({expr} AS VARCHAR) AS g
          FROM v_feedback f LEFT JOIN customers c ON c.customer_id = f.customer_id
          WHERE {' AND '.join(where)}
        )"""
    here = answers.replace(ANSWER_KEY, _answer_key(engine))
    cells = [(r["g"], r["p"], r["n"]) for r in engine.query(f"""
        WITH {here}
        SELECT p.g AS g, p.p AS p, count(a.r) AS n FROM _wpop p LEFT JOIN _wa a ON a.g = p.g
        GROUP BY p.g, p.p ORDER BY p.p DESC, p.g""", params).to_pylist()]
    if not cells:
        raise ValueError(f"no customer has a {by}: the answers cannot be weighted by it")
    total = engine.query(f"WITH {here} SELECT count(*) AS n FROM _wa",
                         params).column("n")[0].as_py()
    weighted = sum(int(n) for _, _, n in cells)
    if total and not weighted:
        raise ValueError(f"none of the {total} {metric} answers belongs to a customer with a "
                         f"{by} of the population: they cannot be weighted by it")
    covered = sum(float(p) for _, p, n in cells if n)
    out = [Cell(str(g), 100.0 * float(p), int(n),
                100.0 * int(n) / weighted if weighted else 0.0,
                (float(p) / covered) / (int(n) / weighted) if n else None)
           for g, p, n in cells]
    sql = f"""{answers},
        _wk AS (
          SELECT a.r AS r, a.b AS b, a.g AS g, p.p AS p,
                 count(*) OVER (PARTITION BY a.b, a.g) AS n_bg,
                 count(*) OVER (PARTITION BY a.b) AS n_b
          FROM _wa a JOIN _wpop p ON p.g = a.g
        ),
        _wcov AS (SELECT b, sum(p) AS covered FROM (SELECT DISTINCT b, g, p FROM _wk) AS d
                  GROUP BY b),
        _wts AS (SELECT k.r AS r, (k.p / c.covered) * k.n_b / k.n_bg AS w
                 FROM _wk k JOIN _wcov c ON c.b = k.b)"""
    return Weighting(by, "customers" if shares is None else "given", int(total),
                     int(total) - weighted, 100.0 * (1.0 - covered), out, sql, params, engine)
