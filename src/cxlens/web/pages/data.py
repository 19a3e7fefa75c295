"""The Data page: sources, batches (rows in = loaded + quarantined + duplicates + skipped), the open
quarantine with reasons and raw values, rollback (owners) — and the upload flow.

Upload: choose a file and a kind (and optionally a preset) → the server keeps the file under
``<workspace>/uploads/``, reads it in a scratch in-memory DuckDB and shows the proposed
mapping and the first 10 rows → confirm → the ingest runs in a background thread through
the workspace's single writer (``warehouse.write``) while the page polls
``/api/w/{slug}/jobs/{id}`` → the batch counts and the quarantined rows with their reasons.
Jobs live in the server's memory (``app.state``) and are forgotten at restart; the batch
itself is in the warehouse either way. The uploaded file is deleted when its job is done or
failed, when the preview refuses it, and when a preview is never confirmed (after
:data:`uploads.MAX_AGE_SECONDS`); at start the server deletes every upload of an earlier run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import duckdb
from fastapi import APIRouter, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response

from cxlens.errors import SheetChoice, UserError
from cxlens.ingest.batches import field_warning_counts, quarantined
from cxlens.ingest.batches import rollback as do_rollback
from cxlens.ingest.load import ingest as run_ingest
from cxlens.ingest.load import plan
from cxlens.ingest.mapping import preset_names
from cxlens.ingest.transform import ident
from cxlens.schema import KINDS
from cxlens.sources.readers import ReadOptions
from cxlens.warehouse.store import db_path
from cxlens.web import uploads
from cxlens.web.deps import TokenScope, WorkspaceAccess, WorkspaceRole
from cxlens.web.errors import new_reference, public_fields, public_text
from cxlens.web.nav import MANAGE, NavItem, register
from cxlens.web.pages import see_other
from cxlens.web.templating import render

log = logging.getLogger(__name__)
# Every this many seconds the server deletes expired uploads and forgets old jobs.
SWEEP_EVERY_SECONDS = 300.0


@asynccontextmanager
async def _upload_sweeper(app: FastAPI) -> AsyncIterator[None]:
    """At start, delete every upload of an earlier run (its jobs were in memory); while
    serving, expire unconfirmed jobs and stray files (:data:`uploads.MAX_AGE_SECONDS`)."""
    settings = getattr(app.state, "settings", None)
    if settings is None:
        yield
        return
    await asyncio.to_thread(uploads.sweep, settings.workspaces_dir, None)

    async def every() -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY_SECONDS)
            try:
                await asyncio.to_thread(expire_jobs, app)
            except Exception:  # a sweep that fails must not stop the next one
                log.exception("upload sweep failed")

    task = asyncio.create_task(every())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


router = APIRouter(include_in_schema=False, lifespan=_upload_sweeper)
api_router = APIRouter(prefix="/api/w/{slug}", tags=["ingest"])
register(NavItem("data", "nav.data", "/w/{slug}/data", "viewer", order=30, group=MANAGE))
Analyst = WorkspaceRole("analyst")
PREVIEW_ROWS = 10
# What the upload form offers when sniffing gets a file wrong (value: label).
DELIMITERS = {",": ",", ";": ";", "\t": "tab", "|": "|"}
ENCODINGS = ("utf-8", "cp1252", "latin-1", "utf-16")

_SOURCES = """
SELECT coalesce(nullif(regexp_extract(mapping, '(?m)^name: *(.+)$', 1), ''), 'custom')
         AS source,
       kind, count(*) AS batches, sum(rows_in) AS rows_in, sum(loaded) AS loaded,
       sum(quarantined) AS quarantined, sum(duplicates) AS duplicates,
       sum(coalesce(skipped, 0)) AS skipped, max(started_at) AS last_batch
FROM batches WHERE status = 'loaded' GROUP BY ALL ORDER BY kind, source
"""
_BATCHES = """
SELECT * FROM (
  SELECT batch_id, kind, source_file, started_at, rows_in, loaded, changed, quarantined,
         duplicates, coalesce(skipped, 0) AS skipped, status,
         coalesce(nullif(regexp_extract(mapping, '(?m)^name: *(.+)$', 1), ''), 'custom')
           AS source
  FROM batches)
WHERE $source IS NULL OR source = $source ORDER BY batch_id DESC LIMIT 100
"""


def _dicts(cur: duckdb.DuckDBPyConnection, sql: str,
           params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    rel = cur.execute(sql, params or {})
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


@dataclass
class Job:
    id: str
    slug: str
    file: str
    kind: str | None
    preset: str | None
    status: str = "pending"  # pending (preview shown) → queued → running → done | failed
    step: str = ""
    fraction: float = 0.0
    result: dict[str, Any] | None = None
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    path: Path | None = None
    mapping_yaml: str | None = None
    detected: str | None = None  # the preset cxlens recognised from the header
    read: ReadOptions = field(default_factory=ReadOptions)
    sheets: list[str] = field(default_factory=list)  # offered when the workbook has several
    created: float = field(default_factory=time.monotonic)

    def public(self) -> dict[str, Any]:
        return {"ok": True, "id": self.id, "status": self.status, "step": self.step,
                "fraction": round(self.fraction, 3), "file": self.file, "kind": self.kind,
                "result": self.result, "error": self.error}


def _jobs(request: Request) -> tuple[threading.Lock, dict[str, Job]]:
    return _app_jobs(request.app)


def _app_jobs(app: FastAPI) -> tuple[threading.Lock, dict[str, Job]]:
    state = app.state
    if not hasattr(state, "upload_jobs"):
        state.upload_jobs = (threading.Lock(), {})
    return state.upload_jobs


def expire_jobs(app: FastAPI, max_age: float | None = None) -> int:
    """Forget jobs older than ``max_age`` seconds (default :data:`uploads.MAX_AGE_SECONDS`)
    that are not running, deleting their uploads (a preview never confirmed holds its file
    until then), and delete stray old files. Returns how many jobs went."""
    if max_age is None:
        max_age = uploads.MAX_AGE_SECONDS
    lock, jobs = _app_jobs(app)
    now = time.monotonic()
    with lock:
        old = [j for j in jobs.values()
               if now - j.created > max_age and j.status not in ("queued", "running")]
        for j in old:
            del jobs[j.id]
    for j in old:
        uploads.discard(j.path)
    settings = getattr(app.state, "settings", None)
    if settings is not None:
        uploads.sweep(settings.workspaces_dir, max_age)
    return len(old)


def _job(request: Request, access: WorkspaceAccess, job_id: str) -> Job:
    lock, jobs = _jobs(request)
    with lock:
        job = jobs.get(job_id)
    if job is None or job.slug != access.workspace.slug:
        raise HTTPException(404, "no such upload")
    return job


def _page(request: Request, access: WorkspaceAccess, status: int = 200,
          source: str | None = None, **extra: Any) -> Response:
    """``source`` narrows the batch list to one source (survey answers, for one, arrive as
    a batch each and would crowd out the files)."""
    ctx: dict[str, Any] = {"access": access, "sources": [], "batches": [], "quarantine": [],
                           "field_warnings": [],
                           "source": source, "delimiters": DELIMITERS, "encodings": ENCODINGS,
                           "kinds": list(KINDS), "presets": preset_names(),
                           "can_upload": access.can("ingest"),
                           "is_owner": access.role == "owner", **extra}
    if db_path(access.workspace.path).exists():
        with access.warehouse.read() as cur:
            ctx["sources"] = _dicts(cur, _SOURCES)
            ctx["batches"] = _dicts(cur, _BATCHES, {"source": source})
            ctx["quarantine"] = quarantined(cur, limit=100)
            ctx["field_warnings"] = field_warning_counts(cur)[:100]
    return render(request, "data.html", ctx, status=status)


@router.get("/w/{slug}/data")
def data_page(request: Request, access: WorkspaceRole("viewer"),
              source: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    return _page(request, access, source=source or None)


@router.post("/w/{slug}/data/batches/{batch}/rollback")
def rollback(request: Request, batch: int, access: WorkspaceRole("owner")) -> Response:
    try:
        access.warehouse.write(lambda cur: do_rollback(cur, batch))
    except UserError as exc:
        return _page(request, access, status=400, error=exc.message)
    return see_other(f"/w/{access.workspace.slug}/data")


def preview(path: Path, kind: str | None, preset: str | None,
            read: ReadOptions | None = None) -> dict[str, Any]:
    """The mapping cxlens would use and the first rows, read in a scratch database."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        p = plan(con, path, kind, preset=preset, read=read, accept_unsure=True)
        try:
            cols = p.staged.columns
            rows = con.execute(f"SELECT {', '.join(ident(c) for c in cols)} "
                               f"FROM {p.staged.source} LIMIT {PREVIEW_ROWS}").fetchall()
        finally:
            p.staged.cleanup()
        m = p.mapping
        return {
            "how": p.how, "kind": m.kind, "label": m.label, "name": m.name, "columns": cols,
            "rows": rows,
            "mapping": [(f, r.column or "", r.value)
                        for f, r in m.columns.items()],
            "yaml": m.to_yaml(), "notes": p.staged.notes,
            "unsure": [u.field for u in (p.proposal.unsure if p.proposal else [])],
            "missing": list(p.proposal.missing_required) if p.proposal else [],
        }
    finally:
        con.close()


@router.post("/w/{slug}/data/upload")
def upload(request: Request, access: Analyst,
           file: Annotated[UploadFile, File()],
           kind: Annotated[str, Form()] = "",
           preset: Annotated[str, Form()] = "",
           delimiter: Annotated[str, Form(max_length=2)] = "",
           encoding: Annotated[str, Form(max_length=10)] = "") -> Response:
    if kind and kind not in KINDS:
        raise HTTPException(422, f"unknown kind {kind!r}")
    if preset and preset not in preset_names():
        raise HTTPException(422, f"unknown preset {preset!r}")
    if delimiter and delimiter not in DELIMITERS:
        raise HTTPException(422, f"unknown delimiter {delimiter!r}")
    if encoding and encoding not in ENCODINGS:
        raise HTTPException(422, f"unknown encoding {encoding!r}")
    if not file.filename:
        return _page(request, access, status=400, error="choose a file to upload")
    expire_jobs(request.app)
    path = uploads.store(file, access.workspace.path)
    job = Job(secrets.token_urlsafe(12), access.workspace.slug, file.filename,
              kind or None, preset or None, path=path,
              read=ReadOptions(delimiter=delimiter or None, encoding=encoding or None))
    return _preview_job(request, access, job)


def _preview_job(request: Request, access: WorkspaceAccess, job: Job) -> Response:
    """Show what the upload would load; a workbook with several sheets asks for one first.

    The file stays on the server between the steps, so choosing a sheet needs no second
    upload."""
    assert job.path is not None
    try:
        shown = preview(job.path, job.kind, job.preset, job.read)
    except SheetChoice as exc:
        job.sheets = exc.sheets
        _keep(request, job)
        return render(request, "upload_sheet.html", {"access": access, "job": job})
    except UserError as exc:
        uploads.discard(job.path)  # refused: nothing more will read it
        return _page(request, access, status=400, error=public_text(exc))
    except BaseException:
        uploads.discard(job.path)
        raise
    job.kind, job.mapping_yaml = shown["kind"], shown["yaml"]
    job.detected = shown["label"] if shown["how"] == "detected preset" else None
    _keep(request, job)
    return render(request, "upload_preview.html", {"access": access, "job": job,
                                                   "p": shown})


def _keep(request: Request, job: Job) -> None:
    lock, jobs = _jobs(request)
    with lock:
        jobs[job.id] = job


@router.post("/w/{slug}/data/upload/{job_id}/sheet")
def choose_sheet(request: Request, job_id: str, access: Analyst,
                 sheet: Annotated[str, Form(max_length=200)]) -> Response:
    job = _job(request, access, job_id)
    if job.status != "pending" or not job.sheets:
        return see_other(f"/w/{access.workspace.slug}/data")
    if sheet not in job.sheets:
        raise HTTPException(422, f"the workbook has no sheet {sheet!r}")
    job.read = ReadOptions(sheet=sheet)
    return _preview_job(request, access, job)


def _run(job: Job, access: WorkspaceAccess, mapping_text: str | None) -> None:
    def say(step: str, frac: float) -> None:
        job.step, job.fraction = step, max(job.fraction, frac)

    job.status = "running"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            mapping_file = None
            if mapping_text is not None:
                mapping_file = Path(tmp) / "mapping.yml"
                mapping_file.write_text(mapping_text, encoding="utf-8")
            assert job.path is not None
            result = access.warehouse.write(lambda cur: run_ingest(
                cur, job.path, job.kind, preset=job.preset if mapping_file is None else None,
                mapping_file=mapping_file, read=job.read, progress=say,
                proposal_dir=uploads.proposal_dir(access.workspace.path)))
        job.result = {**result.as_dict(), "file": Path(result.file).name}
        if result.batch_id is not None and result.quarantined:
            with access.warehouse.read() as cur:
                job.quarantine = quarantined(cur, batch=result.batch_id, limit=100)
        job.fraction, job.status = 1.0, "done"
    except UserError as exc:
        job.error, job.status = public_fields(exc.as_dict()), "failed"
    except Exception:  # a bug: keep the server up, log the traceback, show its reference
        reference = new_reference()
        log.exception("error %s: upload %s failed", reference, job.id)
        job.error, job.status = {"error": "an unexpected error happened on the server "
                                          f"(reference {reference}); it has been logged"
                                 }, "failed"
    finally:
        uploads.discard(job.path)  # done or failed, the batch no longer needs the file


@router.post("/w/{slug}/data/upload/{job_id}")
def confirm(request: Request, job_id: str, access: Analyst,
            mapping: Annotated[str | None, Form(max_length=100_000)] = None) -> Response:
    job = _job(request, access, job_id)
    if job.status != "pending":
        return see_other(f"/w/{access.workspace.slug}/data/jobs/{job.id}")
    if job.mapping_yaml is None:  # not previewed yet (a sheet still to choose)
        return see_other(f"/w/{access.workspace.slug}/data")
    job.status = "queued"
    # A preset is used as it is; a proposed (or edited) mapping is sent as YAML.
    text = mapping if mapping and mapping.strip() else None
    if text is None and not job.preset:
        if job.detected in preset_names():
            job.preset = job.detected
        else:
            text = job.mapping_yaml
    threading.Thread(target=_run, args=(job, access, text), daemon=True,
                     name=f"upload-{job.id}").start()
    return see_other(f"/w/{access.workspace.slug}/data/jobs/{job.id}")


@router.get("/w/{slug}/data/jobs/{job_id}")
def job_page(request: Request, job_id: str, access: Analyst) -> Response:
    return render(request, "upload_job.html", {"access": access,
                                               "job": _job(request, access, job_id)})


@api_router.get("/jobs/{job_id}")
def job_status(request: Request, job_id: str, access: TokenScope("read")) -> dict[str, Any]:
    """Progress of an upload started on the Data page: status, step, fraction, result."""
    return _job(request, access, job_id).public()
