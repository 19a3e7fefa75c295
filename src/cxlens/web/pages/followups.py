"""The Follow-ups page: the items opened by detractors' answers, to call the customer back
(``open → contacted → resolved``), with owner, note, score, comment, when the answer came
and a link to the customer's profile; filtered by status and owner, changed with a form
(analysts and owners; viewers read), and the same list as CSV.

All of it is :mod:`cxlens.surveys.followups` — the page lists, filters and updates through
its functions (changes through the workspace's single writer), exactly as the JSON API
``/api/w/{slug}/followups`` and ``cxlens survey followups`` do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens.clock import utc_naive
from cxlens.csv_out import csv_text
from cxlens.errors import UserError
from cxlens.surveys import followups
from cxlens.surveys.followups import STATUSES
from cxlens.warehouse.store import db_path
from cxlens.web import db
from cxlens.web.deps import ServerClock, WorkspaceAccess, WorkspaceRole, get_clock
from cxlens.web.nav import EXPERIENCE, NavItem, register
from cxlens.web.pages import see_other
from cxlens.web.templating import render
from cxlens.web.workspaces import members, role_at_least

router = APIRouter(include_in_schema=False)
register(NavItem("followups", "nav.followups", "/w/{slug}/followups", "viewer", order=16,
                 group=EXPERIENCE))
Viewer = WorkspaceRole("viewer")
Analyst = WorkspaceRole("analyst")
NOBODY = "-"  # the owner filter's value for items nobody owns yet

StatusQuery = Annotated[str, Query(max_length=20)]
OwnerQuery = Annotated[str, Query(max_length=followups.MAX_OWNER)]
CSV_COLUMNS = ("followup_id", "status", "owner", "note", "survey_id", "metric", "score",
               "comment", "language", "customer_id", "identity_key", "answered_at",
               "due_at", "overdue", "contacted_at", "resolved_at")


def _filters(status: str, owner: str) -> tuple[str | None, str | None]:
    """The query's filters as :func:`followups.list_followups` takes them."""
    if status and status not in STATUSES:
        raise HTTPException(422, f"status must be one of {', '.join(STATUSES)}")
    return status or None, ("" if owner == NOBODY else owner) if owner else None


def _query(status: str, owner: str) -> str:
    q = urlencode({k: v for k, v in (("status", status), ("owner", owner)) if v})
    return f"?{q}" if q else ""


def _items(access: WorkspaceAccess, status: str, owner: str,
           now: datetime) -> dict[str, Any]:
    by_status, by_owner = _filters(status, owner)
    if not db_path(access.workspace.path).exists():
        return {"items": [], "owners": [], "counts": {**dict.fromkeys(STATUSES, 0),
                                                      "overdue": 0}}
    with access.warehouse.read() as cur:
        return {"items": followups.list_followups(cur, by_status, owner=by_owner),
                "owners": followups.owners(cur), "counts": followups.counts(cur, now)}


def _assignees(request: Request, access: WorkspaceAccess) -> list[str]:
    """The workspace's members who can work an item (analysts and owners), by e-mail."""
    con = db.connect(request.app.state.settings.db_path)
    try:
        return [str(m["email"]) for m in members(con, access.workspace)
                if role_at_least(str(m["role"]), "analyst")]
    finally:
        con.close()


def _page(request: Request, access: WorkspaceAccess, status: str = "", owner: str = "",
          code: int = 200, **extra: Any) -> Response:
    now = get_clock(request)()
    ctx: dict[str, Any] = {"access": access, "statuses": STATUSES, "status": status,
                           "owner": owner, "nobody": NOBODY, "can_write": access.can("write"),
                           "query": _query(status, owner), "max_owner": followups.MAX_OWNER,
                           "max_note": followups.MAX_NOTE, "now": utc_naive(now),
                           "due_days": followups.DUE_DAYS,
                           "assignees": _assignees(request, access),
                           **_items(access, status, owner, now), **extra}
    return render(request, "followups.html", ctx, status=code)


@router.get("/w/{slug}/followups")
def followups_page(request: Request, access: Viewer, status: StatusQuery = "",
                   owner: OwnerQuery = "") -> Response:
    return _page(request, access, status, owner)


@router.post("/w/{slug}/followups/{followup_id}")
def change(request: Request, followup_id: int, access: Analyst, clock: ServerClock,
           status: Annotated[str, Form(max_length=20)],
           owner: Annotated[str, Form(max_length=followups.MAX_OWNER)] = "",
           note: Annotated[str, Form(max_length=followups.MAX_NOTE)] = "",
           filter_status: Annotated[str, Form(max_length=20)] = "",
           filter_owner: Annotated[str, Form(max_length=followups.MAX_OWNER)] = "") -> Response:
    """Set an item's status, owner and note; back to the list with the same filters."""
    _filters(filter_status, filter_owner)  # only filters the page itself could have made

    now = clock()

    def update(cur: Any) -> followups.Followup | None:
        return followups.update(cur, followup_id, now=now, status=status, owner=owner,
                                note=note)

    try:
        item = access.warehouse.write(update)
    except UserError as exc:
        return _page(request, access, filter_status, filter_owner, code=422,
                     error=exc.message if not exc.hint else f"{exc.message} ({exc.hint})")
    if item is None:
        raise HTTPException(404, "no such follow-up")
    return see_other(f"/w/{access.workspace.slug}/followups"
                     f"{_query(filter_status, filter_owner)}#item-{followup_id}")


@router.get("/w/{slug}/followups.csv")
def followups_csv(access: Viewer, clock: ServerClock, status: StatusQuery = "",
                  owner: OwnerQuery = "") -> Response:
    """The listed items (with the page's filters) as CSV, e.g. for a call list."""
    rows = []
    now = clock()
    for f in _items(access, status, owner, now)["items"]:
        d = f.as_dict(now)
        d["answered_at"] = d["created_at"]  # the item is opened with the answer
        d["score"] = f"{d['score']:g}"
        rows.append([d[c] for c in CSV_COLUMNS])
    name = f"{access.workspace.slug}-followups.csv"
    return Response(csv_text(CSV_COLUMNS, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
