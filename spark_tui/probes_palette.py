"""Command palette entries for the service probes: open the screen, check one or all now."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ServicesCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        controller = getattr(app, "probes", None)
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Services", "Health of vLLM, Ollama, TEI… configured and discovered", partial(app.switch_mode, "services")),
        ]
        if controller is None or not controller.state.statuses:
            return commands
        commands.append(("Check every service now", f"{len(controller.state.statuses)} probes: {controller.state.summary()}", partial(controller.check_now, None)))
        for name, status in sorted(controller.state.statuses.items()):
            commands.append((f"Check {name} now", f"{status.state.value} · {status.spec.display_url}", partial(controller.check_now, name)))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
