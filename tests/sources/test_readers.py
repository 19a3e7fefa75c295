"""Sniffing of CSV exports: encodings, delimiters, title lines above the header."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cxlens.errors import InputError
from cxlens.sources.readers import (
    ReadOptions,
    sniff_delimiter,
    sniff_encoding,
    sniff_title_lines,
    stage,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("a,b,c", ","), ("Päivämäärä;Summa;Sähköposti", ";"), ("a\tb\tc", "\t"), ("x|y", "|"),
     ("single", ",")],
)
def test_sniff_delimiter(header: str, expected: str) -> None:
    assert sniff_delimiter(header) == expected


def test_sniff_encoding(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    assert sniff_encoding("Nimi;Määrä\n".encode(), p) == "utf-8"
    assert sniff_encoding("\ufeffNimi;Määrä\n".encode(), p) == "utf-8-sig"
    assert sniff_encoding("Nimi;Määrä;€\n".encode("cp1252"), p) == "cp1252"
    assert sniff_encoding("Nimi\tMäärä\n".encode("utf-16"), p) == "utf-16"
    with pytest.raises(InputError, match="ZIP"):
        sniff_encoding(b"PK\x03\x04rest", p)


def test_title_lines_above_the_header_are_skipped() -> None:
    text = 'Campaign report\n"1 Nov 2025 - 30 Nov 2025"\nDay,Campaign,Cost\n1,A,2\n2,A,3\n3,B,4\n'
    assert sniff_title_lines(text, ",") == 2
    assert sniff_title_lines("Day,Campaign,Cost\n1,A,2\n2,A,3\n", ",") == 0


def test_staged_lines_count_the_skipped_title_lines(tmp_path: Path) -> None:
    p = tmp_path / "ads.csv"
    p.write_text("Report\nDay,Cost\n2025-11-01,1\n2025-11-02,2\n2025-11-03,3\n", encoding="utf-8")
    con = duckdb.connect()
    s = stage(con, p, "_s", ReadOptions())
    assert s.columns == ["Day", "Cost"] and s.skip_rows == 1
    # The loader numbers rows from the order it wrote them: position 0 is line 3.
    assert s.line_offset == 3
    days = [r[0] for r in con.execute(f"SELECT Day FROM {s.source}").fetchall()]
    assert days == ["2025-11-01", "2025-11-02", "2025-11-03"]
