"""People and customers: eNPS by team beside the NPS of the team's customers.

Employee answers are ``v_feedback`` rows with ``metric = 'enps'`` and a ``team_id``. A
customer NPS answer belongs to a team by its own ``team_id`` when it has one, otherwise by
its ``store_id`` when exactly one team works in that store (``v_employees``); answers of a
store shared by several teams, or of none, are left out of the link. Everything is read
through an ``Engine`` (DuckDB or Spark) as per-team aggregates. Methods: docs/methods.md
("People and customers").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from cxlens.analytics._intervals import Estimate, fisher_z_interval
from cxlens.analytics.experience import (
    ALPHA,
    MIN_SAMPLE,
    Score,
    SegmentTest,
    _Agg,
    _score,
    compare_segments,
    score,
)
from cxlens.warehouse.engine import Engine

__all__ = ["PeopleLink", "TeamLink", "enps_by_team", "team_link"]


def enps_by_team(engine: Engine, start: date | None = None,
                 end: date | None = None,
                 weights: str | Mapping[str, float] | None = None) -> list[Score]:
    """eNPS with its adjusted Wald interval per ``team_id`` (``group``) in ``[start, end)``."""
    return [s for s in score(engine, "enps", by="team_id", start=start, end=end, weights=weights)
            if s.group is not None]


@dataclass(frozen=True)
class TeamLink:
    """One team: its eNPS, the NPS of its customers, and its eNPS against the other teams.

    ``low_enps`` is true when the team's eNPS is below the rest and the difference is
    significant after Benjamini–Hochberg across all teams (q < ALPHA).
    """

    team_id: str
    team_name: str | None
    store_id: str | None
    enps: Score | None
    customer_nps: Score | None
    enps_test: SegmentTest | None

    @property
    def low_enps(self) -> bool:
        t = self.enps_test
        return bool(t and t.significant and t.difference.value is not None
                    and t.difference.value < 0)


@dataclass(frozen=True)
class PeopleLink:
    """Teams with both sides, and Pearson's r of eNPS and customer NPS across teams.

    ``correlation`` has Fisher's z interval; ``n_teams`` teams entered it (those with eNPS
    answers and at least ``min_answers`` customer NPS answers); ``p_value`` tests r = 0.
    """

    teams: list[TeamLink]
    correlation: Estimate
    p_value: float | None
    n_teams: int
    min_answers: int
    # r again without each team in turn: its lowest and highest value and the team whose
    # absence moves r the most. A correlation over a handful of teams can rest on one.
    leave_one_out: tuple[float, float] | None = None
    influential_team: str | None = None

    @property
    def fragile(self) -> bool:
        """Too few teams to lean on (under 10), or dropping one team moves r by more than
        0.3 or across zero."""
        if self.correlation.value is None:
            return False
        if self.n_teams < FEW_TEAMS or self.leave_one_out is None:
            return True
        lo, hi = self.leave_one_out
        return hi - lo > 0.3 or (lo < 0 < hi)

    def team(self, team_id: str) -> TeamLink:
        for t in self.teams:
            if t.team_id == team_id:
                return t
        raise KeyError(team_id)

    @property
    def low_enps_teams(self) -> list[str]:
        return [t.team_id for t in self.teams if t.low_enps]


_CUSTOMER_NPS_SQL = """
WITH sole AS (
  SELECT store_id, min(team_id) AS team_id FROM v_employees
  WHERE store_id IS NOT NULL AND team_id IS NOT NULL
  GROUP BY store_id HAVING count(DISTINCT team_id) = 1
),
a AS (
  SELECT coalesce(f.team_id, sole.team_id) AS team_id, CAST(f.score AS DOUBLE) AS x
  FROM v_feedback f LEFT JOIN sole ON f.team_id IS NULL AND sole.store_id = f.store_id
  WHERE {where}
)
SELECT team_id, CAST(count(*) AS BIGINT) AS n,
       CAST(count(*) FILTER (WHERE x >= 9) AS BIGINT) AS good,
       CAST(count(*) FILTER (WHERE x <= 6) AS BIGINT) AS bad,
       sum(x) AS sx, sum(x * x) AS sxx
FROM a WHERE team_id IS NOT NULL GROUP BY team_id ORDER BY team_id
"""


def _customer_nps(engine: Engine, start: date | None, end: date | None) -> dict[str, _Agg]:
    where, params = ["f.metric = 'nps'", "f.score IS NOT NULL"], {}
    if start is not None:
        where.append("f.ts >= $s")
        params["s"] = start
    if end is not None:
        where.append("f.ts < $e")
        params["e"] = end
    rows = engine.query(_CUSTOMER_NPS_SQL.format(where=" AND ".join(where)), params)
    return {r["team_id"]: _Agg(int(r["n"]), float(r["n"]), float(r["n"]), float(r["good"]),
                               float(r["bad"]), float(r["sx"]), float(r["sxx"]))
            for r in rows.to_pylist()}


# One row per team: a name (the smallest, if employees disagree) and the store most of its
# employees work in (ties to the smallest id), so both engines pick the same.
_TEAMS_SQL = """
WITH e AS (
  SELECT team_id, team_name, store_id FROM v_employees WHERE team_id IS NOT NULL
),
s AS (
  SELECT team_id, store_id, row_number() OVER (
           PARTITION BY team_id ORDER BY count(*) DESC, store_id) AS rk
  FROM e WHERE store_id IS NOT NULL GROUP BY team_id, store_id
)
SELECT t.team_id AS team_id, t.team_name AS team_name, s.store_id AS store_id
FROM (SELECT team_id, min(team_name) AS team_name FROM e GROUP BY team_id) t
LEFT JOIN s ON s.team_id = t.team_id AND s.rk = 1
ORDER BY t.team_id
"""


FEW_TEAMS = 10  # below this many teams a correlation across teams is shown with a caveat


def team_link(engine: Engine, start: date | None = None,
              end: date | None = None, *, min_answers: int = MIN_SAMPLE,
              alpha: float = ALPHA) -> PeopleLink:
    """For each team in ``v_employees`` (or with eNPS answers): eNPS, customers' NPS, the
    test of its eNPS against the other teams (BH-adjusted), and the correlation across teams.

    Teams whose customer NPS rests on fewer than ``min_answers`` answers (default
    MIN_SAMPLE) are shown but left out of the correlation.
    """
    teams = {r["team_id"]: (r["team_name"], r["store_id"])
             for r in engine.query(_TEAMS_SQL).to_pylist()}
    enps = {s.group: s for s in enps_by_team(engine, start, end)}
    tests = {t.group: t for t in compare_segments(engine, "enps", by="team_id", start=start,
                                                  end=end, alpha=alpha)}
    nps = _customer_nps(engine, start, end)
    out = []
    for tid in sorted(set(teams) | set(enps)):
        name, store = teams.get(tid, (None, None))
        agg = nps.get(tid)
        out.append(TeamLink(tid, name, store, enps.get(tid),
                            None if agg is None else _score("nps", agg, group=tid),
                            tests.get(tid)))
    entered = [t for t in out
               if t.enps is not None and t.customer_nps is not None
               and t.enps.value.value is not None and t.customer_nps.value.value is not None
               and t.customer_nps.n >= min_answers]
    pairs = [(t.enps.value.value, t.customer_nps.value.value) for t in entered]  # type: ignore[union-attr]
    r, p = _pearson(pairs)
    loo, influential = _leave_one_out(pairs, [t.team_id for t in entered], r.value)
    return PeopleLink(out, r, p, len(pairs), min_answers, loo, influential)


def _leave_one_out(pairs: list[tuple[Any, Any]], ids: list[str], r: float | None
                   ) -> tuple[tuple[float, float] | None, str | None]:
    """The range of r with each team left out, and the team that moves it the most."""
    if r is None or len(pairs) < 4:
        return None, None
    rs = [_pearson(pairs[:i] + pairs[i + 1:])[0].value for i in range(len(pairs))]
    if any(x is None for x in rs):
        return None, None
    vals = [float(x) for x in rs]  # type: ignore[arg-type]
    worst = max(range(len(vals)), key=lambda i: (abs(vals[i] - r), -i))
    return (min(vals), max(vals)), str(ids[worst])


def _pearson(pairs: list[tuple[Any, Any]]) -> tuple[Estimate, float | None]:
    n = len(pairs)
    if n < 3:
        return Estimate(None, None, None, None, "fisher-z"), None
    x, y = np.array(pairs, dtype=float).T
    if x.std() == 0 or y.std() == 0:
        return Estimate(None, None, None, None, "fisher-z"), None
    r = float(np.corrcoef(x, y)[0, 1])
    est, p = fisher_z_interval(r, n)
    return est, (None if p != p else p)
