"""Journeys: the real paths customers take, and the moments that change what they do.

The public surface (docs/journeys.md, docs/methods.md "Journeys"):

* :func:`journey_log`, :func:`outcomes`, :func:`touchpoints` — the journeys themselves;
* :func:`paths` — the most common paths to or from a touchpoint;
* :func:`process_map` — the directly-follows graph of touchpoint types.

Each takes an :class:`~cxlens.warehouse.engine.Engine` and a :class:`Selection` (period,
segment, channel, store) and runs the same SQL on DuckDB and Spark.
"""

from __future__ import annotations

from cxlens.analytics.journeys._log import KINDS, Selection
from cxlens.analytics.journeys.journeys import (
    DEFAULT_CHURN_DAYS,
    DEFAULT_GAP_MINUTES,
    TouchpointCount,
    journey_log,
    outcomes,
    touchpoints,
)
from cxlens.analytics.journeys.paths import PathRow, Paths, paths
from cxlens.analytics.journeys.process_map import Edge, Node, ProcessMap, process_map

__all__ = [
    "DEFAULT_CHURN_DAYS",
    "DEFAULT_GAP_MINUTES",
    "KINDS",
    "Edge",
    "Node",
    "PathRow",
    "Paths",
    "ProcessMap",
    "Selection",
    "TouchpointCount",
    "journey_log",
    "outcomes",
    "paths",
    "process_map",
    "touchpoints",
]
