"""Command palette entries for containers: open the screen, start or stop each profile by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ContainersCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        controller = getattr(app, "containers", None)
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Containers", "Every container by Compose project, and the profiles", partial(app.switch_mode, "containers")),
        ]
        if controller is None:
            return commands
        overview = controller.state.overview
        for project in overview.projects if overview else ():
            for profile in project.profiles:
                action = "down" if profile.state == "up" else "up"
                verb = "Stop" if action == "down" else "Start"
                commands.append(
                    (
                        f"{verb} profile {profile.name} ({project.name})",
                        f"{profile.summary}: {', '.join(profile.services)}",
                        partial(controller.toggle_profile, project.name, profile.name, action),
                    )
                )
        if controller.compose_running:
            commands.append(("Cancel the compose command", "Stop docker compose (containers it already started stay)", controller.cancel_compose))
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
