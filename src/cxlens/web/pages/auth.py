"""Sign-in, sign-out and accepting an invitation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from cxlens.errors import UserError
from cxlens.web import accounts
from cxlens.web.deps import Db, OptionalSession, Settings
from cxlens.web.i18n import translate
from cxlens.web.pages import safe_next, see_other
from cxlens.web.settings import WebSettings
from cxlens.web.templating import PRE_COOKIE, SESSION_COOKIE, lang_of, render
from cxlens.web.workspaces import accept_invitation, invitation_of

router = APIRouter(include_in_schema=False)


def signed_in(request: Request, con: Db, settings: WebSettings, user: accounts.User,
              target: str) -> Response:
    """Start a new session (replacing the old cookie's) and go on to ``target``."""
    token = accounts.start_session(con, user, settings.session_max_age,
                                   replaces=request.cookies.get(SESSION_COOKIE))
    response = see_other(safe_next(target))
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_max_age, httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path="/")
    response.delete_cookie(PRE_COOKIE, path="/")
    return response


@router.get("/signin")
def signin_page(request: Request, session: OptionalSession, next: str = "/") -> Response:
    if session is not None:
        return see_other(safe_next(next))
    return render(request, "signin.html", {"next": next})


@router.post("/signin")
def signin(request: Request, con: Db, settings: Settings,
           email: Annotated[str, Form(max_length=254)],
           password: Annotated[str, Form(max_length=1024)],
           next: Annotated[str, Form()] = "/") -> Response:
    ip = request.client.host if request.client else "unknown"
    try:
        user = accounts.authenticate(
            con, email, password, ip, max_failures=settings.login_max_failures,
            max_failures_ip=settings.login_max_failures_ip, window=settings.login_window_seconds)
    except accounts.Throttled as exc:
        message = translate(lang_of(request), "signin.throttled",
                            minutes=max(1, round(exc.retry_after / 60)))
        response = render(request, "signin.html", {"next": next, "email": email,
                                                   "error": message}, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if user is None:
        return render(request, "signin.html", {"next": next, "email": email,
                                               "error": translate(lang_of(request),
                                                                  "signin.failed")},
                      status=401)
    return signed_in(request, con, settings, user, next)


@router.post("/signout")
def signout(request: Request, con: Db, session: OptionalSession) -> Response:
    if session is not None:  # None too for a bearer-token request: its cookie is not used
        accounts.end_session(con, request.cookies.get(SESSION_COOKIE))
    response = see_other("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/invite/{token}")
def invitation_page(request: Request, token: str, con: Db) -> Response:
    inv = invitation_of(con, token)
    if inv is None:
        return render(request, "invite.html", {"invalid": True}, status=404)
    exists = accounts.user_by_email(con, inv.email) is not None
    return render(request, "invite.html", {"inv": inv, "exists": exists, "token": token})


@router.post("/invite/{token}")
def accept(request: Request, token: str, con: Db, settings: Settings,
           password: Annotated[str, Form(max_length=1024)]) -> Response:
    inv = invitation_of(con, token)
    if inv is None:
        return render(request, "invite.html", {"invalid": True}, status=404)
    user = accounts.user_by_email(con, inv.email)
    try:
        if user is None:
            user = accounts.create_user(con, inv.email, password)
        else:
            user = accounts.authenticate(
                con, inv.email, password, request.client.host if request.client else "",
                max_failures=settings.login_max_failures,
                max_failures_ip=settings.login_max_failures_ip,
                window=settings.login_window_seconds)
            if user is None:
                raise UserError(translate(lang_of(request), "signin.failed"))
        accept_invitation(con, inv, user)
    except accounts.Throttled:
        return render(request, "invite.html", {"inv": inv, "exists": True, "token": token,
                                               "error": translate(lang_of(request),
                                                                  "signin.throttled",
                                                                  minutes=15)}, status=429)
    except UserError as exc:
        return render(request, "invite.html", {"inv": inv, "exists": user is not None,
                                               "token": token, "error": exc.message},
                      status=400)
    return signed_in(request, con, settings, user, f"/w/{inv.workspace.slug}/")
