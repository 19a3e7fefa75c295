"""The names people use for the groups the analytics compare: "Tampere Ratina" rather than
``FI-TRE``, "Store team Göteborg Nordstan" rather than ``T-SE-GOT``.

Answers and orders carry codes; the names come with the HR list (``employees``: ``store_name``
and ``team_name`` beside the codes). A code without a name there keeps its code. Other
dimensions (channel, touchpoint, segment) are words already, translated by the outputs.
"""

from __future__ import annotations

from cxlens.warehouse.engine import Engine

# dimension -> the employees column that names it (both column names are fixed here, never
# taken from the caller)
_NAMED = {"store_id": "store_name", "team_id": "team_name"}


def group_names(engine: Engine, dimension: str) -> dict[str, str]:
    """Code -> name for a dimension's groups; empty for a dimension without names. When the
    HR list gives one code several names, the first in sort order is used, so the answer is
    the same on every engine."""
    column = _NAMED.get(dimension)
    if column is None:
        return {}
    rows = engine.query(
        f"SELECT {dimension} AS code, min(trim({column})) AS name FROM v_employees "
        f"WHERE {dimension} IS NOT NULL AND trim({column}) <> '' GROUP BY {dimension} "
        f"ORDER BY {dimension}").to_pylist()
    return {str(r["code"]): str(r["name"]) for r in rows}
