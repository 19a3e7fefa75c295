"""Which orders count as purchases: one rule for every analytics family.

A refunded or lost order is not a purchase (it stays in the warehouse, as the export had
it, and the profile shows it); everything else is, whatever status text the shop uses.
"""

from __future__ import annotations


def counted_order(alias: str = "") -> str:
    """SQL condition: the order (of table alias ``alias``, if given) counts as a purchase."""
    col = f"{alias}.status" if alias else "status"
    return f"coalesce({col}, '') NOT IN ('refunded', 'lost')"
