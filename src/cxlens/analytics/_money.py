"""Money is summed in one currency at a time.

Orders and spend keep the currency their export names (ISO 4217, upper-cased at ingest;
EUR when the export names none). The analytics that sum amounts sum the workspace's
currency only and say how many rows in other currencies they left out: adding SEK to EUR
without rates would give a number that means nothing. Converting with exchange rates is
not done (docs/methods.md).
"""

from __future__ import annotations

# The workspace's currency: the currency orders and spend are stored in when their export
# names none (schema defaults), so a workspace in one currency sums everything.
CURRENCY = "EUR"
# SQL: the row is in the currency of the ``$currency`` parameter.
IN_CURRENCY = "currency = $currency"
