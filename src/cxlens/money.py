"""A workspace's money settings: its reporting currency and exchange rates.

Nordic companies sell in EUR, SEK, NOK and DKK; every analysis that sums money sums it in
one **reporting currency**, converting the others at the workspace's **rates** (one SEK =
0.087 EUR is ``SEK=0.087``). Without settings the reporting currency is EUR and there are
no rates, as before.

**Where they live**: ``<workspace>/money.json``, a small file in the workspace's folder,
not a table in its warehouse. The settings are parameters of the analyses, not data: the
CLI (``--workspace``), the server (``<home>/workspaces/<slug>/``) and a Spark engine
reading the lake all find them in the same place, reading them takes no lock on the
warehouse (whose single writer may be a running server), and writing them is one atomic
rename — no batch, no migration, no lake sync. The file is private to the user, like the
warehouse.

**Explicit options override** (:func:`resolve`): ``--currency X`` reports in X, converting
with the workspace's rates re-based on X when X has a rate (cross rates through the
reporting currency); ``--rate CUR=RATE`` items replace the workspace's rates for that run.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxlens.errors import UserError

FILE = "money.json"
DEFAULT_CURRENCY = "EUR"
MAX_RATES = 50
_CODE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Money:
    """A reporting ``currency`` and ``rates``: each other currency's value in it."""

    currency: str = DEFAULT_CURRENCY
    rates: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rates", dict(sorted(self.rates.items())))

    def in_currency(self, code: str) -> Money:
        """The same settings reporting in ``code``: the rates re-based on it when it has
        one (``EUR`` with ``SEK=0.087`` in SEK gives ``EUR=1/0.087``), none otherwise."""
        if code == self.currency:
            return self
        base = self.rates.get(code)
        if base is None:
            return Money(code, {})
        rates = {c: r / base for c, r in self.rates.items() if c != code}
        return Money(code, {**rates, self.currency: 1.0 / base})

    def key(self) -> tuple[str, tuple[tuple[str, float], ...]]:
        """Hashable, for the server's caches."""
        return self.currency, tuple(self.rates.items())

    def as_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "rates": dict(self.rates)}


def check_code(code: str, what: str = "currency") -> str:
    """``code`` upper-cased when it is three letters (ISO 4217), else a UserError."""
    text = str(code).strip().upper()
    if not _CODE.fullmatch(text):
        raise UserError(f"{what} {code!r} is not a currency code",
                        hint="three letters (ISO 4217), e.g. EUR, SEK, NOK or DKK")
    return text


def checked(currency: str, rates: Mapping[str, Any]) -> Money:
    """Money settings from user input; a UserError names a bad code or rate."""
    cur = check_code(currency)
    if len(rates) > MAX_RATES:
        raise UserError(f"{len(rates)} exchange rates are more than {MAX_RATES}",
                        hint="keep the currencies your orders and spend are in")
    out: dict[str, float] = {}
    for code, rate in rates.items():
        c = check_code(code, "the rate's currency")
        try:
            value = float(rate)
        except (TypeError, ValueError):
            value = float("nan")
        if not (value > 0 and math.isfinite(value)):
            raise UserError(f"the rate of {c} must be a positive number, not {rate!r}",
                            hint=f"{c}=0.087 means one {c} is 0.087 {cur}")
        if c != cur:
            out[c] = value
    return Money(cur, out)


def parse_rate_items(items: list[str], what: str = "rate") -> dict[str, float]:
    """``CUR=RATE`` items (``--rate``, the Settings page's lines) as a mapping; a UserError
    names a bad item (``what`` says where it came from). A decimal comma is read too."""
    rates: dict[str, float] = {}
    for item in items:
        cur, sep, rate = item.partition("=")
        try:
            value = float(rate.strip().replace(",", "."))
        except ValueError:
            value = float("nan")
        if not sep or not _CODE.fullmatch(cur.strip().upper()) or not (
                value > 0 and math.isfinite(value)):
            raise UserError(f"{what} {item!r} is not CUR=RATE with a positive rate",
                            hint="e.g. SEK=0.087 (one SEK in the reporting currency)")
        rates[cur.strip().upper()] = value
    return rates


def path_of(workspace: Path) -> Path:
    return Path(workspace) / FILE


def read_money(workspace: Path) -> Money:
    """The workspace's settings (EUR without rates when it has none); a file that cannot
    be read is a UserError naming it."""
    path = path_of(workspace)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Money()
    except (OSError, ValueError) as exc:
        raise UserError(f"the money settings cannot be read: {exc}", file=str(path),
                        hint="set them again: cxlens workspace currency EUR --rate …") from None
    if not isinstance(data, dict) or not isinstance(data.get("rates", {}), dict):
        raise UserError("the money settings are not {\"currency\": …, \"rates\": {…}}",
                        file=str(path), hint="set them again: cxlens workspace currency …")
    try:
        return checked(str(data.get("currency", DEFAULT_CURRENCY)), data.get("rates", {}))
    except UserError as exc:
        raise UserError(exc.message, file=str(path), hint=exc.hint) from None


def write_money(workspace: Path, money: Money) -> Path:
    """Save the settings (atomically: a reader sees the old file or the new one)."""
    path = path_of(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a temporary file of its own (mkstemp: 0600, a unique name, so two saves at once in
    # the server's threads never share it), then one rename
    fd, tmp = tempfile.mkstemp(prefix=f".{FILE}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(money.as_dict(), f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def resolve(saved: Money, currency: str | None = None,
            rates: Mapping[str, float] | None = None) -> Money:
    """The money an analysis runs with: the saved settings, unless options override them
    (see the module's docstring)."""
    base = saved if currency is None else saved.in_currency(check_code(currency))
    if rates:
        return checked(base.currency, rates)
    return base


def money_for(workspace: Path, currency: str | None = None,
              rates: Mapping[str, float] | None = None) -> Money:
    """:func:`resolve` on the workspace's saved settings."""
    return resolve(read_money(workspace), currency, rates)
