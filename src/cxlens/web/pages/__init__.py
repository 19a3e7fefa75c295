"""Server-rendered pages: one module per area, each with its ``router``.

Pages under ``/w/{slug}/...`` take ``access: WorkspaceRole("viewer")`` (or a higher role);
forms send ``{{ csrf_field() }}``. See docs/web.md, "Adding a page".
"""

from __future__ import annotations

from fastapi.responses import RedirectResponse


def see_other(url: str) -> RedirectResponse:
    """Redirect after a successful form POST (303, so the browser GETs the target)."""
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"
