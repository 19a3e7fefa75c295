"""Files an attacker (or a bad day) sends: NUL bytes and deep nesting (issue 15).

A NUL byte is never stored: its row goes to the quarantine with the column named, and the
batch still balances. Nesting deeper than the parsers go is an InputError with the line.
"""

from __future__ import annotations

import pytest

from cxlens.errors import InputError
from cxlens.ingest.load import ingest
from helpers import assert_balanced

HEADER = "order_id,ts,amount,email\n"


def _no_nul_stored(con) -> None:
    for table, cols in (("orders", ("order_id", "email")), ("identities", ("value",))):
        for c in cols:
            assert con.execute(f"SELECT count(*) FROM {table} WHERE contains({c}, chr(0))"
                               ).fetchall() == [(0,)]


def test_a_nul_byte_after_the_sniffed_head_sends_its_row_to_quarantine(con, write) -> None:
    rows = "".join(f"O{i},2026-03-01 10:00:00,{i}.50,c{i}@x.fi\n" for i in range(300))
    assert len(HEADER + rows) > 4096  # past what the encoding sniffer looks at
    path = write("nul.csv", (HEADER + rows).encode()
                 + b"X1,2026-03-01 10:00:00,1.00,a\x00b@x.fi\n" + b"X2,2026-03-02,2.00,ok@x.fi\n")
    r = ingest(con, path, "orders")
    assert_balanced(con, r)
    assert (r.rows_in, r.loaded, r.quarantined) == (302, 301, 1)
    held = r.quarantine_sample[0]
    assert held["line"] == 302 and held["column"] == "email"
    assert "NUL byte" in str(held["reason"]) and held["value"] == "a\u2400b@x.fi"
    _no_nul_stored(con)


def test_a_nul_in_an_unmapped_column_is_refused_too(con, write) -> None:
    rows = "".join(f"O{i},2026-03-01 10:00:00,1.00,a{i}@x.fi,fine\n" for i in range(100))
    path = write("extra.csv", (HEADER.rstrip("\n") + ",note\n" + rows).encode()
                 + b"X2,2026-03-01 10:00:00,1.00,b@x.fi,bad\x00note\n")
    r = ingest(con, path, "orders")
    assert_balanced(con, r)
    assert (r.loaded, r.quarantined) == (100, 1)
    assert r.quarantine_sample[0]["column"] == "note"
    assert con.execute("SELECT count(*) FROM orders WHERE list_contains(_extra, 'bad' || "
                       "chr(0) || 'note')").fetchall() == [(0,)]


@pytest.mark.parametrize("name", ["nul.json", "nul.ndjson"])
def test_a_nul_escape_in_json_goes_to_quarantine(con, write, name: str) -> None:
    good = '{"order_id": "J1", "ts": "2026-03-01 10:00:00", "amount": "1", "email": "a@x.fi"}'
    bad = ('{"order_id": "J2", "ts": "2026-03-01 10:00:00", "amount": "2", '
           '"email": "b\\u0000@x.fi"}')
    text = f"[{good},\n{bad}]\n" if name.endswith(".json") else f"{good}\n{bad}\n"
    r = ingest(con, write(name, text), "orders")
    assert_balanced(con, r)
    assert (r.loaded, r.quarantined) == (1, 1)
    assert r.quarantine_sample[0]["column"] == "email"
    _no_nul_stored(con)


@pytest.mark.parametrize("name", ["deep.ndjson", "deep.json"])
def test_deep_nesting_is_an_input_error(con, write, unchanged, name: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    record = f'{{"order_id": "J1", "ts": "2026-03-01", "amount": "1", "x": {deep}}}'
    text = f'{{"order_id": "J0", "ts": "2026-03-01", "amount": "1"}}\n{record}\n'
    if name.endswith(".json"):
        text = f"[{record}]"
    with unchanged(), pytest.raises(InputError, match="too deeply") as ei:
        ingest(con, write(name, text), "orders")
    if name.endswith(".ndjson"):
        assert ei.value.line == 2


def test_a_csv_that_breaks_the_parser_while_sniffing_is_an_input_error(con, write,
                                                                       unchanged) -> None:
    """Found by the fuzzing: quotes, a BOM and NULs in the last lines made DuckDB's CSV
    state machine give up on the format-sniffing sample (``ignore_errors`` or not)."""
    rows = "".join(f"O{i},2026-03-01 10:00:00,{i}.50,c{i}@x.fi\n" for i in range(120))
    tail = ("ÄÄ',;\ufeffé€\"é'\x00\x00x,01.03.2026,`µd¿ä\n\r\ufeff\",9999,\ufeff;Ä\x00|é\","
            "\ufeff\x00\n")
    path = write("quotes.csv", "order_id,ts,amount,email\n" + rows + tail)
    with unchanged(), pytest.raises(InputError, match="cannot read the file") as ei:
        ingest(con, path, "orders")
    assert "quoting" in (ei.value.hint or "")


def test_a_csv_that_breaks_the_parser_past_the_sample_is_an_input_error(con, write,
                                                                        unchanged) -> None:
    """Found by the fuzzing (300 examples): the same broken tail after 25,000 good rows is
    past the sniffing sample, so the load statement meets it."""
    rows = "".join(f"O{i},2026-03-01 10:00:00,{i}.50,c{i}@x.fi\n" for i in range(25_000))
    tail = ("ÄÄ',;\ufeffé€\"é'\x00\x00x,01.03.2026,`µd¿ä\n\r\ufeff\",9999,\ufeff;Ä\x00|é\","
            "\ufeff\x00\n")
    path = write("late.csv", "order_id,ts,amount,email\n" + rows + tail)
    with unchanged(), pytest.raises(InputError, match="cannot read the file"):
        ingest(con, path, "orders")
