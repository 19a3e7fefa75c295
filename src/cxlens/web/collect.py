"""The Segment-compatible collection API (``/v1/...``) and its workspace endpoints.

``POST /v1/track|identify|page|screen|group|alias|batch`` take Segment HTTP Tracking API
bodies (docs/collect.md). The write key, sent as the user name of HTTP basic auth, decides
the workspace: there is no slug in the path. A request is answered ``{"success": true}``
only after its messages are committed to the workspace's inbox (an insert-only write that
runs beside the server's single writer, :meth:`cxlens.web.warehouses.Warehouse.append`);
the flusher (:mod:`cxlens.web.flusher`) then loads them as ingest batches through the
writer.

Answers: 400 for a body that is not JSON or any invalid message (nothing of the request is
stored; ``errors`` lists index, field and reason), 401 for a missing or unknown write key,
413 for a body or batch over a limit (measured after decompressing a gzip body), 415 for a
``Content-Encoding`` other than gzip or identity. Error bodies carry Segment's ``success``,
``code`` and ``message`` beside the app's ``ok``, ``error`` and ``status``.

``GET /api/w/{slug}/collect`` (read) gives the inbox counts; ``POST
/api/w/{slug}/collect/flush`` (ingest) flushes now — ``cxlens collect flush`` uses it when
a server holds the workspace.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.error
import urllib.parse
import urllib.request
import zlib
from typing import Any, ClassVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from cxlens.ingest import inbox, messages
from cxlens.ingest.messages import InvalidMessages, MessageError, RequestTooLarge
from cxlens.web import db
from cxlens.web.deps import TokenScope
from cxlens.web.workspaces import workspace_of_write_key

REALM = 'Basic realm="cxlens collect", charset="UTF-8"'
ENDPOINTS: tuple[str, ...] = (*messages.TYPES, "batch")


class Accepted(BaseModel):
    success: bool = True


class Refused(BaseModel):
    success: bool = False
    code: str
    message: str
    ok: bool = False
    error: str
    status: int
    errors: list[dict[str, Any]] | None = None


class CollectStatus(BaseModel):
    pending: int
    processed: int
    quarantined: int
    total: int


class FlushResult(BaseModel):
    batches: list[dict[str, Any]]
    messages: int
    status: CollectStatus


def refused(status: int, code: str, message: str, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    """An error in Segment's shape (``success``, ``code``, ``message``) and the app's."""
    body = {"success": False, "code": code, "message": message, "ok": False, "error": message,
            "status": status, **{k: v for k, v in extra.items() if v is not None}}
    return JSONResponse(body, status_code=status, headers=headers)


def unauthorized(message: str) -> JSONResponse:
    return refused(401, "unauthorized", message, headers={"WWW-Authenticate": REALM})


class CollectCors:
    """Let web pages send events from the browser (analytics.js): CORS on ``/v1/...``.

    Preflight ``OPTIONS`` requests are answered here, and every ``/v1`` answer allows any
    origin. That is safe because the endpoints use no cookie: the write key travels in the
    ``Authorization`` header or, as analytics.js sends it, in the body, and a write key only
    lets its holder add events (it is public in every page that tracks).
    """

    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
               (b"access-control-allow-origin", b"*"),
               (b"access-control-allow-methods", b"POST, OPTIONS"),
               (b"access-control-allow-headers",
                b"Content-Type, Authorization, Content-Encoding"),
               (b"access-control-max-age", b"86400")]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": self.HEADERS})
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  self.HEADERS[0]]}
            await send(message)

        await self.app(scope, receive, with_cors)


def write_key_of(headers: Headers) -> str | None:
    """The write key of ``Authorization: Basic base64(key:)``; None when there is none."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    key = decoded.partition(":")[0].strip()
    return key or None


def decoded_body(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """The body, gunzipped if it says so; never more than ``limit + 1`` bytes are inflated."""
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        return raw
    if encoding not in ("gzip", "x-gzip"):
        raise _Unsupported(encoding)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
        too_big = len(out) > limit or bool(inflater.unconsumed_tail)
        if not too_big:
            out += inflater.flush()
            too_big = len(out) > limit
        if not too_big and not inflater.eof:
            raise zlib.error("the gzip stream is truncated")
    except zlib.error as exc:
        raise InvalidMessages([MessageError(None, None, f"the body is not valid gzip ({exc})")]
                              ) from None
    if too_big:
        raise RequestTooLarge([MessageError(
            None, None, f"the decompressed body is over the limit of {limit // 1024} KB "
            "(split it into smaller batches)")])
    return out


class _Unsupported(Exception):
    pass


def write_key_in_body(raw: bytes, encoding: str | None, limit: int) -> str | None:
    """analytics.js sends ``writeKey`` in the JSON body instead of the header."""
    try:
        data = json.loads(decoded_body(raw, encoding, limit))
    except (ValueError, RecursionError, _Unsupported):
        return None
    key = data.get("writeKey") if isinstance(data, dict) else None
    if not isinstance(key, str) or not key.strip():
        return None
    return key.strip()


def accept(app: Any, headers: Headers, raw: bytes, endpoint: str) -> JSONResponse:
    """Authenticate, check and store one request; the answer to send (runs in a thread)."""
    limit = messages.MAX_BATCH_BYTES if endpoint == "batch" else messages.MAX_MESSAGE_BYTES
    key = write_key_of(headers) or write_key_in_body(raw, headers.get("content-encoding"),
                                                     limit)
    if key is None:
        return unauthorized("no write key: send it as the user name of HTTP basic auth "
                            "(Authorization: Basic base64('WRITE_KEY:')) or as writeKey in "
                            "the body")
    con = db.connect(app.state.settings.db_path)
    try:
        ws = workspace_of_write_key(con, key)
    finally:
        con.close()
    if ws is None:
        return unauthorized("the write key is not valid (unknown or rotated)")
    try:
        body = decoded_body(raw, headers.get("content-encoding"), limit)
        valid = messages.check(messages.parse_body(body, endpoint), app.state.clock())
    except _Unsupported as exc:
        return refused(415, "unsupported_encoding", f"Content-Encoding {exc} is not supported "
                       "(send gzip or an uncompressed body)")
    except InvalidMessages as exc:
        code = "too_large" if isinstance(exc, RequestTooLarge) else "invalid_request"
        extra = {k: v for k, v in exc.as_dict().items()
                 if k in ("hint", "column", "errors")}
        return refused(exc.status_code, code, exc.message, **extra)
    warehouse = app.state.warehouses.get(ws.path)
    result = warehouse.append(lambda cur: inbox.store(cur, valid))
    flusher = getattr(app.state, "flusher", None)
    if flusher is not None:
        flusher.notify(warehouse, result.stored)
    return JSONResponse({"success": True})


# ------------------------------------------------------------------------------ routes

router = APIRouter(prefix="/v1", tags=["collect"])

_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A Segment message: userId or anonymousId; track needs event, group "
                   "groupId, alias previousId and userId (docs/collect.md).",
    "properties": {
        "userId": {"type": "string"}, "anonymousId": {"type": "string"},
        "event": {"type": "string"}, "messageId": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "sentAt": {"type": "string", "format": "date-time"},
        "properties": {"type": "object"}, "traits": {"type": "object"},
        "context": {"type": "object"}, "integrations": {"type": "object"},
        "groupId": {"type": "string"}, "previousId": {"type": "string"},
        "name": {"type": "string"}, "category": {"type": "string"},
    },
    # Other top-level fields are refused (messages.KNOWN_FIELDS): custom data goes under
    # properties or traits. The SDKs' own extras are allowed and listed untyped.
    "additionalProperties": False,
}
_MESSAGE_SCHEMA["properties"].update(
    {f: {} for f in sorted(messages.KNOWN_FIELDS) if f not in _MESSAGE_SCHEMA["properties"]})
_BATCH_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["batch"],
    "properties": {
        "batch": {"type": "array", "items": {**_MESSAGE_SCHEMA, "properties": {
            **_MESSAGE_SCHEMA["properties"], "type": {"type": "string",
                                                      "enum": list(messages.TYPES)}}}},
        "context": {"type": "object"}, "integrations": {"type": "object"},
    },
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Accepted, "description": "every message is durably stored"},
    400: {"model": Refused, "description": "not JSON, or an invalid message: nothing stored"},
    401: {"model": Refused, "description": "no or unknown write key"},
    413: {"model": Refused, "description": "the body or the batch is over a limit"},
    415: {"model": Refused, "description": "a Content-Encoding other than gzip"},
}


_REQUIRED = {"track": ["event"], "group": ["groupId"], "alias": ["previousId", "userId"]}


def _route(endpoint: str) -> None:
    schema = _BATCH_SCHEMA if endpoint == "batch" else {
        **_MESSAGE_SCHEMA, "required": _REQUIRED.get(endpoint, []),
        "anyOf": [{"required": ["userId"]}, {"required": ["anonymousId"]}]}

    async def collect(request: Request) -> JSONResponse:
        raw = await request.body()
        return await run_in_threadpool(accept, request.app, request.headers, raw, endpoint)

    collect.__name__ = f"collect_{endpoint}"
    collect.__doc__ = (f"Segment `{endpoint}`: " + (
        "up to 2,500 messages of any type." if endpoint == "batch" else
        f"one {endpoint} message (the type comes from the path).")
        + " HTTP basic auth with the workspace's write key as the user name.")
    router.add_api_route(
        f"/{endpoint}", collect, methods=["POST"], response_model=None, responses=_RESPONSES,
        openapi_extra={
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema}}},
        })


for _endpoint in ENDPOINTS:
    _route(_endpoint)


api_router = APIRouter(prefix="/api/w/{slug}/collect", tags=["collect"])


def status_of(cur: Any) -> CollectStatus:
    c = inbox.counts(cur)
    keys = ("pending", "processed", "quarantined")
    return CollectStatus(**{k: c.get(k, 0) for k in keys}, total=sum(c.values()))


@api_router.get("")
def collect_status(access: TokenScope("read")) -> CollectStatus:
    """Collected messages in the inbox: pending, processed, quarantined."""
    with access.warehouse.read() as cur:
        return status_of(cur)


@api_router.post("/flush")
def collect_flush(request: Request, access: TokenScope("ingest")) -> FlushResult:
    """Load the pending messages now (through the writer, like the background flusher)."""
    from cxlens.web.flusher import flush_warehouse

    results = flush_warehouse(access.warehouse, label=access.workspace.slug)
    with access.warehouse.read() as cur:
        status = status_of(cur)
    return FlushResult(batches=[r.as_dict() for r in results],
                       messages=sum(r.rows_in for r in results if r.kind == "events"),
                       status=status)


# ------------------------------------------------------------------- the CLI's side


def call_server(server: Any, method: str, what: str, timeout: float = 3600) -> dict[str, Any]:
    """``GET``/``POST /api/w/{slug}/collect{what}`` on the running server (local token)."""
    from cxlens.errors import UserError
    from cxlens.web.server import _as_user_error

    url = f"{server.url}/api/w/{urllib.parse.quote(server.slug)}/collect{what}"
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None,
                                     headers={"Authorization": f"Bearer {server.local_token}",
                                              "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise _as_user_error(exc) from None
    except urllib.error.URLError as exc:
        raise UserError(f"the cxlens server (pid {server.pid}) at {server.url} does not "
                        f"answer: {exc.reason}", hint="wait until it has started, or stop it"
                        ) from None
