"""Settings: where workspaces live. Declared once here, each with its environment variable."""

from __future__ import annotations

from pathlib import Path

# Folder of the workspace when neither --workspace nor $CXLENS_WORKSPACE is given.
DEFAULT_WORKSPACE = Path("cxlens-data")

SETTINGS = {
    "CXLENS_WORKSPACE": "Folder of the workspace used when --workspace is not given "
                        "(default ./cxlens-data). One workspace holds one company's data.",
}
