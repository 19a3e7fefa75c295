"""Rows of an engine's result as the plain Python values the analytics results always held."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa


def plain(value: Any) -> Any:
    """``value`` with a UTC-zoned timestamp made naive again.

    ``normalize_arrow`` labels every timestamp UTC so that both engines agree; the
    warehouse's timestamps are naive UTC, and pages, the CLI, JSON output and comparisons
    with other naive times expect them so (an aware and a naive datetime never compare
    equal).
    """
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def plain_rows(table: pa.Table) -> list[dict[str, Any]]:
    """The rows of ``table`` as dicts of plain values (see :func:`plain`)."""
    return [{k: plain(v) for k, v in row.items()} for row in table.to_pylist()]
