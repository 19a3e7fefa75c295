"""``POST /api/w/{slug}/ingest``: load one file as one batch, through the workspace's writer.

The file comes as a multipart upload (``file``), kept under ``<workspace>/uploads/`` until
the request ends (then deleted, loaded or refused: :mod:`cxlens.web.uploads`), or —
for ``cxlens ingest`` on the same machine, with the server's local token from loopback — as
a ``path`` the server reads itself. The answer holds the batch counts of
``BatchResult.as_dict()`` (``file`` is the file's own name, except for the local token).
A dry run needs the ``read`` scope besides ``ingest``: it stores nothing, so its counts
(``changed``, ``duplicates``) would only tell an ingest-only token what is stored.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from pydantic import BaseModel

from cxlens.ingest.load import ingest as run_ingest
from cxlens.schema import KINDS
from cxlens.sources.readers import ReadOptions
from cxlens.web import uploads
from cxlens.web.deps import TokenScope
from cxlens.web.errors import without_folders

router = APIRouter(prefix="/api/w/{slug}", tags=["ingest"])


class BatchOut(BaseModel):
    ok: bool = True
    batch_id: int | None
    file: str
    kind: str
    mapping: str
    rows_in: int
    loaded: int
    changed: int
    quarantined: int
    duplicates: int
    skipped: int = 0  # totals, notes and footers of a report export, left out
    customers: int | None
    notes: list[str]
    quarantine_sample: list[dict[str, object]]
    dry_run: bool
    # Optional values set empty in loaded records, per source column (docs/ingest.md).
    field_warnings: dict[str, int] = {}
    field_warning_sample: list[dict[str, object]] = []
    skipped_sample: list[dict[str, object]] = []
    balanced: bool


@router.post("/ingest", response_model=BatchOut)
def ingest(
    access: TokenScope("ingest"),
    held: uploads.Held,
    kind: Annotated[str | None, Form(description=f"One of {', '.join(KINDS)}.")] = None,
    preset: Annotated[str | None, Form(description="A known export format.")] = None,
    mapping: Annotated[str | None, Form(description="Mapping YAML text (docs/mapping.md).")]
    = None,
    sheet: Annotated[str | None, Form()] = None,
    delimiter: Annotated[str | None, Form(max_length=1)] = None,
    encoding: Annotated[str | None, Form(max_length=40)] = None,
    dry_run: Annotated[bool, Form()] = False,
    file: Annotated[UploadFile | None, File(description="The export file.")] = None,
    path: Annotated[str | None, Form(description="A file on the server's machine; only "
                                     "with the server's local token.")] = None,
    mapping_path: Annotated[str | None, Form(description="A mapping file on the server's "
                                             "machine; only with the local token.")] = None,
) -> BatchOut:
    """Load one file as one batch (validated, deduplicated, identities linked)."""
    if kind is not None and kind not in KINDS:
        raise HTTPException(422, f"unknown kind {kind!r}; use one of: {', '.join(KINDS)}")
    if (file is None) == (path is None):
        raise HTTPException(422, "send either a file (multipart) or a path")
    if dry_run and not access.can("read"):
        # A dry run changes nothing, so its counts (changed, duplicates) only tell what the
        # warehouse holds: whether a record key exists. That is reading.
        raise HTTPException(403, "a dry run needs the 'read' scope (its counts show what is "
                                 "stored); use a token with read or write, or load for real")
    if (path is not None or mapping_path is not None) and not access.local:
        raise HTTPException(403, "a path is accepted only from cxlens on this machine; "
                                 "upload the file instead")
    if path is not None:
        source = Path(path)
        if not source.is_absolute():
            raise HTTPException(422, "the path must be absolute")
        proposal_dir = None
    else:
        source = uploads.store(file, access.workspace.path)  # type: ignore[arg-type]
        held.append(source)  # deleted when the request ends, loaded or refused
        proposal_dir = uploads.proposal_dir(access.workspace.path)
    with tempfile.TemporaryDirectory() as tmp:
        mapping_file = Path(mapping_path) if mapping_path else None
        if mapping:
            mapping_file = Path(tmp) / "mapping.yml"
            mapping_file.write_text(mapping, encoding="utf-8")
        read = ReadOptions(delimiter=delimiter, encoding=encoding, sheet=sheet)
        result = access.warehouse.write(lambda cur: run_ingest(
            cur, source, kind, preset=preset, mapping_file=mapping_file, read=read,
            proposal_dir=proposal_dir, dry_run=dry_run))
    out = result.as_dict()
    if not access.local:  # the file's own name, not the server's folder it was kept in
        out["file"] = Path(result.file).name
        out["notes"] = [without_folders(n) for n in result.notes]
    return BatchOut(**out)
