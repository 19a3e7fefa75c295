"""The hosted answer page through the app: one answer per link, drafts until it is sent,
bad scores refused on the form, opt-out, languages, public links, follow-ups."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from survey_data import NOW, TODAY

from cxlens import clock
from cxlens.surveys import invitations, store

Served = Any  # conftest.Served (not imported: tests/web also has a conftest)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def link(s: Served, email: str) -> str:
    wh = s.app.state.warehouses.get(s.workspace)
    with wh.read() as cur:
        nonce = cur.execute("SELECT nonce FROM survey_invitations WHERE email = ?",
                            [email]).fetchall()[0][0]
    return "/s/" + invitations.make_token(invitations.workspace_key(s.workspace), "acme", nonce)


def query(s: Served, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with s.app.state.warehouses.get(s.workspace).read() as cur:
        return cur.execute(sql, params or []).fetchall()


def post(client: TestClient, url: str, page: str, **fields: str) -> Any:
    token = CSRF.search(page)
    assert token, page
    return client.post(url, data={"csrf_token": token.group(1), **fields})


def test_answer_once_editable_until_sent(served: Served) -> None:
    c, url = served.client, link(served, "anna@example.fi")
    page = c.get(url)
    assert page.status_code == 200 and '<html lang="fi">' in page.text
    assert "Kuinka todennäköisesti suosittelisit" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert '<fieldset' in page.text and "<legend>" in page.text and 'type="radio"' in page.text
    assert query(served, "SELECT state FROM survey_invitations WHERE email = "
                 "'anna@example.fi'") == [("opened",)]

    saved = post(c, url, page.text, score="9", comment="Hyvä", action="save")
    assert saved.status_code == 200 and "Vastauksesi on tallennettu" in saved.text
    again = c.get(url)
    assert 'value="9" checked' in again.text and "Hyvä" in again.text
    assert query(served, "SELECT count(*) FROM v_feedback") == [(0,)]  # a draft only

    sent = post(c, url, again.text, score="8", comment="Nopea toimitus", action="send")
    assert sent.status_code == 200 and "Kiitos vastauksestasi!" in sent.text
    rows = query(served, "SELECT f.score, f.scale_max, f.metric, f.language, f.touchpoint, "
                 "f.store_id, f.survey_id, f.comment, f.channel, f.email, f.customer_id = "
                 "i.customer_id, f.properties FROM v_feedback f JOIN survey_invitations i "
                 "ON i.response_id = f.response_id")
    assert rows[0][:11] == (8, 10, "nps", "fi", "purchase", "s1", "nps", "Nopea toimitus",
                            "email", "anna@example.fi", True)
    assert '"record_id": "order:o1"' in rows[0][11]
    batch = query(served, "SELECT rows_in, loaded, quarantined, duplicates, source_file "
                  "FROM batches WHERE kind = 'feedback'")
    assert batch == [(1, 1, 0, 0, "survey:nps")]

    second = post(c, url, again.text, score="10", action="send")
    assert second.status_code == 410 and "on jo vastattu" in second.text
    assert c.get(url).status_code == 410
    assert query(served, "SELECT score FROM v_feedback") == [(8,)]


@pytest.mark.parametrize(("value", "message"), [
    ("11", "11 on asteikon ulkopuolella. Valitse luku väliltä 0–10."),
    ("-1", "-1 on asteikon ulkopuolella. Valitse luku väliltä 0–10."),
    ("ten", "”ten” ei ole kokonaisluku. Valitse luku väliltä 0–10."),
    ("7.5", "”7.5” ei ole kokonaisluku. Valitse luku väliltä 0–10."),
    ("", "Vastaa tähän kysymykseen."),
])
def test_scores_outside_the_scale_are_refused_on_the_form(served: Served, value: str,
                                                          message: str) -> None:
    c, url = served.client, link(served, "anna@example.fi")
    r = post(c, url, c.get(url).text, score=value, action="send")
    assert r.status_code == 422
    assert message in r.text and 'role="alert"' in r.text and 'aria-describedby="err-score"' \
        in r.text
    assert query(served, "SELECT count(*) FROM v_feedback") == [(0,)]
    assert query(served, "SELECT state FROM survey_invitations WHERE email = "
                 "'anna@example.fi'") == [("opened",)]


def test_swedish_customer_gets_swedish_page_and_messages(served: Served) -> None:
    c, url = served.client, link(served, "bert@example.se")
    page = c.get(url, headers={"Accept-Language": "en"})  # the invitation's language wins
    assert '<html lang="sv">' in page.text and "Hur troligt är det" in page.text
    r = post(c, url, page.text, score="12", action="send")
    assert "12 ligger utanför skalan. Välj ett tal från 0 till 10." in r.text


def test_unknown_and_malformed_links_are_404(served: Served) -> None:
    good = link(served, "anna@example.fi")
    for url in ("/s/nothing", "/s/acme." + "x" * 32, "/s/other." + good[-32:],
                good[:-1] + ("A" if good[-1] != "A" else "B")):
        r = served.client.get(url)
        assert r.status_code == 404 and "not valid" in r.text, url


def test_post_without_the_form_token_is_refused(served: Served) -> None:
    url = link(served, "anna@example.fi")
    served.client.get(url)
    r = served.client.post(url, data={"score": "9", "action": "send"})
    assert r.status_code == 403
    assert query(served, "SELECT count(*) FROM v_feedback") == [(0,)]


def test_expired_link_is_410(served: Served) -> None:
    with_past = "UPDATE survey_invitations SET expires_at = TIMESTAMP '2026-01-01' " \
                "WHERE email = 'bert@example.se'"
    served.app.state.warehouses.get(served.workspace).write(lambda cur: cur.execute(with_past))
    r = served.client.get(link(served, "bert@example.se"))
    assert r.status_code == 410 and "har gått ut" in r.text
    assert query(served, "SELECT state FROM survey_invitations WHERE email = "
                 "'bert@example.se'") == [("expired",)]


def test_the_server_clock_decides_when_a_link_expires(served: Served) -> None:
    """The page asks the server's clock (app.state.clock), not the wall clock: on the data's
    day the link opens; 31 days later (30 days' expiry, to the end of the day) it is gone."""
    url = link(served, "anna@example.fi")
    assert served.client.get(url).status_code == 200
    served.app.state.clock = clock.fixed(TODAY + timedelta(days=30))
    assert served.client.get(url).status_code == 200  # the last day still counts
    served.app.state.clock = clock.fixed(TODAY + timedelta(days=31))
    r = served.client.get(url)
    assert r.status_code == 410 and "vanhentunut" in r.text
    assert query(served, "SELECT state, opened_at FROM survey_invitations WHERE email = "
                 "'anna@example.fi'") == [("expired", NOW)]  # opened at the clock's noon


def test_opt_out_is_honoured_and_an_answer_after_it_refused(served: Served) -> None:
    c, url = served.client, link(served, "anna@example.fi")
    page = c.get(url)
    done = post(c, url + "/optout", page.text)
    assert done.status_code == 200 and "Emme lähetä sinulle enää kyselyjä" in done.text
    r = post(c, url, page.text, score="9", action="send")
    assert r.status_code == 410 and "kieltäytynyt" in r.text
    # an opt-out recorded elsewhere (e.g. the CLI) also closes an open link
    carl = link(served, "carl@example.com")
    page = c.get(carl)
    cid = query(served, "SELECT customer_id FROM survey_invitations WHERE email = "
                "'carl@example.com'")[0][0]
    served.app.state.warehouses.get(served.workspace).write(
        lambda cur: store.opt_out(cur, customer_id=cid, identity_key=None, source="test",
                                  now=NOW))
    r = post(c, carl, page.text, score="9", action="send")
    assert r.status_code == 410
    assert query(served, "SELECT count(*) FROM v_feedback") == [(0,)]


def test_detractor_opens_a_follow_up_and_the_api_updates_it(served: Served) -> None:
    c = served.client
    for email, score in (("anna@example.fi", "3"), ("bert@example.se", "9")):
        url = link(served, email)
        assert post(c, url, c.get(url).text, score=score, comment="Myöhässä",
                    action="send").status_code == 200
    reader = TestClient(served.app, headers={"Authorization":
                                             f"Bearer {served.tokens['read']}"})
    items = reader.get("/api/w/acme/followups").json()["followups"]
    assert [(f["score"], f["status"], f["identity_key"], f["comment"]) for f in items] == [
        (3.0, "open", "email:anna@example.fi", "Myöhässä")]
    fid = items[0]["followup_id"]
    assert reader.post(f"/api/w/acme/followups/{fid}",
                       json={"status": "contacted"}).status_code == 403  # read only
    writer = TestClient(served.app, headers={"Authorization":
                                             f"Bearer {served.tokens['write']}"})
    r = writer.post(f"/api/w/acme/followups/{fid}",
                    json={"status": "contacted", "owner": "ann@acme.fi", "note": "Soitettu"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["owner"], body["note"]) == ("contacted", "ann@acme.fi",
                                                              "Soitettu")
    assert body["contacted_at"] and not body["resolved_at"]
    r = writer.post(f"/api/w/acme/followups/{fid}", json={"status": "resolved"})
    assert r.json()["resolved_at"]
    bad = writer.post(f"/api/w/acme/followups/{fid}", json={"status": "done"})
    assert bad.status_code == 400 and bad.json()["ok"] is False
    assert writer.post("/api/w/acme/followups/999", json={}).status_code == 404
    assert reader.get("/api/w/acme/followups?status=open").json()["followups"] == []


def test_public_link_is_anonymous_tagged_and_rate_limited(served: Served) -> None:
    from cxlens.web.pages import survey_answer

    pid = query(served, "SELECT public_id FROM surveys WHERE survey_id = 'enps'")[0][0]
    url = f"/s/public/acme.{pid}"
    c = served.client
    page = c.get(url + "?lang=sv&team=T7")
    assert page.status_code == 200 and '<html lang="sv">' in page.text
    assert "Personalenkät" in page.text and "optout" not in page.text
    served.app.state.survey_rate_limit = survey_answer._RateLimit(2, 600)
    for _ in range(2):
        r = post(c, url, page.text, score="4", team="T7", lang="sv")
        assert r.status_code == 200 and "Tack för ditt svar!" in r.text
    r = post(c, url, page.text, score="4", team="T7", lang="sv")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    bad = post(c, url, page.text, score="11", team="T7", lang="sv")
    assert bad.status_code == 422  # a bad score is refused before counting
    rows = query(served, "SELECT metric, score, team_id, channel, language, customer_id "
                 "FROM v_feedback")
    assert rows == [("enps", 4, "T7", "web", "sv", None)] * 2
    assert query(served, "SELECT count(*) FROM survey_followups") == [(0,)]
    assert c.get("/s/public/acme.nope").status_code == 404
