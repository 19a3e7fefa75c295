"""Static assets: content-hashed URLs, compressed once, cached for a year (web/assets.py)."""

from __future__ import annotations

import gzip
import re

import pytest
from web_helpers import Site

from cxlens.web.assets import IMMUTABLE, STALE, assets, plotly_path


def test_every_asset_a_template_names_is_served_compressed_and_immutable(site: Site) -> None:
    c = site.member("ann@acme.fi")
    html = c.get("/w/acme/").text
    urls = re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)
    assert {u.rsplit("/", 1)[1] for u in urls} >= {"cxlens.css", "cxlens-nav.js",
                                                   "cxlens-confirm.js", "plotly.min.js"}
    for url in urls:
        r = c.get(url, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, url
        assert r.headers["cache-control"] == IMMUTABLE, url
        assert r.headers["content-encoding"] == "gzip", url
        assert r.headers["vary"] == "Accept-Encoding"
        name = url.rsplit("/", 1)[1]
        assert r.content == assets()[name].body  # the client undid the gzip: same bytes


def test_plotly_is_the_installed_package_and_shrinks_to_a_third(site: Site) -> None:
    a = assets()["plotly.min.js"]
    assert a.body == plotly_path().read_bytes()
    assert len(a.gzipped()) < len(a.body) / 3
    assert gzip.decompress(a.gzipped()) == a.body


def test_a_browser_without_gzip_gets_the_plain_file(site: Site) -> None:
    a = assets()["cxlens.css"]
    r = site.client().get(a.url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in r.headers and r.content == a.body
    assert r.headers["content-type"].startswith("text/css")


def test_a_revalidation_is_answered_without_the_body(site: Site) -> None:
    a = assets()["cxlens-nav.js"]
    r = site.client().get(a.url, headers={"If-None-Match": f'"{a.digest}"'})
    assert r.status_code == 304 and not r.content


def test_an_old_digest_gets_the_current_file_for_a_minute_only(site: Site) -> None:
    a = assets()["cxlens.css"]
    r = site.client().get(f"/assets/{'0' * 16}/cxlens.css")
    assert r.status_code == 200 and r.headers["cache-control"] == STALE
    assert r.content == a.body


@pytest.mark.parametrize("path", ["/assets/x/../../app.py", "/assets/x/nothing.js",
                                  "/assets/x/app.py", "/static/cxlens.css"])
def test_nothing_else_is_served_from_the_package(site: Site, path: str) -> None:
    assert site.client().get(path).status_code == 404


def test_pages_are_compressed_too(site: Site) -> None:
    r = site.member("ann@acme.fi").get("/w/acme/", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers.get("content-encoding") == "gzip"
