"""The journeys results of a workspace, kept while its batches stay as they are.

The Journeys page asks the analytics for the touchpoints, the paths and the process map of
one selection; on the M demo under load these take several seconds each (paths 2.9 s,
process map 3.8 s, touchpoints 1.9 s), and a reader changing only the direction or the
number of steps should not pay for the process map again. The page and the JSON API
(``/api/w/{slug}/journeys/...``) read through here, so one fills the other's cache.

Results are kept in a :class:`~cxlens.web.kept.Kept` (keyed by the warehouse, its data
version and the engine) under the call: which analysis and its arguments (the selection's
period and filters, anchor, direction, steps, top). The journeys read no clock, so the day
is not in the key; the page's window is, as the selection's dates. Results are frozen
dataclasses, tuples and read-only mappings; the page copies the filter options before adding
a chosen value. A result is a few hundred rows; :data:`SIZE` are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date
from types import MappingProxyType
from typing import TypeVar

from cxlens.analytics import journeys as jr
from cxlens.analytics.group_names import group_names
from cxlens.analytics.journeys.options import filter_options
from cxlens.warehouse.engine import Engine
from cxlens.web.kept import Kept
from cxlens.web.warehouses import Warehouse

T = TypeVar("T")
SIZE = 128
KEPT = Kept(SIZE)


def kept(warehouse: Warehouse, engine_choice: str | None, call: tuple[Hashable, ...],
         compute: Callable[[Engine], T]) -> T:
    """``compute(engine)`` for ``call`` (the analysis and its arguments), kept."""
    return KEPT.get(warehouse, engine_choice, call, compute)


def touchpoints(warehouse: Warehouse, engine_choice: str | None,
                sel: jr.Selection) -> tuple[jr.TouchpointCount, ...]:
    """:func:`cxlens.analytics.journeys.touchpoints`, kept."""
    return kept(warehouse, engine_choice, ("touchpoints", sel),
                lambda eng: tuple(jr.touchpoints(eng, sel)))


def paths(warehouse: Warehouse, engine_choice: str | None, anchor: str | None,
          direction: str, sel: jr.Selection, steps: int, top: int) -> jr.Paths:
    """:func:`cxlens.analytics.journeys.paths`, kept."""
    return kept(warehouse, engine_choice, ("paths", anchor, direction, sel, steps, top),
                lambda eng: jr.paths(eng, anchor, direction, sel,  # type: ignore[arg-type]
                                     steps=steps, top=top))


def process_map(warehouse: Warehouse, engine_choice: str | None,
                sel: jr.Selection) -> jr.ProcessMap:
    """:func:`cxlens.analytics.journeys.process_map`, kept."""
    return kept(warehouse, engine_choice, ("map", sel), lambda eng: jr.process_map(eng, sel))


def moments_call(outcome: str, within: int, sel: jr.Selection, as_of: date | None,
                 pairs: int, min_customers: int) -> tuple[Hashable, ...]:
    """The key :func:`moments` keeps its result under (the Moments page's too)."""
    return ("moments", outcome, within, sel, as_of, pairs, min_customers)


def compute_moments(eng: Engine, outcome: str, within: int, sel: jr.Selection,
                    as_of: date | None, pairs: int, min_customers: int) -> jr.Moments:
    return jr.moments(eng, outcome, within, sel, as_of=as_of, pairs=pairs,
                      min_customers=min_customers)


def moments(warehouse: Warehouse, engine_choice: str | None, outcome: str, within: int,
            sel: jr.Selection, as_of: date | None, pairs: int,
            min_customers: int) -> jr.Moments:
    """:func:`cxlens.analytics.journeys.moments`, kept: all moments of one outcome take
    tens of seconds on the M demo."""
    args = (outcome, within, sel, as_of, pairs, min_customers)
    return kept(warehouse, engine_choice, moments_call(*args),
                lambda eng: compute_moments(eng, *args))


def survival(warehouse: Warehouse, engine_choice: str | None, moment: str, outcome: str,
             within: int, sel: jr.Selection, as_of: date | None,
             weighted: bool) -> jr.Survival:
    """:func:`cxlens.analytics.journeys.survival`, kept."""
    return kept(warehouse, engine_choice,
                ("survival", moment, outcome, within, sel, as_of, weighted),
                lambda eng: jr.survival(eng, moment, outcome, within, sel, as_of=as_of,
                                        weighted=weighted))


def customers(warehouse: Warehouse, engine_choice: str | None, moment: str, outcome: str,
              within: int, sel: jr.Selection, as_of: date | None, limit: int) -> jr.Actions:
    """:func:`cxlens.analytics.journeys.customers` (the customers behind a moment), kept."""
    return kept(warehouse, engine_choice,
                ("customers", moment, outcome, within, sel, as_of, limit),
                lambda eng: jr.customers(eng, moment, outcome, within, sel, as_of=as_of,
                                         limit=limit))


def options(warehouse: Warehouse, engine_choice: str | None,
            limit: int) -> MappingProxyType[str, tuple[str, ...]]:
    """The filter form's values (:func:`~cxlens.analytics.journeys.options.filter_options`),
    kept, read-only."""
    def compute(eng: Engine) -> MappingProxyType[str, tuple[str, ...]]:
        found = filter_options(eng, limit)
        return MappingProxyType({dim: tuple(values) for dim, values in found.items()})
    return kept(warehouse, engine_choice, ("options", limit), compute)


def store_names(warehouse: Warehouse,
                engine_choice: str | None) -> MappingProxyType[str, str]:
    """Store code -> name (:func:`cxlens.analytics.group_names.group_names`), kept."""
    return kept(warehouse, engine_choice, ("store_names",),
                lambda eng: MappingProxyType(group_names(eng, "store_id")))


def clear() -> None:
    """Forget every kept result (tests)."""
    KEPT.clear()
