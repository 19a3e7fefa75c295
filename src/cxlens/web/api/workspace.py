"""A workspace over the API: who am I here, row counts, batches, rollback."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from cxlens.ingest.batches import rollback as do_rollback
from cxlens.warehouse.store import db_path, summary
from cxlens.web.deps import TokenScope

router = APIRouter(prefix="/api/w/{slug}", tags=["workspace"])


class WorkspaceOut(BaseModel):
    ok: bool = True
    slug: str
    name: str
    role: str | None
    scopes: list[str]


@router.get("")
def workspace_info(access: TokenScope("read")) -> WorkspaceOut:
    """The workspace and what the caller may do in it."""
    return WorkspaceOut(slug=access.workspace.slug, name=access.workspace.name,
                        role=access.role, scopes=sorted(access.scopes))


@router.get("/summary")
def workspace_summary(access: TokenScope("read")) -> dict[str, Any]:
    """Current rows per table, customers, identifiers, batches, open quarantine."""
    if not db_path(access.workspace.path).exists():
        return {"ok": True, "counts": {}}
    with access.warehouse.read() as cur:
        return {"ok": True, "counts": summary(cur)}


@router.get("/batches")
def batches(access: TokenScope("read")) -> dict[str, Any]:
    """Every batch with its counts: rows in = loaded + quarantined + duplicates + skipped."""
    if not db_path(access.workspace.path).exists():
        return {"ok": True, "batches": []}
    with access.warehouse.read() as cur:
        rel = cur.execute("SELECT batch_id, kind, source_file, started_at, rows_in, loaded, "
                          "changed, quarantined, duplicates, skipped, status FROM batches "
                          "ORDER BY batch_id")
        cols = [d[0] for d in rel.description]
        rows = [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]
    if not access.local:  # the file's own name, not a folder of the server (or of a laptop)
        for r in rows:
            r["source_file"] = PurePath(r["source_file"]).name if r["source_file"] else None
    return {"ok": True, "batches": rows}


@router.post("/batches/{batch}/rollback")
def rollback(batch: int, access: TokenScope("write")) -> dict[str, Any]:
    """Remove one batch: its rows go, the versions it replaced come back."""
    return {"ok": True, **access.warehouse.write(lambda cur: do_rollback(cur, batch))}
