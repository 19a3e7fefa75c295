"""A real ``cxlens serve`` in a subprocess, the CLI in others, and a local SMTP server:
the parts of the tests that run cxlens as a user would (import as ``served``)."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx

CXLENS = [sys.executable, "-m", "cxlens.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, home: Path, stdin: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``cxlens ARGS`` in a subprocess with ``CXLENS_HOME`` set to ``home``."""
    return subprocess.run([*CXLENS, *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, "CXLENS_HOME": str(home), **(env or {})},
                          timeout=120)


def cli_json(*args: str, home: Path) -> Any:
    r = cli(*args, "--json", home=home)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def make_home(home: Path, password: str, slug: str = "acme") -> dict[str, Any]:
    """A home with the user ops@acme.fi owning workspace ``slug``; the workspace as JSON."""
    made = cli("admin", "create-user", "ops@acme.fi", "--password-stdin", home=home,
               stdin=password + "\n")
    assert made.returncode == 0, made.stderr
    return cli_json("admin", "create-workspace", slug, "--owner", "ops@acme.fi", home=home)


def stop(proc: subprocess.Popen[str]) -> None:
    """Stop the server as Ctrl-C does (it flushes and cleans up), killing it if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def serve(home: Path, log: Path, env: dict[str, str] | None = None,
          ) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``cxlens serve --home HOME`` on a free port, its output in ``log``, with ``env``
    added to the environment; yields the base URL once the sign-in page answers, and the
    process."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([*CXLENS, "serve", "--home", str(home), "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, **(env or {})})
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/signin", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise AssertionError(log.read_text())
            time.sleep(0.1)
        try:
            yield url, proc
        finally:
            stop(proc)


class SmtpInbox:
    """What the local SMTP server received: (recipients, parsed message) per mail."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    @property
    def recipients(self) -> list[str]:
        return sorted(r for rcpt, _ in self.messages for r in rcpt)


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    """A real SMTP server (aiosmtpd) on a free loopback port: its inbox and the port."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
