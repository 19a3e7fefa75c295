"""The customer profile: one customer's record, identifiers, counts and timeline.

Things that happen in the same second are common in real exports (an order and its
receipt event, a batch of feedback); the timeline must still come out in one order, so a
limited timeline holds the same entries on every run and on every engine.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from cxlens.analytics.profile import find_customer, profile, search_customers
from cxlens.errors import UserError
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_engine, open_warehouse

TIE = "2026-11-02 10:00:00"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("profile")
    files = {
        "orders": f"order_id,ts,amount,currency,email\no1,{TIE},12.50,EUR,a@x.fi\n",
        # Two events in the same second, in file order b then a; one a day later.
        "events": ("event_id,ts,event_type,channel,email\n"
                   f"e1,{TIE},view_b,web,a@x.fi\n"
                   f"e2,{TIE},view_a,app,a@x.fi\n"
                   "e3,2026-11-03 08:00:00,signup,web,a@x.fi\n"),
        "feedback": f"response_id,ts,metric,score,comment,email\nr1,{TIE},nps,9,hyvä,a@x.fi\n",
    }
    with open_warehouse(root / "ws") as con:
        for kind, text in files.items():
            path = root / f"{kind}.csv"
            path.write_text(text, encoding="utf-8")
            assert ingest(con, path, kind).quarantined == 0
    return root / "ws"


def test_timeline_ties_are_ordered_by_kind_then_file_line(ws: Path) -> None:
    with open_engine(ws) as eng:
        p = profile(eng, "a@x.fi")
        first_two = profile(eng, "A@x.fi", limit=2)["timeline"]
        none = profile(eng, "a@x.fi", limit=0)["timeline"]
    whats = [e["what"] for e in p["timeline"]]
    # newest first; at the tie: the order, the events in file order, then the feedback
    assert whats == ["signup", "order o1", "view_b", "view_a", "nps 9.0"]
    assert p["timeline"][1] == {"ts": datetime(2026, 11, 2, 10), "source": None,
                                "what": "order o1", "detail": "12.50 EUR"}
    assert first_two == p["timeline"][:2] and none == []
    assert p["summary"] == {"orders": 1, "revenue": 12.5, "currency": "EUR",
                            "other_currency_orders": 0, "events": 3, "feedback": 1}
    assert p["identifiers"] == ["email:a@x.fi"]
    assert p["latest_nps"] == {"score": 9.0, "ts": datetime(2026, 11, 2, 10),
                               "group": "promoter"}
    assert p["customer"]["email"] == "a@x.fi"
    assert p["customer"]["first_seen"] == datetime(2026, 11, 2, 10)  # naive UTC, as stored


def test_find_customer_explains_what_to_type(ws: Path) -> None:
    with open_engine(ws) as eng:
        cid = find_customer(eng, "a@x.fi")
        assert find_customer(eng, cid) == cid  # the customer id itself works too
        with pytest.raises(UserError) as err:
            find_customer(eng, "nobody@x.fi")
    assert "no customer found" in err.value.message and "e-mail" in (err.value.hint or "")


def test_search_finds_part_of_a_name_an_address_or_a_phone(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("crm_id,email,phone,first_name,last_name,created_at\n"
                    "1,helmi.nieminen@acme.fi,+358401234567,Helmi,Nieminen,2026-01-01\n"
                    "2,pekka@other.fi,+358409999999,Pekka,Niemi,2026-02-01\n"
                    "3,anna@acme.fi,,Anna,Virtanen,2026-03-01\n", encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        assert ingest(con, path, "customers").quarantined == 0
    with open_engine(tmp_path / "ws") as eng:
        def names(text: str) -> list[str]:
            return sorted(r["name"] for r in search_customers(eng, text))
        assert names("NIEMI") == ["Helmi Nieminen", "Pekka Niemi"]
        assert names("nieminen") == ["Helmi Nieminen"]
        assert names("@acme") == ["Anna Virtanen", "Helmi Nieminen"]
        assert names("040 123 45") == ["Helmi Nieminen"]  # national format, trunk 0
        assert names("crm_id:3") == ["Anna Virtanen"]  # any identifier
        assert names("ni") == [] and names("zzz") == []  # too short; nothing
        assert len(search_customers(eng, "fi", limit=1)) == 0
        assert len(search_customers(eng, ".fi", limit=2)) == 2
