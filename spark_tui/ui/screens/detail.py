"""Base of the full screens opened over the containers view (logs, inspect): they keep the
app's status bar, with the time of the latest machine sample."""

from __future__ import annotations

from spark_tui.ui.session import LiveScreen


class DetailScreen(LiveScreen):
    """A LiveScreen whose only live part is its status bar (LiveScreen keeps it current)."""
