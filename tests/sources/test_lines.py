"""Empty lines and mixed line endings: what DuckDB's CSV reader does not report."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxlens.sources import lines


@pytest.mark.parametrize("chunk", [3, 7, 1 << 22])  # the chunk edges fall anywhere
def test_blank_lines_outside_quotes(tmp_path: Path, monkeypatch, chunk: int) -> None:
    monkeypatch.setattr(lines, "CHUNK", chunk)
    path = tmp_path / "f.csv"
    path.write_bytes(b'T\n\na,b\r\n1,2\r\n\r\n3,"x\n\ny"\n\n5,6\n')
    # line 2 is above the header (line 3); line 7 is inside a quoted value
    assert lines.blank_lines(path, 3) == [5, 9]
    assert lines.count_lines(path) == 10


def test_no_blank_lines_and_a_last_line_without_a_break(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n3,4")
    assert lines.blank_lines(path, 1) == []
    assert lines.count_lines(path) == 3


def test_mixed_newlines() -> None:
    assert lines.mixed_newlines(b"Title\na,b\r\n1,2\r\n")
    assert not lines.mixed_newlines(b"a,b\r\n1,2\r\n")
    assert not lines.mixed_newlines(b"a,b\n1,2\n")
