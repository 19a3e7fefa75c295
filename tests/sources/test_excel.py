"""Hostile workbooks cost one child process, never the reading process (issue 15).

Each refusal is an :class:`InputError` naming the file, the sheet or part, and the limit;
the limits are lowered here so that the files stay small.
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import duckdb
import pytest

from cxlens.errors import InputError, SheetChoice
from cxlens.sources import excel
from cxlens.sources.readers import ReadOptions, stage
from cxlens.sources.xlsx import PackageLimits
from workbooks import orders_book, package, two_corner_cells


def limits(**kw: object) -> excel.ExcelLimits:
    pkg = {k: kw.pop(k) for k in list(kw) if k in PackageLimits.__dataclass_fields__}
    return dataclasses.replace(excel.LIMITS, package=dataclasses.replace(
        excel.LIMITS.package, **pkg), **kw)  # type: ignore[arg-type]


def test_two_corner_cells_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "corner.xlsx"
    assert len(two_corner_cells(path)) < 6000
    with pytest.raises(InputError) as ei:
        stage(duckdb.connect(), path, "_s", ReadOptions())
    err = ei.value
    assert err.file == str(path)
    assert "sheet 'Sheet' declares the range A1:XFD1048576" in err.message
    assert "20,000,000 cells" in err.message
    assert "delete" in (err.hint or "") and "CSV" in (err.hint or "")


def test_a_lying_dimension_is_caught_in_the_child(tmp_path: Path) -> None:
    """The declared range says A1, the cells say otherwise: the child's own scan refuses."""
    def lie(parts: dict[str, bytes]) -> None:
        parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
            b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
                             b"</sheetData>")

    path = package(tmp_path / "lie.xlsx", [["order_id"], ["A"]], dimension="A1", mutate=lie)
    with pytest.raises(InputError, match=r"has cells spanning A1:XFD1048576"):
        excel.read_workbook(path, None)


def test_the_memory_limit_stops_the_child_not_the_caller(tmp_path: Path) -> None:
    """With the extent check off, the 512 GiB allocation hits the child's address-space
    limit: the child aborts and the caller gets a message naming the limit."""
    def lie(parts: dict[str, bytes]) -> None:
        parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
            b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
                             b"</sheetData>")

    path = package(tmp_path / "lie.xlsx", [["order_id"], ["A"]], dimension="A1", mutate=lie)
    off = limits(max_cells=1 << 62, max_columns=1 << 30)
    with pytest.raises(InputError, match="more than the 2 GiB memory limit") as ei:
        excel.read_workbook(path, None, off)
    assert ei.value.file == str(path)


def test_a_shared_strings_blow_up_with_lowered_limits(tmp_path: Path) -> None:
    rows: list[list[object]] = [["order_id", "note"]]
    rows += [[f"O{i}", f"{i:06d}" + "x" * 2000] for i in range(30_000)]
    path = package(tmp_path / "strings.xlsx", rows)
    size = zipfile.ZipFile(path).getinfo("xl/sharedStrings.xml").file_size
    assert size > 50 << 20
    with pytest.raises(InputError, match=r"shared strings unpack to .* at most 16.0 MiB"):
        excel.read_workbook(path, None, limits(max_shared_strings_bytes=16 << 20))
    # Past the pre-check, the child's memory limit holds it.
    with pytest.raises(InputError, match="more than the 400 MiB memory limit"):
        excel.read_workbook(path, None, limits(memory_bytes=400 << 20))


def test_a_zip_bomb_is_refused_from_the_directory(tmp_path: Path) -> None:
    def bomb(parts: dict[str, bytes]) -> None:
        parts["xl/media/padding.bin"] = b"\0" * (40 << 20)

    path = package(tmp_path / "bomb.xlsx", [["order_id"], ["A"]], mutate=bomb)
    assert path.stat().st_size < 200_000
    with pytest.raises(InputError, match=r"xl/media/padding.bin unpacks .* ZIP bomb"):
        excel.read_workbook(path, None)
    with pytest.raises(InputError, match=r"unpacks to 40.0 MiB; cxlens opens at most 8.0 MiB"):
        excel.read_workbook(path, None, limits(max_unpacked_bytes=8 << 20, max_ratio=10**6))


def test_too_many_parts_and_a_broken_package(tmp_path: Path) -> None:
    def many(parts: dict[str, bytes]) -> None:
        parts.update({f"xl/x{i}.xml": b"<x/>" for i in range(50)})

    path = package(tmp_path / "many.xlsx", [["order_id"], ["A"]], mutate=many)
    with pytest.raises(InputError, match="56 parts; cxlens opens at most 20"):
        excel.read_workbook(path, None, limits(max_entries=20))
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(path.read_bytes()[:300])
    with pytest.raises(InputError, match=r"not a valid \.xlsx file"):
        excel.read_workbook(broken, None)
    # Damage past what the pre-check reads: the child finds it and says so.
    rows: list[list[object]] = [["order_id", "n"], *([f"O{i}", i] for i in range(20_000))]
    data = bytearray(package(tmp_path / "crc.xlsx", rows, shared=False).read_bytes())
    data[len(data) // 2:len(data) // 2 + 4] = b"\x00\x01\x02\x03"
    broken.write_bytes(bytes(data))
    with pytest.raises(InputError, match="a damaged package"):
        excel.read_workbook(broken, None)


def test_cpu_and_output_limits_are_named(tmp_path: Path) -> None:
    path = orders_book(tmp_path / "orders.xlsx", n=2000)
    with pytest.raises(InputError, match=r"larger than the .* limit for one file"):
        excel.read_workbook(path, None, limits(output_bytes=20_000))
    with pytest.raises(InputError, match=r"took more than the 0.01 s time limit"):
        excel.read_workbook(path, None, limits(wall_seconds=0.01))


def test_formulas_without_a_saved_value_are_noted(tmp_path: Path) -> None:
    rows: list[list[object]] = [["order_id", "amount", "total"]]
    rows += [[f"O{i}", i, ("=", f"B{i + 2}*2", None if i % 2 else i * 2)] for i in range(6)]
    path = package(tmp_path / "formulas.xlsx", rows)
    s = stage(duckdb.connect(), path, "_s", ReadOptions())
    assert len(s.notes) == 1
    note = s.notes[0]
    assert "sheet 'Data': 3 formula cell(s) have no saved value (first at C3)" in note
    assert "open the workbook in Excel or LibreOffice, save it" in note
    calculated = package(tmp_path / "ok.xlsx", [["a", "b"], [1, ("=", "A2", 1)]])
    assert stage(duckdb.connect(), calculated, "_s", ReadOptions()).notes == []


def test_sheets_are_chosen_as_before(tmp_path: Path) -> None:
    path = orders_book(tmp_path / "two.xlsx", sheets={"Notes": [["read", "me"], ["x", "y"]],
                                                      "Empty": []})
    with pytest.raises(SheetChoice) as ei:
        stage(duckdb.connect(), path, "_s", ReadOptions())
    assert ei.value.sheets == ["Orders", "Notes"]
    con = duckdb.connect()
    s = stage(con, path, "_s", ReadOptions(sheet="Orders"))
    assert s.sheet == "Orders" and s.columns == ["order_id", "ts", "amount", "email"]
    assert con.execute(f"SELECT order_id, amount, _line FROM {s.source} ORDER BY _line"
                       ).fetchall() == [("X-0", "10", 2), ("X-1", "11", 3), ("X-2", "12", 4)]
    with pytest.raises(InputError, match="no sheet named 'Nope'"):
        stage(con, path, "_s", ReadOptions(sheet="Nope"))


def test_repeated_header_names_stay_apart(tmp_path: Path) -> None:
    path = package(tmp_path / "dup.xlsx", [["id", "id", None], ["a", "b", "c"]])
    con = duckdb.connect()
    s = stage(con, path, "_s", ReadOptions())
    assert s.columns == ["id", "id_2", "column3"]
    assert con.execute(f"SELECT * FROM {s.source}").fetchall() == [("a", "b", "c", 2)]


def test_the_cpu_limit_is_named(tmp_path: Path) -> None:
    """A workbook that needs several CPU-seconds to read, against a 1 s CPU limit: the
    kernel stops the child (SIGXCPU) and the message names the limit."""
    rows: list[list[object]] = [["order_id", "a", "b", "c"]]
    rows += [[f"O{i}", i, f"t{i}", i * 0.5] for i in range(200_000)]
    path = package(tmp_path / "slow.xlsx", rows, shared=False)
    with pytest.raises(InputError, match="took more than the 1 s CPU-time limit"):
        excel.read_workbook(path, None, limits(cpu_seconds=1))
