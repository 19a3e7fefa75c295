"""Paths: the most common ways into and out of a touchpoint (path exploration).

For each customer of the selection, the journey log is read with **consecutive repeats
collapsed** (``page_view, page_view, view_item`` is ``page_view ↻, view_item``: the step is
marked as a loop), and the customer's **first** meeting with the anchor touchpoint is found.
Their path is the ``steps`` touchpoints starting there (``direction="from"``) or ending
there (``"to"``), anchor included; without an anchor, the first ``steps`` touchpoints of the
journey (``from``) or its last (``to``). Paths are then counted over customers — each
customer counts once — and the ``top`` most common are returned, the rest summed in one
"other" row. Ties are broken by the steps' names, so the result is the same every time and
on every engine.

A path *from* the anchor that reaches the end of the journey without meeting an outcome
touchpoint (by default an order: ``first_purchase`` or ``repeat_purchase``) is a
**drop-off**; a path that reaches the journey's end (``from``) or start (``to``) within its
steps is marked ``ended``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from cxlens.analytics.journeys._log import ORDER, PURCHASES, WINDOW, Selection, log_sql
from cxlens.warehouse.engine import Engine

Direction = Literal["from", "to"]
DEFAULT_STEPS = 4
MAX_STEPS = 10
DEFAULT_TOP = 20


@dataclass(frozen=True)
class PathRow:
    """One path: its touchpoints in order (``loops[i]``: step i repeated in a row), the
    customers who took it and their share of those who met the anchor."""

    steps: list[str]
    loops: list[bool]
    customers: int
    share: float
    ended: bool = False
    dropped_off: bool = False
    other: bool = False  # the sum of every path below the top ones


@dataclass(frozen=True)
class Paths:
    """The top paths of a selection; ``reason`` says why there are none."""

    anchor: str | None
    direction: str
    steps: int
    outcome: list[str]
    customers: int  # customers of the selection
    reached: int  # of them, those who met the anchor (all of them without one)
    rows: list[PathRow]
    selection: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Anchored paths read only what they can reach: the customers who met the anchor, from the
# first meeting on ("from") or up to it and one touchpoint more ("to"). ``anc`` is every
# customer of the selection with the time of their first meeting (NULL: never), ``cut``
# those rows. A suffix of a customer's log from the anchor's second on collapses and
# numbers the steps from the anchor exactly as the whole log does (only the steps before
# the anchor can shift, all by the same amount); a prefix up to the anchor's second, with
# the next touchpoint after it for the anchor's loop mark, does the same up to the anchor.
_ANCHOR = """,
anc AS (
    SELECT customer_id, min(ts) FILTER (WHERE touchpoint = $anchor) AS ats
    FROM log GROUP BY customer_id
),
near AS (
    SELECT l.customer_id AS customer_id, l.touchpoint AS touchpoint, l.ts AS ts,
           l.tie AS tie, l._line AS _line, a.ats AS ats
    FROM log AS l JOIN anc AS a ON a.customer_id = l.customer_id
    WHERE a.ats IS NOT NULL
)"""

_CUT_FROM = """,
cut AS (
    SELECT customer_id, touchpoint, ts, tie, _line FROM near WHERE ts >= ats
)"""

_CUT_TO = """,
cut AS (
    SELECT customer_id, touchpoint, ts, tie, _line FROM near WHERE ts <= ats
    UNION ALL
    SELECT customer_id, arg_min(touchpoint, k) AS touchpoint, arg_min(ts, k) AS ts,
           arg_min(tie, k) AS tie, arg_min(_line, k) AS _line
    FROM (SELECT customer_id, touchpoint, ts, tie, _line,
                 struct_pack(t := ts, b := tie, l := _line) AS k
          FROM near WHERE ts > ats) AS after
    GROUP BY customer_id
)"""


def _sql(log: str, direction: Direction, anchored: bool, steps: int) -> str:
    """The paths query. Only structure is formatted in: the direction, whether there is an
    anchor, and the number of steps (an int checked by :func:`paths`).

    Two sorts of the rows read (the repeats found with ``lag``/``lead``, then the collapsed
    steps numbered); the anchor's position and the journey's length come from a ``GROUP
    BY`` joined back, which measured 5–15 % cheaper than two more partition windows. With
    an anchor, the rows read are ``cut`` (see ``_ANCHOR``), and the customers who never met
    it are counted from ``anc`` in a last row of their own."""
    if anchored:
        apos = "min(CASE WHEN touchpoint = $anchor THEN pos END)"
        rows = "cut"
        pre = _ANCHOR + (_CUT_FROM if direction == "from" else _CUT_TO)
    else:
        apos = "CAST(1 AS BIGINT)" if direction == "from" else "count(*)"
        rows, pre = "log", ""
    first = "apos" if direction == "from" else f"apos - {steps - 1}"
    g_first = first.replace("apos", "g.apos")
    cols = []
    for i in range(steps):
        cols.append(f"max(touchpoint) FILTER (WHERE pos = {first} + {i}) AS s{i}")
        cols.append(f"max(loop) FILTER (WHERE pos = {first} + {i}) AS l{i}")
    step_cols = ", ".join(f"s{i}" for i in range(steps))
    loop_cols = ", ".join(f"l{i}" for i in range(steps))
    ended = (f"CASE WHEN apos + {steps - 1} >= jlen THEN 1 ELSE 0 END" if direction == "from"
             else f"CASE WHEN apos - {steps - 1} <= 1 THEN 1 ELSE 0 END")
    dropped = (f"CASE WHEN apos + {steps - 1} >= jlen AND hit = 0 THEN 1 ELSE 0 END"
               if direction == "from" else "0")
    never = ""
    if anchored:
        nulls = ", ".join([f"CAST(NULL AS VARCHAR) AS s{i}" for i in range(steps)]
                          + [f"CAST(NULL AS INTEGER) AS l{i}" for i in range(steps)])
        never = (f"UNION ALL\nSELECT 0 AS met, {nulls}, 0 AS ended, 0 AS dropped, "
                 f"count(*) AS customers\nFROM anc WHERE ats IS NULL\n")
    return f"""{log}{pre},
d AS (
    SELECT customer_id, touchpoint, ts, tie, _line,
           lag(touchpoint) OVER w AS prev, lead(touchpoint) OVER w AS nxt
    FROM {rows}
    WINDOW w AS ({WINDOW})
),
c AS (
    SELECT customer_id, touchpoint, CASE WHEN nxt = touchpoint THEN 1 ELSE 0 END AS loop,
           row_number() OVER (PARTITION BY customer_id ORDER BY {ORDER}) AS pos
    FROM d
    WHERE prev IS NULL OR prev <> touchpoint
),
g AS (
    SELECT customer_id, {apos} AS apos, count(*) AS jlen FROM c GROUP BY customer_id
),
a AS (
    SELECT c.customer_id AS customer_id, c.touchpoint AS touchpoint, c.loop AS loop,
           c.pos AS pos, g.apos AS apos, g.jlen AS jlen
    FROM c JOIN g ON g.customer_id = c.customer_id
    WHERE (g.apos IS NULL AND c.pos = 1)
       OR (c.pos >= {g_first} AND c.pos < {g_first} + {steps})
),
per AS (
    SELECT customer_id, max(apos) AS apos, max(jlen) AS jlen,
           {", ".join(cols)},
           max(CASE WHEN pos >= apos AND list_contains($outcome, touchpoint) THEN 1 ELSE 0 END)
               AS hit
    FROM a
    GROUP BY customer_id
)
SELECT CASE WHEN apos IS NULL THEN 0 ELSE 1 END AS met, {step_cols}, {loop_cols},
       {ended} AS ended, {dropped} AS dropped, count(*) AS customers
FROM per
GROUP BY ALL
{never}"""


# DuckDB, with an anchor: one sort instead of two, and only fixed-width columns through it
# (text in a window's rows made it about twice as dear on the L demo: docs/benchmarks.md).
# The anchor's first meeting is found with its whole order key ``(ts, tie, _line)``, so the
# rows read start exactly at it ("from") or end exactly at it ("to", plus the next row for
# its loop mark: ``extra``). Customers go through the window as a number given per query in
# ``anc`` (``row_number() OVER ()``: no sort, and any unique number will do, the result
# being counted over customers), touchpoints as ``hash(touchpoint)``, back to text on the
# few hundred result rows through ``names``; ``clash`` counts hashes shared by two names
# (never seen; :func:`paths` then runs :func:`_sql`). One window gives each row its
# neighbours and its number; the steps are the first (last) ``steps`` run starts of those
# rows, taken per customer by ``min_by``/``max_by(…, n)`` in a hash aggregate instead of a
# second window numbering every run start. Spark has no ``min_by`` with n and keeps
# :func:`_sql`; the two are held equal (tests/analytics/test_paths_duckdb.py).
_KEY_GE = "(l.ts > a.ak.t OR l.tie > a.ak.b OR (l.tie = a.ak.b AND l._line >= a.ak.l))"
_KEY_LE = ("(l.ts <= a.ak.t AND (l.ts < a.ak.t OR l.tie < a.ak.b "
           "OR (l.tie = a.ak.b AND l._line <= a.ak.l)))")

_NAMES = """names AS (
    SELECT touchpoint, hash(touchpoint) AS code FROM (SELECT DISTINCT touchpoint FROM log) AS t
)"""


def _sql_duckdb(log: str, direction: Direction, steps: int) -> str:
    """The anchored paths query on DuckDB (see the comment above); same columns and rows as
    :func:`_sql` with an anchor."""
    rows = """SELECT a.cno AS cno, hash(l.touchpoint) AS tp, l.ts AS ts, l.tie AS tie,
           l._line AS _line, {extra} AS extra
    FROM log AS l JOIN anc AS a ON a.customer_id = l.customer_id
    WHERE a.ak IS NOT NULL"""
    if direction == "from":
        cut = f"""cut AS (
    {rows.format(extra="0")} AND l.ts >= a.ak.t AND {_KEY_GE}
)"""
        pick = f"min_by(struct_pack(c := tp, l := CAST(loop AS INTEGER)), rn, {steps})"
        idx = [f"p[{i + 1}]" for i in range(steps)]
    else:
        cut = f"""near AS (
    {rows.format(extra=f"CASE WHEN {_KEY_LE} THEN 0 ELSE 1 END")}
),
cut AS (
    SELECT cno, tp, ts, tie, _line, 0 AS extra FROM near WHERE extra = 0
    UNION ALL
    SELECT cno, arg_min(tp, k) AS tp, arg_min(ts, k) AS ts, arg_min(tie, k) AS tie,
           arg_min(_line, k) AS _line, 1 AS extra
    FROM (SELECT cno, tp, ts, tie, _line, struct_pack(t := ts, b := tie, l := _line) AS k
          FROM near WHERE extra = 1) AS after
    GROUP BY cno
)"""
        pick = f"max_by(struct_pack(c := tp, l := CAST(loop AS INTEGER)), rn, {steps})"
        idx = [f"p[{steps - i}]" for i in range(steps)]
    codes = ", ".join([f"{x}.c AS c{i}" for i, x in enumerate(idx)]
                      + [f"{x}.l AS l{i}" for i, x in enumerate(idx)])
    names = ", ".join(f"n{i}.touchpoint AS s{i}" for i in range(steps))
    joins = "\n".join(f"LEFT JOIN names AS n{i} ON n{i}.code = g.c{i}" for i in range(steps))
    loop_cols = ", ".join(f"l{i}" for i in range(steps))
    if direction == "from":
        hit = " OR ".join(f"coalesce(list_contains($outcome, n{i}.touchpoint), FALSE)"
                          for i in range(steps))
        dropped = f"CASE WHEN ended = 1 AND NOT ({hit}) THEN 1 ELSE 0 END"
    else:
        dropped = "0"
    nulls = ", ".join([f"CAST(NULL AS VARCHAR) AS s{i}" for i in range(steps)]
                      + [f"CAST(NULL AS INTEGER) AS l{i}" for i in range(steps)])
    return f"""{log},
{_NAMES},
anc AS (
    SELECT customer_id, ak, row_number() OVER () AS cno
    FROM (SELECT customer_id, min(struct_pack(t := ts, b := tie, l := _line))
                     FILTER (WHERE touchpoint = $anchor) AS ak
          FROM log GROUP BY customer_id) AS m
),
{cut},
d AS (
    SELECT cno, tp, extra, lag(tp) OVER w AS prev, lead(tp) OVER w AS nxt,
           row_number() OVER w AS rn
    FROM cut
    WINDOW w AS (PARTITION BY cno ORDER BY {ORDER})
),
per AS (
    SELECT {pick} AS p, count(*) AS n
    FROM (SELECT cno, tp, rn, coalesce(nxt = tp, FALSE) AS loop
          FROM d WHERE extra = 0 AND (prev IS NULL OR prev <> tp)) AS r
    GROUP BY cno
),
g AS (
    SELECT {codes}, CASE WHEN n <= {steps} THEN 1 ELSE 0 END AS ended, count(*) AS customers
    FROM per GROUP BY ALL
)
SELECT 1 AS met, {names}, {loop_cols}, ended, {dropped} AS dropped, customers,
       0 AS clash
FROM g
{joins}
UNION ALL
SELECT 0 AS met, {nulls}, 0 AS ended, 0 AS dropped, count(*) AS customers,
       (SELECT count(*) - count(DISTINCT code) FROM names) AS clash
FROM anc WHERE ak IS NULL
"""


def paths(engine: Engine, anchor: str | None = None, direction: Direction = "from",
          sel: Selection | None = None, steps: int = DEFAULT_STEPS, top: int = DEFAULT_TOP,
          outcome: Sequence[str] = PURCHASES) -> Paths:
    """The ``top`` most common paths of ``steps`` touchpoints from or to ``anchor`` (see
    the module's docstring); ``outcome`` names the touchpoints whose absence makes a path
    that ends a drop-off."""
    if direction not in ("from", "to"):
        raise ValueError(f"direction must be 'from' or 'to', not {direction!r}")
    if not 1 <= int(steps) <= MAX_STEPS:
        raise ValueError(f"steps must be 1 to {MAX_STEPS}, not {steps}")
    if int(top) < 1:
        raise ValueError(f"top must be at least 1, not {top}")
    steps, top, sel = int(steps), int(top), sel or Selection()
    log, params = log_sql(sel)
    params["outcome"] = list(outcome)
    if anchor is not None:
        params["anchor"] = anchor
    table = None
    if anchor is not None and engine.name == "duckdb":
        fast = {k: v for k, v in params.items() if direction == "from" or k != "outcome"}
        table = engine.query(_sql_duckdb(log, direction, steps), fast)
        if any(table["clash"].to_pylist()):
            table = None
    if table is None:
        table = engine.query(_sql(log, direction, anchor is not None, steps), params)
    customers, found = 0, []
    for r in table.to_pylist():
        n = int(r["customers"])
        customers += n
        if not r["met"]:
            continue
        names = [r[f"s{i}"] for i in range(steps)]
        loops = [bool(r[f"l{i}"]) for i in range(steps)]
        kept = [(s, lp) for s, lp in zip(names, loops, strict=True) if s is not None]
        ended = bool(r["ended"])
        found.append(([s for s, _ in kept], [lp for _, lp in kept], n, ended,
                      bool(r["dropped"])))
    reached = sum(f[2] for f in found)
    found.sort(key=lambda f: (-f[2], f[0], f[1], f[3], f[4]))
    rows = [PathRow(s, lp, n, n / reached, e, d) for s, lp, n, e, d in found[:top]]
    rest = sum(f[2] for f in found[top:])
    if rest:
        rows.append(PathRow([], [], rest, rest / reached, other=True))
    reason = None
    if customers == 0:
        reason = "no touchpoints in the selection"
    elif reached == 0:
        reason = f"no customer in the selection met {anchor!r}"
    return Paths(anchor, direction, steps, list(outcome), customers, reached, rows,
                 {k: v for k, v in sel.as_dict().items() if v is not None}, reason)


__all__ = ["DEFAULT_STEPS", "DEFAULT_TOP", "MAX_STEPS", "PathRow", "Paths", "paths"]
