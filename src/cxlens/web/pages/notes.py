"""Annotations: the page to list, add, edit and delete a workspace's dated notes, and the
JSON API under ``/api/w/{slug}/annotations``. Analysts and owners write; members read."""

from __future__ import annotations

import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from cxlens.errors import UserError
from cxlens.web import notes
from cxlens.web.deps import Db, TokenScope, WorkspaceAccess, WorkspaceRole
from cxlens.web.nav import MANAGE, NavItem, register
from cxlens.web.pages import see_other
from cxlens.web.params import DAY_PATTERN, DAY_RANGE
from cxlens.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/w/{slug}", tags=["annotations"])
register(NavItem("annotations", "nav.annotations", "/w/{slug}/annotations", "viewer",
                 order=40, group=MANAGE))
Analyst = WorkspaceRole("analyst")
Text = Annotated[str, Form(max_length=notes.MAX_LABEL * 2)]
Tag = Annotated[str | None, Form(max_length=notes.MAX_TAG * 2)]


def _page(request: Request, con: sqlite3.Connection, access: WorkspaceAccess,
          status: int = 200, **extra: Any) -> Response:
    return render(request, "annotations.html", {
        "access": access, "notes": notes.list_annotations(con, access.workspace),
        "can_write": access.can("write"), **extra}, status=status)


@router.get("/w/{slug}/annotations")
def annotations_page(request: Request, access: WorkspaceRole("viewer"), con: Db) -> Response:
    return _page(request, con, access)


@router.post("/w/{slug}/annotations")
def add(request: Request, access: Analyst, con: Db, day: Annotated[str, Form()],
        label: Text, channel: Tag = None, campaign: Tag = None) -> Response:
    try:
        notes.add_annotation(con, access.workspace, day, label, channel, campaign,
                             access.user.id if access.user else None)
    except UserError as exc:
        return _page(request, con, access, status=400, error=exc.message,
                     form={"day": day, "label": label, "channel": channel,
                           "campaign": campaign})
    return see_other(f"/w/{access.workspace.slug}/annotations")


@router.post("/w/{slug}/annotations/{note_id}")
def edit(request: Request, note_id: int, access: Analyst, con: Db,
         day: Annotated[str, Form()], label: Text, channel: Tag = None,
         campaign: Tag = None) -> Response:
    try:
        done = notes.update_annotation(con, access.workspace, note_id, day, label, channel,
                                       campaign)
    except UserError as exc:
        return _page(request, con, access, status=400, error=exc.message)
    if done is None:
        raise HTTPException(404, "no such annotation")
    return see_other(f"/w/{access.workspace.slug}/annotations")


@router.post("/w/{slug}/annotations/{note_id}/delete")
def delete(note_id: int, access: Analyst, con: Db) -> Response:
    if not notes.delete_annotation(con, access.workspace, note_id):
        raise HTTPException(404, "no such annotation")
    return see_other(f"/w/{access.workspace.slug}/annotations")


# ------------------------------------------------------------------------------ JSON API

class AnnotationIn(BaseModel):
    day: str = Field(description=f"YYYY-MM-DD, {DAY_RANGE}", pattern=DAY_PATTERN)
    label: str = Field(max_length=notes.MAX_LABEL)
    channel: str | None = Field(None, max_length=notes.MAX_TAG)
    campaign: str | None = Field(None, max_length=notes.MAX_TAG)


class AnnotationOut(BaseModel):
    id: int
    day: str
    label: str
    channel: str | None
    campaign: str | None
    created_by: str | None


class AnnotationList(BaseModel):
    ok: bool = True
    annotations: list[AnnotationOut]


def _out(a: notes.Annotation) -> AnnotationOut:
    return AnnotationOut(**a.as_dict())  # type: ignore[arg-type]


@api_router.get("/annotations")
def api_list(access: TokenScope("read"), con: Db) -> AnnotationList:
    """The workspace's annotations by day."""
    return AnnotationList(annotations=[_out(a) for a in
                                       notes.list_annotations(con, access.workspace)])


def _link(method: str, description: str) -> dict[str, Any]:
    """An OpenAPI link from a created annotation to ``method /annotations/{note_id}``."""
    return {"operationRef": f"#/paths/~1api~1w~1{{slug}}~1annotations~1{{note_id}}/{method}",
            "parameters": {"slug": "$request.path.slug", "note_id": "$response.body#/id"},
            "description": description}


# OpenAPI links: what a client (and Schemathesis's stateful tests) can do with the new id.
_CREATED_LINKS = {"EditAnnotation": _link("put", "Change the annotation just added."),
                  "DeleteAnnotation": _link("delete", "Delete the annotation just added.")}


@api_router.post("/annotations", status_code=201,
                 responses={201: {"description": "The annotation, with its id",
                                  "links": _CREATED_LINKS}})
def api_add(body: AnnotationIn, access: TokenScope("write"), con: Db) -> AnnotationOut:
    """Add a dated note; it appears on every time chart of the workspace."""
    user = access.user.id if access.user else None
    return _out(notes.add_annotation(con, access.workspace, body.day, body.label,
                                     body.channel, body.campaign, user))


@api_router.put("/annotations/{note_id}")
def api_edit(note_id: int, body: AnnotationIn, access: TokenScope("write"),
             con: Db) -> AnnotationOut:
    a = notes.update_annotation(con, access.workspace, note_id, body.day, body.label,
                                body.channel, body.campaign)
    if a is None:
        raise HTTPException(404, "no such annotation")
    return _out(a)


@api_router.delete("/annotations/{note_id}")
def api_delete(note_id: int, access: TokenScope("write"), con: Db) -> dict[str, Any]:
    if not notes.delete_annotation(con, access.workspace, note_id):
        raise HTTPException(404, "no such annotation")
    return {"ok": True, "deleted": note_id}
