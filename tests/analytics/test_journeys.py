"""Journeys, paths and the process map on tiny hand-made journeys with known answers.

Four customers, each chosen for an edge case:

* ``a`` — a web visit with a repeated page view, a first purchase, a promoter answer, a
  visit three days later and a repeat purchase exactly 30 minutes after it (the session gap
  is "more than", so it stays in the session);
* ``b`` — one event, nothing else;
* ``c`` — an event and an order in the same second (the event first: kind order), a
  support ticket, a dissatisfied CSAT answer, two events in one second (file order);
* ``d`` — a first order a year before, a refunded order (not counted), a repeat order in
  another currency (no revenue in EUR), an eNPS answer (no customer touchpoint).
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from cxlens.analytics import journeys as j
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_engine, open_warehouse

FILES = {
    "customers": ("email,segment\na@x.fi,B2C\nb@x.fi,B2C\nc@x.fi,B2B\nd@x.fi,B2B\n"),
    "events": (
        "event_id,ts,event_type,channel,store_id,email\n"
        "e1,2026-01-01 10:00:00,session_start,web,,a@x.fi\n"
        "e2,2026-01-01 10:00:10,page_view,web,,a@x.fi\n"
        "e3,2026-01-01 10:00:40,page_view,web,,a@x.fi\n"
        "e4,2026-01-01 10:01:00,add_to_cart,web,,a@x.fi\n"
        "e5,2026-01-05 09:00:00,page_view,web,,a@x.fi\n"
        "e6,2026-01-03 12:00:00,page_view,app,,b@x.fi\n"
        "e7,2026-01-04 08:00:00,view_item,store,S1,c@x.fi\n"
        "e8,2026-01-04 09:00:00,support_ticket,support,,c@x.fi\n"
        "e9,2026-01-06 08:00:00,page_view,web,,c@x.fi\n"
        "e10,2026-01-06 08:00:00,add_to_cart,web,,c@x.fi\n"
    ),
    "orders": (
        "order_id,ts,amount,currency,channel,store_id,status,email\n"
        "o1,2026-01-01 10:05:00,20.00,EUR,web,,paid,a@x.fi\n"
        "o2,2026-01-05 09:30:00,30.00,EUR,web,,paid,a@x.fi\n"
        "o3,2026-01-04 08:00:00,15.00,EUR,store,S1,paid,c@x.fi\n"
        "o6,2025-03-01 12:00:00,40.00,EUR,web,,paid,d@x.fi\n"
        "o4,2026-01-02 12:00:00,99.00,EUR,web,,refunded,d@x.fi\n"
        "o5,2026-01-07 12:00:00,50.00,USD,web,,paid,d@x.fi\n"
    ),
    "feedback": (
        "response_id,ts,metric,score,email\n"
        "r1,2026-01-02 10:00:00,nps,10,a@x.fi\n"
        "r2,2026-01-04 10:00:00,csat,1,c@x.fi\n"
        "r3,2026-01-04 11:00:00,enps,9,d@x.fi\n"
    ),
}

JOURNEYS = {
    "a": ["session_start", "page_view", "page_view", "add_to_cart", "first_purchase",
          "answer:promoter", "page_view", "repeat_purchase"],
    "b": ["page_view"],
    "c": ["view_item", "first_purchase", "support_ticket", "answer:dissatisfied", "page_view",
          "add_to_cart"],
    "d": ["first_purchase", "repeat_purchase"],
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("journeys")
    with open_warehouse(root / "ws") as con:
        for kind, text in FILES.items():
            path = root / f"{kind}.csv"
            path.write_text(text, encoding="utf-8")
            assert ingest(con, path, kind).quarantined == 0
    return root / "ws"


@pytest.fixture(scope="module")
def eng(ws: Path):
    with open_engine(ws) as e:
        yield e


def _ids(eng) -> dict[str, str]:
    """customer_id → the letter of the e-mail."""
    rows = eng.query("SELECT customer_id, email FROM customers").to_pylist()
    return {r["customer_id"]: r["email"][0] for r in rows}


def _journeys(table) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in table.to_pylist():
        out.setdefault(r["customer_id"], []).append(r["touchpoint"])
    return out


def test_the_log_orders_every_source_with_ties_broken_by_kind_then_file_line(eng) -> None:
    ids = _ids(eng)
    log = j.journey_log(eng)
    got = {ids[c]: tps for c, tps in _journeys(log).items()}
    assert got == JOURNEYS
    rows = log.to_pylist()
    assert [r["seq"] for r in rows if ids[r["customer_id"]] == "c"] == [1, 2, 3, 4, 5, 6]
    kinds = {r["touchpoint"]: r["kind"] for r in rows}
    assert kinds["support_ticket"] == "ticket" and kinds["first_purchase"] == "order"
    assert kinds["answer:promoter"] == "answer" and kinds["page_view"] == "event"
    amounts = [r["amount"] for r in rows if r["kind"] == "order"]
    assert sorted(a for a in amounts if a is not None) == [15.0, 20.0, 30.0, 40.0]
    assert amounts.count(None) == 1  # the USD order


def test_sessions_start_after_more_than_the_gap(eng) -> None:
    ids = _ids(eng)

    def sessions(gap: int) -> list[int]:
        return [r["session_no"] for r in j.journey_log(eng, gap_minutes=gap).to_pylist()
                if ids[r["customer_id"]] == "a"]

    # the repeat purchase came exactly 30 minutes after the page view: not more than 30
    assert sessions(30) == [1, 1, 1, 1, 1, 2, 3, 3]
    assert sessions(29) == [1, 1, 1, 1, 1, 2, 3, 4]
    assert sessions(0) == [1, 2, 3, 4, 5, 6, 7, 8]
    seconds = [r["seconds_since_prev"] for r in j.journey_log(eng).to_pylist()
               if ids[r["customer_id"]] == "a"]
    assert seconds == [None, 10, 30, 20, 240, 86100, 255600, 1800]
    with pytest.raises(ValueError, match="gap"):
        j.journey_log(eng, gap_minutes=-1)


def test_outcomes_per_customer(eng) -> None:
    ids = _ids(eng)
    rows = {ids[r["customer_id"]]: r for r in j.outcomes(eng).to_pylist()}
    assert set(rows) == {"a", "b", "c", "d"}
    a, b, c, d = (rows[k] for k in "abcd")
    assert (a["purchases"], a["repeat_purchases"], a["revenue"]) == (2, 1, 50.0)
    assert a["first_purchase_at"].replace(tzinfo=None) == datetime(2026, 1, 1, 10, 5)
    assert a["promoter"] and not a["detractor"] and not a["churned"]
    assert (b["touchpoints"], b["purchases"], b["churned"]) == (1, 0, False)  # never bought
    assert not c["detractor"]  # a dissatisfied CSAT answer is no NPS detractor
    assert (d["purchases"], d["repeat_purchases"], d["revenue"]) == (2, 1, 40.0)
    assert not d["churned"]  # bought on 7 January, the reference end is the 8th

    # from 2026: d's first order is before the period, the USD one is a repeat purchase
    sel = j.Selection(start=date(2026, 1, 1), end=date(2026, 1, 8))
    rows = {ids[r["customer_id"]]: r for r in j.outcomes(eng, sel).to_pylist()}
    assert rows["d"]["first_purchase_at"] is None
    assert (rows["d"]["purchases"], rows["d"]["repeat_purchases"], rows["d"]["revenue"]) == \
        (1, 1, 0.0)
    # up to 6 January: d's last order was ten months before, more than 180 days: churned
    sel = j.Selection(end=date(2026, 1, 7))
    rows = {ids[r["customer_id"]]: r for r in j.outcomes(eng, sel).to_pylist()}
    assert rows["d"]["churned"] and rows["d"]["purchases"] == 1
    assert not rows["a"]["churned"] and not rows["b"]["churned"]
    rows = {ids[r["customer_id"]]: r for r in j.outcomes(eng, sel, churn_days=400).to_pylist()}
    assert not rows["d"]["churned"]
    with pytest.raises(ValueError, match="churn"):
        j.outcomes(eng, churn_days=0)


def test_filters_select_whole_journeys(eng) -> None:
    ids = _ids(eng)

    def who(sel: j.Selection) -> set[str]:
        return {ids[c] for c in _journeys(j.journey_log(eng, sel))}

    assert who(j.Selection(segment="B2B")) == {"c", "d"}
    assert who(j.Selection(channel="support")) == {"c"}
    assert who(j.Selection(store="S1")) == {"c"}
    assert who(j.Selection(start=date(2026, 1, 6))) == {"c", "d"}
    # the channel filter keeps c's whole journey, not only the ticket
    assert len(j.journey_log(eng, j.Selection(channel="support"))) == 6
    with pytest.raises(ValueError, match="start must be before end"):
        j.Selection(start=date(2026, 1, 2), end=date(2026, 1, 2))


def test_process_map_counts_and_exact_times(eng) -> None:
    m = j.process_map(eng)
    assert m.customers == 4 and m.touchpoints == 17 and m.reason is None
    edges = {(e.source, e.target): e for e in m.edges}
    expected = {}
    for tps in JOURNEYS.values():
        for pair in pairwise(tps):
            expected[pair] = expected.get(pair, 0) + 1
    assert {k: e.transitions for k, e in edges.items()} == expected
    pv_atc = edges[("page_view", "add_to_cart")]
    assert (pv_atc.customers, pv_atc.median_s, pv_atc.p90_s) == (2, 10.0, 18.0)
    loop = edges[("page_view", "page_view")]
    assert (loop.transitions, loop.median_s, loop.p90_s) == (1, 30.0, 30.0)
    assert edges[("view_item", "first_purchase")].median_s == 0.0  # the same second
    d_gap = (datetime(2026, 1, 7, 12) - datetime(2025, 3, 1, 12)).total_seconds()
    assert edges[("first_purchase", "repeat_purchase")].median_s == d_gap
    nodes = {n.touchpoint: n for n in m.nodes}
    assert (nodes["page_view"].count, nodes["page_view"].starts, nodes["page_view"].ends) == \
        (5, 1, 1)
    assert nodes["repeat_purchase"].ends == 2 and nodes["first_purchase"].starts == 1
    assert sum(n.starts for n in m.nodes) == sum(n.ends for n in m.nodes) == 4
    assert m.edges[0].transitions >= m.edges[-1].transitions
    t = m.edges_table()
    assert t.num_rows == len(m.edges) and t.schema.field("p90_s").type == "double"
    assert m.as_dict()["edges"][0]["source"] == m.edges[0].source


def test_paths_from_a_touchpoint_collapse_loops_and_mark_drop_offs(eng) -> None:
    p = j.paths(eng, "page_view", "from")
    assert (p.customers, p.reached, p.reason) == (4, 3, None)
    rows = [(r.steps, r.loops, r.customers, r.ended, r.dropped_off) for r in p.rows]
    assert rows == [
        (["page_view"], [False], 1, True, True),  # b: one event, never bought
        (["page_view", "add_to_cart"], [False, False], 1, True, True),  # c, after its order
        (["page_view", "add_to_cart", "first_purchase", "answer:promoter"],
         [True, False, False, False], 1, False, False),  # a: the page view repeated
    ]
    assert sum(r.share for r in p.rows) == pytest.approx(1.0)


def test_paths_to_an_outcome_and_the_other_row(eng) -> None:
    p = j.paths(eng, "first_purchase", "to", steps=3)
    assert (p.customers, p.reached) == (4, 3)
    assert [(r.steps, r.ended) for r in p.rows] == [
        (["first_purchase"], True),
        (["page_view", "add_to_cart", "first_purchase"], False),
        (["view_item", "first_purchase"], True),
    ]
    top1 = j.paths(eng, "first_purchase", "to", steps=3, top=1)
    assert [r.other for r in top1.rows] == [False, True]
    assert top1.rows[1].customers == 2 and top1.rows[1].share == pytest.approx(2 / 3)


def test_paths_without_an_anchor_are_the_journeys_starts_and_ends(eng) -> None:
    starts = j.paths(eng, None, "from", steps=2)
    assert starts.reached == 4
    assert sorted(r.steps for r in starts.rows) == sorted(t[:2] for t in (
        ["session_start", "page_view"], ["page_view"], ["view_item", "first_purchase"],
        ["first_purchase", "repeat_purchase"]))
    ends = j.paths(eng, None, "to", steps=1)
    assert {tuple(r.steps): r.customers for r in ends.rows} == {
        ("repeat_purchase",): 2, ("page_view",): 1, ("add_to_cart",): 1}


def test_nobody_and_unknown_touchpoints_say_why(eng) -> None:
    p = j.paths(eng, "no_such_touchpoint")
    assert p.rows == [] and p.reached == 0 and "no customer" in (p.reason or "")
    nobody = j.Selection(segment="nobody")
    assert j.paths(eng, "page_view", sel=nobody).reason == "no touchpoints in the selection"
    m = j.process_map(eng, nobody)
    assert (m.customers, m.nodes, m.edges) == (0, [], [])
    assert m.reason == "no touchpoints in the selection"
    assert len(j.journey_log(eng, nobody)) == 0 and len(j.outcomes(eng, nobody)) == 0
    assert j.touchpoints(eng, nobody) == []
    with pytest.raises(ValueError, match="steps"):
        j.paths(eng, "page_view", steps=0)
    with pytest.raises(ValueError, match="direction"):
        j.paths(eng, "page_view", "sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="top"):
        j.paths(eng, "page_view", top=0)


def test_touchpoints_count_events_and_customers(eng) -> None:
    tps = {t.touchpoint: t for t in j.touchpoints(eng)}
    assert (tps["page_view"].count, tps["page_view"].customers) == (5, 3)
    assert tps["support_ticket"].kind == "ticket"
    assert "answer:dissatisfied" in tps and not any("enps" in k for k in tps)
