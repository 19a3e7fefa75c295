"""Bad input is a 4xx with a message, never a 500: one case per finding of issue 15.

Lone UTF-16 surrogates and deep nesting in ``/v1`` bodies, days out of range on the
dashboard pages, their CSV downloads and the JSON API, deeply nested YAML (mappings,
survey definitions), and ids too large for the database on every route that takes one.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_helpers import Site, page_csrf

from cxlens.web.app import route_table
from cxlens.web.params import DAY_RANGE

TS = "2026-11-27T09:30:00.000Z"


def collector(site: Site) -> TestClient:
    key = base64.b64encode(f"{site.write_keys['acme']}:".encode()).decode()
    return TestClient(site.app, headers={"Authorization": f"Basic {key}",
                                         "Content-Type": "application/json"})


def inbox_rows(site: Site) -> int:
    with site.app.state.warehouses.get(site.settings.workspaces_dir / "acme").read() as cur:
        return int(cur.execute("SELECT count(*) FROM inbox").fetchall()[0][0])


# --------------------------------------------------------------------------- /v1 bodies


@pytest.mark.parametrize(("body", "field"), [
    ('{"userId": "u1", "event": "x", "properties": {"name": "a\\ud800b"}}',
     "properties.name"),
    ('{"userId": "u1", "event": "x", "properties": {"\\udfff": 1}}', "properties.\\udfff"),
    ('{"userId": "\\ud83d", "event": "x"}', "userId"),
    ('{"userId": "u1", "event": "x", "context": {"l": ["ok", "\\udc00"]}}', "context.l[1]"),
])
def test_a_lone_surrogate_is_refused_naming_the_field(site: Site, body: str,
                                                      field: str) -> None:
    r = collector(site).post("/v1/track", content=body.encode("ascii"))
    assert r.status_code == 400, r.text
    out = r.json()
    assert out["ok"] is False and out["success"] is False and out["code"] == "invalid_request"
    assert out["errors"][0]["field"] == field and "surrogate" in out["errors"][0]["reason"]
    assert inbox_rows(site) == 0


def test_a_surrogate_pair_is_text_and_is_stored(site: Site) -> None:
    body = '{"userId": "u1", "event": "x", "properties": {"mood": "\\ud83d\\ude00"}}'
    r = collector(site).post("/v1/track", content=body.encode("ascii"))
    assert r.status_code == 200, r.text
    assert inbox_rows(site) == 1


@pytest.mark.parametrize("endpoint", ["track", "batch"])
def test_a_deeply_nested_body_is_a_400(site: Site, endpoint: str) -> None:
    levels = 10_000 if endpoint == "track" else 100_000  # under each endpoint's size limit
    deep = "[" * levels + "]" * levels
    body = (f'{{"userId": "u1", "event": "x", "properties": {{"a": {deep}}}}}'
            if endpoint == "track" else f'{{"batch": [{deep}]}}')
    r = collector(site).post(f"/v1/{endpoint}", content=body.encode())
    assert r.status_code == 400, r.text
    assert "too deeply" in r.json()["error"]


def test_nesting_over_the_limit_names_the_field(site: Site) -> None:
    value: Any = "x"
    for _ in range(40):
        value = {"a": value}
    r = collector(site).post("/v1/track", json={"userId": "u1", "event": "x",
                                                "properties": value})
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert err["field"].startswith("properties.a.a") and "levels deep" in err["reason"]
    value = {"a": {"b": [1, {"c": [2, 3]}]}}
    r = collector(site).post("/v1/track", json={"userId": "u1", "event": "x",
                                                "properties": value})
    assert r.status_code == 200


def test_a_write_key_in_a_deep_body_is_no_500(site: Site) -> None:
    body = '{"writeKey": "x", "a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    r = TestClient(site.app).post("/v1/track", content=body.encode(),
                                  headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.json()["ok"] is False


# ------------------------------------------------------------------------ days in range

DAY_PAGES = ["/w/acme/", "/w/acme/charts/orders.csv", "/w/acme/insights", "/w/acme/experience",
             "/w/acme/drivers", "/w/acme/people", "/w/acme/experience/trend.csv",
             "/w/acme/drivers/matrix.csv", "/w/acme/people/teams.csv", "/w/acme/journeys",
             "/w/acme/journeys/map.csv", "/w/acme/moments", "/w/acme/moments/moments.csv",
             "/w/acme/comments", "/w/acme/comments/impact.csv", "/w/acme/attribution",
             "/w/acme/attribution/conversions.csv"]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
def test_days_out_of_range_on_pages_and_csv_are_a_422(site: Site, day: str) -> None:
    owner = site.member("ann@acme.fi")
    for path in DAY_PAGES:
        r = owner.get(f"{path}?as_of={day}")
        assert r.status_code == 422, (path, r.status_code)
        assert DAY_RANGE in r.text, path


def test_every_page_with_as_of_is_checked(site: Site) -> None:
    """Enumerate the page routes that take ``as_of``: each is in DAY_PAGES's shapes."""
    from fastapi.routing import APIRoute

    try:
        from fastapi.routing import iter_route_contexts
        routes = [getattr(c, "route", c) for c in iter_route_contexts(site.app.routes)]
    except ImportError:
        routes = list(site.app.routes)
    with_day = {r.path for r in routes if isinstance(r, APIRoute)
                and not r.path.startswith("/api/")
                and any(p.name == "as_of" for p in r.dependant.query_params)}
    shapes = {p.replace("/w/acme", "/w/{slug}").replace("orders.csv", "{key}.csv")
              .replace("trend.csv", "{key}.csv").replace("matrix.csv", "{key}.csv")
              .replace("teams.csv", "{key}.csv").replace("map.csv", "{key}.csv")
              .replace("moments.csv", "{key}.csv").replace("impact.csv", "{key}.csv")
              .replace("conversions.csv", "{key}.csv")
              for p in DAY_PAGES}
    assert with_day and with_day <= shapes, with_day - shapes


@pytest.mark.parametrize("query", [
    "experience/score?start=9999-12-31", "experience/score?end=0001-01-01",
    "experience/changes?as_of=9999-12-31", "experience/value?as_of=0001-01-01",
    "experience/drivers?start=0001-01-01&end=9999-12-31",
    "text/themes?start=9999-12-31", "text/themes?end=0001-01-01",
    "text/quotes?theme=delivery&start=9999-12-31", "text/quotes?theme=delivery&end=0001-01-01",
])
def test_days_out_of_range_on_the_api_are_a_422(site: Site, query: str) -> None:
    r = site.api(site.tokens["acme"]["read"]).get(f"/api/w/acme/{query}")
    assert r.status_code == 422, r.text
    assert r.json()["ok"] is False


def test_an_annotation_or_a_survey_run_far_in_the_future_is_refused(site: Site) -> None:
    api = site.api(site.tokens["acme"]["write"])
    r = api.post("/api/w/acme/annotations", json={"day": "9999-12-31", "label": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "day"]
    owner = site.member("ann@acme.fi")
    r = owner.post("/w/acme/annotations", data={"day": "0001-01-01", "label": "x",
                                                "csrf_token": page_csrf(owner)})
    assert r.status_code in (400, 422) and DAY_RANGE in r.text
    r = api.post("/api/w/acme/surveys/run", json={"today": "9999-12-31"})
    assert r.status_code == 422 and r.json()["ok"] is False


# ------------------------------------------------------------------------------ YAML


def _deep_yaml(levels: int = 3000) -> str:
    return "kind: orders\ncolumns:\n  order_id: " + "[" * levels + "]" * levels + "\n"


def test_a_deeply_nested_mapping_is_a_422(site: Site) -> None:
    r = site.api(site.tokens["acme"]["ingest"]).post(
        "/api/w/acme/ingest", data={"kind": "orders", "mapping": _deep_yaml()},
        files={"file": ("o.csv", b"order_id;ts;amount\nA1;2026-01-05;10\n")})
    assert r.status_code == 422, r.text
    assert "levels deep" in r.json()["error"] and r.json()["type"] == "InputError"


def test_a_deeply_nested_survey_definition_comes_back_on_the_form(site: Site) -> None:
    owner = site.member("ann@acme.fi")
    csrf = page_csrf(owner, "/w/acme/surveys")
    deep = "id: deep\nmetric: nps\ntitle: " + "[" * 3000 + "]" * 3000 + "\n"
    r = owner.post("/w/acme/surveys", data={"definition": deep, "csrf_token": csrf})
    assert r.status_code == 422 and "levels deep" in r.text


# --------------------------------------------------------------------- ids and numbers

HUGE = str(2**70)


def _id_routes(site: Site) -> list[tuple[str, str]]:
    """Every route with an id in its path (``{..._id}``, ``{batch}``), with the method."""
    out = []
    for path, methods in route_table(site.app):
        if "{" not in path.replace("{slug}", ""):
            continue
        if not any(p in path for p in ("_id}", "{batch}")):
            continue
        out += [(m, path) for m in sorted(methods - {"HEAD"})]
    return out


@pytest.mark.parametrize("value", [HUGE, "-1", "0"])
def test_ids_too_large_or_negative_are_a_4xx_everywhere(site: Site, value: str) -> None:
    owner = site.member("ann@acme.fi")
    csrf = page_csrf(owner)
    api = site.api(site.tokens["acme"]["write"])
    routes = _id_routes(site)
    assert len(routes) >= 10, routes
    failed = []
    for method, path in routes:
        url = path.replace("{slug}", "acme")
        for name in ("{invitation_id}", "{user_id}", "{token_id}", "{batch}", "{job_id}",
                     "{note_id}", "{followup_id}"):
            url = url.replace(name, value)
        if path.startswith("/api/"):
            body: dict[str, Any] = {"json": {"day": "2026-01-01", "label": "x"}} \
                if method in ("PUT", "POST") else {}
            r = api.request(method, url, **body)
        else:
            r = owner.request(method, url, data={"csrf_token": csrf, "status": "open",
                                                 "day": "2026-01-01", "label": "x"}
                              if method == "POST" else None, follow_redirects=False)
        if r.status_code >= 500 or (path.startswith("/api/")
                                    and json.loads(r.text)["ok"] is not False):
            failed.append((method, url, r.status_code))
    assert not failed
