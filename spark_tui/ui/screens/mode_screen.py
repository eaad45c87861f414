"""The base of the app's top-level screens (one per mode: dashboard, containers, services…)."""

from __future__ import annotations

from textual import events
from textual.message import Message

from spark_tui.ui.session import LiveScreen


class ModeScreen(LiveScreen):
    """A screen the app switches to and away from with one key, kept mounted in between.

    Textual restyles every widget of a screen each time its mode is switched back to (about
    50 ms of CPU for ours, half the key-to-screen budget). Nothing needs it: a theme or CSS
    change made meanwhile is applied by `App.switch_mode` itself, and class changes restyle
    their widgets when they happen, shown or not. Textual skips the restyle the same way when
    a screen is popped back to.
    """

    def post_message(self, message: Message) -> bool:
        if isinstance(message, events.ScreenResume):
            message.refresh_styles = False
        return super().post_message(message)
