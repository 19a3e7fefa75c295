"""Repeated and case-variant headers (issue 9, item 4): a HubSpot contacts export has both
``Company Name`` and ``Company name`` and two ``Phone Number`` columns (a contact and a
company property). It crashed with ``BinderException: Duplicate named argument`` because
DuckDB's column names ignore case; now the second gets a suffix the user sees and maps.
"""

from __future__ import annotations

import re

from test_propose_values import run_cli

from cxlens.ingest.load import ingest, plan
from cxlens.sources._excel_child import unique_names

HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Phone Number,Company Name,Company name,"
    "Phone Number,Create Date,Create Date,Last Activity Date,Last Activity Date\n"
    + "".join(f"{100 + i},Anna{i},Virtanen,a{i}@example.com,+358 40 123 45{i:02d},Acme Oy,"
              f"acme oy,+358 9 876 54{i:02d},2024-01-02 10:00,2023-05-01 09:00,"
              f"2024-02-01 10:00,2024-02-03 11:00\n" for i in range(25))
)


def test_case_variants_get_a_suffix() -> None:
    assert unique_names(["Company Name", "Company name", "Phone Number", "Phone Number",
                         "a", "A", "a_2"]) == [
        "Company Name", "Company name_2", "Phone Number", "Phone Number_2", "a", "A_2",
        "a_2_2"]


def test_the_plan_shows_the_suffixed_names(con, write) -> None:
    p = plan(con, write("contacts.csv", HUBSPOT), "customers", accept_unsure=True)
    assert "Company name_2" in p.staged.columns and "Phone Number_2" in p.staged.columns
    assert "Create Date_2" in p.staged.columns
    p.staged.cleanup()


def test_a_hubspot_export_with_repeated_headers_loads(con, write, tmp_path) -> None:
    f = write("contacts.csv", HUBSPOT)
    m = write("m.yml", "kind: customers\ncolumns:\n  crm_id: Record ID\n  email: Email\n"
                       "  phone: Phone Number_2\n  name: Company name_2\n"
                       "  created_at: Create Date_2\n")
    r = ingest(con, f, None, mapping_file=m)
    assert (r.rows_in, r.loaded, r.quarantined) == (25, 25, 0)
    row = con.execute("SELECT name, phone, created_at::VARCHAR FROM v_customer_records "
                      "WHERE crm_id = '100'").fetchall()
    assert row == [("acme oy", "+35898765400", "2023-05-01 09:00:00")]


def test_the_cli_loads_it_without_a_traceback(tmp_path) -> None:
    f = tmp_path / "contacts.csv"
    f.write_text(HUBSPOT, encoding="utf-8")
    r = run_cli(tmp_path, "ingest", str(f), "--kind", "customers", "--yes")
    text = re.sub(r"\s+", " ", r.stdout + r.stderr)
    assert "Traceback" not in text and "BinderException" not in text
    assert r.returncode == 0, text
    assert "loaded 25" in text
    # The plan shows the suffixed names, so that the user can map either.
    assert "Company name_2" in text and "Phone Number_2" in text
