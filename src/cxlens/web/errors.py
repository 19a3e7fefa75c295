"""How errors reach a client: one JSON shape for the API, a page for the browser.

Every error of ``/api/...`` and ``/v1/...`` (and of any request that asks for JSON) is::

    {"ok": false, "error": "what went wrong", "status": 404}

with extra keys where they help: ``hint``/``file``/``line``/``column`` for a
:class:`~cxlens.errors.UserError`, ``errors`` for a request that failed validation,
``type`` (the error class) so ``cxlens`` can turn it back into the same exit code.
Browsers get ``error.html``; a page that needs a signed-in user redirects to ``/signin``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from cxlens.errors import InputError, MappingUnsure, UserError


class SignInRequired(Exception):
    """Raised by dependencies when a page or endpoint needs a signed-in user."""


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/v1/")) or path == "/api":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_json(status: int, error: str, headers: dict[str, str] | None = None,
               **extra: Any) -> JSONResponse:
    body = {"ok": False, "error": error, "status": status,
            **{k: v for k, v in extra.items() if v is not None}}
    return JSONResponse(body, status_code=status, headers=headers)


def error_response(request: Request, status: int, error: str,
                   headers: dict[str, str] | None = None, **extra: Any) -> Response:
    if wants_json(request):
        return error_json(status, error, headers, **extra)
    from cxlens.web.templating import render

    response = render(request, "error.html", {"status": status, "message": error},
                      status=status)
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def user_error_status(exc: UserError) -> int:
    return 422 if isinstance(exc, InputError | MappingUnsure) else 400


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return error_response(request, exc.status_code, str(exc.detail),
                              headers=dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
                  for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(x) for x in first["loc"])
        return error_response(request, 422, f"{where}: {first['msg']}" if where else
                              str(first["msg"]), errors=errors)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        extra = {k: v for k, v in exc.as_dict().items() if k != "error"}
        if isinstance(exc, MappingUnsure):
            extra["proposal"] = exc.proposal_path
            try:
                with open(exc.proposal_path, encoding="utf-8") as fh:
                    extra["proposal_yaml"] = fh.read()
            except OSError:
                pass
        return error_response(request, user_error_status(exc), exc.message,
                              type=type(exc).__name__, **extra)

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        if wants_json(request):
            return error_json(401, "sign in, or send 'Authorization: Bearer <API token>'",
                              headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
