"""Command palette entries for containers: open the screen, start or stop each profile by name."""

from __future__ import annotations

from functools import partial

from spark_tui.palette import Command, ListedCommands


class ContainersCommands(ListedCommands):
    def _commands(self) -> list[Command]:
        app = self.app
        controller = getattr(app, "containers", None)
        commands: list[Command] = [
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
