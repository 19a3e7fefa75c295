"""Marketing as an investment: attribution over the whole journey, spend and return (ROI),
later the budget planner and targeting.

The public surface (docs/marketing.md, docs/methods.md "Attribution"):

* :func:`attribute` — conversions and revenue per channel by every model side by side:
  first touch, last touch, linear, position based, time decay, Markov chains (order 1–3,
  exact removal effects) and Shapley values, with bootstrap intervals for the data-driven
  ones;
* :func:`journey_paths` — the distinct channel paths it starts from;
* :func:`roi` — spend, customers acquired, CAC, ROAS, ROI, payback and the return on
  customer lifetime value per paid channel, campaign or month, with bootstrap intervals.

Each reads the journey log through an :class:`~cxlens.warehouse.engine.Engine` and runs the
same SQL on DuckDB and Spark; the models work on the aggregated paths.
"""

from __future__ import annotations

from cxlens.analytics.marketing._paths import PathOptions, PathTable, journey_paths
from cxlens.analytics.marketing.attribution import (
    MODELS,
    Attribution,
    ChannelRow,
    ModelResult,
    attribute,
    attribute_paths,
)
from cxlens.analytics.marketing.roi import Roi, RoiRow, roi

__all__ = ["MODELS", "Attribution", "ChannelRow", "ModelResult", "PathOptions", "PathTable",
           "Roi", "RoiRow", "attribute", "attribute_paths", "journey_paths", "roi"]
