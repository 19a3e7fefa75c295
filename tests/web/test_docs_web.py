"""docs/web.md names every web setting and the extension points."""

from __future__ import annotations

from pathlib import Path

from cxlens.web.settings import SETTINGS

DOC = Path(__file__).resolve().parents[2] / "docs" / "web.md"


def test_every_web_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in SETTINGS:
        assert f"`{name}`" in text, name


def test_the_extension_points_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for needle in ("ROUTERS", "WorkspaceRole", "TokenScope", "NavItem", "csrf_field",
                   "warehouse.write"):
        assert needle in text, needle
