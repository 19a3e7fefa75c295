"""Sign-in, throttle, sessions, sign-out, password change."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from web_helpers import CSRF, PASSWORD, Site, csrf_of, page_csrf, sign_in

from cxlens.web import db, security
from cxlens.web.templating import PRE_COOKIE, SESSION_COOKIE


def test_sign_in_sets_a_safe_session_cookie(site: Site) -> None:
    c = site.client()
    token = csrf_of(c.get("/signin").text)
    r = c.post("/signin", data={"email": "ANN@acme.fi", "password": PASSWORD,
                                "csrf_token": token, "next": "/w/acme/"},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/w/acme/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=" in cookie
    assert "secure" not in cookie  # cookie_secure is off by default (plain http on loopback)
    assert c.get("/w/acme/").status_code == 200
    con = db.connect(site.settings.db_path)
    stored = [r[0] for r in con.execute("SELECT token_hash FROM sessions")]
    assert c.cookies[SESSION_COOKIE] not in stored and len(stored[0]) == 64  # only a hash


def test_wrong_password_and_wrong_email_get_the_same_answer(site: Site) -> None:
    answers = []
    for email, password in (("ann@acme.fi", "wrong password!"), ("nobody@acme.fi", PASSWORD)):
        c = site.client()
        token = csrf_of(c.get("/signin").text)
        r = c.post("/signin", data={"email": email, "password": password, "csrf_token": token})
        answers.append((r.status_code, CSRF.sub("", r.text.replace(email, "EMAIL"))))
        assert SESSION_COOKIE not in c.cookies
    assert answers[0] == answers[1]
    assert answers[0][0] == 401 and "The e-mail address or the password is not right." in \
        answers[0][1]


def test_sign_in_is_throttled_per_email_then_per_address(site: Site) -> None:
    c = site.client()
    for _ in range(site.settings.login_max_failures):
        sign_in(c, "ann@acme.fi", "wrong password!", expect=401)
    token = csrf_of(c.get("/signin").text)
    r = c.post("/signin", data={"email": "ann@acme.fi", "password": PASSWORD,
                                "csrf_token": token})
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    assert int(r.headers["retry-after"]) > 0
    # other e-mails from the same address are throttled once the address hits its limit
    sign_in(c, "bob@beta.se")
    for i in range(site.settings.login_max_failures_ip - site.settings.login_max_failures):
        sign_in(site.client(), f"guess{i}@beta.se", "x" * 12, expect=401)
    sign_in(site.client(), "bob@beta.se", expect=429)


def test_expired_session_is_rejected(site: Site) -> None:
    c = site.member("ann@acme.fi")
    assert c.get("/account").status_code == 200
    con = db.connect(site.settings.db_path)
    con.execute("UPDATE sessions SET expires_at = ?", [db.iso(db.now() - timedelta(seconds=1))])
    r = c.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    r = c.get("/api/w/acme/summary")
    assert r.status_code == 401 and r.json()["ok"] is False


def test_sign_in_rotates_the_session_and_sign_out_ends_it(site: Site) -> None:
    c = site.member("ann@acme.fi")
    first = c.cookies[SESSION_COOKIE]
    sign_in(c, "ann@acme.fi")  # signing in again replaces the session
    second = c.cookies[SESSION_COOKIE]
    assert first != second
    stale = site.client()
    stale.cookies.set(SESSION_COOKIE, first)
    assert stale.get("/account", follow_redirects=False).status_code == 303
    r = c.post("/signout", data={"csrf_token": page_csrf(c)}, follow_redirects=False)
    assert r.status_code == 303
    replay = site.client()
    replay.cookies.set(SESSION_COOKIE, second)
    assert replay.get("/account", follow_redirects=False).status_code == 303


def test_password_change_needs_the_current_password(site: Site) -> None:
    c = site.member("ann@acme.fi")
    other = site.member("ann@acme.fi")
    r = c.post("/account/password", data={"current_password": "not it at all",
                                          "new_password": "a new long password",
                                          "csrf_token": page_csrf(c)})
    assert r.status_code == 400 and "current password" in r.text
    r = c.post("/account/password", data={"current_password": PASSWORD,
                                          "new_password": "short", "csrf_token": page_csrf(c)})
    assert r.status_code == 400 and "too short" in r.text
    r = c.post("/account/password", data={"current_password": PASSWORD,
                                          "new_password": "a new long password",
                                          "csrf_token": page_csrf(c)})
    assert r.status_code == 200 and "password was changed" in r.text
    assert c.get("/account").status_code == 200  # this session stays
    assert other.get("/account", follow_redirects=False).status_code == 303  # others end
    sign_in(site.client(), "ann@acme.fi", expect=401)
    sign_in(site.client(), "ann@acme.fi", "a new long password")


def _count_password_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Wrap the real password check to count it; a short pause stands for Argon2's real
    cost (the tests use cheap hashes), the window in which concurrent attempts raced."""
    calls: list[int] = []
    real = security.verify_password
    lock = threading.Lock()

    def counted(password_hash: str | None, password: str) -> bool:
        with lock:
            calls.append(1)
        time.sleep(0.05)
        return real(password_hash, password)

    monkeypatch.setattr(security, "verify_password", counted)
    return calls


def test_concurrent_wrong_passwords_get_at_most_the_limit_of_checks(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: 60 concurrent wrong passwords for one account got 24 password checks
    against a limit of 5. The count and the check are now one atomic step."""
    calls = _count_password_checks(monkeypatch)
    first = site.client()
    token = csrf_of(first.get("/signin").text)
    pre = first.cookies[PRE_COOKIE]

    def attempt(i: int) -> int:
        c = site.client()
        c.cookies.set(PRE_COOKIE, pre)
        r = c.post("/signin", data={"email": "ann@acme.fi", "password": f"wrong guess {i}",
                                    "csrf_token": token})
        return r.status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = list(pool.map(attempt, range(60)))
    limit = site.settings.login_max_failures
    assert len(calls) <= limit, f"{len(calls)} password checks for a limit of {limit}"
    assert codes.count(401) == len(calls) and codes.count(429) == 60 - len(calls)
    # the right password is throttled too now, and checked no more
    sign_in(site.client(), "ann@acme.fi", expect=429)
    assert len(calls) <= limit


def test_a_right_password_after_failures_signs_in_and_clears_them(site: Site) -> None:
    for _ in range(site.settings.login_max_failures - 1):
        sign_in(site.client(), "ann@acme.fi", "wrong password!", expect=401)
    sign_in(site.client(), "ann@acme.fi")
    con = db.connect(site.settings.db_path)
    rows = con.execute("SELECT ok FROM login_attempts WHERE email = 'ann@acme.fi'").fetchall()
    assert [r["ok"] for r in rows] == [1]  # the success, recorded; the failures forgiven
    for _ in range(site.settings.login_max_failures - 1):  # a fresh allowance
        sign_in(site.client(), "ann@acme.fi", "wrong password!", expect=401)
    sign_in(site.client(), "ann@acme.fi")
