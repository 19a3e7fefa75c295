"""Settings: where workspaces live. Declared once here, each with its environment variable."""

from __future__ import annotations

from pathlib import Path

# Folder of the workspace when neither --workspace nor $CXLENS_WORKSPACE is given.
DEFAULT_WORKSPACE = Path("cxlens-data")

SETTINGS = {
    "CXLENS_WORKSPACE": "Folder of the workspace used when --workspace is not given "
                        "(default ./cxlens-data). One workspace holds one company's data.",
    "CXLENS_LAKE": "Root folder of the lakes (Parquet mirrors for Spark): a workspace's lake is "
                   "$CXLENS_LAKE/<workspace folder name>; default <workspace>/lake. Setting it "
                   "also makes every batch keep the lake current (docs/engine.md).",
    "CXLENS_SPARK": "The Spark that --engine spark uses, and the default engine when set: "
                    "local[N], spark://host:port (standalone master) or sc://host:port "
                    "(Spark Connect); see docs/engine.md.",
    "CXLENS_SPARK_DRIVER_HOST": "Address a standalone cluster's executors reach this process "
                                "at (default 127.0.0.1: cluster on this machine only).",
    "CXLENS_SPARK_MEMORY": "Driver memory of a local Spark session (local[N]), in Spark's "
                           "notation: 4g, 2048m (default Spark's 1g).",
    "CXLENS_SPARK_TIMEOUT": "Seconds a query may run on Spark before it is cancelled with a "
                            "message naming this setting (default 1800; 0 for no limit).",
}
