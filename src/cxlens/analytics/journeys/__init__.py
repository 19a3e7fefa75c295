"""Journeys: the real paths customers take, and the moments that change what they do.

The public surface (docs/journeys.md, docs/methods.md "Journeys"):

* :func:`journey_log`, :func:`outcomes`, :func:`touchpoints` — the journeys themselves;
* :func:`paths` — the most common paths to or from a touchpoint;
* :func:`process_map` — the directly-follows graph of touchpoint types;
* :func:`moments` — touchpoints and sequences ranked by their adjusted effect on an outcome;
* :func:`survival` — time to the outcome after a moment (Kaplan–Meier, both groups);
* :func:`customers` — the customers behind a moment without the outcome (actions).

Each takes an :class:`~cxlens.warehouse.engine.Engine` and a :class:`Selection` (period,
segment, channel, store) and runs the same SQL on DuckDB and Spark.
"""

from __future__ import annotations

from cxlens.analytics.journeys import reasons
from cxlens.analytics.journeys._log import KINDS, Selection
from cxlens.analytics.journeys._units import OUTCOMES
from cxlens.analytics.journeys.actions import ActionCustomer, Actions, customers
from cxlens.analytics.journeys.journeys import (
    DEFAULT_CHURN_DAYS,
    DEFAULT_GAP_MINUTES,
    TouchpointCount,
    journey_log,
    outcomes,
    touchpoints,
)
from cxlens.analytics.journeys.moments import Balance, MomentRow, Moments, moments
from cxlens.analytics.journeys.paths import PathRow, Paths, paths
from cxlens.analytics.journeys.process_map import Edge, Node, ProcessMap, process_map
from cxlens.analytics.journeys.survival import Curve, Step, Survival, survival

__all__ = [
    "DEFAULT_CHURN_DAYS",
    "DEFAULT_GAP_MINUTES",
    "KINDS",
    "OUTCOMES",
    "ActionCustomer",
    "Actions",
    "Balance",
    "Curve",
    "Edge",
    "MomentRow",
    "Moments",
    "Node",
    "PathRow",
    "Paths",
    "ProcessMap",
    "Selection",
    "Step",
    "Survival",
    "TouchpointCount",
    "customers",
    "journey_log",
    "moments",
    "outcomes",
    "paths",
    "process_map",
    "reasons",
    "survival",
    "touchpoints",
]
