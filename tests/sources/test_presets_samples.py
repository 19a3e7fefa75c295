"""Every shipped preset parses, maps onto canonical fields, and matches its sample export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from cxlens.ingest.mapping import column_matches
from cxlens.schema import KINDS
from cxlens.sources.readers import sniff_title_lines

PRESETS = Path(__file__).parents[2] / "src" / "cxlens" / "sources" / "presets"
NAMES = sorted(p.stem for p in PRESETS.glob("*.yml"))
DOC_KEYS = {"name", "description", "kind", "source", "read", "country", "columns",
            "properties", "key"}
RULE_KEYS = {"column", "value", "format", "decimal", "map"}
REQUIRED = {
    "hubspot_contacts", "hubspot_deals", "shopify_orders", "ga4_events", "meta_ads",
    "google_ads", "typeform_responses", "google_forms_responses", "zendesk_tickets",
    "google_reviews", "trustpilot_reviews", "pos_sales", "mailchimp_activity",
    "enps_responses", "hr_employees",
    # issue 9: presets made from real exports' headers
    "meta_ads_period", "linkedin_ads", "microsoft_ads", "tiktok_ads", "ga4_transactions",
    "stripe_payments", "woocommerce_orders", "klaviyo_profiles", "mailchimp_audience",
    "freshdesk_tickets", "intercom_conversations", "typeform_nps", "google_forms_nps",
    "surveymonkey_nps", "webropol_nps", "op_statement", "nordea_fi", "nordea_se",
    "s_pankki_statement", "handelsbanken_statement", "seb_statement", "visma_sales_invoices",
    "procountor_sales_invoices", "fortnox_invoices", "mycashflow_orders", "klarna_settlement",
}


def load(name: str) -> dict:
    return yaml.safe_load((PRESETS / f"{name}.yml").read_text(encoding="utf-8"))


def sample_of(name: str) -> Path:
    found = sorted((PRESETS / "samples").glob(f"{name}.*"))
    assert len(found) == 1, f"preset {name}: expected one sample, found {found}"
    return found[0]


def sample_rows(path: Path, preset: dict) -> tuple[list[str], int]:
    """Header and number of data rows, read with the preset's reader hints."""
    read = preset.get("read") or {}
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True)[read.get("sheet", "Sheet1")]
        rows = list(ws.iter_rows(values_only=True))
        return [str(c) for c in rows[0]], len(rows) - 1
    if path.suffix in (".ndjson", ".jsonl"):
        objs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
        keys: list[str] = []
        for o in objs:
            keys += [k for k in o if k not in keys]
        return keys, len(objs)
    enc = read.get("encoding", "utf-8")
    text = path.read_bytes().decode("utf-16" if enc == "utf-16" else enc)
    delimiter = read.get("delimiter", ",")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    skip = sniff_title_lines(text.lstrip("\ufeff"), delimiter)  # report titles, "#" lines
    return rows[skip], len(rows) - 1 - skip


def test_the_required_presets_exist() -> None:
    assert set(NAMES) >= REQUIRED


@pytest.mark.parametrize("name", NAMES)
def test_preset_is_well_formed(name: str) -> None:
    p = load(name)
    assert set(p) <= DOC_KEYS, f"undocumented keys {set(p) - DOC_KEYS}"
    assert p["name"] == name
    assert p.get("description")
    assert p["kind"] in KINDS
    fields = KINDS[p["kind"]].field_names
    for field, rule in p["columns"].items():
        assert field in fields, f"{field} is not a canonical field of {p['kind']}"
        if isinstance(rule, dict):
            assert set(rule) <= RULE_KEYS
            assert ("column" in rule) != ("value" in rule)
    for req in KINDS[p["kind"]].required:
        assert req in p["columns"], f"required field {req} not mapped"
    assert p.get("properties", "rest") in ("rest", "none")
    for f in p.get("key", []):  # the natural key of a record (see docs/mapping.md)
        assert f in p["columns"], f"key field {f} is not mapped"


@pytest.mark.parametrize("name", NAMES)
def test_preset_parses_with_the_ingest_engine(name: str) -> None:
    mapping = pytest.importorskip("cxlens.ingest.mapping")
    m = mapping.load_preset(name)
    assert m.kind == load(name)["kind"]


@pytest.mark.parametrize("name", NAMES)
def test_sample_has_every_named_column(name: str) -> None:
    p = load(name)
    header, n = sample_rows(sample_of(name), p)
    assert 8 <= n <= 30, f"sample of {name} has {n} rows"
    for field, rule in p["columns"].items():
        col = rule if isinstance(rule, str) else rule.get("column")
        if col:
            assert any(column_matches(col, h) for h in header), \
                f"{name}: {field} -> {col!r} not in the sample's header"


def test_one_sample_is_nordic_style() -> None:
    p = load("pos_sales")
    assert p["read"] == {"delimiter": ";", "encoding": "cp1252"}
    raw = sample_of("pos_sales").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert "Päivämäärä" in text and ";" in text
    row = next(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert "," in row["Summa"] and row["Päivämäärä"][2] == "."


def test_every_preset_is_listed_in_the_docs() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "mapping.md").read_text(encoding="utf-8")
    missing = [n for n in NAMES if f"| `{n}` |" not in doc]
    assert not missing, f"add {missing} to the table of presets in docs/mapping.md"
