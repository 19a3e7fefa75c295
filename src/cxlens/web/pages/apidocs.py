"""``/docs``: Swagger UI from the installed ``swagger-ui-bundle-v2`` package, not a CDN.

FastAPI's own ``/docs`` loads Swagger UI from a CDN and starts it with an inline script;
both break the rules here (nothing downloaded at run time, a Content-Security-Policy
without inline scripts, see web/headers.py). This page loads the package's files from
``/docs/assets/`` and starts them with ``static/cxlens-apidocs.js``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from cxlens import __version__
from cxlens.web.templating import env

ASSETS = "/docs/assets"
router = APIRouter(include_in_schema=False)


def swagger_ui_dir() -> Path | None:
    """The folder of Swagger UI's files, or None when the package is not installed."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    path = Path(str(swagger_ui_path))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def mount(app: FastAPI) -> None:
    """Serve Swagger UI's files under ``/docs/assets`` when the package is there."""
    folder = swagger_ui_dir()
    if folder is not None:
        app.mount(ASSETS, StaticFiles(directory=folder), name="swagger-ui")


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    html = env.get_template("apidocs.html").render(
        title=request.app.title, openapi_url=request.app.openapi_url, version=__version__,
        assets=ASSETS if swagger_ui_dir() is not None else None)
    return HTMLResponse(html)
