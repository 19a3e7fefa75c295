"""Delivery on a real SMTP server (aiosmtpd on a free loopback port) and the CSV of links."""

from __future__ import annotations

import csv
import email
import email.policy
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from survey_data import NOW, TODAY

from cxlens.surveys import delivery, invitations, triggers
from served import SmtpInbox, smtp_server

BASE = "https://cx.example.fi"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, delivery.SmtpSettings]]:
    with smtp_server() as (inbox, port):
        yield inbox, delivery.SmtpSettings.from_env(host="127.0.0.1", port=port,
                                                     sender="kysely@acme.fi",
                                                     starttls=False)


def parts(msg: email.message.EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def test_invitations_arrive_in_the_customers_language(con, workspace: Path, smtp) -> None:
    inbox, settings = smtp
    triggers.run(con, workspace, TODAY)
    result = delivery.send(con, workspace, settings, BASE, NOW)
    assert result.as_dict() == {"sent": 3, "reminders": 0, "skipped_no_email": 0, "failed": []}
    got = {rcpt[0]: msg for rcpt, msg in inbox.messages}
    assert sorted(got) == ["anna@example.fi", "bert@example.se", "carl@example.com"]
    assert got["anna@example.fi"]["Subject"] == "Suosittelisitko meitä? Yksi kysymys"
    assert got["bert@example.se"]["Subject"] == "Skulle du rekommendera oss? En fråga"
    assert got["anna@example.fi"]["To"] == "anna@example.fi"
    assert got["anna@example.fi"]["From"] == "kysely@acme.fi"
    key = invitations.workspace_key(workspace)
    for addr, msg in got.items():
        nonce = con.execute("SELECT nonce FROM survey_invitations WHERE email = ?",
                            [addr]).fetchall()[0][0]
        url = f"{BASE}/s/{invitations.make_token(key, 'acme', nonce)}"
        plain, html = parts(msg)
        assert url in plain and f'href="{url}"' in html
        assert invitations.by_token(con, url.rsplit("/", 1)[1]).email == addr
    plain, html = parts(got["bert@example.se"])
    assert "tack för ditt besök" in plain and "<script" not in html
    assert con.execute("SELECT DISTINCT state FROM survey_invitations").fetchall() == [("sent",)]
    # nothing more to send; after three days one reminder each, once
    assert delivery.send(con, workspace, settings, BASE, NOW).sent == 0
    later = NOW + timedelta(days=3)
    con.execute("UPDATE survey_invitations SET sent_at = ?::TIMESTAMP", [TODAY])
    assert delivery.send(con, workspace, settings, BASE, later).reminders == 3
    assert delivery.send(con, workspace, settings, BASE, later).reminders == 0
    reminder = [m for r, m in inbox.messages if r == ["anna@example.fi"]][-1]
    assert reminder["Subject"] == "Muistutus: Suosittelisitko meitä? Yksi kysymys"


def test_html_part_escapes_the_text(con, workspace: Path, smtp) -> None:
    from survey_data import builtin_source

    from cxlens.surveys import store

    inbox, settings = smtp
    store.save_survey(con, builtin_source("nps").replace(
        "Hei,\\n\\nkiitos asioinnistasi.", "Hei <b>&</b>,\\n\\nkiitos."), now=NOW)
    triggers.run(con, workspace, TODAY)
    delivery.send(con, workspace, settings, BASE, NOW)
    msg = next(m for r, m in inbox.messages if r == ["anna@example.fi"])
    plain, html = parts(msg)
    assert "Hei <b>&</b>," in plain
    assert "Hei &lt;b&gt;&amp;&lt;/b&gt;," in html


def test_settings_need_a_server_and_a_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    from cxlens.errors import UserError

    for k in ("CXLENS_SMTP_HOST", "CXLENS_SMTP_FROM", "CXLENS_SMTP_PASSWORD"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(UserError, match="no SMTP server"):
        delivery.SmtpSettings.from_env()
    monkeypatch.setenv("CXLENS_SMTP_HOST", "mail.example.fi")
    with pytest.raises(UserError, match="From address"):
        delivery.SmtpSettings.from_env()
    monkeypatch.setenv("CXLENS_SMTP_FROM", "surveys@example.fi")
    monkeypatch.setenv("CXLENS_SMTP_PASSWORD", "s3cret")
    s = delivery.SmtpSettings.from_env()
    assert (s.port, s.starttls, s.password) == (587, True, "s3cret")
    assert "s3cret" not in repr(s)


def test_links_csv_for_other_mailers(con, workspace: Path, tmp_path: Path) -> None:
    from cxlens.surveys import store

    triggers.run(con, workspace, TODAY)
    # carl opts out after his invitation was made: it is never handed over
    store.opt_out(con, customer_id=None, identity_key="email:carl@example.com", source="test",
                  now=NOW)
    out = tmp_path / "links.csv"
    assert delivery.links_csv(con, workspace, BASE, NOW, out) == 2
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["email"] for r in rows] == ["anna@example.fi", "bert@example.se"]
    assert rows[1]["language"] == "sv" and rows[1]["subject"].startswith("Skulle du")
    assert all(r["link"].startswith(f"{BASE}/s/acme.") for r in rows)
    assert invitations.by_token(con, rows[0]["link"].rsplit("/", 1)[1]).email == \
        "anna@example.fi"
    assert delivery.links_csv(con, workspace, BASE, NOW, out) == 0  # already handed over
