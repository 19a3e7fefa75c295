"""Report exports (issue 9, item 2): totals, notes, footers and a second header line are
left out and counted as skipped, with their physical lines; ambiguous number and date
columns are asked about (exit 4) and the chosen formats are stored with the batch."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from cxlens.errors import MappingUnsure
from cxlens.ingest.load import ingest, plan
from cxlens.ingest.report_rows import footer_reason
from cxlens.sources.readers import Rejected
from cxlens.warehouse.store import open_warehouse
from helpers import assert_balanced


def load(tmp_path: Path, text: str | bytes, kind: str = "spend", name: str = "f.csv", **kw):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    con_cm = open_warehouse(tmp_path / "ws")
    con = con_cm.__enter__()
    try:
        r = ingest(con, path, kind, proposal_dir=tmp_path, **kw)
        if r.batch_id is not None:
            assert_balanced(con, r)
        return con, con_cm, r
    except BaseException:
        con_cm.__exit__(None, None, None)
        raise


SPEND = """Campaign report
October 1, 2024 - October 2, 2024
Day,Channel,Campaign,Currency,Cost,Impressions,Clicks
2024-10-01,google,Autumn sale,EUR,"1,432.31","48,533","4,986"
2024-10-02,google,Autumn sale,EUR,724.81,"233,499","6,728"
Total: Account,--,--,EUR,"2,157.12","282,032","11,714"
Total: Campaigns,--,--,EUR,"2,157.12","282,032","11,714"
"""


def test_total_rows_are_left_out_and_counted(tmp_path: Path) -> None:
    con, cm, r = load(tmp_path, SPEND)
    try:
        assert (r.rows_in, r.loaded, r.quarantined, r.skipped) == (4, 2, 0, 2)
        assert [(s["line"], s["reason"]) for s in r.skipped_sample] == [
            (6, "total row"), (7, "total row")]
        assert con.execute("SELECT sum(amount), sum(impressions), sum(clicks) FROM v_spend"
                           ).fetchall() == [(Decimal("2157.12"), 282032, 11714)]
        assert con.execute("SELECT skipped FROM batches").fetchall() == [(2,)]
        assert any("left out 2 row(s)" in n for n in r.notes)
        assert con.execute("SELECT count(*) FROM spend").fetchall() == [(2,)]  # none kept
    finally:
        cm.__exit__(None, None, None)


@pytest.mark.parametrize("word", ["Yhteensä", "Summa", "Totalt", "Summa totalt", "Grand total",
                                  "Totals", "Total"])
def test_total_words_in_any_column_of_an_invalid_row(tmp_path: Path, word: str) -> None:
    text = (f"Laskunumero;Päivämäärä;Summa;Valuutta\nA1;1.10.2024;6.571,88;EUR\n"
            f"A2;2.10.2024;104,36;EUR\n;;{word};6.676,24\n")
    text = text.replace(f";;{word};6.676,24", f";;6.676,24;{word}")
    _, cm, r = load(tmp_path, text, kind="orders")
    try:
        assert (r.loaded, r.quarantined, r.skipped) == (2, 0, 1)
    finally:
        cm.__exit__(None, None, None)


def test_a_company_named_total_is_data(tmp_path: Path) -> None:
    text = ("Campaign,Channel,Day,Cost\nTotal Gym Oy,google,2024-10-01,5.00\n"
            "Other,google,2024-10-02,6.00\n")
    _, cm, r = load(tmp_path, text, kind="spend")
    try:
        assert (r.loaded, r.skipped) == (2, 0)
    finally:
        cm.__exit__(None, None, None)


def test_footers_notes_and_empty_lines_keep_the_physical_line_numbers(tmp_path: Path) -> None:
    text = (b"Report\nRange\n"  # titles end in \n, data in \r\n
            b"order_id,ts,amount\r\nA1,2024-10-01,5\r\n\r\nA2,2024-10-02,x\r\n"
            b",,\r\nA4,2024-10-04,7\r\n\r\nA5,bad,1\r\nReport generated 2024-10-05\r\n"
            b"\xc2\xa92024 Example Corporation. All rights reserved.\r\n")
    con, cm, r = load(tmp_path, text, kind="orders")
    try:
        assert (r.rows_in, r.loaded, r.quarantined, r.skipped) == (7, 2, 2, 3)
        assert [q["line"] for q in r.quarantine_sample] == [6, 10]
        assert [(s["line"], s["reason"]) for s in r.skipped_sample] == [
            (7, "empty line"), (11, "report note"), (12, "report note")]
        assert con.execute("SELECT _line FROM orders ORDER BY 1").fetchall() == [(4,), (8,)]
    finally:
        cm.__exit__(None, None, None)


def test_a_truncated_last_data_line_is_quarantined_not_skipped(tmp_path: Path) -> None:
    text = "order_id,ts,amount,email\nA1,2024-10-01,5,a@b.fi\nA2,2024-10-02\n"
    _, cm, r = load(tmp_path, text, kind="orders")
    try:
        assert (r.loaded, r.quarantined, r.skipped) == (1, 1, 0)
    finally:
        cm.__exit__(None, None, None)


def test_surveymonkey_second_header_line_is_left_out(tmp_path: Path) -> None:
    text = ("Respondent ID,End Date,Email Address,How likely is it that you would recommend us?"
            ",Why?\n,,,Response,Open-Ended Response\n"
            "114,10/13/2024 01:00:40 PM,a@b.fi,9,ok\n115,10/14/2024 02:00:00 PM,c@d.fi,3,\n")
    _, cm, r = load(tmp_path, text, kind="feedback", preset="surveymonkey_nps")
    try:
        assert (r.rows_in, r.loaded, r.skipped) == (3, 2, 1)
        assert r.skipped_sample[0]["line"] == 2
        assert r.skipped_sample[0]["reason"] == "second header line"
    finally:
        cm.__exit__(None, None, None)


def test_footer_reason() -> None:
    few = "too few columns (a truncated or broken line?): 1"
    assert footer_reason(Rejected(10, few, '"©2024 Microsoft"'), 9, ",") == "report note"
    assert footer_reason(Rejected(10, few, "Rows: 9"), 9, ",") == "footer"
    assert footer_reason(Rejected(5, few, "Rows: 9"), 9, ",") is None  # inside the data
    assert footer_reason(Rejected(10, few, "A3,2024-10-03"), 9, ",") is None
    assert footer_reason(Rejected(10, few, "Yhteensä;;5"), 9, ";") == "total row"


# --------------------------------------------------------- asking about formats


def test_an_ambiguous_amount_column_is_asked_about(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("order_id,ts,amount\nA1,2024-10-01,\"1,234\"\nA2,2024-10-02,\"5,678\"\n",
                    encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        with pytest.raises(MappingUnsure) as exc:
            plan(con, path, "orders", proposal_dir=tmp_path)
        assert exc.value.exit_code == 4
        assert "amount ('amount')" in exc.value.message and "thousands" in exc.value.message
        draft = yaml.safe_load(Path(exc.value.proposal_path).read_text(encoding="utf-8"))
        assert draft["columns"]["amount"]["thousands"] == ","
        draft["columns"]["amount"]["thousands"] = "."
        draft["columns"]["amount"]["decimal"] = ","
        answer = tmp_path / "answer.yml"
        answer.write_text(yaml.safe_dump(draft), encoding="utf-8")
        r = ingest(con, path, "orders", mapping_file=answer)
        assert r.loaded == 2
        assert con.execute("SELECT sum(amount) FROM v_orders").fetchall() == [
            (Decimal("6.912"),)]


def test_an_ambiguous_date_column_is_asked_about_unless_the_country_says(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("order_id,ts,amount\nA1,03/04/2024,5\nA2,05/06/2024,6\n", encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        with pytest.raises(MappingUnsure, match="day-first or month-first"):
            plan(con, path, "orders", proposal_dir=tmp_path)
        mapping = tmp_path / "m.yml"
        mapping.write_text("kind: orders\ncountry: US\ncolumns:\n  order_id: order_id\n"
                           "  ts: ts\n  amount: amount\n", encoding="utf-8")
        p = plan(con, path, "orders", mapping_file=mapping)
        assert any("ts ('ts'): dates read as month-first" in f for f in p.formats)
        p.staged.cleanup()
        ingest(con, path, "orders", mapping_file=mapping)
        assert con.execute("SELECT min(ts)::DATE::VARCHAR FROM v_orders").fetchall() == [
            ("2024-03-04",)]


def test_the_chosen_formats_are_in_the_plan_and_stored_with_the_batch(tmp_path: Path) -> None:
    con, cm, _r = load(tmp_path, SPEND)
    try:
        stored = yaml.safe_load(con.execute("SELECT mapping FROM batches").fetchall()[0][0])
        assert stored["columns"]["impressions"]["thousands"] == ","
        assert stored["columns"]["amount"]["decimal"] == "."
    finally:
        cm.__exit__(None, None, None)


def test_a_ga4_ui_export_reports_a_bad_row_at_its_physical_line(tmp_path: Path) -> None:
    head = ("# ----------------------------------------\n# Ecommerce purchases\n"
            "# Account: Example Oy\n#\n# Start date: 20241001\n# End date: 20241003\n"
            "# ----------------------------------------\n")
    text = (head + "Transaction ID,Date,Purchase revenue,Ecommerce purchases\n"
            "T1,20241001,347.19,1\nT2,20241002,oops,1\n\nT3,20241003,39.63,1\n")
    con, cm, r = load(tmp_path, text, kind="orders", name="ga4.csv")
    try:
        assert (r.loaded, r.quarantined) == (2, 1)
        assert r.quarantine_sample[0]["line"] == 10  # the header is on line 8
        assert con.execute("SELECT _line FROM orders ORDER BY 1").fetchall() == [(9,), (12,)]
    finally:
        cm.__exit__(None, None, None)
