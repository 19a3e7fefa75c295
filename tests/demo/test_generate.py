"""The demo generator: deterministic, complete, and in the formats its presets describe."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
import yaml

from cxlens.demo import FILES, generate
from cxlens.demo.truths import TRUTH_KEYS
from cxlens.ingest.mapping import column_matches

PRESETS = Path(__file__).parents[2] / "src" / "cxlens" / "sources" / "presets"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("demo_s")
    stages: list[tuple[str, float]] = []
    manifest = generate(out, "S", seed=7, progress=lambda s, f: stages.append((s, f)))
    return out, manifest, stages


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())}


def header(path: Path, preset: dict) -> list[str]:
    """The header of a demo file, read the way its preset says."""
    read = preset.get("read") or {}
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True)[read.get("sheet", "Sheet1")]
        return [str(c) for c in next(ws.iter_rows(values_only=True))]
    if path.suffix == ".ndjson":
        keys: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines()[:2000]:
            keys += [k for k in json.loads(line) if k not in keys]
        return keys
    enc = read.get("encoding", "utf-8")
    text = path.read_bytes().decode("utf-16" if enc == "utf-16" else enc)
    return next(csv.reader(io.StringIO(text), delimiter=read.get("delimiter", ",")))


def test_deterministic_for_a_seed(demo, tmp_path: Path) -> None:
    out, _, _ = demo
    generate(tmp_path, "S", seed=7)
    assert _digest(out) == _digest(tmp_path)


def test_other_seed_differs(demo, tmp_path: Path) -> None:
    out, _, _ = demo
    generate(tmp_path, "S", seed=8)
    assert (out / "ga4_events.csv").read_bytes() != (tmp_path / "ga4_events.csv").read_bytes()


def test_manifest_lists_existing_files_in_ingest_order(demo) -> None:
    out, manifest, stages = demo
    assert [(f.path.name, f.kind, f.preset) for f in manifest.files] == list(FILES)
    assert all(f.path.is_file() and f.path.stat().st_size > 0 for f in manifest.files)
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert data["seed"] == 7 and data["size"] == "S"
    assert [f["path"] for f in data["files"]] == [f.path.name for f in manifest.files]
    for f in data["files"]:
        assert (out / f["path"]).stat().st_size == f["bytes"]
    assert stages[-1] == ("done", 1.0)
    kinds = [f.kind for f in manifest.files]
    assert kinds.index("employees") < kinds.index("feedback")
    assert kinds.index("customers") < kinds.index("orders") < kinds.index("events")


def test_counts_match_files(demo) -> None:
    _out, manifest, _ = demo
    counts = manifest.truths["counts"]
    for f in manifest.files:
        rows = counts["files"][f.path.name]
        if f.path.suffix == ".csv":
            preset = yaml.safe_load((PRESETS / f"{f.preset}.yml").read_text("utf-8"))
            read = preset.get("read") or {}
            enc = read.get("encoding", "utf-8")
            text = f.path.read_bytes().decode("utf-16" if enc == "utf-16" else enc)
            n = sum(1 for _ in csv.reader(io.StringIO(text),
                                          delimiter=read.get("delimiter", ","))) - 1
        elif f.path.suffix == ".ndjson":
            n = len(f.path.read_text(encoding="utf-8").splitlines())
        else:
            from openpyxl import load_workbook

            n = load_workbook(f.path, read_only=True).active.max_row - 1
        assert n == rows, f.path.name
    ga4 = counts["events_by_type_ga4"]
    assert counts["files"]["ga4_events.csv"] == sum(ga4.values()) + 2  # + the 2 bad rows
    assert 12_000 <= counts["events"] <= 40_000
    orders = counts["orders"]
    assert orders["web"] == ga4["purchase"]
    assert counts["files"]["pos_sales.csv"] == orders["store"] + 4  # 3 bad + 1 duplicate


def test_truths_have_the_documented_keys(demo) -> None:
    out, manifest, _ = demo
    truths = json.loads((out / "truths.json").read_text(encoding="utf-8"))
    assert truths == json.loads(json.dumps(manifest.truths))
    assert set(TRUTH_KEYS) <= set(truths)
    docs = (Path(__file__).parents[2] / "docs" / "demo.md").read_text(encoding="utf-8")
    for key in TRUTH_KEYS:
        assert f"`{key}`" in docs, f"docs/demo.md does not describe {key}"
    ident = truths["identity"]
    assert ident["persons_total"] <= ident["expected_customers_after_resolution"]
    assert truths["bad_rows"]["total_quarantine"] == 6
    assert truths["bad_rows"]["total_duplicates"] == 1
    assert set(truths["touchpoint_lifts"]["causal"]) == {"newsletter_click",
                                                         "support_ticket_resolved"}
    assert truths["people_link"]["realised_enps_low_team"] < truths["people_link"][
        "realised_enps_other_teams"]


def test_files_have_the_headers_their_presets_name(demo) -> None:
    _, manifest, _ = demo
    for f in manifest.files:
        preset = yaml.safe_load((PRESETS / f"{f.preset}.yml").read_text(encoding="utf-8"))
        assert preset["kind"] == f.kind
        cols = header(f.path, preset)
        for field, rule in preset["columns"].items():
            name = rule if isinstance(rule, str) else rule.get("column")
            if name:
                assert any(column_matches(name, c) for c in cols), \
                    f"{f.path.name}: {field} -> {name!r} not in header"
