"""Field warnings over the web (issue 9, item 5): the API's batch result counts them per
column, and the Data page lists them with their counts."""

from __future__ import annotations

from web_helpers import Site, text

ORDERS = ("order_id,ts,amount,email,phone\n"
          "A1,2026-01-05 10:00:00,10.50,anna@example.fi,040 123 4567\n"
          "A2,2026-01-06 11:00:00,20.00,not-an-email,null\n"
          "A3,2026-01-07 12:00:00,30.00,cecilia@example.fi,12\n")


def test_the_api_and_the_data_page_show_field_warnings(site: Site) -> None:
    r = site.api(site.tokens["acme"]["ingest"]).post(
        "/api/w/acme/ingest", data={"kind": "orders"},
        files={"file": ("o.csv", ORDERS.encode())})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["loaded"], body["quarantined"]) == (3, 0)
    assert body["field_warnings"] == {"email": 1, "phone": 1}
    assert {w["line"] for w in body["field_warning_sample"]} == {3, 4}
    page = text(site.member("ann@acme.fi").get("/w/acme/data").text)
    assert "Field warnings: values set empty, records loaded" in page
    assert "not an e-mail address" in page and "not a phone number" in page
