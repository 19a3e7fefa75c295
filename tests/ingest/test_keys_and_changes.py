"""Keys and changes (issue 9, item 7).

A row whose key repeats with different content inside one file was dropped as a
"duplicate" (a 700 € bank line lost); now it is quarantined with both lines named, and
the same key with the same content is still a duplicate. A record without an id (a
Freshdesk ticket whose status changed) is recognised as a change of the same record by a
natural key the mapping names with ``key:``.
"""

from __future__ import annotations

import pytest

from cxlens.errors import InputError
from cxlens.ingest.batches import quarantined
from cxlens.ingest.load import ingest


def test_a_key_repeated_with_different_content_is_quarantined(con, write) -> None:
    text = ("order_id,ts,amount\n"
            "A1,2024-01-01,10.00\n"
            "A2,2024-01-01,700.00\n"
            "A2,2024-01-01,700.00\n"   # same content: a duplicate
            "A2,2024-01-02,70.00\n"    # same key, different content: one of them is wrong
            "A3,2024-01-01,5.00\n")
    r = ingest(con, write("o.csv", text), "orders")
    assert (r.rows_in, r.loaded, r.quarantined, r.duplicates) == (5, 3, 1, 1)
    assert r.balanced
    assert any("different content" in n for n in r.notes)
    q = quarantined(con, batch=r.batch_id)
    assert [x["line"] for x in q] == [5]
    assert "line 3" in q[0]["reason"] and "lines 3 and 5" in q[0]["reason"]
    assert q[0]["column"] == "order_id" and q[0]["value"] == "A2"
    assert con.execute("SELECT amount::DOUBLE FROM v_orders WHERE order_id = 'A2'"
                       ).fetchall() == [(700.0,)]
    # Loading the file again: the loaded rows are duplicates; the conflict is already held.
    again = ingest(con, write("o.csv", text), "orders")
    assert (again.loaded, again.quarantined) == (0, 0) and again.balanced


TICKETS_1 = ("Requester Email,Created time,Subject,Status\n"
             "anna@example.com,2024-03-01 10:00:00,Broken zip,Open\n"
             "bo@example.com,2024-03-02 11:00:00,Invoice,Open\n")
TICKETS_2 = ("Requester Email,Created time,Subject,Status\n"
             "anna@example.com,2024-03-01 10:00:00,Broken zip,Resolved\n"
             "bo@example.com,2024-03-02 11:00:00,Invoice,Open\n")
TICKET_MAPPING = """kind: events
columns:
  email: Requester Email
  ts: Created time
  event_type: {value: ticket}
key: [email, ts]
"""


def test_a_natural_key_recognises_a_changed_ticket(con, write) -> None:
    m = write("m.yml", TICKET_MAPPING)
    first = ingest(con, write("t1.csv", TICKETS_1), None, mapping_file=m)
    assert first.loaded == 2
    second = ingest(con, write("t2.csv", TICKETS_2), None, mapping_file=m)
    assert (second.loaded, second.changed, second.duplicates) == (1, 1, 1)
    rows = con.execute("SELECT email, properties FROM v_events ORDER BY email").fetchall()
    assert len(rows) == 2 and "Resolved" in rows[0][1]


def test_without_the_key_the_changed_ticket_loads_twice(con, write) -> None:
    m = write("m.yml", TICKET_MAPPING.replace("key: [email, ts]\n", ""))
    ingest(con, write("t1.csv", TICKETS_1), None, mapping_file=m)
    ingest(con, write("t2.csv", TICKETS_2), None, mapping_file=m)
    assert con.execute("SELECT count(*) FROM v_events").fetchall() == [(3,)]


@pytest.mark.parametrize("key", ["[nope]", "[]", "{a: b}"])
def test_a_bad_key_is_a_clear_error(con, write, key) -> None:
    m = write("m.yml", TICKET_MAPPING.replace("[email, ts]", key))
    with pytest.raises(InputError) as ei:
        ingest(con, write("t1.csv", TICKETS_1), None, mapping_file=m)
    assert "key:" in ei.value.message and ei.value.line == 6
