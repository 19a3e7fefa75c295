"""Themes that rose this period against their own history: what alerts will report.

For a theme, compare the current period (the calendar month or ISO week that holds
``today``, up to and including it) with the ``history`` whole periods before it:

* **volume** — of the analysed comments of the current period, did a larger share mention
  the theme than of the history's? The comments are the exposure, so a busy month is not a
  rising theme by itself. With x of n current comments and X of N history comments
  mentioning it, the one-sided p is Fisher's exact test of that 2 × 2 table: under "the same
  share in both", x is hypergeometric given x + X, and p = P(≥ x).
* **negativity** — of the theme's mentions, did a larger share read negative? k of x now
  against K of X before, the same one-sided Fisher test.

Every (theme, measure) with at least one current mention is one test; the p-values of a call
get Benjamini–Hochberg (1995) q-values, and a theme rises when q < ``alpha`` (false discovery
rate) and it has at least ``min_mentions`` current mentions (negative ones, for negativity).
A partial current period is fine: the test compares shares, not counts. Figures behind each
alert: the counts, the two shares and their ratio, p and q. Reads through an ``Engine``; the
counting is SQL, the tests are SciPy on the handful of counts.

References: Fisher, R. A. (1935), *The Design of Experiments*, §2; Agresti, A. (2013),
*Categorical Data Analysis*, 3rd ed., §3.5.1; Benjamini, Y. & Hochberg, Y. (1995), JRSS B 57.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import numpy as np

from cxlens.analytics._intervals import benjamini_hochberg
from cxlens.errors import UserError
from cxlens.text.catalogue import load
from cxlens.text.themes import ANSWER_KEY, has_analysis
from cxlens.warehouse.engine import Engine

PERIODS = ("month", "week")
HISTORY = 6
ALPHA = 0.05
MIN_MENTIONS = 5


@dataclass(frozen=True)
class Alert:
    theme: str
    label: str
    measure: str  # volume or negativity
    current: int  # x (volume) or k (negativity)
    current_base: int  # n (volume: analysed comments) or x (negativity: mentions)
    history: int
    history_base: int
    current_share: float
    history_share: float | None
    ratio: float | None  # current_share / history_share
    p: float
    q: float
    rising: bool


@dataclass
class RisingThemes:
    period: str
    start: str  # first day of the current period
    end: str  # day after today
    history_start: str
    comments: int  # analysed comments of the current period
    history_comments: int
    tests: int
    alpha: float
    rising: list[Alert] = field(default_factory=list)  # q < alpha, most significant first
    checked: list[Alert] = field(default_factory=list)  # every test, most significant first
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def windows(period: str, today: date, history: int) -> tuple[date, date, date]:
    """(history start, current start, end = today + 1 day) of ``period``."""
    if period == "month":
        start = today.replace(day=1)
        months = start.year * 12 + start.month - 1 - history
        return date(months // 12, months % 12 + 1, 1), start, today + timedelta(days=1)
    if period == "week":
        start = today - timedelta(days=today.weekday())
        return start - timedelta(weeks=history), start, today + timedelta(days=1)
    raise UserError(f"no period {period!r}", hint=f"use --period {' or '.join(PERIODS)}")


def fisher_greater(a: int, row: int, col: int, total: int) -> float:
    """One-sided Fisher p: P(A >= a) for A hypergeometric (``total`` items, ``col`` marked,
    ``row`` drawn) — the 2 × 2 table [[a, row − a], [col − a, ·]]."""
    from scipy.stats import hypergeom

    return float(hypergeom.sf(a - 1, total, col, row))


def rising_themes(engine: Engine, period: str = "month", today: date | None = None, *,
                  history: int = HISTORY, metric: str | None = None, alpha: float = ALPHA,
                  min_mentions: int = MIN_MENTIONS) -> RisingThemes:
    """Themes whose volume or negativity rose significantly in the period holding ``today``
    against the ``history`` periods before it (module docstring: the test)."""
    if not has_analysis(engine):
        raise UserError("the comments of this workspace have not been analysed",
                        hint="run `cxlens text analyse` first")
    if today is None:
        raise UserError("rising_themes needs today's date", hint="give --today YYYY-MM-DD")
    if history < 1:
        raise UserError("--history must be at least 1 period", hint="the default is 6")
    if not 0 < alpha < 1:
        raise UserError(f"--alpha {alpha} must be between 0 and 1", hint="e.g. 0.05")
    h0, s0, e0 = windows(period, today, history)
    params = {"h": h0.isoformat(), "s": s0.isoformat(), "e": e0.isoformat()}
    cond = ""
    if metric:
        cond, params["metric"] = "AND f.metric = $metric", metric
    base = f"""
    WITH c AS (
        SELECT CASE WHEN f.ts >= CAST($s AS TIMESTAMP) THEN 1 ELSE 0 END AS cur,
               a.themes AS themes, a.sentiment AS sentiment
        FROM comment_analysis a JOIN v_feedback f ON a.response_id = {ANSWER_KEY}
        WHERE f.ts >= CAST($h AS TIMESTAMP) AND f.ts < CAST($e AS TIMESTAMP)
              AND a.sentiment IS NOT NULL {cond})"""
    totals = dict(zip(*engine.query(
        base + " SELECT cur, CAST(count(*) AS BIGINT) AS n FROM c GROUP BY 1",
        params).to_pydict().values(), strict=True))
    counts: dict[str, dict[int, tuple[int, int]]] = {}
    for theme, cur, x, k in zip(*engine.query(base + """
        SELECT t.theme AS theme, c.cur AS cur, CAST(count(*) AS BIGINT) AS x,
               CAST(count(*) FILTER (WHERE c.sentiment = 'negative') AS BIGINT) AS k
        FROM c CROSS JOIN UNNEST(c.themes) AS t(theme) GROUP BY 1, 2 ORDER BY 1, 2""",
            params).to_pydict().values(), strict=True):
        counts.setdefault(theme, {})[int(cur)] = (int(x), int(k))
    n, big_n = int(totals.get(1, 0)), int(totals.get(0, 0))
    out = RisingThemes(period, s0.isoformat(), e0.isoformat(), h0.isoformat(), n, big_n, 0,
                       alpha)
    if n == 0 or big_n == 0:
        out.notes.append("no analysed comments in the current period or in its history: "
                         "nothing to compare")
        return out
    labels = {e.theme: e.label for e in load(engine).entries}
    raw: list[tuple] = []
    for theme in sorted(counts):
        if theme not in labels:
            continue  # assigned by an older catalogue; the next analyse run drops it
        x, k = counts[theme].get(1, (0, 0))
        hx, hk = counts[theme].get(0, (0, 0))
        if x == 0:
            continue
        raw.append((theme, "volume", x, n, hx, big_n,
                    fisher_greater(x, n, x + hx, n + big_n), x >= min_mentions))
        if hx > 0:
            raw.append((theme, "negativity", k, x, hk, hx,
                        fisher_greater(k, x, k + hk, x + hx), k >= min_mentions))
    qs = benjamini_hochberg([r[6] for r in raw])
    alerts = []
    for (theme, measure, a, ab, h, hb, p, enough), q in zip(raw, qs, strict=True):
        share, hshare = a / ab, (h / hb if hb else None)
        alerts.append(Alert(theme, labels[theme], measure, a, ab, h, hb, round(share, 4),
                            None if hshare is None else round(hshare, 4),
                            None if not hshare else round(share / hshare, 3),
                            float(np.round(p, 8)), float(np.round(q, 8)),
                            bool(q < alpha and enough)))
    alerts.sort(key=lambda a: (a.q, a.p, a.theme, a.measure))
    out.tests, out.checked = len(alerts), alerts
    out.rising = [a for a in alerts if a.rising]
    return out
