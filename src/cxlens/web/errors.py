"""How errors reach a client: one JSON shape for the API, a page for the browser.

Every error of ``/api/...`` and ``/v1/...`` (and of any request that asks for JSON) is::

    {"ok": false, "error": "what went wrong", "status": 404}

with extra keys where they help: ``hint``/``file``/``line``/``column`` for a
:class:`~cxlens.errors.UserError`, ``errors`` for a request that failed validation,
``type`` (the error class) so ``cxlens`` can turn it back into the same exit code, and
``reference`` for an unexpected error (a 500). Browsers get ``error.html``; a page that
needs a signed-in user redirects to ``/signin``.

Nothing unhandled reaches a client: :class:`CatchAll` turns any other exception into a 500
in the same shape (or the error page), with a short reference id that is also in the
server log beside the traceback, so a user can quote it and an operator can find the cause.

Answers name a file by its own name only (``x.csv``, not the server's folder it was kept
in): :func:`public_fields` takes the folders out. The one exception is the server's local
token, which only ``cxlens`` on the same machine holds; it gets the paths as they are.
"""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxlens.errors import EngineUnavailable, InputError, MappingUnsure, UserError

log = logging.getLogger("cxlens.web")

# The folders of an absolute path inside a message ("/srv/cx/ws/uploads/"): not after a
# letter, a colon or a slash, so URLs (https://host/a/b) and relative paths (a/b) stay.
_FOLDERS = re.compile(r"(?<![\w:/.~-])/(?:[^/\s\"'<>`]+/)+")
_TEXT_FIELDS = ("error", "hint", "file", "proposal")


class SignInRequired(Exception):
    """Raised by dependencies when a page or endpoint needs a signed-in user."""


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/v1/")) or path == "/api":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def without_folders(text: str) -> str:
    """``text`` with the folders of every absolute path taken out (the file's name stays).

    >>> without_folders('cannot read "/srv/cx/acme/uploads/2026-x.csv": bad')
    'cannot read "2026-x.csv": bad'
    >>> without_folders("see https://example.com/a/b and docs/web.md")
    'see https://example.com/a/b and docs/web.md'
    """
    return _FOLDERS.sub("", text)


def public_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """An error's fields as a client may see them: a ``file`` is its own name, and paths
    inside the message and the hint lose their folders."""
    out = dict(fields)
    for key in _TEXT_FIELDS:
        value = out.get(key)
        if isinstance(value, str) and value:
            out[key] = (PurePath(value).name if key in ("file", "proposal")
                        else without_folders(value))
    return out


def public_text(exc: UserError) -> str:
    """``str(exc)`` (where, what, how to fix) as a client may see it."""
    f = public_fields(exc.as_dict())
    where = ", ".join(x for x in (f["file"], f"line {f['line']}" if f["line"] else None,
                                  f"column {f['column']!r}" if f["column"] else None) if x)
    text = f"{where}: {f['error']}" if where else str(f["error"])
    return f"{text}\nhow to fix: {f['hint']}" if f["hint"] else text


def _is_local(request: Request) -> bool:
    """Whether the caller is ``cxlens`` on this machine (the server's local token)."""
    from cxlens.web.deps import bearer, is_local_token

    token = bearer(request)
    return token is not None and is_local_token(request, token)


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
    if isinstance(exc, EngineUnavailable):
        return 503
    return 422 if isinstance(exc, InputError | MappingUnsure) else 400


def new_reference() -> str:
    """A short id for one unexpected error, quoted to the user and written to the log."""
    return secrets.token_hex(4)


def internal_error(request: Request, reference: str) -> Response:
    """The answer to an unexpected error: the error shape or the error page, never the
    exception's text (it may hold paths, SQL or data of another workspace)."""
    message = (f"an unexpected error happened on the server (reference {reference}); "
               "it has been logged")
    hint = "try again; if it keeps happening, send the reference to the administrator"
    # /v1 answers also carry Segment's keys, as its other errors do (web/collect.py).
    segment = ({"success": False, "code": "server_error", "message": message}
               if request.url.path.startswith("/v1/") else {})
    try:
        return error_response(request, 500, message, hint=hint, reference=reference,
                              **segment)
    except Exception:  # the error page itself failed (a broken database, a template bug)
        log.exception("error %s: the error page failed too", reference)
        if wants_json(request):
            return error_json(500, message, hint=hint, reference=reference, **segment)
        return HTMLResponse(f"<!doctype html><title>500</title><p>{message}</p>",
                            status_code=500)


class CatchAll:
    """Turn any exception that no handler took into :func:`internal_error` (a 500).

    Starlette's own last resort answers ``Internal Server Error`` as plain text (which SDKs
    retry as if the server were down) and then re-raises. This sits just outside the
    routing, so every route, dependency and handler is inside it: the traceback goes to the
    log with a reference id, the client gets the id in the one error shape. An exception
    after the answer has started cannot change the answer: it is logged and re-raised, and
    the server closes the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            reference = new_reference()
            log.exception("error %s: %s %s failed", reference, scope.get("method"),
                          scope.get("path"))
            if started:
                raise
            response = internal_error(Request(scope, receive), reference)
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers on the app, and :class:`CatchAll` inside the middleware
    that ``create_app`` adds after this call."""
    app.add_middleware(CatchAll)
    if not log.hasHandlers():  # under `cxlens serve`: print beside Uvicorn's lines
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        log.addHandler(handler)

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
        fields = {"error": exc.message, **extra}
        if not _is_local(request):
            fields = public_fields(fields)
        message = fields.pop("error")
        return error_response(request, user_error_status(exc), message,
                              type=type(exc).__name__, **fields)

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        if wants_json(request):
            return error_json(401, "sign in, or send 'Authorization: Bearer <API token>'",
                              headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
