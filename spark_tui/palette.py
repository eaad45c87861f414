"""Command palette entries built from the app's current state."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

INTERVALS = (0.5, 1.0, 2.0, 5.0)


Command = tuple[str, str, Callable[[], object]]  # (name, help, what it does)


class ListedCommands(Provider):
    """A palette provider whose entries are a list made afresh each time the palette asks."""

    def _commands(self) -> list[Command]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class SparkCommands(ListedCommands):
    def _commands(self) -> list[Command]:
        app = self.app
        commands = [
            ("Resume sampling" if app.paused else "Pause sampling", "Stop or restart reading the GPU and the system", app.action_toggle_pause),
            ("Show help", "Keys, and how to read GB10 memory", app.action_help),
            ("Dashboard", "GPU, memory and CPU", partial(app.switch_mode, "dashboard")),
        ]
        current = app.pollers["gpu"].interval
        for seconds in INTERVALS:
            if seconds != current:
                commands.append((f"Sample every {seconds:g} s", f"Refresh interval (now {current:g} s)", partial(app.set_interval_seconds, seconds)))
        return commands
