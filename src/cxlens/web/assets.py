"""Static assets under content-hashed URLs, compressed once, cached for a year.

A first visit used to fetch Plotly.js (4.8 MB) uncompressed with a one-day cache, about 2 s
on a laptop's connection. Each asset is now served at ``/assets/<digest>/<name>``: the digest
is the first 16 hex digits of the file's SHA-256, so a browser may keep it forever
(``immutable``) and a new release, whose files differ, is fetched under new URLs. The gzip
form is made once per process and served to every browser that accepts it (Plotly 4.8 MB →
about 1.4 MB); nothing is compressed per request.

The assets are the files in ``web/static`` and Plotly.js from the installed ``plotly``
package (no CDN). Templates name them with ``asset("cxlens.css")``.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

STATIC = Path(__file__).parent / "static"
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
IMMUTABLE = "public, max-age=31536000, immutable"
# A URL with a digest that is no longer current (a page from before an upgrade) still gets
# the current file, but only for a minute: its name is no promise about its content.
STALE = "public, max-age=60"

router = APIRouter(include_in_schema=False)


def plotly_path() -> Path:
    """The minified Plotly.js bundled with the ``plotly`` Python package."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _sources() -> dict[str, Path]:
    files = {p.name: p for p in sorted(STATIC.iterdir()) if p.suffix in MEDIA_TYPES}
    files["plotly.min.js"] = plotly_path()
    return files


@dataclass
class Asset:
    name: str
    body: bytes
    digest: str
    _gzipped: bytes | None = None

    @property
    def url(self) -> str:
        return f"/assets/{self.digest}/{self.name}"

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            with _compress_lock:
                if self._gzipped is None:
                    self._gzipped = gzip.compress(self.body, compresslevel=9, mtime=0)
        return self._gzipped


_compress_lock = threading.Lock()


@cache
def assets() -> dict[str, Asset]:
    """Every asset by name, read once per process."""
    out = {}
    for name, path in _sources().items():
        body = path.read_bytes()
        out[name] = Asset(name, body, hashlib.sha256(body).hexdigest()[:16])
    return out


def asset(name: str) -> str:
    """The URL of an asset, for templates; an unknown name is a programming error."""
    return assets()[name].url


def _accepts_gzip(request: Request) -> bool:
    return any(part.split(";")[0].strip() == "gzip"
               for part in request.headers.get("accept-encoding", "").split(","))


@router.get("/assets/{digest}/{name}")
def serve(digest: str, name: str, request: Request) -> Response:
    found = assets().get(name)
    if found is None:
        raise HTTPException(404, "no such asset")
    headers = {"Cache-Control": IMMUTABLE if digest == found.digest else STALE,
               "Vary": "Accept-Encoding", "ETag": f'"{found.digest}"'}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    media = MEDIA_TYPES[Path(name).suffix]
    if _accepts_gzip(request):
        return Response(found.gzipped(), media_type=media,
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(found.body, media_type=media, headers=headers)
