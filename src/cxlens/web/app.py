"""``create_app(settings)``: the FastAPI app, assembled from the routers in ``ROUTERS``.

Add a feature by writing a module with a ``router`` under ``web/pages/`` or ``web/api/``
and listing it in ``ROUTERS`` below (docs/web.md, "Adding a page or an endpoint").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxlens import __version__, clock
from cxlens.web import assets, collect, db, errors
from cxlens.web.api import experience as api_experience
from cxlens.web.api import ingest as api_ingest
from cxlens.web.api import insights as api_insights
from cxlens.web.api import journeys as api_journeys
from cxlens.web.api import marketing as api_marketing
from cxlens.web.api import money as api_money
from cxlens.web.api import survey_runs as api_survey_runs
from cxlens.web.api import targets as api_targets
from cxlens.web.api import text as api_text
from cxlens.web.api import value as api_value
from cxlens.web.api import workspace as api_workspace
from cxlens.web.deps import csrf_guard
from cxlens.web.flusher import Flusher
from cxlens.web.headers import SecurityHeaders
from cxlens.web.pages import account, apidocs, auth, customers, data, home, notes, overview
from cxlens.web.pages import at_risk as at_risk_pages
from cxlens.web.pages import attribution as attribution_pages
from cxlens.web.pages import comments as comments_pages
from cxlens.web.pages import experience as experience_pages
from cxlens.web.pages import followups as followup_pages
from cxlens.web.pages import journeys as journeys_pages
from cxlens.web.pages import marketing as marketing_pages
from cxlens.web.pages import moments as moments_pages
from cxlens.web.pages import planner as planner_pages
from cxlens.web.pages import retention as retention_pages
from cxlens.web.pages import settings as settings_pages
from cxlens.web.pages import survey_answer as survey_pages
from cxlens.web.pages import surveys as surveys_page
from cxlens.web.pages import targets as targets_pages
from cxlens.web.pages import value as value_pages
from cxlens.web.settings import WebSettings
from cxlens.web.warehouses import Warehouses

# Every router of the app, in order. Later features append theirs here.
ROUTERS = [
    assets.router,
    apidocs.router,
    auth.router,
    account.router,
    home.router,
    settings_pages.router,
    api_workspace.router,
    api_money.router,
    api_ingest.router,
    api_experience.router,
    api_insights.router,
    api_value.router,
    api_journeys.router,
    api_marketing.router,
    api_targets.router,
    api_text.router,
    overview.router,
    experience_pages.router,
    comments_pages.router,
    journeys_pages.router,
    moments_pages.router,
    value_pages.router,
    at_risk_pages.router,
    attribution_pages.router,
    targets_pages.router,
    planner_pages.router,
    retention_pages.router,
    marketing_pages.router,
    customers.router,
    data.router,
    data.api_router,
    notes.router,
    notes.api_router,
    collect.router,
    collect.api_router,
    survey_pages.router,
    survey_pages.api_router,
    surveys_page.router,
    followup_pages.router,
    api_survey_runs.router,
]


class BodyLimit:
    """Refuse request bodies over the limit with 413 (uploads have their own, larger limit)."""

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        upload = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = self.max_upload if upload else self.max_body
        message = (f"the request body is larger than the limit of {limit:,} bytes"
                   + (" for uploads" if upload else ""))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            response = errors.error_json(413, message)
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, message)
            return msg

        await self.app(scope, limited, send)


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The cxlens web app for a home folder (created and migrated if needed)."""
    settings = settings or WebSettings.load()
    settings.workspaces_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    db.migrate(settings.db_path)
    warehouses = Warehouses()
    flusher = Flusher(warehouses)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from cxlens.web.pages.comments import taxonomy_ready

        flusher.start()
        taxonomy_ready()  # the comment themes' lemmas load in the background from the start
        recovering = asyncio.create_task(
            asyncio.to_thread(flusher.recover, settings.workspaces_dir))
        yield
        await recovering
        await flusher.stop()  # the final flush, before the warehouses close
        warehouses.close()

    app = FastAPI(
        title="cxlens", version=__version__, lifespan=lifespan, docs_url=None,
        redoc_url=None, dependencies=[Depends(csrf_guard)],
        description="Customer-experience data: workspaces, ingest and analytics. Authenticate "
        "with `Authorization: Bearer cx_…` (an API token of the workspace). Errors are "
        '`{"ok": false, "error": "…", "status": 4xx}`.',
    )
    app.state.settings = settings
    app.state.warehouses = warehouses
    app.state.flusher = flusher
    app.state.local_token_hash = None  # set by cxlens.web.server when serving
    app.state.clock = clock.system  # the one clock of the routes; tests set clock.fixed(day)
    errors.install(app)
    app.add_middleware(BodyLimit, max_body=settings.max_body_bytes,
                       max_upload=settings.max_upload_bytes)
    app.add_middleware(collect.CollectCors)
    # Pages, API answers and CSVs compressed as they go (assets come compressed already:
    # web/assets.py sets their Content-Encoding, which this middleware leaves alone).
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    # Outside everything, Starlette's ServerErrorMiddleware included: every answer carries
    # the security headers, 413s, CORS preflights and 500 pages too.
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: SecurityHeaders(build_stack())  # type: ignore[method-assign]
    apidocs.mount(app)  # /docs/assets: Swagger UI from its package (no CDN)
    for router in ROUTERS:
        app.include_router(router)
    return app


def route_table(app: FastAPI) -> list[tuple[str, frozenset[str]]]:
    """Every (path, methods) the app serves, routers included, flattened.

    FastAPI 0.16x keeps included routers as nested objects in ``app.routes``; this walks
    them (and plain route lists of older versions) so tests can enumerate every route.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        contexts: list[object] = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    return [(str(getattr(r, "path", "")), frozenset(getattr(r, "methods", None) or ()))
            for r in contexts]
