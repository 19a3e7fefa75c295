"""Constants shared by the text tests (import as ``text_fixtures``)."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# The taxonomy theme that stands for each planted demo theme (docs/demo.md).
PLANTED = {"delivery_delay": {"delivery"}, "checkout_problems": {"website_app", "payment"},
           "long_queue": {"queue"}, "price_high": {"price"},
           "product_quality": {"product_quality"}, "friendly_staff": {"staff"}}
