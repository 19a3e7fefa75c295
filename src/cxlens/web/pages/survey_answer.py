"""The hosted survey: ``/s/{token}`` (personal link), ``/s/public/{id}`` (anonymous link),
and the follow-up API under ``/api/w/{slug}/followups``.

The token is the capability: ``<slug>.<secret>`` names the workspace, and only the hash of
the whole token is stored (:mod:`cxlens.surveys.invitations`). The POST still carries the
form token of the core's CSRF guard (``csrf_field()``, an HMAC of the ``cxlens_pre`` cookie),
so another site cannot submit an answer in the customer's browser. Pages are in the
invitation's language, not the visitor's UI language; answers are checked by
:func:`cxlens.surveys.answers.validate` and loaded through the workspace's single writer.
Unknown links answer 404; answered, expired and opted-out links 410 — each with a page.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from cxlens.surveys import answers, followups, invitations, store
from cxlens.surveys.definitions import LANGS, Survey, text
from cxlens.web import db, i18n
from cxlens.web.deps import Db, Pool, ServerClock, TokenScope, get_clock
from cxlens.web.templating import PRE_COOKIE, csrf_token, env
from cxlens.web.warehouses import Warehouse
from cxlens.web.workspaces import workspace_by_slug

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/w/{slug}", tags=["followups"])

PUBLIC_MAX_ANSWERS = 10  # answers per client address and window on the public links
PUBLIC_WINDOW_SECONDS = 600
MAX_FIELD = 4000


# ------------------------------------------------------------------------ rendering

def _company(request: Request) -> str | None:
    """The name of the company asking (its workspace's), from the link's ``<slug>.`` part:
    a respondent should see who asks before answering."""
    link = request.path_params.get("token") or request.path_params.get("public_id") or ""
    slug, dot, _ = str(link).partition(".")
    if not dot:
        return None
    con = db.connect(request.app.state.settings.db_path)
    try:
        ws = workspace_by_slug(con, slug)
    finally:
        con.close()
    return ws.name if ws is not None else None


def _render(request: Request, name: str, lang: str, ctx: dict[str, Any],
            status: int = 200) -> HTMLResponse:
    token = csrf_token(request)
    html = env.get_template(name).render(
        request=request, lang=lang, csrf_token=token, company=_company(request),
        t=lambda key, **v: i18n.translate(lang, key, **v), txt=lambda x: text(x, lang), **ctx)
    response = HTMLResponse(html, status_code=status)
    if getattr(request.state, "new_pre", None):
        response.set_cookie(PRE_COOKIE, request.state.new_pre, httponly=True, samesite="lax",
                            secure=request.app.state.settings.cookie_secure, path="/")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


def _closed(request: Request, lang: str, reason: str, status: int) -> HTMLResponse:
    return _render(request, "survey_message.html", lang,
                   {"title": i18n.translate(lang, "survey.closed_title"),
                    "message": i18n.translate(lang, f"survey.{reason}")}, status)


def _visitor_lang(request: Request) -> str:
    lang = i18n.pick(request.query_params.get("lang"), None,
                     request.headers.get("accept-language"))
    return lang if lang in LANGS else i18n.DEFAULT


def _messages(lang: str, problems: dict[str, answers.Problem]) -> dict[str, str]:
    return {qid: i18n.translate(lang, f"survey.error.{p.code}", **p.params)
            for qid, p in problems.items()}


def _form(request: Request, survey: Survey, lang: str, action: str, values: dict[str, Any],
          problems: dict[str, answers.Problem] | None = None, status: int = 200,
          saved: bool = False, optout: str | None = None,
          hidden: dict[str, str] | None = None) -> HTMLResponse:
    return _render(request, "survey_form.html", lang, {
        "survey": survey, "action": action, "values": values, "saved": saved,
        "errors": _messages(lang, problems or {}), "optout": optout, "hidden": hidden or {},
    }, status)


# ------------------------------------------------------------------ finding the link

def _warehouse(con: sqlite3.Connection, pool: Any, slug: str) -> Warehouse | None:
    ws = workspace_by_slug(con, slug)
    return pool.get(ws.path) if ws is not None else None


def _invitation(con: sqlite3.Connection, pool: Any,
                token: str) -> tuple[Warehouse, invitations.Invitation, Survey] | None:
    parts = invitations.split_token(token)
    wh = _warehouse(con, pool, parts[0]) if parts else None
    if wh is None:
        return None
    with wh.read() as cur:
        if not store.ready(cur):
            return None
        inv = invitations.by_token(cur, token)
        stored = store.get_survey(cur, inv.survey_id) if inv else None
    if inv is None or stored is None:
        return None
    return wh, inv, stored.survey


def _now(request: Request) -> datetime:
    """The moment of this request, from the server's one clock (``app.state.clock``)."""
    return get_clock(request)()


async def _form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v[:MAX_FIELD] for k, v in form.items() if isinstance(v, str)}


# ---------------------------------------------------------------- personal links

@router.get("/s/{token}")
def answer_page(request: Request, token: str, con: Db, pool: Pool) -> Response:
    found = _invitation(con, pool, token)
    if found is None:
        return _closed(request, _visitor_lang(request), "unknown", 404)
    wh, inv, survey = found
    now = _now(request)
    try:
        with wh.read() as cur:
            answers.check_open(cur, inv, now)
    except answers.AnswerRefused as exc:
        if exc.reason == "expired" and inv.state != "expired":
            wh.write(lambda cur: invitations.set_state(cur, inv.invitation_id, "expired"))
        return _closed(request, inv.language, exc.reason, exc.status)
    wh.write(lambda cur: invitations.mark_opened(cur, inv, now))
    return _form(request, survey, inv.language, f"/s/{token}", inv.draft,
                 optout=f"/s/{token}/optout")


@router.post("/s/{token}")
async def answer_post(request: Request, token: str, con: Db, pool: Pool) -> Response:
    form = await _form_data(request)
    return await _run(request, _answer_post, token, form, con, pool)


async def _run(request: Request, fn: Any, *args: Any) -> Response:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, request, *args)


def _answer_post(request: Request, token: str, form: dict[str, str], con: Db,
                 pool: Pool) -> Response:
    found = _invitation(con, pool, token)
    if found is None:
        return _closed(request, _visitor_lang(request), "unknown", 404)
    wh, inv, survey = found
    final = form.get("action") != "save"
    now = _now(request)
    values, problems = answers.validate(survey, form, final=final)
    if problems:
        return _form(request, survey, inv.language, f"/s/{token}", {**inv.draft, **form},
                     problems, status=422, optout=f"/s/{token}/optout")
    try:
        if not final:
            def save(cur: Any) -> None:
                fresh = invitations.by_id(cur, inv.invitation_id)
                assert fresh is not None
                answers.check_open(cur, fresh, now)
                invitations.save_draft(cur, inv.invitation_id, values)

            wh.write(save)
            return _form(request, survey, inv.language, f"/s/{token}", values, saved=True,
                         optout=f"/s/{token}/optout")
        wh.write(lambda cur: answers.submit(cur, survey, inv, values, now))
    except answers.AnswerRefused as exc:
        return _closed(request, inv.language, exc.reason, exc.status)
    return _render(request, "survey_message.html", inv.language,
                   {"title": text(survey.title, inv.language),
                    "message": text(survey.thanks, inv.language)})


@router.post("/s/{token}/optout")
def optout(request: Request, token: str, con: Db, pool: Pool) -> Response:
    found = _invitation(con, pool, token)
    if found is None:
        return _closed(request, _visitor_lang(request), "unknown", 404)
    wh, inv, _ = found
    now = _now(request)
    wh.write(lambda cur: answers.opt_out(cur, inv, now))
    return _render(request, "survey_message.html", inv.language,
                   {"title": i18n.translate(inv.language, "survey.optout_title"),
                    "message": i18n.translate(inv.language, "survey.optout_done")})


# ------------------------------------------------------------------ public links

class _RateLimit:
    """At most ``n`` events per key within ``window`` seconds (in this server's memory)."""

    def __init__(self, n: int, window: float) -> None:
        self.n, self.window = n, window
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> int:
        """0 if allowed now (and counted), else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            q = self._seen.setdefault(key, deque())
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.n:
                return max(1, int(q[0] + self.window - now) + 1)
            q.append(now)
            if len(self._seen) > 100_000:  # forget idle addresses
                self._seen = {k: v for k, v in self._seen.items() if v}
            return 0


def _limiter(request: Request) -> _RateLimit:
    state = request.app.state
    if getattr(state, "survey_rate_limit", None) is None:
        state.survey_rate_limit = _RateLimit(PUBLIC_MAX_ANSWERS, PUBLIC_WINDOW_SECONDS)
    return state.survey_rate_limit  # type: ignore[no-any-return]


def _public(con: sqlite3.Connection, pool: Any,
            public_id: str) -> tuple[Warehouse, Survey] | None:
    slug, dot, pid = public_id.partition(".")
    wh = _warehouse(con, pool, slug) if dot and pid else None
    if wh is None:
        return None
    with wh.read() as cur:
        stored = store.survey_by_public_id(cur, pid)
    return (wh, stored.survey) if stored else None


def _tags(source: Any) -> dict[str, str]:
    return {k: str(source.get(k))[:100] for k in ("team", "store") if source.get(k)}


def _public_lang(request: Request, survey: Survey, form: dict[str, str] | None = None) -> str:
    wanted = (form or {}).get("lang") or request.query_params.get("lang")
    if wanted in LANGS:
        return str(wanted)
    accept = i18n.pick(None, None, request.headers.get("accept-language"))
    return accept if request.headers.get("accept-language") else survey.default_language


@router.get("/s/public/{public_id}")
def public_page(request: Request, public_id: str, con: Db, pool: Pool) -> Response:
    found = _public(con, pool, public_id)
    if found is None:
        return _closed(request, _visitor_lang(request), "unknown", 404)
    _, survey = found
    lang = _public_lang(request, survey)
    return _form(request, survey, lang, f"/s/public/{public_id}", {},
                 hidden={**_tags(request.query_params), "lang": lang})


@router.post("/s/public/{public_id}")
async def public_post(request: Request, public_id: str, con: Db, pool: Pool) -> Response:
    form = await _form_data(request)
    return await _run(request, _public_post, public_id, form, con, pool)


def _public_post(request: Request, public_id: str, form: dict[str, str], con: Db,
                 pool: Pool) -> Response:
    found = _public(con, pool, public_id)
    if found is None:
        return _closed(request, _visitor_lang(request), "unknown", 404)
    wh, survey = found
    lang = _public_lang(request, survey, form)
    tags = _tags(form)
    values, problems = answers.validate(survey, form, final=True)
    if problems:
        return _form(request, survey, lang, f"/s/public/{public_id}", form, problems,
                     status=422, hidden={**tags, "lang": lang})
    wait = _limiter(request).retry_after(request.client.host if request.client else "?")
    if wait:
        response = _closed(request, lang, "rate_limited", 429)
        response.headers["Retry-After"] = str(wait)
        return response
    now = _now(request)
    wh.write(lambda cur: answers.submit_public(cur, survey, values, language=lang, now=now,
                                               store_id=tags.get("store"),
                                               team_id=tags.get("team")))
    return _render(request, "survey_message.html", lang,
                   {"title": text(survey.title, lang), "message": text(survey.thanks, lang)})


# ------------------------------------------------------------------ follow-up API

class FollowupOut(BaseModel):
    followup_id: int
    response_id: str
    survey_id: str
    invitation_id: int | None
    customer_id: str | None
    identity_key: str | None
    metric: str
    score: float
    comment: str | None
    language: str | None
    status: str
    owner: str | None
    note: str | None
    created_at: str
    updated_at: str
    contacted_at: str | None
    resolved_at: str | None


class FollowupList(BaseModel):
    ok: bool = True
    followups: list[FollowupOut]


class FollowupUpdate(BaseModel):
    status: str | None = Field(None, description="open, contacted or resolved")
    owner: str | None = Field(None, max_length=followups.MAX_OWNER)
    note: str | None = Field(None, max_length=followups.MAX_NOTE)


@api_router.get("/followups")
def api_followups(access: TokenScope("read"), status: str | None = None) -> FollowupList:
    """Follow-up items of detractor answers, open ones first (``?status=`` filters)."""
    with access.warehouse.read() as cur:
        items = followups.list_followups(cur, status)
    return FollowupList(followups=[FollowupOut(**f.as_dict()) for f in items])


@api_router.post("/followups/{followup_id}")
def api_update_followup(followup_id: int, body: FollowupUpdate,
                        access: TokenScope("write"), clock: ServerClock) -> FollowupOut:
    """Change an item's status (open → contacted → resolved), owner or note."""
    now = clock()

    def change(cur: Any) -> followups.Followup | None:
        if not store.ready(cur):
            return None
        return followups.update(cur, followup_id, now=now, status=body.status,
                                owner=body.owner, note=body.note)

    item = access.warehouse.write(change)
    if item is None:
        raise HTTPException(404, "no such follow-up")
    return FollowupOut(**item.as_dict())
