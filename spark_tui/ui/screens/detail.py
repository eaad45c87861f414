"""Base of the full screens opened over the containers view (logs, inspect): they keep the
app's status bar, with the time of the latest machine sample."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from spark_tui.ui.widgets.status_bar import StatusBar


def show_sampled_at(screen: Screen, machine: Any) -> None:
    sampled = [s.taken_at for s in (machine.gpu, machine.system) if s is not None]
    if sampled:
        for bar in screen.query(StatusBar):
            bar.sampled_at = max(sampled)


class DetailScreen(Screen):
    def on_screen_resume(self) -> None:
        refresh = getattr(self.app, "refresh_status_bar", None)
        if refresh is not None:
            refresh()
        machine = getattr(self.app, "machine", None)
        if machine is not None:
            self.show_sampled_at(machine)

    def show_sampled_at(self, machine: Any) -> None:
        show_sampled_at(self, machine)
