"""Finnish and Swedish headers, in ASCII spellings and bank and ledger words, are proposed
confidently (issue 9: ``Kirjauspaiva``, ``Maara Euroa``, ``Arkistointitunnus`` matched
nothing)."""

from __future__ import annotations

import pytest

from cxlens.ingest.propose import SURE, propose


def fields(columns: list[str], kind: str) -> dict[str, str | None]:
    p = propose(columns, kind)
    assert p.confident, (p.missing_required, p.unsure)
    return {m.field: m.column for m in p.matches}


def test_an_op_statement_written_without_diacritics() -> None:
    got = fields(["Kirjauspaiva", "Arvopaiva", "Maara Euroa", "Laji", "Selitys",
                  "Saaja/Maksaja", "Saajan tilinumero", "Viite", "Viesti",
                  "Arkistointitunnus"], "orders")
    assert got["order_id"] == "Arkistointitunnus"
    assert got["ts"] == "Kirjauspaiva"  # the booking date, not the value date after it
    assert got["amount"] == "Maara Euroa"


@pytest.mark.parametrize(("header", "ts", "amount", "order_id"), [
    (["Bokföringsdag", "Valutadag", "Verifikationsnummer", "Mottagare", "Belopp"],
     "Bokföringsdag", "Belopp", "Verifikationsnummer"),
    (["Bokforingsdag", "Belopp", "Avsandare", "Mottagare", "Fakturanummer", "Valuta"],
     "Bokforingsdag", "Belopp", "Fakturanummer"),
    (["Laskun numero", "Laskun pvm", "Asiakasnumero", "Summa", "Valuutta"],
     "Laskun pvm", "Summa", "Laskun numero"),
    (["Tositenumero", "Tositepaiva", "Maara", "Selite"], "Tositepaiva", "Maara",
     "Tositenumero"),
])
def test_swedish_and_ledger_words(header: list[str], ts: str, amount: str,
                                  order_id: str) -> None:
    got = fields(header, "orders")
    assert (got["ts"], got["amount"], got["order_id"]) == (ts, amount, order_id)


def test_payer_and_payee_name_a_customer() -> None:
    p = propose(["Maksaja", "Sahkopostiosoite", "Puhelin nro"], "customers")
    got = {m.field: (m.column, m.score) for m in p.matches}
    assert got["name"][0] == "Maksaja"
    assert got["email"] == ("Sahkopostiosoite", 100.0)
    assert got["phone"][1] >= SURE
