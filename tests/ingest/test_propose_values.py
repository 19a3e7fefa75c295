"""Asking when unsure, for every field that links identities or changes meaning, with the
values of each column taking part in the match (issue 9, item 3).

A real HubSpot/CRM export matched ``anonymous_id ← 'Client Grade'``, ``crm_id ← 'Customer
Name'`` and ``crm_id ←`` a 1–10 rating, and loaded them without asking: different people
merged into one customer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from cxlens.errors import MappingUnsure
from cxlens.ingest.load import ingest
from cxlens.ingest.propose import profile_columns, propose


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a process: exit codes come from its entry point."""
    env = {**os.environ, "CXLENS_HOME": str(tmp_path / "home"), "COLUMNS": "400",
           "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "cxlens.cli", *args, "--workspace",
                           str(tmp_path / "cli-ws")], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=env, timeout=120)


FIRST = ["Anna", "Bertil", "Carita", "Daniel", "Eeva", "Frans", "Greta", "Heikki", "Ilona",
         "Jussi"]
LAST = ["Virtanen", "Lindqvist", "Korhonen", "Nieminen", "Berg", "Mäkinen"]


def _orders_csv(n: int = 30) -> str:
    lines = ["Order ID,Date,Total,Email,Customer Name,Client Grade,Customer Rating"]
    for i in range(n):
        name = f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}"
        lines.append(f"A{1000 + i},2024-03-{1 + i % 28:02d},{10 + i}.50,p{i}@example.com,"
                     f"{name},{'ABC'[i % 3]},{1 + i % 10}")
    return "\n".join(lines) + "\n"


def _profile(con: duckdb.DuckDBPyConnection, path: Path) -> dict:
    con.execute(f"CREATE OR REPLACE TEMP TABLE s AS SELECT * FROM read_csv('{path}', "
                "all_varchar=true)")
    cols = [r[0] for r in con.execute("DESCRIBE s").fetchall()]
    return profile_columns(con, "s", cols)


def test_the_profile_describes_the_values(con, write) -> None:
    prof = _profile(con, write("o.csv", _orders_csv()))
    assert prof["Order ID"].distinct == 30 and prof["Order ID"].values == 30
    assert prof["Customer Name"].person_name == 1.0
    assert prof["Client Grade"].few_values and prof["Client Grade"].distinct == 3
    assert prof["Customer Rating"].small_int == 1.0
    assert prof["Email"].email == 1.0
    assert prof["Date"].date == 1.0 and prof["Total"].numeric == 1.0


def test_values_that_contradict_a_field_drop_the_match(con, write) -> None:
    prof = _profile(con, write("o.csv", _orders_csv()))
    cols = list(prof)
    header_only = {m.field: m.column for m in propose(cols, "orders").matches}
    # From the header alone, these are the wrong matches the issue saw.
    assert header_only.get("crm_id") == "Customer Name"
    with_values = propose(cols, "orders", profile=prof)
    got = {m.field: m.column for m in with_values.matches}
    assert "crm_id" not in got and "anonymous_id" not in got
    assert got["order_id"] == "Order ID" and got["email"] == "Email"
    assert with_values.confident


def test_a_rating_and_grades_are_not_ids(con, write) -> None:
    prof = _profile(con, write("o.csv", _orders_csv()))
    p = propose(["Order ID", "Date", "Total", "Customer Rating", "Client Grade"], "orders",
                profile=prof)
    assert {m.field for m in p.matches} == {"order_id", "ts", "amount"}


def test_an_unsure_identity_field_is_asked_about(con, write, tmp_path) -> None:
    """crm_id is optional for orders, but a guess merges customers: it is asked about."""
    text = "Order ID,Date,Total,Customer No\n" + "".join(
        f"A{i},2024-03-01,{i}.00,C{500 + i}\n" for i in range(30))
    f = write("o.csv", text)
    with pytest.raises(MappingUnsure) as ei:
        ingest(con, f, "orders", proposal_dir=tmp_path)
    assert ei.value.exit_code == 4
    assert "crm_id ← 'Customer No'" in ei.value.message
    draft = Path(ei.value.proposal_path)
    assert yaml.safe_load(draft.read_text())["columns"]["crm_id"] == "Customer No"
    # The confirmed mapping loads without asking.
    r = ingest(con, f, None, mapping_file=draft)
    assert r.loaded == 30 and r.balanced
    assert con.execute("SELECT count(DISTINCT crm_id) FROM v_orders").fetchall() == [(30,)]


def test_campaign_from_company_name_is_asked_about(con, write, tmp_path) -> None:
    text = "Day,Channel,Company Name,Cost\n" + "".join(
        f"2024-03-{1 + i:02d},google,Acme Oy,{i}.00\n" for i in range(25))
    with pytest.raises(MappingUnsure) as ei:
        ingest(con, write("s.csv", text), "spend", proposal_dir=tmp_path)
    assert "campaign ← 'Company Name'" in ei.value.message


def test_the_cli_asks_with_exit_4(tmp_path, write) -> None:
    text = "Order ID,Date,Total,Customer No\n" + "".join(
        f"A{i},2024-03-01,{i}.00,C{500 + i}\n" for i in range(30))
    r = run_cli(tmp_path, "ingest", str(write("o.csv", text)), "--kind", "orders", "--yes")
    assert r.returncode == 4, r.stderr
    assert "crm_id ← 'Customer No'" in r.stderr and "Traceback" not in r.stderr
