"""The signed-in user's account: password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from cxlens.errors import UserError
from cxlens.web import accounts
from cxlens.web.deps import CurrentUser, Db
from cxlens.web.i18n import translate
from cxlens.web.templating import SESSION_COOKIE, lang_of, render

router = APIRouter(include_in_schema=False)


@router.get("/account")
def account_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "account.html")


@router.post("/account/password")
def change_password(request: Request, user: CurrentUser, con: Db,
                    current_password: Annotated[str, Form(max_length=1024)],
                    new_password: Annotated[str, Form(max_length=1024)]) -> Response:
    try:
        accounts.change_password(con, user, current_password, new_password,
                                 keep_session=request.cookies.get(SESSION_COOKIE))
    except UserError as exc:
        return render(request, "account.html", {"error": exc.message}, status=400)
    return render(request, "account.html",
                  {"message": translate(lang_of(request), "account.changed")})
