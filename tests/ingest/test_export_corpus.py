"""The export corpus (tests/data/exports/): each file loads into a fresh workspace exactly as
its manifest entry says a careful human would count it (issue 9, "Checks").

Per file: every row is accounted for (rows in = loaded + quarantined + duplicates +
skipped); the counts, the sums of its amount (per currency), score, impression and click
columns equal the file's own; no two customers are merged (the number of distinct customers
is the file's); and loading it again loads nothing. An entry with ``needs:`` exercises a
feature that is still being built; its case is marked ``xfail(strict=True)``, so it fails
loudly once the feature lands and the mark must go.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from cxlens.errors import MappingUnsure
from cxlens.ingest.load import BatchResult, ingest, plan
from cxlens.schema import kind
from cxlens.warehouse.store import open_warehouse

EXPORTS = Path(__file__).parents[1] / "data" / "exports"
MANIFEST: list[dict[str, Any]] = yaml.safe_load(
    (EXPORTS / "manifest.yml").read_text(encoding="utf-8"))["files"]
COUNTS = ("rows_in", "loaded", "quarantined", "duplicates", "skipped")


def cases() -> list[Any]:
    out = []
    for e in MANIFEST:
        marks = ([pytest.mark.xfail(strict=True, reason=f"needs {e['needs']}")]
                 if e.get("needs") else [])
        out.append(pytest.param(e, id=e["file"], marks=marks))
    return out


def load(con: duckdb.DuckDBPyConnection, e: dict[str, Any], file: str,
         tmp_path: Path) -> BatchResult:
    """Ingest one corpus file the way its entry says: a preset, a mapping or only a kind."""
    mapping = EXPORTS / e["mapping"] if e.get("mapping") else None
    return ingest(con, EXPORTS / file, e.get("kind"), preset=e.get("preset"),
                  mapping_file=mapping, proposal_dir=tmp_path)


def skipped(r: BatchResult) -> int:
    """Rows left out as totals, subtotals, notes or footers."""
    return r.skipped


def test_the_corpus_is_large_enough_and_every_file_is_listed() -> None:
    listed = {e["file"] for e in MANIFEST}
    data = {p.name for p in EXPORTS.iterdir()
            if p.suffix in (".csv", ".xlsx") and not p.name.startswith(".")}
    assert data == listed
    assert len(listed) >= 25
    assert sum(e["rows_in"] for e in MANIFEST) > 250
    for e in MANIFEST:
        assert e["rows_in"] == sum(e.get(c, 0) for c in COUNTS[1:]), e["file"]


@pytest.mark.parametrize("e", cases())
def test_export_loads_as_counted(e: dict[str, Any], tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "ws") as con:
        for earlier in e.get("before", []):
            first = next(x for x in MANIFEST if x["file"] == earlier)
            load(con, first, earlier, tmp_path)
        if e.get("asks"):
            # Only the kind given: the unsure fields are asked about, nothing is loaded.
            with pytest.raises(MappingUnsure):
                plan(con, EXPORTS / e["file"], e["kind"], proposal_dir=tmp_path)
        r = load(con, e, e["file"], tmp_path)
        got = {"rows_in": r.rows_in, "loaded": r.loaded, "quarantined": r.quarantined,
               "duplicates": r.duplicates, "skipped": skipped(r)}
        assert got["rows_in"] == sum(got[c] for c in COUNTS[1:]), got
        assert got == {c: e.get(c, 0) for c in COUNTS}, r.notes
        assert r.changed == e.get("changed", 0)

        k = kind(r.kind)
        current = f"FROM {k.table} WHERE _superseded_by IS NULL"
        assert con.execute(f"SELECT count(*) {current}").fetchall()[0][0] == e["count"]
        for field, want in (e.get("sums") or {}).items():
            if isinstance(want, dict):  # per currency: never summed across currencies
                rows = con.execute(f"SELECT currency, sum({field}) {current} GROUP BY ALL"
                                   ).fetchall()
                assert {c: Decimal(v).quantize(Decimal("0.01")) for c, v in rows} == {
                    c: Decimal(str(v)) for c, v in want.items()}, field
            else:
                total = con.execute(f"SELECT sum({field}) {current}").fetchall()[0][0]
                assert Decimal(str(total)) == Decimal(str(want)), field
        if e.get("min_ts"):
            ts = k.ts_field
            first_ts = con.execute(f"SELECT min({ts})::DATE::VARCHAR {current}").fetchall()[0][0]
            assert first_ts == e["min_ts"]
        customers = con.execute("SELECT count(DISTINCT customer_id) FROM identities"
                                ).fetchall()[0][0]
        assert customers == e["customers"]

        again = load(con, e, e["file"], tmp_path)
        assert (again.loaded, again.changed) == (0, 0)
        assert con.execute(f"SELECT count(*) {current}").fetchall()[0][0] == e["count"]
