"""What the benchmarks share: waiting for a quiet machine and writing their own doc section.

Each benchmark runs alone (``python bench/NAME.py``; this folder is then on ``sys.path``) and
owns one section of docs/benchmarks.md between its begin/end markers; the hand-written notes
outside the markers are kept.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
QUIET_LOAD = 1.0  # 1-minute load average below which the 2-core machine counts as quiet


def markers(script: str) -> tuple[str, str]:
    return (f"<!-- bench/{script}: begin (generated, do not edit by hand) -->",
            f"<!-- bench/{script}: end -->")


def wait_quiet(max_wait: float) -> float:
    """Wait until the 1-minute load is below QUIET_LOAD (or max_wait passes); return it."""
    deadline = time.monotonic() + max_wait
    load = os.getloadavg()[0]
    while load >= QUIET_LOAD and time.monotonic() < deadline:
        time.sleep(5)
        load = os.getloadavg()[0]
    return round(load, 2)


def not_quiet(load: float, figures: str) -> list[str]:
    """The warning lines for a run that started on a busy machine (none when it was quiet);
    ``figures`` says which way the numbers are off, e.g. "the times are upper bounds"."""
    if load < QUIET_LOAD:
        return []
    return ["", f"**The machine was not quiet** (load {load:.2f} ≥ {QUIET_LOAD} after "
                f"waiting): other work shared the 2 cores, so {figures}."]


def write_section(script: str, section: str) -> None:
    """Replace ``script``'s section of docs/benchmarks.md (or append it)."""
    begin, end = markers(script)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")
