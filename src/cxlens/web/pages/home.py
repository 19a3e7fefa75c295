"""The start page: the user's workspaces (a workspace's overview is pages/overview.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxlens.web.deps import CurrentUser, Db
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

