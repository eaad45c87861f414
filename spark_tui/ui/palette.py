"""Command palette providers, one per screen family, each built from the app's current state.

Textual makes a provider with the screen and hands it `self.app`; the providers read what
they need through `PaletteHost` (the app's shape, without importing the app).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from spark_tui.ui.bench.controller import BenchController
    from spark_tui.ui.containers.controller import ContainersController
    from spark_tui.ui.services.controller import ProbesController

INTERVALS = (0.5, 1.0, 2.0, 5.0)

Command = tuple[str, str, Callable[[], object]]  # (name, help, what it does)


class PaletteHost(Protocol):
    """What the providers use of the app."""

    paused: bool
    interval: float
    containers: ContainersController
    probes: ProbesController
    bench: BenchController

    def action_toggle_pause(self) -> None: ...
    def action_help(self) -> None: ...
    def switch_mode(self, mode: str) -> object: ...
    def set_interval_seconds(self, seconds: float) -> None: ...
    def open_bench(self, preset: str, url: str, *, name: str | None = None) -> None: ...


class ListedCommands(Provider):
    """A palette provider whose entries are a list made afresh each time the palette asks.
    A query matches an entry's title or its help text, so "interval" finds "Refresh interval…"."""

    @property
    def host(self) -> PaletteHost:
        return cast(PaletteHost, self.app)

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
            elif matcher.match(help_text) > 0:
                yield Hit(matcher.match(help_text) * 0.5, name, callback, help=help_text)


class SparkCommands(ListedCommands):
    def _commands(self) -> list[Command]:
        app = self.host
        commands: list[Command] = [
            ("Resume sampling" if app.paused else "Pause sampling", "Stop or restart reading the GPU and the system", app.action_toggle_pause),
            ("Show help", "Keys, and how to read GB10 memory", app.action_help),
            ("Dashboard", "GPU, memory and CPU", partial(app.switch_mode, "dashboard")),
        ]
        current = app.interval
        for seconds in INTERVALS:
            if seconds != current:
                commands.append((f"Refresh interval: sample every {seconds:g} s", f"How often the GPU and the system are read (now every {current:g} s)", partial(app.set_interval_seconds, seconds)))
        return commands


class ContainersCommands(ListedCommands):
    """Open the containers screen, start or stop each profile by name."""

    def _commands(self) -> list[Command]:
        app = self.host
        controller = app.containers
        commands: list[Command] = [
            ("Containers", "Every container by Compose project, and the profiles", partial(app.switch_mode, "containers")),
        ]
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


class ServicesCommands(ListedCommands):
    """Open the services screen, check one or all now."""

    def _commands(self) -> list[Command]:
        app = self.host
        controller = app.probes
        commands: list[Command] = [
            ("Services", "Health of vLLM, Ollama, TEI… configured and discovered", partial(app.switch_mode, "services")),
        ]
        if not controller.state.statuses:
            return commands
        commands.append(("Check every service now", f"{len(controller.state.statuses)} probes: {controller.state.summary()}", partial(controller.check_now, None)))
        for name, status in sorted(controller.state.statuses.items()):
            commands.append((f"Check {name} now", f"{status.state.value} · {status.spec.display_url}", partial(controller.check_now, name)))
        return commands


class BenchCommands(ListedCommands):
    """Benchmark a known service, cancel the run, the saved runs."""

    def _commands(self) -> list[Command]:
        app = self.host
        controller = app.bench
        commands: list[Command] = [
            ("Benchmark", "Throughput and latency of an embedding or parse server", partial(app.switch_mode, "bench")),
            ("Saved benchmark runs", "Open one, compare two", partial(app.switch_mode, "history")),
        ]
        if controller.running:
            commands.append(("Cancel the benchmark", "Stop now; what was measured is kept", controller.cancel))
        else:
            for target in controller.targets():
                commands.append((f"Benchmark {target.name}", target.label, partial(app.open_bench, target.preset, target.url, name=target.name)))
        return commands


PROVIDERS = {SparkCommands, ContainersCommands, ServicesCommands, BenchCommands}
