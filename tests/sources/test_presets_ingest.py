"""Presets at work: each sample is recognised as its own preset, wildcards match the
headers of every currency, and the ad presets read numbers with thousands separators."""

from __future__ import annotations

import codecs
from pathlib import Path

import duckdb
import pytest

from cxlens.ingest.load import ingest
from cxlens.ingest.mapping import column_matches, detect_preset, load_preset, preset_names
from cxlens.sources.readers import ReadOptions, stage
from cxlens.warehouse.store import open_warehouse

SAMPLES = Path(__file__).parents[2] / "src" / "cxlens" / "sources" / "presets" / "samples"


@pytest.mark.parametrize("name", preset_names())
def test_each_sample_is_detected_as_its_own_preset(name: str) -> None:
    sample = next(SAMPLES.glob(f"{name}.*"))
    m = load_preset(name)
    con = duckdb.connect()
    staged = stage(con, sample, "_s", ReadOptions(sheet=m.read.get("sheet")))
    try:
        found = detect_preset(staged.columns, m.kind)
    finally:
        staged.cleanup()
    assert found is not None and found.name == name


@pytest.mark.parametrize(("pattern", "header", "fits"), [
    ("Amount spent (*)", "Amount spent (SEK)", True),
    ("Amount spent (*)", "amount spent (eur)", True),
    ("Amount spent (*)", "Amount spent", False),
    ("*recommend*", "How likely are you to recommend us?", True),
    ("*recommend*", "Why?", False),
    ("Email", " email ", True),
    ("Email", "Email address", False),
])
def test_column_wildcards(pattern: str, header: str, fits: bool) -> None:
    assert column_matches(pattern, header) is fits


def test_meta_ads_takes_the_currency_from_the_header(tmp_path: Path) -> None:
    f = tmp_path / "meta.csv"
    f.write_text("Campaign name,Day,Impressions,Amount spent (SEK),Link clicks\n"
                 "Höst,2024-10-01,12000,1520.50,88\nHöst,2024-10-02,9000,990.00,41\n",
                 encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        r = ingest(con, f, "spend")
        assert r.mapping == "meta_ads" and r.loaded == 2
        assert con.execute("SELECT currency, sum(amount)::VARCHAR FROM spend GROUP BY ALL"
                           ).fetchall() == [("SEK", "2510.5000")]


def test_google_ads_reads_thousands_separators(tmp_path: Path) -> None:
    """Issue 9: "795,836" impressions were stored as 796 and "9,265" clicks as 9."""
    text = ("Campaign report\r\nOctober 1, 2024 - October 2, 2024\r\n"
            "Day\tCampaign\tCurrency code\tCost\tImpr.\tClicks\r\n"
            "2024-10-01\tBrand\tEUR\t1,234.56\t795,836\t9,265\r\n"
            "2024-10-02\tBrand\tEUR\t12.00\t1,001\t12\r\n")
    f = tmp_path / "ads.csv"
    f.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    with open_warehouse(tmp_path / "ws") as con:
        r = ingest(con, f, "spend", preset="google_ads")
        assert (r.loaded, r.quarantined) == (2, 0)
        got = con.execute("SELECT sum(impressions), sum(clicks), sum(amount)::VARCHAR "
                          "FROM spend").fetchall()[0]
        assert got == (796837, 9277, "1246.5600")
