"""Attribution paths: the channels a customer met before each conversion, as distinct paths.

Private to the marketing family. Built on the journey log (:func:`cxlens.analytics.journeys.
_log.log_sql`), so a touchpoint, an order that counts and the customer filters mean the same
here as on the Journeys page:

* a **touchpoint** is an event of the log (web, app, e-mail, support tickets …) whose
  ``event_type`` is not in ``skip`` (by default a web analytics ``purchase`` event — the
  order again — and newsletter opens and bounces: no visit), and, when ``sale_touch`` is on,
  the converting order itself (the store visit, sales call or webshop visit where the sale
  happened: the sales side of the journey). Its **channel** is the event's ``channel``, or
  the channel its ``campaign`` maps to (``campaigns``: SQL ``LIKE`` patterns — ``%`` any
  text, ``_`` any one character, no escape character, as the engines disagree on its
  default — the first match wins), else the channel the spend table books the campaign
  under (``spend_campaigns``, exact names: ``_spend.spend_campaigns``);
* a **conversion** is an order that counts: every order (``conversion="every"``) or only the
  customer's first ever (``"first"``: the touchpoints after it, and customers whose first
  order came before the period, are left out);
* a customer's log is cut at each conversion: the **path** of a conversion is the touchpoints
  after the previous one, within ``lookback_days`` before it; the touchpoints after the last
  conversion (within ``lookback_days`` before the last of them) are a **non-converting**
  path. Repeats of a channel in a row are one touch (``web, web, email`` is ``web, email``);
  the kept touch of a run is its last, the one nearest the conversion.

SQL returns one row per distinct path with its conversions, revenue (orders in the
workspace's currency) and non-conversions; Python only ever sees that aggregate
(docs/engine.md, "House rules for analytics SQL"). Time decay needs each touch's age, so it
has its own query (:func:`decay_credit`) that returns credit per channel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.analytics._money import CURRENCY
from cxlens.analytics.journeys._log import FIRST_PURCHASE, Selection, log_sql
from cxlens.analytics.marketing._spend import channel_case
from cxlens.warehouse.engine import Engine

Conversion = Literal["every", "first"]
DEFAULT_LOOKBACK = 30
MAX_LOOKBACK = 3650
DEFAULT_SKIP: tuple[str, ...] = ("purchase", "newsletter_open", "newsletter_bounce")
SEP = "\x1f"
"""Between a path's channels in SQL's answer: the ASCII unit separator, in no channel name."""

_ORDER = "ts, tie, _line"  # the log's order (journeys/_log.py ORDER), unique per row


@dataclass(frozen=True)
class PathOptions:
    """What a path is: see the module's docstring."""

    lookback_days: int = DEFAULT_LOOKBACK
    conversion: Conversion = "every"
    campaigns: tuple[tuple[str, str], ...] = ()
    spend_campaigns: tuple[tuple[str, str], ...] = ()
    skip: tuple[str, ...] = DEFAULT_SKIP
    sale_touch: bool = True

    def __post_init__(self) -> None:
        if not 1 <= int(self.lookback_days) <= MAX_LOOKBACK:
            raise ValueError(f"lookback must be 1 to {MAX_LOOKBACK} days, "
                             f"not {self.lookback_days}")
        if self.conversion not in ("every", "first"):
            raise ValueError(f"conversion must be 'every' or 'first', not {self.conversion!r}")
        for pattern, channel in self.campaigns:
            if not pattern or not channel:
                raise ValueError("a campaign mapping needs a pattern and a channel")

    @staticmethod
    def mapping(campaigns: Mapping[str, str] | Sequence[tuple[str, str]] | None
                ) -> tuple[tuple[str, str], ...]:
        """A campaign → channel mapping as the hashable tuple the options keep."""
        if not campaigns:
            return ()
        items = campaigns.items() if isinstance(campaigns, Mapping) else campaigns
        return tuple((str(p), str(c)) for p, c in items)

    def as_dict(self) -> dict[str, Any]:
        return {"lookback_days": self.lookback_days, "conversion": self.conversion,
                "campaigns": dict(self.campaigns),
                "spend_campaigns": dict(self.spend_campaigns), "skip": list(self.skip),
                "sale_touch": self.sale_touch}


@dataclass(frozen=True)
class PathTable:
    """Distinct paths: ``paths[i]`` the channels in order (empty: a conversion without a
    touchpoint), with its ``conversions``, ``revenue`` and ``nulls`` (non-conversions)."""

    paths: list[tuple[str, ...]]
    conversions: np.ndarray
    revenue: np.ndarray
    nulls: np.ndarray

    @property
    def channels(self) -> list[str]:
        """Every channel met on a path, sorted."""
        return sorted(set(chain.from_iterable(self.paths)))

    def __len__(self) -> int:
        return len(self.paths)


def _channel_expr(opts: PathOptions, params: dict[str, Any]) -> tuple[str, str, str]:
    """The SQL of a log row's channel and of its campaign, and the join they need (the
    campaign is not in the log: it is read back from ``v_events`` by the row's unique
    ``_batch, _line``)."""
    sale = "l.channel" if opts.sale_touch else "CAST(NULL AS VARCHAR)"
    if not opts.campaigns and not opts.spend_campaigns:
        return (f"CASE WHEN l.kind = 3 THEN {sale} ELSE l.channel END",
                "CAST(NULL AS VARCHAR)", "")
    case = channel_case("e.campaign", "l.channel", opts.campaigns, opts.spend_campaigns,
                        params)
    expr = f"CASE WHEN l.kind = 3 THEN {sale} ELSE {case} END"
    join = ("\n    LEFT JOIN v_events e ON l.kind IN (1, 2) AND e._batch = l._batch "
            "AND e._line = l._line")
    return expr, "CASE WHEN l.kind = 3 THEN CAST(NULL AS VARCHAR) ELSE e.campaign END", join


def _cte(sel: Selection, opts: PathOptions, currency: str,
         rates: Mapping[str, float] | None = None) -> tuple[str, dict[str, Any]]:
    """The CTEs down to ``k``: one row per kept touch (and per converting order) with its
    customer, segment ``seg``, ``conv`` (the segment ends in a conversion), ``touch``
    (1: a touch of the path), ``ch``, ``camp`` (the event's campaign), ``age_s`` (seconds
    before the segment's end) and
    ``amount`` (the converting order's, in ``currency``: others converted at ``rates``)."""
    log, params = log_sql(sel, currency, rates)
    params["lookback_s"] = int(opts.lookback_days) * 86400
    ch, camp, join = _channel_expr(opts, params)
    skip = ""
    if opts.skip:
        params["skip"] = list(opts.skip)
        skip = " AND NOT list_contains($skip, l.touchpoint)"
    first_join = first_cond = ""
    if opts.conversion == "first":
        first_join = ("\n    LEFT JOIN (SELECT customer_id, ts AS first_ts FROM orders_all "
                      "WHERE order_no = 1) f ON f.customer_id = s.customer_id")
        first_cond = " AND s.seg = 0 AND (f.first_ts IS NULL OR s.ts <= f.first_ts)"
    sql = f"""{log},
tp AS (
    SELECT l.customer_id AS customer_id, l.ts AS ts, l.ts_s AS ts_s, l.tie AS tie,
           l._line AS _line, l.amount AS amount,
           CASE WHEN l.kind = 3 THEN 1 ELSE 0 END AS is_order,
           CASE WHEN l.touchpoint = '{FIRST_PURCHASE}' THEN 1 ELSE 0 END AS is_first,
           {ch} AS ch, {camp} AS camp
    FROM log l{join}
    WHERE l.kind = 3 OR (l.kind IN (1, 2){skip})
),
sg AS (
    SELECT customer_id, ts, ts_s, tie, _line, amount, is_order, is_first, ch, camp,
           coalesce(sum(is_order) OVER (PARTITION BY customer_id ORDER BY {_ORDER}
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS seg
    FROM tp
),
s AS (
    SELECT customer_id, ts, ts_s, tie, _line, amount, is_order, ch, camp, seg,
           max(ts_s) OVER (PARTITION BY customer_id, seg) AS end_s,
           max(is_order) OVER (PARTITION BY customer_id, seg) AS conv,
           max(is_first) OVER (PARTITION BY customer_id, seg) AS conv_first
    FROM sg
),
w AS (
    SELECT s.customer_id AS customer_id, s.ts AS ts, s.tie AS tie, s._line AS _line,
           s.amount AS amount, s.is_order AS is_order, s.ch AS ch, s.camp AS camp,
           s.seg AS seg,
           s.conv AS conv, s.end_s - s.ts_s AS age_s
    FROM s{first_join}
    WHERE s.ts_s >= s.end_s - $lookback_s AND (s.ch IS NOT NULL OR s.is_order = 1)
      {"AND (s.conv = 0 OR s.conv_first = 1)" if opts.conversion == "first" else ""}{first_cond}
),
k AS (
    SELECT customer_id, seg, conv, is_order, amount, ch, camp, age_s,
           CASE WHEN ch IS NOT NULL AND (nxt IS NULL OR nxt <> ch) THEN 1 ELSE 0 END AS touch,
           ts, tie, _line
    FROM (
        SELECT customer_id, ts, tie, _line, amount, is_order, ch, camp, seg, conv, age_s,
               lead(ch) OVER (PARTITION BY customer_id, seg ORDER BY {_ORDER}) AS nxt
        FROM w
    ) x
)"""
    return sql, params


def paths_sql(sel: Selection, opts: PathOptions, currency: str = CURRENCY,
              rates: Mapping[str, float] | None = None) -> tuple[str, dict[str, Any]]:
    """The distinct-paths query: ``path`` (channels joined by :data:`SEP`, ``''`` for none),
    ``conversions``, ``revenue`` and ``nulls``, ordered by path."""
    cte, params = _cte(sel, opts, currency, rates)
    sql = f"""{cte},
p AS (
    SELECT customer_id, seg, max(conv) AS conv,
           string_agg(CASE WHEN touch = 1 THEN ch END, '{SEP}' ORDER BY {_ORDER}) AS path,
           sum(CASE WHEN is_order = 1 THEN amount END) AS revenue
    FROM k
    GROUP BY customer_id, seg
)
SELECT coalesce(path, '') AS path, CAST(sum(conv) AS BIGINT) AS conversions,
       CAST(sum(coalesce(revenue, 0)) AS DECIMAL(38, 4)) AS revenue,
       CAST(count(*) - sum(conv) AS BIGINT) AS nulls
FROM p
GROUP BY coalesce(path, '')
ORDER BY path"""
    return sql, params


def decay_sql(sel: Selection, opts: PathOptions, half_life_days: float,
              currency: str = CURRENCY, rates: Mapping[str, float] | None = None
              ) -> tuple[str, dict[str, Any]]:
    """Time-decay credit per channel: each touch of a converting path weighs
    ``2^(−age / half-life)``, the weights of a path sum to one conversion and its revenue."""
    cte, params = _cte(sel, opts, currency, rates)
    params["half_life_s"] = float(half_life_days) * 86400.0
    sql = f"""{cte},
d AS (
    SELECT customer_id, seg, ch, power(0.5, CAST(age_s AS DOUBLE) / $half_life_s) AS wt
    FROM k
    WHERE conv = 1 AND touch = 1
),
r AS (
    SELECT customer_id, seg, sum(CAST(coalesce(amount, 0) AS DOUBLE)) AS revenue
    FROM k
    WHERE conv = 1 AND is_order = 1
    GROUP BY customer_id, seg
),
n AS (
    SELECT d.customer_id AS customer_id, d.seg AS seg, d.ch AS ch,
           d.wt / sum(d.wt) OVER (PARTITION BY d.customer_id, d.seg) AS share
    FROM d
)
SELECT n.ch AS channel, sum(n.share) AS conversions,
       sum(n.share * coalesce(r.revenue, 0)) AS revenue
FROM n LEFT JOIN r ON r.customer_id = n.customer_id AND r.seg = n.seg
GROUP BY n.ch
ORDER BY n.ch"""
    return sql, params


def journey_paths(engine: Engine, sel: Selection | None = None,
                  opts: PathOptions | None = None, currency: str = CURRENCY,
                  rates: Mapping[str, float] | None = None) -> PathTable:
    """The distinct paths of the selection (see the module's docstring)."""
    sql, params = paths_sql(sel or Selection(), opts or PathOptions(), currency, rates)
    return to_table(engine.query(sql, params))


def to_table(t: pa.Table) -> PathTable:
    """A :class:`PathTable` from the paths query's answer (split in Arrow, not in a loop)."""
    text = t.column("path").combine_chunks() if t.num_rows else pa.array([], pa.string())
    split = pc.split_pattern(text, SEP).to_pylist()
    paths = [tuple(p) if p != [""] else () for p in split]
    num = t.column("revenue").to_pylist() if t.num_rows else []
    return PathTable(paths,
                     np.asarray(t.column("conversions").to_pylist(), dtype=float),
                     np.asarray([float(v or 0) for v in num], dtype=float),
                     np.asarray(t.column("nulls").to_pylist(), dtype=float))


def from_counts(rows: Sequence[tuple[Sequence[str], float, float, float]]) -> PathTable:
    """A :class:`PathTable` from ``(channels, conversions, revenue, nulls)`` rows — hand-made
    paths for tests and simulations. Equal paths are summed."""
    acc: dict[tuple[str, ...], list[float]] = {}
    for chans, conv, rev, nulls in rows:
        key = tuple(chans)
        a = acc.setdefault(key, [0.0, 0.0, 0.0])
        a[0] += conv
        a[1] += rev
        a[2] += nulls
    keys = sorted(acc)
    return PathTable(keys, np.array([acc[k][0] for k in keys], dtype=float),
                     np.array([acc[k][1] for k in keys], dtype=float),
                     np.array([acc[k][2] for k in keys], dtype=float))
