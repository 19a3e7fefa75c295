"""The docs describe what the code defines."""

from __future__ import annotations

from pathlib import Path

from cxlens.config import SETTINGS
from cxlens.schema import KINDS, LINEAGE

DOCS = Path(__file__).resolve().parents[1] / "docs"
README = Path(__file__).resolve().parents[1] / "README.md"


def test_data_model_names_every_table_and_field() -> None:
    text = (DOCS / "data-model.md").read_text(encoding="utf-8")
    for k in KINDS.values():
        assert f"`{k.table}`" in text, k.table
        for f in k.fields:
            assert f"`{f.name}`" in text, (k.name, f.name)
    for name, _, _ in LINEAGE:
        assert f"`{name}`" in text, name


def test_every_setting_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    for name in SETTINGS:
        assert name in text, name


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
