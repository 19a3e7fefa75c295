"""Running the server, and finding it from the CLI.

``serve(settings)`` runs the app with Uvicorn in this process. While it runs,
``<home>/server.json`` (mode 0600) holds its pid, address and a random **local token**; the
server keeps only the token's SHA-256. ``cxlens ingest`` on a workspace folder inside a home
whose server is running (:func:`running_server`) sends the work to
``POST /api/w/{slug}/ingest`` with that token instead of opening the warehouse file, which
the server holds for writing. ``cxlens collect flush`` (``collect.call_server``) and
``cxlens survey run|send|links`` (:func:`call_api`) do the same.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxlens.errors import UserError
from cxlens.web import security
from cxlens.web.settings import WebSettings

SERVER_FILE = "server.json"


@dataclass(frozen=True)
class RunningServer:
    url: str
    pid: int
    local_token: str
    slug: str


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_server_file(home: Path) -> dict[str, Any] | None:
    path = Path(home) / SERVER_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and _alive(int(info.get("pid", 0))) else None


def running_server(workspace: Path) -> RunningServer | None:
    """The live server that holds ``workspace`` (a ``<home>/workspaces/<slug>`` folder)."""
    ws = Path(workspace).resolve()
    if ws.parent.name != "workspaces":
        return None
    info = read_server_file(ws.parent.parent)
    if info is None:
        return None
    return RunningServer(str(info["url"]), int(info["pid"]), str(info["local_token"]), ws.name)


def _write_server_file(settings: WebSettings, token: str) -> Path:
    path = settings.home / SERVER_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "localhost") else settings.host
    host = "[::1]" if host == "::" else host
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"pid": os.getpid(), "host": settings.host, "port": settings.port,
                   "url": f"http://{host}:{settings.port}", "local_token": token,
                   "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, fh)
    os.replace(tmp, path)
    return path


def proxy_options(settings: WebSettings) -> dict[str, Any]:
    """Uvicorn's proxy-header options: X-Forwarded-* believed only from the configured
    addresses. Uvicorn's own default believes 127.0.0.1 (and ``$FORWARDED_ALLOW_IPS``), so
    anyone on the machine could pick the address the sign-in throttle counts: with the
    setting empty the headers are not read at all."""
    allowed = [a.strip() for a in settings.forwarded_allow_ips.split(",") if a.strip()]
    if not allowed:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": allowed}


def serve(settings: WebSettings) -> None:
    """Run the server in this process until interrupted (one process, one writer)."""
    import uvicorn

    from cxlens.warehouse.store import private_umask
    from cxlens.web.app import create_app

    private_umask()  # every file the server creates is its owner's only (cxlens main does too)

    other = read_server_file(settings.home)
    if other is not None and int(other["pid"]) != os.getpid():
        raise UserError(f"a server (pid {other['pid']}) is already serving {settings.home} "
                        f"at {other['url']}", hint="stop it first, or use another --home")
    app = create_app(settings)
    token = security.new_secret(security.LOCAL_TOKEN_PREFIX)
    app.state.local_token_hash = security.sha256(token)
    path = _write_server_file(settings, token)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, workers=1,
                    log_level="info", access_log=False, **proxy_options(settings))
    finally:
        info = read_server_file(settings.home)
        if info is not None and int(info["pid"]) == os.getpid():
            path.unlink(missing_ok=True)


# ------------------------------------------------------------------- the CLI's side


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = "cxlens-" + security.new_secret()[:24]
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n")
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode("utf-8"), f"multipart/form-data; boundary={boundary}"


def ingest_via_server(server: RunningServer, file: Path, kind: str | None, *,
                      preset: str | None = None, mapping: Path | None = None,
                      sheet: str | None = None, delimiter: str | None = None,
                      encoding: str | None = None, dry_run: bool = False,
                      timeout: float = 3600) -> dict[str, Any]:
    """Hand one file to the running server; returns the batch counts (as_dict shape).

    A user error from the server comes back as the same UserError class, so the CLI prints
    the same message and exits with the same code.
    """
    fields = {"path": str(Path(file).resolve())}
    for name, value in (("kind", kind), ("preset", preset), ("sheet", sheet),
                        ("delimiter", delimiter), ("encoding", encoding),
                        ("mapping_path", str(Path(mapping).resolve()) if mapping else None)):
        if value is not None:
            fields[name] = value
    if dry_run:
        fields["dry_run"] = "true"
    body, ctype = _multipart(fields)
    url = f"{server.url}/api/w/{urllib.parse.quote(server.slug)}/ingest"
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": ctype, "Authorization": f"Bearer {server.local_token}",
        "Accept": "application/json"})
    return _send(server, request, timeout)


def call_api(server: RunningServer, method: str, path: str,
             body: dict[str, Any] | None = None, timeout: float = 3600) -> dict[str, Any]:
    """``method /api/w/{slug}{path}`` on the running server with the local token; JSON in
    and out. Used by the commands that hand their work to the server (``cxlens survey
    run|send|links``); an error answer comes back as the same UserError, as for ingest."""
    url = f"{server.url}/api/w/{urllib.parse.quote(server.slug)}{path}"
    data = None if body is None else json.dumps(body, default=str).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {server.local_token}", "Accept": "application/json",
        **({"Content-Type": "application/json"} if data is not None else {})})
    return _send(server, request, timeout)


def _send(server: RunningServer, request: urllib.request.Request, timeout: float) -> Any:
    """The JSON answer to ``request``; retried while the server may still be binding its
    port, and an error answer turned into the UserError it stands for."""
    for attempt in range(50):  # the server may still be binding its port
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise _as_user_error(exc) from None
        except urllib.error.URLError as exc:
            if attempt == 49:
                raise UserError(f"the cxlens server (pid {server.pid}) at {server.url} does "
                                f"not answer: {exc.reason}",
                                hint="wait until it has started, or stop it") from None
            time.sleep(0.1)
    raise AssertionError("unreachable")


def _as_user_error(exc: Any) -> UserError:
    from cxlens.errors import InputError, MappingUnsure

    try:
        data = json.loads(exc.read())
    except ValueError:
        data = {"error": f"the server answered {exc.code}"}
    message = str(data.get("error") or f"the server answered {exc.code}")
    where = {k: data.get(k) for k in ("hint", "file", "line", "column")}
    kind = data.get("type")
    if kind == "MappingUnsure" and data.get("proposal"):
        return MappingUnsure(message, proposal_path=str(data["proposal"]), **where)
    if kind == "InputError":
        return InputError(message, **where)
    return UserError(f"{message} (server: {exc.code})" if not kind else message, **where)
