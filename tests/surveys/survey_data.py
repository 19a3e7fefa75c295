"""The survey tests' hand-built data (imported as ``survey_data``: a module name of its own,
so it never shadows another directory's ``conftest``). The fixtures are in
conftest.py.

``TODAY`` = 2026-11-28 (``NOW`` its noon, UTC: the moment the tests act at, and the served
app's clock, so they give the same results on any calendar day); four customers and their
orders and tickets:

    anna@example.fi   fi   order o1 2026-11-21 (store s1)
    bert@example.se   sv   order o2 2026-11-21 (store s2)
    carl@example.com  —    order o3 2026-11-20 (no language: the survey's default)
    dora@example.fi   en   order o4 2026-09-01 (old); support_ticket t1 2026-11-26
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from cxlens.ingest.load import ingest
from cxlens.surveys import store, triggers
from cxlens.surveys.definitions import BUILTIN
from cxlens.warehouse.store import open_warehouse

TODAY = date(2026, 11, 28)
NOW = datetime.combine(TODAY, time(12, 0))
CUSTOMERS = """email,language,name
anna@example.fi,fi,Anna
bert@example.se,sv,Bert
carl@example.com,,Carl
dora@example.fi,en,Dora
"""
ORDERS = """order_id,ts,amount,email,store_id
o1,2026-11-21 10:00:00,10.0,anna@example.fi,s1
o2,2026-11-21 11:00:00,12.0,bert@example.se,s2
o3,2026-11-20 11:00:00,12.0,carl@example.com,s1
o4,2026-09-01 11:00:00,30.0,dora@example.fi,s2
"""
EVENTS = """event_id,ts,event_type,email,channel
t1,2026-11-26 09:00:00,support_ticket,dora@example.fi,support
v1,2026-11-26 09:00:00,page_view,anna@example.fi,web
"""
NPS_TRIGGER = """triggers:
  - id: nps-purchase
    survey: nps
    after: purchase
    days: 7
    quiet_days: 30
    reminder_days: 3
    touchpoint: purchase
"""


def builtin_source(name: str) -> str:
    from importlib import resources

    return resources.files("cxlens.surveys").joinpath(f"builtin/{name}.yml").read_text(
        encoding="utf-8")


def build_warehouse(workspace: Path, trigger_yaml: str | None = NPS_TRIGGER) -> None:
    """Load the customers, orders and events above, the four surveys and the triggers."""
    files = workspace.parent / f"{workspace.name}-files"
    files.mkdir(parents=True, exist_ok=True)
    with open_warehouse(workspace) as con:
        for kind, body in (("customers", CUSTOMERS), ("orders", ORDERS), ("events", EVENTS)):
            path = files / f"{kind}.csv"
            path.write_text(body, encoding="utf-8")
            ingest(con, path, kind)
        for name in BUILTIN:
            store.save_survey(con, builtin_source(name), now=NOW)
        if trigger_yaml:
            triggers.save(con, triggers.parse(trigger_yaml))
