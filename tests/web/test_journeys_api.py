"""The journeys API (``/api/w/{slug}/journeys/paths|map``): known answers on a hand-made
workspace, the same JSON as ``cxlens journeys … --json``, parameters refused with a 422,
empty results that say why, and the read scope."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_helpers import quick_argon2, team_home

from cxlens.cli import app as cli
from cxlens.web.workspaces import create_token

CUSTOMERS = "email,segment\na@x.fi,B2C\nb@x.fi,B2B\n"
EVENTS = """event_id,ts,event_type,channel,email
e1,2026-01-01 10:00:00,page_view,web,a@x.fi
e2,2026-01-01 10:00:30,page_view,web,a@x.fi
e3,2026-01-01 10:01:00,add_to_cart,web,a@x.fi
e4,2026-01-02 09:00:00,page_view,app,b@x.fi
e5,2026-01-02 09:02:00,add_to_cart,app,b@x.fi
"""
ORDERS = "order_id,ts,amount,email\no1,2026-01-01 10:05:00,20,a@x.fi\n"
API = "/api/w/hand/journeys"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from cxlens.ingest.load import ingest
    from cxlens.warehouse.store import open_warehouse

    root = tmp_path_factory.mktemp("journeys_api")

    def extra(con, ws, owner) -> dict:
        return {"path": ws.path, "read": create_token(con, ws, "read", "read", owner)}

    with quick_argon2():
        app, _ws, more = team_home(root, "hand.fi", "hand", "Hand Oy", extra)
    with open_warehouse(more["path"]) as wh:
        for kind, body in (("customers", CUSTOMERS), ("events", EVENTS), ("orders", ORDERS)):
            (root / f"{kind}.csv").write_text(body, encoding="utf-8")
            assert ingest(wh, root / f"{kind}.csv", kind).balanced
    # the CLI reads the warehouse before the server opens it (one process cannot hold it
    # read-only and read-write at once)
    more["cli"] = {url: _cli([*args, "-w", str(more["path"]), "--json"])
                   for args, url in CLI_CASES}
    with TestClient(app):
        yield {"app": app, **more}


CLI_CASES = ((["map"], "map"),
             (["paths", "--to", "add_to_cart", "--steps", "2"],
              "paths?anchor=add_to_cart&direction=to&steps=2"),
             (["paths", "--from", "page_view", "--segment", "B2C"],
              "paths?anchor=page_view&segment=B2C"))


def _cli(args: list[str]) -> dict:
    r = CliRunner().invoke(cli, ["journeys", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


@pytest.fixture(scope="module")
def client(site: dict) -> TestClient:
    return TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})


def get(client: TestClient, url: str, status: int = 200) -> dict:
    r = client.get(url)
    assert r.status_code == status, (url, r.text[:500])
    return r.json()


def test_map_known_answer(client) -> None:
    body = get(client, f"{API}/map")
    assert body["ok"] and body["customers"] == 2 and body["touchpoints"] == 6
    edges = {(e["source"], e["target"]): e for e in body["edges"]}
    assert set(edges) == {("page_view", "page_view"), ("page_view", "add_to_cart"),
                          ("add_to_cart", "first_purchase")}
    pa = edges[("page_view", "add_to_cart")]
    assert (pa["transitions"], pa["customers"], pa["median_s"], pa["p90_s"]) == (2, 2, 75.0,
                                                                                  111.0)
    nodes = {n["touchpoint"]: n for n in body["nodes"]}
    assert nodes["page_view"] == {"touchpoint": "page_view", "count": 3, "starts": 2, "ends": 0}
    b2b = get(client, f"{API}/map?segment=B2B")
    assert b2b["customers"] == 1 and b2b["selection"]["segment"] == "B2B"


def test_paths_known_answer(client) -> None:
    body = get(client, f"{API}/paths?anchor=page_view&steps=3")
    assert (body["customers"], body["reached"], body["reason"]) == (2, 2, None)
    assert [(p["steps"], p["loops"], p["dropped_off"]) for p in body["paths"]] == [
        (["page_view", "add_to_cart"], [False, False], True),
        (["page_view", "add_to_cart", "first_purchase"], [True, False, False], False)]
    to = get(client, f"{API}/paths?anchor=first_purchase&direction=to&top=1")
    assert to["reached"] == 1 and to["paths"][0]["share"] == 1.0


def test_empty_results_say_why(client) -> None:
    nobody = get(client, f"{API}/map?start=2020-01-01&end=2020-02-01")
    assert nobody["edges"] == [] and nobody["reason"] == "no touchpoints in the selection"
    unknown = get(client, f"{API}/paths?anchor=nope")
    assert unknown["paths"] == [] and "nope" in unknown["reason"]


@pytest.mark.parametrize("query", ["direction=sideways", "steps=0", "steps=11", "top=0",
                                   "start=2026-02-01&end=2026-01-01", "start=31.1.2026",
                                   "anchr=page_view"])
def test_bad_parameters_are_422(client, query: str) -> None:
    body = get(client, f"{API}/paths?{query}", 422)
    assert body["ok"] is False


def test_a_token_is_needed(site: dict) -> None:
    assert TestClient(site["app"]).get(f"{API}/map").status_code in (401, 403)


def test_cli_json_is_the_api_json(site: dict, client) -> None:
    for _, url in CLI_CASES:
        assert site["cli"][url] == get(client, f"{API}/{url}")
