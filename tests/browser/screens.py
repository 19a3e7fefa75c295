"""Screenshots of the browser tests go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def shot(page, name: str, *, full_page: bool = True) -> Path:
    """The page as ``tests/artifacts/<name>.png``: the whole page, or only the window (for
    what is at the top, such as an open menu of the header)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=full_page)
    return target
