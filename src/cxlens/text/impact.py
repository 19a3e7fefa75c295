"""What a theme does to the score: points of NPS (or CSAT) its negative mentions cost.

For a theme T and the answers of a metric in a period (N answers, commented or not), let A
be the answers whose comment mentions T and reads negative (k of them) and B the answers
with an analysed comment that does not mention T. Each answer counts v: NPS and eNPS +1 for
a promoter (9–10), −1 for a detractor (0–6), 0 otherwise; CSAT 1 for the top two boxes.
Give the k answers of A the mean v of B, and the score moves by

    impact = 100 · (k / N) · (mean_A(v) − mean_B(v))

points (observed minus counterfactual): negative when the theme's negative mentions pull
the score down. The interval is the percentile bootstrap of the answers (Efron &
Tibshirani 1993, ch. 13), drawn as a multinomial over the nine (group, v) cells — the same
resampling as drawing N answers with replacement — with a fixed seed. Method and caveats
(an association, not an experiment): docs/methods.md, "Open comments".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import numpy as np

from cxlens.analytics._bootstrap import LEVEL, MIN_BOOTSTRAP, N_BOOT
from cxlens.errors import UserError
from cxlens.text.catalogue import load
from cxlens.text.themes import ANSWER_KEY, _where
from cxlens.warehouse.engine import Engine

SEED = 13
METRICS: dict[str, str] = {
    "nps": "CASE WHEN f.score >= 9 THEN 1 WHEN f.score <= 6 THEN -1 ELSE 0 END",
    "enps": "CASE WHEN f.score >= 9 THEN 1 WHEN f.score <= 6 THEN -1 ELSE 0 END",
    "csat": "CASE WHEN f.score >= coalesce(f.scale_max, 5) - 1 THEN 1 ELSE 0 END",
}
_VALUES = (-1, 0, 1)
_GROUPS = ("A", "B", "C")


@dataclass(frozen=True)
class ThemeImpact:
    theme: str
    metric: str
    n: int  # answers of the metric in the period
    negative_mentions: int  # k
    without: int  # answers with an analysed comment that does not mention the theme
    impact: float | None  # points; None when nothing to compare with
    low: float | None
    high: float | None

    def to_json(self) -> dict:
        return asdict(self)


def _cells(engine: Engine, metric: str, start: date | None, end: date | None,
           names: list[str], team: str | None = None) -> dict[str, np.ndarray]:
    """theme → counts of the nine (group, v) cells, in _GROUPS × _VALUES order."""
    where, params = _where(metric, start, end, team)
    return theme_cells(engine, metric, where, params, names)


def theme_cells(engine: Engine, metric: str, where: str, params: dict,
                names: list[str]) -> dict[str, np.ndarray]:
    """theme → counts of the nine (group, v) cells of the answers ``where`` selects (an SQL
    condition on ``v_feedback f`` with its ``params``), in _GROUPS × _VALUES order."""
    # The catalogue's theme names (checked against catalogue.NAME: [a-z0-9_]) as a VALUES
    # list, so that a theme nobody mentions still gets its cells (and a Spark-portable
    # constant table).
    values = ", ".join(f"('{name}')" for name in names)
    sql = f"""
    WITH f AS (
        SELECT {METRICS[metric]} AS v, a.themes AS themes, a.sentiment AS sentiment,
               a.sentiment IS NOT NULL AS analysed
        FROM v_feedback f LEFT JOIN comment_analysis a ON a.response_id = {ANSWER_KEY}
        WHERE {where} AND f.score IS NOT NULL),
    t AS (SELECT theme FROM (VALUES {values}) AS x(theme))
    SELECT t.theme AS theme,
           CASE WHEN f.analysed AND list_contains(f.themes, t.theme)
                     AND f.sentiment = 'negative' THEN 'A'
                WHEN f.analysed AND NOT list_contains(f.themes, t.theme) THEN 'B'
                ELSE 'C' END AS grp,
           f.v AS v, CAST(count(*) AS BIGINT) AS n
    FROM f CROSS JOIN t GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
    out: dict[str, np.ndarray] = {}
    for theme, grp, v, n in zip(*engine.query(sql, params).to_pydict().values(), strict=True):
        cells = out.setdefault(theme, np.zeros(9, dtype=np.int64))
        cells[_GROUPS.index(grp) * 3 + _VALUES.index(int(v))] = n
    return out


def _impact(cells: np.ndarray) -> np.ndarray:
    """Impact from cell counts; ``cells`` is (..., 9). NaN where B is empty."""
    c = np.asarray(cells, dtype=float)
    vals = np.array(_VALUES, dtype=float)
    a, b = c[..., 0:3], c[..., 3:6]
    n = c.sum(axis=-1)
    k, nb = a.sum(axis=-1), b.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = np.where(k > 0, (a * vals).sum(axis=-1) / np.maximum(k, 1), 0.0)
        mean_b = np.where(nb > 0, (b * vals).sum(axis=-1) / nb, np.nan)
        out = 100.0 * (k / n) * (mean_a - mean_b)
    return np.where(k > 0, out, np.where(nb > 0, 0.0, np.nan))


def from_cells(theme: str, metric: str, cells: np.ndarray, *, n_boot: int = N_BOOT,
               seed: int = SEED) -> ThemeImpact:
    """The impact of one theme and its bootstrap interval from its nine cell counts."""
    cells = np.asarray(cells, dtype=np.int64)
    n, k, nb = int(cells.sum()), int(cells[0:3].sum()), int(cells[3:6].sum())
    est = float(_impact(cells)) if n else float("nan")
    if n == 0 or nb == 0 or np.isnan(est):
        return ThemeImpact(theme, metric, n, k, nb, None, None, None)
    if k < MIN_BOOTSTRAP or n < MIN_BOOTSTRAP:
        return ThemeImpact(theme, metric, n, k, nb, round(est, 4), None, None)
    rng = np.random.default_rng(seed)
    reps = _impact(rng.multinomial(n, cells / n, size=n_boot))
    lo, hi = np.nanquantile(reps, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return ThemeImpact(theme, metric, n, k, nb, round(est, 4), round(float(lo), 4),
                       round(float(hi), 4))


def impacts(engine: Engine, *, metric: str = "nps", start: date | None = None,
            end: date | None = None, n_boot: int = N_BOOT, seed: int = SEED,
            team: str | None = None) -> list[ThemeImpact]:
    """Every theme's impact on ``metric`` — the taxonomy's, the discovered ones and the
    user's (text/catalogue.py) — themes never mentioned: impact 0."""
    if metric not in METRICS:
        raise UserError(f"no theme impact on {metric!r}",
                        hint=f"use --metric {' or '.join(METRICS)}")
    names = load(engine).names()
    cells = _cells(engine, metric, start, end, names, team)
    return [from_cells(name, metric, cells.get(name, np.zeros(9, np.int64)), n_boot=n_boot,
                       seed=seed) for name in names]
