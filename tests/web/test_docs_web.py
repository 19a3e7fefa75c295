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


def test_the_workspace_engine_setting_is_documented() -> None:
    """The workspace's own setting (``workspaces.engine``) and each of its values, in
    docs/web.md and in docs/engine.md, which says how the server runs Spark."""
    from cxlens.web.workspaces import ENGINES

    web = DOC.read_text(encoding="utf-8")
    engine = (DOC.parent / "engine.md").read_text(encoding="utf-8")
    assert "### The workspace's engine" in web and "### The dashboard on Spark" in engine
    for value in ENGINES:
        assert f"`engine` = `{value}`" in web, value
    assert "503" in web and "EngineUnavailable" in engine
