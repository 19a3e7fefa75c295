"""Helpers the web tests share: sign-in, form tokens and the two-workspace site.

A module of its own (not conftest.py) so that tests import it by a unique name: importing
from ``conftest`` breaks as soon as pytest collects another folder's conftest first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cxlens.web.settings import WebSettings

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no csrf_token field in the page"
    return m.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD,
            expect: int = 303) -> TestClient:
    token = csrf_of(client.get("/signin").text)
    r = client.post("/signin", data={"email": email, "password": password, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == expect, r.text
    return client


def page_csrf(client: TestClient, path: str = "/account") -> str:
    return csrf_of(client.get(path).text)


@dataclass
class Site:
    settings: WebSettings
    app: FastAPI
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    write_keys: dict[str, str] = field(default_factory=dict)

    def client(self) -> TestClient:
        return TestClient(self.app)

    def member(self, email: str) -> TestClient:
        return sign_in(self.client(), email)

    def api(self, token: str) -> TestClient:
        return TestClient(self.app, headers={"Authorization": f"Bearer {token}"})
