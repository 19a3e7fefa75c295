"""Read a workbook (.xlsx, .xlsm, .xls) safely: checked first, parsed in a child process.

A 1.4 KB workbook with one cell at A1 and one at XFD1048576 made the reader allocate
512 GiB and abort the whole server; a 200 MB shared-strings workbook grew it to 2 GB. So:

1. :func:`cxlens.sources.xlsx.precheck` looks at the ZIP directory and each sheet's declared
   dimension in this process (nothing unpacked in full) and refuses a package over
   :data:`LIMITS` with a message naming the sheet, the range and the limit;
2. the read itself runs in ``python -m cxlens.sources._excel_child`` under an address-space,
   CPU-time and output-size limit, and hands the rows back as an Arrow IPC file. If the
   child is killed (a limit, a crash, the wall-clock timeout), the user gets an
   :class:`InputError` naming the file and the limit; the server process never notices.

The limits are a module constant so that tests (and deployments) can lower them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa

from cxlens.errors import InputError, SheetChoice
from cxlens.sources.xlsx import PackageLimits, PackageRefused, precheck

ZIP_SUFFIXES = (".xlsx", ".xlsm")
_SRC_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds ``cxlens``


@dataclass(frozen=True)
class ExcelLimits:
    """What reading one workbook may cost; each is named in the message when it is hit."""

    memory_bytes: int = 2 << 30  # the child's address space (RLIMIT_AS)
    cpu_seconds: int = 120  # the child's CPU time (RLIMIT_CPU)
    output_bytes: int = 2 << 30  # the Arrow file it writes (RLIMIT_FSIZE)
    wall_seconds: float = 300.0  # then the parent kills it
    package: PackageLimits = field(default_factory=PackageLimits)


LIMITS = ExcelLimits()
# At most this many workbook children at once, whatever the number of uploads: each may use
# up to ``memory_bytes``. Others wait their turn (each child ends within ``wall_seconds``).
MAX_CHILDREN = 2
_children = threading.BoundedSemaphore(MAX_CHILDREN)


@dataclass
class Workbook:
    """The chosen sheet's rows (text columns plus ``_line``) and what the reader noticed."""

    arrow: pa.Table
    columns: list[str]
    sheet: str
    notes: list[str]


def read_workbook(path: Path, sheet: str | None, limits: ExcelLimits | None = None) -> Workbook:
    """Check and read one sheet of a workbook; raise :class:`InputError` (or
    :class:`SheetChoice` when several sheets hold data and none was chosen)."""
    limits = limits or LIMITS
    if path.suffix.lower() in ZIP_SUFFIXES:
        _precheck(path, limits)
    with tempfile.TemporaryDirectory(prefix="cxlens-xl-") as tmp:
        out = Path(tmp) / "rows.arrow"
        answer = _run_child(path, sheet, out, limits)
        if answer.get("ok"):
            with pa.OSFile(str(out)) as source:  # read into memory: the folder goes next
                table = pa.ipc.open_file(source).read_all()
            return Workbook(table, list(answer["columns"]), str(answer["sheet"]),
                            list(answer.get("notes") or []))
    raise _refusal(path, answer, limits)


def _precheck(path: Path, limits: ExcelLimits) -> None:
    try:
        precheck(str(path), limits.package)
    except zipfile.BadZipFile:
        raise InputError("cannot open the workbook: it is not a valid .xlsx file (not a ZIP "
                         "package, or a damaged one)", file=str(path),
                         hint="save it again as .xlsx, or export the data as CSV") from None
    except PackageRefused as exc:
        raise InputError(exc.message, file=str(path), hint=exc.hint) from None
    except (KeyError, ValueError, OSError, EOFError, zipfile.LargeZipFile,
            NotImplementedError) as exc:
        raise InputError(f"cannot open the workbook: a damaged package ({exc})",
                         file=str(path), hint="save it again as .xlsx") from None
    except SyntaxError as exc:  # ElementTree's ParseError in workbook.xml or its relationships
        raise InputError(f"cannot open the workbook: broken XML in the package ({exc})",
                         file=str(path), hint="save it again as .xlsx") from None


def _run_child(path: Path, sheet: str | None, out: Path, limits: ExcelLimits) -> dict:
    job = {"path": os.path.abspath(path), "sheet": sheet, "out": str(out),
           "memory_bytes": limits.memory_bytes, "cpu_seconds": limits.cpu_seconds,
           "output_bytes": limits.output_bytes, "package": asdict(limits.package)}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (_SRC_ROOT, os.environ.get("PYTHONPATH")) if p)}
    env.pop("RUST_BACKTRACE", None)
    # One thread for the numeric libraries: each of their threads reserves buffers that
    # would count against the child's address space.
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    try:
        with _children:
            done = subprocess.run(
                [sys.executable, "-m", "cxlens.sources._excel_child", json.dumps(job)],
                capture_output=True, text=True, timeout=limits.wall_seconds, env=env,
                cwd=out.parent, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"ok": False, "limit": "time"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    return {"ok": False, "status": done.returncode, "stderr": done.stderr[-2000:]}


def _refusal(path: Path, answer: dict, limits: ExcelLimits) -> InputError:
    """The user's message for a child that refused the file or was stopped by a limit."""
    if "error" in answer:
        err = answer["error"]
        if err.get("sheets"):
            return SheetChoice(err["message"], sheets=list(err["sheets"]), file=str(path),
                               hint=err.get("hint"))
        return InputError(err["message"], file=str(path), hint=err.get("hint"))
    limit = answer.get("limit") or _limit_of(answer)
    save_csv = "save the sheet as CSV (File → Save as → CSV) and load that instead"
    if limit == "memory":
        return InputError(
            f"reading the workbook needed more than the {_gib(limits.memory_bytes)} memory "
            "limit for one file", file=str(path),
            hint="a stray cell far below or right of the data can make a sheet huge: "
                 "delete the empty rows and columns after the data, or " + save_csv)
    if limit == "cpu":
        return InputError(
            f"reading the workbook took more than the {limits.cpu_seconds} s CPU-time limit "
            "for one file", file=str(path), hint=save_csv)
    if limit == "time":
        return InputError(
            f"reading the workbook took more than the {limits.wall_seconds:g} s time limit "
            "for one file", file=str(path), hint=save_csv)
    if limit == "output size":
        return InputError(
            f"the workbook's data is larger than the {_gib(limits.output_bytes)} limit for "
            "one file", file=str(path), hint="split it into smaller files, or " + save_csv)
    status = answer.get("status")
    return InputError(
        f"the workbook reader stopped on this file (exit status {status})", file=str(path),
        hint="save it again from Excel or LibreOffice, or " + save_csv)


def _limit_of(answer: dict) -> str | None:
    """Which limit killed the child, from its exit status and last words."""
    status = answer.get("status")
    stderr = str(answer.get("stderr") or "")
    lowered = stderr.lower()
    if "memory allocation" in lowered or "memoryerror" in lowered or "out of memory" in lowered:
        return "memory"  # Rust's abort, Python's MemoryError, OpenBLAS giving up
    if status in (-signal.SIGXCPU, -signal.SIGKILL):
        return "cpu"
    if status == -signal.SIGXFSZ:
        return "output size"
    if status == -signal.SIGABRT and ("alloc" in stderr or "memory" in stderr):
        return "memory"
    return None


def _gib(n: int) -> str:
    return f"{n / (1 << 30):g} GiB" if n >= 1 << 30 else f"{n / (1 << 20):g} MiB"
