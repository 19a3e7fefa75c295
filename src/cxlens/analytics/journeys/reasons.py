"""Why the business moments, a moment's curves or its customers could not be given: stable
codes beside the English text.

The text (``reason``) says it for a person and may be reworded; the code (``reason_code``)
is what outputs match on — the dashboard translates by it (``mo.code.<code>`` in every
locale), and API or ``--json`` readers can rely on it across versions. A code is never
renamed; a new case gets a new code (and a locale string in en, fi and sv: a test checks).
"""

from __future__ import annotations

NO_TOUCHPOINTS = "no_touchpoints"
"""The selection (period and filters) holds no touchpoints at all."""
HORIZON_NOT_OBSERVED = "horizon_not_observed"
"""The data span no more days than the horizon: no index time has its whole horizon seen."""
NO_COMMON_TOUCHPOINT = "no_common_touchpoint"
"""No touchpoint was met by the minimum number of customers."""
NO_OUTCOME = "no_outcome"
"""The outcome never happens within the horizon after any index time."""
NOBODY_MET = "nobody_met"
"""Nobody met the moment (after an earlier touchpoint, with its horizon observed)."""
TOO_FEW_CUSTOMERS = "too_few_customers"
"""Fewer than the minimum who met the moment, or to compare them with."""
NO_OVERLAP = "no_overlap"
"""Too many who met the moment have no comparable customers (propensity past the cap)."""
ALL_HAD_OUTCOME = "all_had_outcome"
"""Everyone who met the moment had the outcome: nobody to follow up."""
NO_MOMENT = "no_moment"
"""No moment was chosen (the API's survival and customers need one)."""

CODES: tuple[str, ...] = (NO_TOUCHPOINTS, HORIZON_NOT_OBSERVED, NO_COMMON_TOUCHPOINT,
                          NO_OUTCOME, NOBODY_MET, TOO_FEW_CUSTOMERS, NO_OVERLAP,
                          ALL_HAD_OUTCOME, NO_MOMENT)


def frame_code(has_frame: bool) -> str:
    """The code of ``_units.frame``'s reason: without a frame there were no touchpoints;
    with one, the span was too short for the horizon."""
    return HORIZON_NOT_OBSERVED if has_frame else NO_TOUCHPOINTS


__all__ = ["CODES", "frame_code"]
