"""Uploaded files on the server: stored under ``<workspace>/uploads/`` while they are
used, deleted as soon as they are not.

An upload is in use from :func:`store` until :func:`discard`: the API ingest discards it
when the batch ends (loaded or refused), the Data page when its job is done, failed, refused
at preview or expired. Whatever is left behind by a killed process is removed by
:func:`sweep` — at server start (every upload of the previous run is stale, its jobs lived
in memory) and periodically for files older than :data:`MAX_AGE_SECONDS` that no job holds.

Mapping proposals written for an upload go to ``<workspace>/proposals/`` instead, since the
error answer reads them after the upload is gone; the same sweep expires them.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends, UploadFile

UPLOADS = "uploads"
PROPOSALS = "proposals"
# An upload (or proposal) no job holds is deleted after this long.
MAX_AGE_SECONDS = 3600
_in_use: set[Path] = set()
_lock = threading.Lock()


def folder(workspace: Path) -> Path:
    return workspace / UPLOADS


def proposal_dir(workspace: Path) -> Path:
    """Where a mapping proposal for an uploaded file is written (created if needed)."""
    out = workspace / PROPOSALS
    out.mkdir(parents=True, exist_ok=True)
    return out


def store(upload: UploadFile, workspace: Path) -> Path:
    """Copy the upload under ``<workspace>/uploads/`` with a safe, unique name; in use
    until :func:`discard`."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(upload.filename or "upload").name)[-120:]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target_dir = folder(workspace)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{stamp}-{name.lstrip('.') or 'upload'}"
    with _lock:
        _in_use.add(target)
    try:
        with open(target, "wb") as fh:
            shutil.copyfileobj(upload.file, fh, 1 << 20)
    except BaseException:
        discard(target)
        raise
    return target


def discard(path: Path | None) -> None:
    """Delete a stored upload (a missing file is fine) and stop holding it."""
    if path is None:
        return
    with _lock:
        _in_use.discard(path)
    path.unlink(missing_ok=True)


def _held() -> Iterator[list[Path]]:
    """A route's list of stored uploads, deleted when the route function ends — returned
    or raised — and before the answer is sent (``scope="function"``), so a client that has
    its answer never finds the file still there."""
    paths: list[Path] = []
    try:
        yield paths
    finally:
        for p in paths:
            discard(p)


# A route parameter: ``held.append(path)`` and the upload goes when the route ends.
Held = Annotated[list[Path], Depends(_held, scope="function")]


def sweep(workspaces_dir: Path, max_age: float | None = MAX_AGE_SECONDS) -> int:
    """Delete uploads and proposals older than ``max_age`` seconds that nothing holds
    (``None``: every one that nothing holds). Returns how many files went."""
    if not workspaces_dir.is_dir():
        return 0
    cutoff = None if max_age is None else time.time() - max_age
    gone = 0
    for ws in workspaces_dir.iterdir():
        for sub in (ws / UPLOADS, ws / PROPOSALS):
            if not sub.is_dir():
                continue
            for f in sub.iterdir():
                with _lock:
                    held = f in _in_use
                try:
                    old = cutoff is None or f.stat().st_mtime < cutoff
                except OSError:
                    continue
                if f.is_file() and not held and old:
                    f.unlink(missing_ok=True)
                    gone += 1
    return gone
