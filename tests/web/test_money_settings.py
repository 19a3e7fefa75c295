"""A workspace's money settings (issue 14): its reporting currency and exchange rates, set
on the Settings page (owner, CSRF), through the API (a write token or the owner) and with
``cxlens workspace currency`` — one file in the workspace's folder, so each sees what the
others set — and every money route summing in them: SEK spend and EUR orders at a rate give
known figures, without the rate a 422 that names SEK and says how to add a rate."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web_helpers import Site, page_csrf, sign_in

from cxlens import clock
from cxlens.cli import app as cli
from cxlens.money import Money, read_money
from cxlens.web import db
from cxlens.web.accounts import create_user
from cxlens.web.workspaces import add_member, workspace_by_slug

runner = CliRunner()
TODAY = date(2026, 7, 1)
# Search ads bought a, b and d: 100 EUR in January and 1 000 SEK in February; b's order is
# 2 000 SEK. At SEK=0.1 that is 200 EUR of spend and 360 EUR of first orders.
FILES = {
    "customers": "email\na@x.fi\nb@x.fi\nd@x.fi\n",
    "events": ("event_id,ts,event_type,channel,campaign,email\n"
               "a1,2026-01-15 10:00:00,session_start,web,S1,a@x.fi\n"
               "b1,2026-01-25 10:00:00,session_start,web,S1,b@x.fi\n"
               "d1,2026-02-12 10:00:00,session_start,web,S1,d@x.fi\n"),
    "orders": ("order_id,ts,amount,currency,channel,status,email\n"
               "o1,2026-01-16 12:00:00,100.00,EUR,web,paid,a@x.fi\n"
               "o2,2026-01-26 12:00:00,2000.00,SEK,web,paid,b@x.fi\n"
               "o3,2026-02-15 12:00:00,60.00,EUR,web,paid,d@x.fi\n"),
    "spend": ("date,channel,campaign,amount,currency\n"
              "2026-01-10,search_ads,S1,100.00,EUR\n"
              "2026-02-10,search_ads,S1,1000.00,SEK\n"),
}


def folder(site: Site, slug: str = "acme") -> Path:
    return site.settings.workspaces_dir / slug


def save(client, data: dict[str, str]):
    return client.post("/w/acme/settings/money", follow_redirects=False,
                       data={**data, "csrf_token": page_csrf(client, "/w/acme/settings")})


def test_the_owner_sets_the_money_on_the_settings_page(site: Site) -> None:
    ann = site.member("ann@acme.fi")
    page = ann.get("/w/acme/settings").text
    assert 'name="currency" value="EUR"' in page and "Reporting currency" in page
    r = save(ann, {"currency": "eur", "rates": "SEK=0.087\r\nNOK=0,085"})
    assert r.status_code == 303
    assert read_money(folder(site)) == Money("EUR", {"NOK": 0.085, "SEK": 0.087})
    page = ann.get("/w/acme/settings").text
    assert "NOK=0.085\nSEK=0.087</textarea>" in page
    for data, msg in (({"currency": "EURO"}, "is not a currency code"),
                      ({"currency": "EUR", "rates": "SEK=-1"}, "SEK=-1")):
        r = save(ann, data)
        assert r.status_code == 400 and msg in r.text
    assert read_money(folder(site)).rates == {"NOK": 0.085, "SEK": 0.087}  # unchanged


def test_a_viewer_and_another_workspace_cannot_change_or_read_it(site: Site) -> None:
    con = db.connect(site.settings.db_path)
    try:
        add_member(con, workspace_by_slug(con, "acme"),
                   create_user(con, "vera@acme.fi", "correct horse battery staple"), "viewer")
    finally:
        con.close()
    vera = sign_in(site.client(), "vera@acme.fi", "correct horse battery staple")
    assert vera.get("/w/acme/settings").status_code == 403
    assert vera.post("/w/acme/settings/money", data={
        "currency": "SEK", "csrf_token": page_csrf(vera, "/account")}).status_code == 403
    assert vera.get("/api/w/acme/money").json()["currency"] == "EUR"  # reading is fine
    assert vera.put("/api/w/acme/money", json={"currency": "SEK"},
                    headers={"X-CSRF-Token": page_csrf(vera, "/account")}).status_code == 403
    assert site.api(site.tokens["acme"]["read"]).put(
        "/api/w/acme/money", json={"currency": "SEK"}).status_code == 403
    beta = site.api(site.tokens["beta"]["write"])
    assert beta.get("/api/w/acme/money").status_code == 404
    assert beta.put("/api/w/acme/money", json={"currency": "SEK"}).status_code == 404
    bob = site.member("bob@beta.se")
    assert save(bob, {"currency": "SEK"}).status_code == 404
    assert read_money(folder(site)) == Money()


def test_the_cli_and_the_server_read_what_the_other_set(site: Site) -> None:
    ws = folder(site)
    r = runner.invoke(cli, ["workspace", "currency", "SEK", "--rate", "EUR=11.5",
                            "-w", str(ws)])
    assert r.exit_code == 0, r.output
    api = site.api(site.tokens["acme"]["write"])
    assert api.get("/api/w/acme/money").json() == {"ok": True, "currency": "SEK",
                                                   "rates": {"EUR": 11.5}}
    r = api.put("/api/w/acme/money", json={"currency": "EUR", "rates": {"SEK": 0.087}})
    assert r.status_code == 200 and r.json()["rates"] == {"SEK": 0.087}
    r = runner.invoke(cli, ["workspace", "currency", "-w", str(ws), "--json"])
    assert json.loads(r.output)["currency"] == "EUR"
    assert json.loads(r.output)["rates"] == {"SEK": 0.087}
    for body in ({"currency": "EURO"}, {"currency": "EUR", "rates": {"SEK": 0}},
                 {"currency": "EUR", "extra": 1}):
        assert api.put("/api/w/acme/money", json=body).status_code == 422
    assert read_money(ws) == Money("EUR", {"SEK": 0.087})
    assert site.api(site.tokens["beta"]["read"]).get(
        "/api/w/beta/money").json()["rates"] == {}  # one workspace's rates are its own


@pytest.fixture
def sek_site(site: Site, tmp_path: Path) -> Site:
    """acme with :data:`FILES` loaded through the API, on the data's day."""
    site.app.state.clock = clock.fixed(TODAY)
    api = site.api(site.tokens["acme"]["ingest"])
    for kind in ("customers", "events", "orders", "spend"):
        r = api.post("/api/w/acme/ingest", data={"kind": kind},
                     files={"file": (f"{kind}.csv", FILES[kind].encode(), "text/csv")})
        assert r.status_code == 200 and r.json()["quarantined"] == 0, r.text
    return site


def test_money_routes_sum_in_the_workspace_currency_and_refuse_without_a_rate(
        sek_site: Site) -> None:
    api = sek_site.api(sek_site.tokens["acme"]["write"])
    r = api.get("/api/w/acme/marketing/roi?n_boot=0&clv=false")
    assert r.status_code == 422
    assert "spend rows are in SEK, not EUR" in r.text and "--rate SEK=RATE" in r.text
    r = api.get("/api/w/acme/marketing/attribution?n_boot=0&model=last")
    assert r.status_code == 422 and "orders are in SEK" in r.text
    api.put("/api/w/acme/money", json={"currency": "EUR", "rates": {"SEK": 0.1}})
    roi = api.get("/api/w/acme/marketing/roi?n_boot=0&clv=false&horizon=90").json()
    assert roi["currency"] == "EUR" and roi["rates"] == {"SEK": 0.1}
    s = next(x for x in roi["rows"] if x["key"] == "search_ads")
    assert s["spend"] == pytest.approx(200.0) and s["customers"] == pytest.approx(3.0)
    assert s["first_order_revenue"] == pytest.approx(360.0)
    att = api.get("/api/w/acme/marketing/attribution?n_boot=0&model=last").json()
    assert att["revenue"] == pytest.approx(360.0) and att["rates"] == {"SEK": 0.1}
    sek = api.get("/api/w/acme/marketing/roi?n_boot=0&clv=false&horizon=90"
                  "&currency=SEK").json()  # ?currency= overrides, with the rate inverted
    assert sek["currency"] == "SEK" and next(
        x for x in sek["rows"] if x["key"] == "search_ads")["spend"] == pytest.approx(2000.0)


def test_the_pages_show_the_reporting_currency(sek_site: Site) -> None:
    api = sek_site.api(sek_site.tokens["acme"]["write"])
    ann = sek_site.member("ann@acme.fi")
    page = ann.get("/w/acme/marketing").text
    assert "SEK" in page and "Settings" in page  # the refusal names the currency and where
    api.put("/api/w/acme/money", json={"currency": "SEK", "rates": {"EUR": 10}})
    page = ann.get("/w/acme/retention").text
    assert "Revenue per cohort customer by month (SEK)" in page
    page = ann.get("/w/acme/?days=365").text  # 100 + 60 EUR at 10, and 2 000 SEK
    assert "3,600" in page and "SEK" in page
    page = ann.get("/w/acme/marketing").text
    assert "spend (SEK)" in page or "SEK" in page
