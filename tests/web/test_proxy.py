"""Proxy headers are believed only from the configured addresses (issue 15).

Uvicorn believes ``X-Forwarded-For`` from 127.0.0.1 by default, so anyone on the machine
could give each sign-in attempt a new address and never meet the per-address throttle. A
real ``cxlens serve`` shows that with the default setting the header changes nothing, and
that with ``forwarded_allow_ips`` set the proxy's header is what the throttle counts.
"""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
import pytest

from cxlens.web.server import proxy_options
from cxlens.web.settings import WebSettings
from served import make_home, serve

PASSWORD = "proxy test password"


def _wrong_sign_ins(url: str, n: int) -> list[int]:
    """``n`` wrong passwords, each for another e-mail and from another forwarded address."""
    codes = []
    with httpx.Client(base_url=url, timeout=30) as web:
        csrf = web.get("/signin").text.split('name="csrf_token" value="')[1].split('"')[0]
        for i in range(n):
            r = web.post("/signin", headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
                         data={"email": f"guess{i}@acme.fi", "password": "not the password",
                               "csrf_token": csrf})
            codes.append(r.status_code)
    return codes


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    make_home(home, PASSWORD)
    monkeypatch.setenv("CXLENS_LOGIN_MAX_FAILURES_IP", "3")
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    return home


def test_forwarded_for_from_loopback_does_not_change_the_throttled_address(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CXLENS_FORWARDED_ALLOW_IPS", raising=False)
    with serve(home, tmp_path / "server.log") as (url, _):
        codes = _wrong_sign_ins(url, 5)
    assert codes == [401, 401, 401, 429, 429]


def test_a_configured_proxy_address_is_believed(home: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXLENS_FORWARDED_ALLOW_IPS", "127.0.0.1")
    with serve(home, tmp_path / "server.log") as (url, _):
        codes = _wrong_sign_ins(url, 5)
    assert codes == [401] * 5  # five client addresses behind the proxy, one failure each


def test_proxy_options_read_the_setting(tmp_path: Path) -> None:
    default = WebSettings.load(home=tmp_path / "home")
    assert proxy_options(default) == {"proxy_headers": False, "forwarded_allow_ips": ""}
    proxied = WebSettings.load(home=tmp_path / "home",
                               forwarded_allow_ips=" 10.0.0.1, 192.168.0.0/16 ,")
    assert proxy_options(proxied) == {"proxy_headers": True,
                                      "forwarded_allow_ips": ["10.0.0.1", "192.168.0.0/16"]}
