"""The moments API (``/api/w/{slug}/journeys/moments|survival|customers``): known answers
on a hand-made workspace, the same JSON as ``cxlens journeys … --json``, parameters refused
with a 422, empty results that say why, and the read scope.

The workspace: 40 customers view a page on 1 January 2025 and book a ``demo`` on 1 March;
25 of them buy ten days later, 15 never. 40 others view a page in January and never buy.
One of them views a page on 31 December, which makes the data end 1 January 2026.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_helpers import quick_argon2, team_home

from cxlens.cli import app as cli
from cxlens.web.workspaces import create_token

API = "/api/w/hand/journeys"
JAN, MAR = datetime(2025, 1, 1, 9), datetime(2025, 3, 1, 12)


def _files() -> dict[str, str]:
    ev = ["event_id,ts,event_type,channel,email"]
    od = ["order_id,ts,amount,email"]
    for i in range(40):
        t0 = MAR + timedelta(hours=i)
        ev += [f"a{i},{JAN:%Y-%m-%d %H:%M:%S},page_view,web,t{i}@x.fi",
               f"b{i},{t0:%Y-%m-%d %H:%M:%S},demo,web,t{i}@x.fi",
               f"c{i},{JAN + timedelta(minutes=i):%Y-%m-%d %H:%M:%S},page_view,web,k{i}@x.fi"]
        if i < 25:
            od.append(f"o{i},{t0 + timedelta(days=10):%Y-%m-%d %H:%M:%S},40,t{i}@x.fi")
    ev.append("z,2025-12-31 12:00:00,page_view,web,k0@x.fi")
    return {"events": "\n".join(ev) + "\n", "orders": "\n".join(od) + "\n"}


CLI_CASES = (
    (["moments", "--outcome", "purchase", "--min-customers", "5"],
     "moments?outcome=purchase&min_customers=5"),
    (["moments", "--outcome", "revenue", "--within", "30", "--pairs", "0"],
     "moments?outcome=revenue&within=30&pairs=0"),
    (["survival", "--moment", "demo", "--within", "20"], "survival?moment=demo&within=20"),
    (["customers", "--moment", "demo", "--limit", "5"], "customers?moment=demo&limit=5"),
)


def _cli(args: list[str]) -> dict:
    r = CliRunner().invoke(cli, ["journeys", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from cxlens.ingest.load import ingest
    from cxlens.warehouse.store import open_warehouse

    root = tmp_path_factory.mktemp("moments_api")

    def extra(con, ws, owner) -> dict:
        return {"path": ws.path, "read": create_token(con, ws, "read", "read", owner)}

    with quick_argon2():
        app, _ws, more = team_home(root, "hand.fi", "hand", "Hand Oy", extra)
    with open_warehouse(more["path"]) as wh:
        for kind, body in _files().items():
            (root / f"{kind}.csv").write_text(body, encoding="utf-8")
            assert ingest(wh, root / f"{kind}.csv", kind).balanced
    more["cli"] = {url: _cli([*args, "-w", str(more["path"]), "--json"])
                   for args, url in CLI_CASES}
    r = CliRunner().invoke(cli, ["journeys", "customers", "--moment", "demo", "--limit", "3",
                                 "--csv", "-w", str(more["path"])])
    more["csv"] = r.stdout
    with TestClient(app):
        yield {"app": app, **more}


@pytest.fixture(scope="module")
def client(site: dict) -> TestClient:
    return TestClient(site["app"], headers={"Authorization": f"Bearer {site['read']}"})


def get(client: TestClient, url: str, status: int = 200) -> dict:
    r = client.get(url)
    assert r.status_code == status, (url, r.text[:500])
    return r.json()


def test_moments_known_answer(client) -> None:
    body = get(client, f"{API}/moments?min_customers=5")
    assert body["ok"] and body["scale"] == "percentage points" and body["reason"] is None
    assert body["end"] == "2026-01-01" and body["last_index"] == "2025-10-03"
    demo = {m["touchpoint"]: m for m in body["moments"]}["demo"]
    # the 40 who met it; compared, the 40 who never do and those of the 40 compared before
    # their demo (tests/analytics/test_moments.py)
    assert demo["customers"] == 40 and 40 < demo["comparison"] < 80
    bought = round(demo["comparison_rate"] * demo["comparison"] / 100)
    assert demo["naive"] == pytest.approx(62.5 - 100 * bought / demo["comparison"])
    assert demo["effect"] == pytest.approx(demo["naive"], abs=1.0)
    assert demo["low"] < demo["effect"] < demo["high"] and demo["balance"]
    assert {"covariate", "level", "before", "after"} == set(demo["balance"][0])
    revenue = get(client, f"{API}/moments?outcome=revenue&min_customers=5&pairs=0")
    assert revenue["scale"] == "EUR"


def test_survival_and_customers_known_answer(client, site) -> None:
    s = get(client, f"{API}/survival?moment=demo&within=20&weighted=false")
    met, comp = s["curves"]
    assert (met["customers"], met["events"], met["median_days"]) == (40, 25, 10)
    assert met["steps"][10]["survival"] == pytest.approx(15 / 40) and len(met["steps"]) == 21
    assert comp["events"] <= comp["customers"] - 40  # only those compared before their demo
    c = get(client, f"{API}/customers?moment=demo&limit=5")
    assert (c["met"], c["total"], len(c["customers"])) == (40, 15, 5)
    assert c["customers"][0]["customer_id"] and c["customers"][0]["open"] is False
    lines = site["csv"].splitlines()
    assert lines[0] == "customer_id,met_at,days_since,open" and len(lines) == 4
    assert lines[1].endswith(",303,false")


def test_empty_results_say_why(client) -> None:
    assert "never happens" in get(client, f"{API}/moments?outcome=promoter")["reason"]
    nobody = get(client, f"{API}/moments?start=2020-01-01&end=2020-02-01")
    assert nobody["moments"] == [] and nobody["reason"] == "no touchpoints in the selection"
    assert "choose a moment" in get(client, f"{API}/survival")["reason"]
    assert "choose a moment" in get(client, f"{API}/customers")["reason"]
    assert "nobody" in get(client, f"{API}/customers?moment=nope")["reason"]
    assert "nobody" in get(client, f"{API}/survival?moment=nope")["reason"]
    long = get(client, f"{API}/moments?within=3000")
    assert long["moments"] == [] and "horizon" in long["reason"]


@pytest.mark.parametrize("url", ["moments?outcome=sales", "moments?within=0", "moments?pairs=-1",
                                 "moments?as_of=1.1.2026", "survival?moment=demo&outcome=churn",
                                 "survival?moment=demo&within=0", "customers?moment=demo&limit=0",
                                 "customers?moment=demo&outcome=x", "moments?outcom=purchase"])
def test_bad_parameters_are_422(client, url: str) -> None:
    assert get(client, f"{API}/{url}", 422)["ok"] is False


def test_a_token_is_needed(site: dict) -> None:
    for what in ("moments", "survival?moment=demo", "customers?moment=demo"):
        assert TestClient(site["app"]).get(f"{API}/{what}").status_code in (401, 403)


def test_cli_json_is_the_api_json(site: dict, client) -> None:
    for _, url in CLI_CASES:
        assert site["cli"][url] == get(client, f"{API}/{url}")


def test_results_are_kept_until_the_next_batch(client, monkeypatch) -> None:
    """All moments of one outcome take about 80 s on the M demo: a second request with the
    same query is answered from the kept result (web/journeys_cache.py)."""
    from cxlens.analytics import journeys as jr

    calls: list[str] = []
    real = jr.moments

    def counted(*args, **kwargs):
        calls.append("moments")
        return real(*args, **kwargs)

    monkeypatch.setattr(jr, "moments", counted)
    url = f"{API}/moments?min_customers=6&within=45"
    first = get(client, url)
    assert get(client, url) == first and calls == ["moments"]


def test_a_spark_query_past_its_time_is_a_503(client, monkeypatch) -> None:
    """A query that outlives ``$CXLENS_SPARK_TIMEOUT`` is a 503 naming the setting, as a
    Spark out of memory is (the engine's trouble, not the request's). The session is a
    stand-in whose job never ends; tests/warehouse/test_spark_run.py cancels a real one."""
    import threading
    from types import SimpleNamespace

    from cxlens.warehouse._spark_run import TIMEOUT_ENV, with_time_limit
    from cxlens.web import journeys_cache

    never = threading.Event()
    cancelled: list[str] = []
    session = SimpleNamespace(addTag=lambda tag: None, removeTag=lambda tag: None,
                              interruptTag=cancelled.append)

    def stuck(*args, **kwargs):
        return with_time_limit(session, never.wait, 0.2)

    monkeypatch.setattr(journeys_cache, "survival", stuck)
    r = client.get(f"{API}/survival?moment=demo")
    never.set()
    assert r.status_code == 503, r.text
    body = r.json()
    assert "did not finish within 0.2 s" in body["error"] and TIMEOUT_ENV in body["hint"]
    assert cancelled and "Traceback" not in r.text
