"""The start page (the user's workspaces) and a workspace's overview frame."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxlens.errors import UserError
from cxlens.warehouse.store import db_path, summary
from cxlens.web.deps import CurrentUser, Db, WorkspaceRole
from cxlens.web.pages import see_other
from cxlens.web.templating import render
from cxlens.web.workspaces import workspaces_of

router = APIRouter(include_in_schema=False)


@router.get("/")
def start(request: Request, user: CurrentUser, con: Db) -> Response:
    mine = workspaces_of(con, user)
    if len(mine) == 1:
        return see_other(f"/w/{mine[0][0].slug}/")
    return render(request, "workspaces.html", {"mine": mine})


@router.get("/w/{slug}/")
def overview(request: Request, access: WorkspaceRole("viewer")) -> Response:
    counts: dict[str, int] = {}
    if db_path(access.workspace.path).exists():
        try:
            with access.warehouse.read() as cur:
                counts = summary(cur)
        except UserError:
            counts = {}
    return render(request, "overview.html", {"access": access, "counts": counts})
