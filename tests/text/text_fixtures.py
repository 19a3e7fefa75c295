"""Constants shared by the text tests (import as ``text_fixtures``)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# The taxonomy theme that stands for each planted demo theme (docs/demo.md).
PLANTED = {"delivery_delay": {"delivery"}, "checkout_problems": {"website_app", "payment"},
           "long_queue": {"queue"}, "price_high": {"price"},
           "product_quality": {"product_quality"}, "friendly_staff": {"staff"}}


def planted_rows(n: int, *, seed: int = 5, start: str = "2026-01-01", days: int = 300,
                 prefix: str = "p") -> pa.Table:
    """``n`` NPS answers whose comments are the demo's planted texts (docs/demo.md), drawn in
    equal language shares (the S demo has few English NPS comments) with the demo's theme
    shares per channel and score shifts: the input of the discovery and alert tests.
    Columns are those of ``feedback`` plus ``planted`` (the theme), for ``insert_rows``."""
    from cxlens.demo import company as co

    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {k: [] for k in ("response_id", "ts", "score", "comment",
                                             "language", "touchpoint", "store_id",
                                             "planted")}
    t0 = np.datetime64(start)
    for i in range(n):
        lang = ("fi", "sv", "en")[i % 3]
        channel = "web" if rng.random() < 0.5 else "store"
        names = list(co.THEME_SHARES[channel])
        theme = names[rng.choice(len(names), p=list(co.THEME_SHARES[channel].values()))]
        texts = co.THEMES[theme][lang]
        score = float(np.clip(np.round(8.4 + co.THEMES[theme]["shift"]
                                       + rng.normal(0, 1.5)), 0, 10))
        rows["response_id"].append(f"{prefix}{i:05d}")
        rows["ts"].append((t0 + np.timedelta64(int(rng.integers(0, days * 1440)), "m")
                           ).astype("datetime64[us]").item())
        rows["score"].append(score)
        rows["comment"].append(texts[int(rng.integers(0, len(texts)))])
        rows["language"].append(lang)
        rows["touchpoint"].append("webshop" if channel == "web" else "store")
        rows["store_id"].append("WEB" if channel == "web" else f"S{int(rng.integers(1, 4))}")
        rows["planted"].append(theme)
    return pa.table(rows)


def insert_rows(con, table) -> None:
    """Insert ``planted_rows``-shaped answers straight into ``feedback`` (one batch)."""
    con.register("_planted", table)
    con.execute("""INSERT INTO feedback (response_id, ts, metric, score, comment, language,
                   touchpoint, store_id, _batch, _line, _hash)
                   SELECT response_id, ts, 'nps', score, comment, language, touchpoint,
                          store_id, 1, row_number() OVER () + 1, hash(response_id)
                   FROM _planted""")
    con.unregister("_planted")
