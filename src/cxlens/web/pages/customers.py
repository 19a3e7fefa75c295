"""The Customers page: find a customer by any identifier, see the unified profile and
timeline (:mod:`cxlens.analytics.profile`), and the customers seen most recently."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from cxlens.analytics.profile import profile, search_customers
from cxlens.errors import EngineUnavailable, UserError
from cxlens.warehouse.engine import Engine
from cxlens.warehouse.store import db_path
from cxlens.web.deps import WorkspaceRole
from cxlens.web.nav import NavItem, register
from cxlens.web.templating import render

router = APIRouter(include_in_schema=False)
register(NavItem("customers", "nav.customers", "/w/{slug}/customers", "viewer", order=20))
RECENT = 25
MATCHES = 50

_RECENT = f"""
SELECT customer_id, name, email, city, segment, last_seen, identifiers, records
FROM customers ORDER BY last_seen DESC NULLS LAST, customer_id LIMIT {RECENT}
"""


def _find(eng: Engine, q: str) -> dict[str, Any]:
    """The customer an identifier names, else those whose name, e-mail, phone or an
    identifier holds the text (one match: straight to the profile)."""
    try:
        return {"found": profile(eng, q)}
    except UserError as exc:
        matches = search_customers(eng, q, limit=MATCHES)
        if len(matches) == 1:
            return {"found": profile(eng, str(matches[0]["customer_id"]))}
        if not matches:
            raise exc from None
        return {"matches": matches, "more": len(matches) == MATCHES}


@router.get("/w/{slug}/customers")
def customers_page(request: Request, access: WorkspaceRole("viewer"),
                   q: Annotated[str, Query(max_length=300)] = "") -> Response:
    ctx: dict[str, Any] = {"access": access, "q": q.strip(), "recent": [], "found": None}
    if db_path(access.workspace.path).exists():
        if ctx["q"]:
            try:
                with access.engine() as eng:
                    ctx.update(_find(eng, ctx["q"]))
            except EngineUnavailable:  # the server's trouble, not the query's: 503 page
                raise
            except UserError as exc:
                ctx["error"], ctx["hint"] = exc.message, exc.hint
        with access.warehouse.read() as cur:
            rel = cur.execute(_RECENT)
            cols = [d[0] for d in rel.description]
            ctx["recent"] = [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]
    return render(request, "customers.html", ctx, status=404 if ctx.get("error") else 200)
