"""Where things live: the stylesheet (installed or in a checkout) and XDG directories."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """styles/ ships inside the wheel as spark_tui/styles; in a checkout it sits beside the package."""
    installed = PACKAGE_DIR / "styles"
    return installed if installed.is_dir() else PACKAGE_DIR.parent / "styles"


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "spark-tui"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "spark-tui"
