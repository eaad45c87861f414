"""Command palette entries for the service probes: open the screen, check one or all now."""

from __future__ import annotations

from functools import partial

from spark_tui.palette import Command, ListedCommands


class ServicesCommands(ListedCommands):
    def _commands(self) -> list[Command]:
        app = self.app
        controller = getattr(app, "probes", None)
        commands: list[Command] = [
            ("Services", "Health of vLLM, Ollama, TEI… configured and discovered", partial(app.switch_mode, "services")),
        ]
        if controller is None or not controller.state.statuses:
            return commands
        commands.append(("Check every service now", f"{len(controller.state.statuses)} probes: {controller.state.summary()}", partial(controller.check_now, None)))
        for name, status in sorted(controller.state.statuses.items()):
            commands.append((f"Check {name} now", f"{status.state.value} · {status.spec.display_url}", partial(controller.check_now, name)))
        return commands
