"""The money settings file (cxlens.money): read, write, re-basing and the options' override."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cxlens.errors import UserError
from cxlens.money import Money, checked, money_for, read_money, resolve, write_money


def test_without_a_file_it_is_eur_without_rates(tmp_path: Path) -> None:
    assert read_money(tmp_path) == Money("EUR", {})


def test_a_round_trip_is_private_and_atomic(tmp_path: Path) -> None:
    m = checked("sek", {"eur": 11.5, "NOK": "0.98"})
    path = write_money(tmp_path, m)
    assert read_money(tmp_path) == Money("SEK", {"EUR": 11.5, "NOK": 0.98})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with ThreadPoolExecutor(4) as pool:  # saves at once never share a temporary file
        list(pool.map(lambda i: write_money(tmp_path, Money("EUR", {"SEK": 0.08 + i / 1000})),
                      range(20)))
    assert read_money(tmp_path).currency == "EUR"
    assert [p.name for p in tmp_path.iterdir()] == ["money.json"]


def test_re_basing_goes_through_the_reporting_currency() -> None:
    m = Money("EUR", {"SEK": 0.08, "NOK": 0.1})
    sek = m.in_currency("SEK")
    assert sek.currency == "SEK"
    assert sek.rates == pytest.approx({"EUR": 12.5, "NOK": 1.25})
    assert m.in_currency("DKK") == Money("DKK", {})  # no rate: nothing to convert with
    assert resolve(m) is m and resolve(m, "SEK").rates == sek.rates
    assert resolve(m, None, {"SEK": 0.09}) == Money("EUR", {"SEK": 0.09})


@pytest.mark.parametrize(("text", "msg"), [
    ("{", "cannot be read"), ('{"currency": "EURO"}', "is not a currency code"),
    ('{"currency": "EUR", "rates": {"SEK": -1}}', "must be a positive number"),
    ('["EUR"]', "are not")])
def test_a_broken_file_is_a_user_error_naming_it(tmp_path: Path, text: str, msg: str) -> None:
    (tmp_path / "money.json").write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=msg) as exc:
        money_for(tmp_path)
    assert exc.value.file == str(tmp_path / "money.json")
