"""Server settings, declared once: each with its type, default, environment variable and help.

``WebSettings.load(home=..., host=...)`` fills the fields from keyword arguments, then from
the environment (``CXLENS_<NAME>``), then from the defaults below. The secret key is never a
default: it is generated on first start and kept in ``<home>/secret.key`` (mode 0600).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class WebSettings:
    home: Path = field(default=None, metadata=_help(
        "Folder of the server's home: app.sqlite3 (users, workspaces, sessions), "
        "secret.key, server.json and workspaces/<slug>/ (default $CXLENS_HOME or ./cxlens-home)."))
    host: str = field(default="127.0.0.1", metadata=_help(
        "Address to listen on."))
    port: int = field(default=8000, metadata=_help(
        "Port to listen on."))
    secret_key: str = field(default="", metadata=_help(
        "Key that signs the pre-sign-in CSRF token; generated into <home>/secret.key "
        "on first start when not given."))
    session_max_age: int = field(default=14 * 24 * 3600, metadata=_help(
        "Seconds a session stays valid."))
    cookie_secure: bool = field(default=False, metadata=_help(
        "Send cookies only over HTTPS (turn on behind a TLS proxy)."))
    max_body_bytes: int = field(default=1_000_000, metadata=_help(
        "Largest request body other than a file upload (bytes); larger gets 413."))
    max_upload_bytes: int = field(default=512 * 1024 * 1024, metadata=_help(
        "Largest file upload, multipart/form-data (bytes); larger gets 413."))
    login_max_failures: int = field(default=5, metadata=_help(
        "Failed sign-ins per e-mail address within the window before 429."))
    login_max_failures_ip: int = field(default=20, metadata=_help(
        "Failed sign-ins per client address within the window before 429."))
    login_window_seconds: int = field(default=15 * 60, metadata=_help(
        "Window of the sign-in throttle (seconds)."))
    invitation_max_age: int = field(default=7 * 24 * 3600, metadata=_help(
        "Seconds an invitation link stays valid."))
    public_url: str = field(default="", metadata=_help(
        "The server's public address (https://cx.example.fi), the start of the links it "
        "hands out: invitations and the personal survey links of the Surveys page's CSV. "
        "When empty, the address it listens on (a warning on those pages when that is not "
        "a loopback address); never the Host header of the request, which anyone can forge."))

    forwarded_allow_ips: str = field(default="", metadata=_help(
        "Addresses of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto "
        "headers are believed, comma-separated (127.0.0.1, 10.0.0.0/8); empty (the default) "
        "believes nobody, so the sign-in throttle sees the real peer address. Set it to the "
        "proxy's address when cxlens runs behind one, or every user shares its address."))

    @classmethod
    def load(cls, **given: Any) -> WebSettings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            if given.get(f.name) is not None:
                values[f.name] = given[f.name]
                continue
            env = os.environ.get(env_name(f.name))
            if env is not None and env != "":
                values[f.name] = _parse(env, f.default)
        home = Path(values.get("home") or os.environ.get("CXLENS_HOME") or "cxlens-home")
        values["home"] = home.resolve()
        if not values.get("secret_key"):
            values["secret_key"] = secret_key_of(values["home"])
        return cls(**values)

    def link_base(self) -> tuple[str, bool]:
        """The start of the links the server hands out, and whether it is only a guess.

        ``public_url`` when set. Otherwise the configured listening address: right for a
        server on loopback (the people using it are on this machine), a guess otherwise
        (``True``: pages then ask for ``CXLENS_PUBLIC_URL``), with the machine's own name
        for a wildcard address. Never the request's ``Host`` header: a forged one would put
        an attacker's address in an invitation that an owner sends on in good faith.
        """
        if self.public_url.strip():
            return self.public_url.strip().rstrip("/"), False
        host = self.host.strip()
        if host in ("", "0.0.0.0", "::"):
            return f"http://{socket.getfqdn()}:{self.port}", True
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}", not loopback

    @property
    def db_path(self) -> Path:
        return self.home / "app.sqlite3"

    @property
    def workspaces_dir(self) -> Path:
        return self.home / "workspaces"


def env_name(name: str) -> str:
    return "CXLENS_HOME" if name == "home" else f"CXLENS_{name.upper()}"


def _parse(text: str, default: Any) -> Any:
    if isinstance(default, bool):
        return text.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(text)
    return text


def secret_key_of(home: Path) -> str:
    """The home's secret key, generated (mode 0600) on first use."""
    path = Path(home) / "secret.key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    Path(home).mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key


# name -> help, for the docs test (every setting is documented in docs/web.md).
SETTINGS: dict[str, str] = {env_name(f.name): f.metadata["help"] for f in fields(WebSettings)}
