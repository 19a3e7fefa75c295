"""The child process that reads a workbook: ``python -m cxlens.sources._excel_child JOB``.

A spreadsheet library decides how much memory a file costs, and a hostile file can make it
ask for hundreds of GiB and abort the process. So the server never opens a workbook itself:
this child does, under its own resource limits (address space, CPU time, size of the files
it writes), set before the library is imported. It writes the chosen sheet's rows as an
Arrow IPC file and prints one JSON line on stdout:

- ``{"ok": true, "sheet": ..., "columns": [...], "rows": n, "notes": [...]}``
- ``{"ok": false, "error": {...}}`` for a file the user must fix (as :class:`InputError`)
- ``{"ok": false, "limit": "memory" | "output size"}`` when a limit stopped it cleanly.

When a limit kills it outright (a signal), the parent tells from the exit status which one.
JOB is JSON: ``path``, ``sheet`` (or null), ``out`` (the Arrow file), ``memory_bytes``,
``cpu_seconds``, ``output_bytes`` and the :class:`PackageLimits` fields.
"""

from __future__ import annotations

import errno
import json
import resource
import sys
from typing import Any
from xml.etree.ElementTree import ParseError

# Rows per Arrow record batch: Python objects for one batch at a time, not the whole sheet.
BATCH_ROWS = 20_000


def set_limits(job: dict[str, Any]) -> None:
    """Lower this process's limits (never raise them above the hard limits it inherited)."""

    def lower(which: int, value: int, hard_extra: int = 0) -> None:
        _, hard = resource.getrlimit(which)
        cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
        top = cap + hard_extra if hard == resource.RLIM_INFINITY else min(cap + hard_extra, hard)
        resource.setrlimit(which, (cap, top))

    lower(resource.RLIMIT_AS, int(job["memory_bytes"]))
    # SIGXCPU at the soft limit, SIGKILL a few seconds later if it is ignored.
    lower(resource.RLIMIT_CPU, int(job["cpu_seconds"]), hard_extra=5)
    lower(resource.RLIMIT_FSIZE, int(job["output_bytes"]))
    lower(resource.RLIMIT_CORE, 0)


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _error(message: str, hint: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": {"message": message, "hint": hint, **extra}}


def _cell(value: object) -> str | None:
    """A cell as the text the staging table holds (the same rules for every reader)."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def read(job: dict[str, Any]) -> dict[str, Any]:
    import zipfile

    from python_calamine import CalamineWorkbook

    from cxlens.sources import xlsx

    path, wanted = job["path"], job.get("sheet")
    limits = xlsx.PackageLimits(**job["package"])
    parts: dict[str, str] = {}
    zf = None
    if zipfile.is_zipfile(path):
        zf = zipfile.ZipFile(path)
        try:
            parts = xlsx.sheet_parts(zf)
        except (xlsx.PackageRefused, ParseError, KeyError, ValueError):
            parts = {}
    try:
        wb = CalamineWorkbook.from_path(path)
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        return _error(f"cannot open the workbook: {exc}", "save it again as .xlsx")
    names = list(wb.sheet_names)
    if wanted and wanted not in names:
        return _error(f"no sheet named {wanted!r}",
                      f"sheets in the workbook: {', '.join(names)}")
    scans: dict[str, xlsx.SheetScan] = {}

    def load(name: str) -> Any:
        """The sheet, after its real extent passed the limits (the <dimension> may lie)."""
        if zf is not None and name in parts:
            scan = xlsx.scan_sheet(zf, parts[name])
            scans[name] = scan
            ref = scan.extent()
            if ref:
                xlsx.check_area(name, ref, limits, declared=False)
        try:
            return wb.get_sheet_by_name(name)
        except MemoryError:
            raise
        except Exception as exc:  # calamine's own errors for a sheet it cannot parse
            raise xlsx.PackageRefused(f"cannot read sheet {name!r}: {exc}", limit="",
                                      hint="save the workbook again as .xlsx") from None

    chosen, sheet = wanted, None
    if wanted:
        sheet = load(wanted)
    else:
        with_data = []
        for name in names:
            s = load(name)
            if s.to_python(nrows=2):
                with_data.append(name)
                sheet = s if len(with_data) == 1 else None
            del s
        if not with_data:
            return _error("the workbook has no data", "export it again")
        if len(with_data) > 1:
            return _error(f"the workbook has {len(with_data)} sheets with data: "
                          f"{', '.join(with_data)}", "choose one with --sheet NAME",
                          sheets=with_data)
        chosen = with_data[0]
    assert sheet is not None and chosen is not None
    columns, rows = _write_arrow(sheet, job["out"])
    notes = []
    scan = scans.get(chosen)
    if scan and scan.formulas_without_value:
        notes.append(
            f"sheet {chosen!r}: {scan.formulas_without_value:,} formula cell(s) have no saved "
            f"value (first at {scan.first_without_value}) and were read as empty; the program "
            "that wrote the file did not calculate them — open the workbook in Excel or "
            "LibreOffice, save it, and load it again")
    return {"ok": True, "sheet": chosen, "columns": columns, "rows": rows, "notes": notes}


def unique_names(names: list[str]) -> list[str]:
    """Repeated header names get ``_2``, ``_3``; the CSV reader uses this too, so both
    formats name a repeated column the same way. Names that differ only in case
    (``Company Name`` and ``Company name``: a contact and a company property in a HubSpot
    export) count as repeated, because DuckDB's column names ignore case: the second
    becomes ``Company name_2``, and the user sees that name and can map either."""
    seen: set[str] = set()
    count: dict[str, int] = {}
    out = []
    for name in names:
        key = name.casefold()
        if key in seen:
            n = count.get(key, 1)
            while True:
                n += 1
                candidate = f"{name}_{n}"
                if candidate.casefold() not in seen:
                    break
            count[key] = n
            name = candidate
        seen.add(name.casefold())
        out.append(name)
    return out


def _write_arrow(sheet: Any, out: str) -> tuple[list[str], int]:
    """Stream the rows into an Arrow IPC file: the header row names the columns, every
    value is text, and ``_line`` numbers the data rows from 2 (the header is line 1)."""
    import pyarrow as pa

    rows = sheet.iter_rows()
    start = sheet.start
    for _ in range(start[0] if start else 0):
        next(rows, None)
    first = next(rows, None)
    header = unique_names([str(c).strip() if c not in (None, "") else f"column{i + 1}"
                      for i, c in enumerate(first or [])])
    schema = pa.schema([*(pa.field(h, pa.string()) for h in header),
                        pa.field("_line", pa.int64())])
    n = 0
    with pa.OSFile(out, "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        batch: list[list[object]] = []

        def flush() -> None:
            cols = [pa.array([_cell(r[i]) if i < len(r) else None for r in batch], pa.string())
                    for i in range(len(header))]
            cols.append(pa.array(range(n - len(batch) + 2, n + 2), pa.int64()))
            writer.write_batch(pa.RecordBatch.from_arrays(cols, schema=schema))
            batch.clear()

        for row in rows:
            batch.append(row)
            n += 1
            if len(batch) >= BATCH_ROWS:
                flush()
        if batch or n == 0:
            flush()
    return header, n


def main(argv: list[str]) -> int:
    job = json.loads(argv[1])
    set_limits(job)
    try:
        _say(read(job))
    except MemoryError:
        _say({"ok": False, "limit": "memory"})
    except OSError as exc:
        if exc.errno == errno.EFBIG:
            _say({"ok": False, "limit": "output size"})
            return 0
        raise
    except Exception as exc:
        import zipfile
        import zlib

        from cxlens.sources import xlsx

        if isinstance(exc, xlsx.PackageRefused):
            _say(_error(exc.message, exc.hint, limit=exc.limit))
            return 0
        if isinstance(exc, zipfile.BadZipFile | zlib.error | ParseError | EOFError):
            _say(_error(f"cannot open the workbook: a damaged package ({exc})",
                        "save it again as .xlsx"))
            return 0
        raise  # a bug: the traceback goes to stderr, the parent reports the exit status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
