"""Containers (key `c`): every container by Compose project, live from the engine's events, with
start/stop/restart/logs/inspect on the selected one, and the Compose profiles panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from spark_tui.core import format as fmt
from spark_tui.ui.markup import escape
from spark_tui.ui.containers.state import ContainersState
from spark_tui.models.containers import Container
from spark_tui.ui.screens.mode_screen import ModeScreen
from spark_tui.ui.containers.table import ContainerTable, ports_detail
from spark_tui.ui.widgets.key_bar import KeyBar
from spark_tui.ui.containers.profiles_panel import ProfilesPanel
from spark_tui.ui.changes import Changed
from spark_tui.ui.widgets.status_bar import StatusBar
from spark_tui.ui.widgets.text import set_display, set_titles, update_text

if TYPE_CHECKING:
    from spark_tui.ui.containers.controller import ContainersController

CONTAINER_ACTIONS = ("start", "stop", "restart", "logs", "inspect")


def retry_words(seconds: float | None) -> str:
    """The countdown to the next attempt to reach Docker."""
    if seconds is None:
        return "retrying by itself"
    if seconds < 0.5:
        return "retrying now…"
    return f"retrying by itself in {seconds:.0f} s"


class ContainersScreen(ModeScreen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (130, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    BINDINGS = [
        Binding("u", "start", "Start", id="containers.start"),
        Binding("x", "stop", "Stop", id="containers.stop"),
        Binding("r", "restart", "Restart", id="containers.restart"),
        Binding("l", "logs", "Logs", id="containers.logs"),
        Binding("i", "inspect", "Inspect", id="containers.inspect"),
        Binding("t", "retry", "Retry Docker now", id="containers.retry", tooltip="Docker is unreachable: try it now, not at the end of the wait"),
    ]

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static(id="engine-banner")
        with Vertical(id="containers-panel", classes="panel"):
            yield ContainerTable(id="container-table")
            yield Static(id="container-detail")
        yield ProfilesPanel(self.state, id="profiles-panel")
        yield KeyBar()

    @property
    def controller(self) -> ContainersController:
        return self.session.containers

    @property
    def state(self) -> ContainersState:
        return self.controller.state

    _ready = False

    def on_mount(self) -> None:
        self.query_one("#engine-banner", Static).display = False
        self.query_one(ContainerTable).focus()
        self._ready = True
        self._show_everything()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show_everything())

    def on_screen_resume(self) -> None:
        self.controller.set_visible(True)
        self._show_everything()

    def _show_everything(self) -> None:
        if self._ready:
            self.show_changes(Changed.CONTAINERS | Changed.STATS | Changed.PROFILES | Changed.JOB)

    def on_screen_suspend(self) -> None:
        self.controller.set_visible(False)

    # -- drawing ------------------------------------------------------------------------------

    def show_changes(self, changed: Changed) -> None:
        super().show_changes(changed)
        if not self._ready:
            return
        state = self.state
        if changed & (Changed.CONTAINERS | Changed.STATS):
            self.query_one(ContainerTable).show(state)
            self._show_detail()
        if changed & (Changed.CONTAINERS | Changed.PROFILES | Changed.TICK):
            self._show_engine(state)
        self.query_one(ProfilesPanel).show_changes(changed)
        self._binding_check()

    def _show_engine(self, state: ContainersState) -> None:
        banner = self.query_one("#engine-banner", Static)
        engine = state.engine
        panel = self.query_one("#containers-panel")
        total = len(state.containers)
        running = sum(1 for c in state.containers.values() if c.state == "running")
        if engine is None:
            update_text(banner, "Connecting to Docker…")
        elif not engine.up or (state.listing is not None and not state.listing.complete):
            text = f"[b]Docker unreachable[/b]  {escape(engine.reason or engine.message)}"
            if engine.hint:
                text += f"\n[b]What to do:[/b] {escape(engine.hint)}"
            text += f"\n[dim]{retry_words(state.retry_in())} · t retries now · {'showing the last known containers' if total else 'nothing to show yet'}[/dim]"
            update_text(banner, text)
        set_display(banner, engine is None or not engine.up or (state.listing is not None and not state.listing.complete))
        banner.set_class(engine is not None and not engine.up, "-down")
        where = engine.message if engine is not None and engine.up else (engine.host if engine else "")
        set_titles(panel, f"Containers · {running} running of {total}", escape(where))

    def _show_detail(self) -> None:
        detail = self.query_one("#container-detail", Static)
        container = self.query_one(ContainerTable).selected()
        update_text(detail, self._detail_text(container))

    def _detail_text(self, container: Container | None) -> str:
        state = self.state
        down = state.engine_problem is not None
        if container is None:
            if state.listing is None:
                return "[dim]Waiting for the container list…[/dim]"
            if down and not state.containers:
                return "[dim]Docker is unreachable, so no containers are known yet: they appear once it answers (see above).[/dim]"
            if down:
                return "[dim]Docker is unreachable: these are the last known containers.[/dim]"
            if not state.containers:
                return "[dim]No containers. Start one (docker run …, docker compose up -d) and it appears here at once.[/dim]"
            return "[dim]A project: choose a container below it.[/dim]"
        parts = [f"[b]{escape(container.name)}[/b]", container.short_id, escape(container.image), escape(container.status)]
        if container.ports:
            parts.append(escape(ports_detail(container.ports)))
        stats = state.stats.get(container.id)
        if stats is not None and stats.memory_limit:
            parts.append(f"limit {fmt.size(stats.memory_limit)}")
        if stats is not None and stats.memory_peak:
            parts.append(f"peak {fmt.size(stats.memory_peak)}")
        if container.gpu:
            parts.append("[b]asks for a GPU[/b]")
        if container.restart_count:
            parts.append(f"{container.restart_count} restarts")
        text = " · ".join(parts)
        if down:
            text = "[dim]last known:[/dim] " + text
        if container.health == "unhealthy" and container.health_output:
            text += f"\n[$error]health check:[/] {escape(container.health_output.splitlines()[-1][:200])}"
        return text

    # -- the selected container and what applies to it -----------------------------------------

    def selected(self) -> Container | None:
        return self.query_one(ContainerTable).selected()

    @on(ContainerTable.Highlighted, "#container-table")
    def _row_moved(self, event: ContainerTable.Highlighted) -> None:
        self._show_detail()
        self._binding_check()

    @on(ContainerTable.Chosen, "#container-table")
    def _row_chosen(self, event: ContainerTable.Chosen) -> None:
        if self.check_action("logs", ()):  # enter is `l`, greyed alike (Docker down, an action under way)
            self.action_logs()

    def _binding_check(self) -> None:
        """Footer keys follow the selected container's state; refreshed only when that changes."""
        container = self.selected()
        engine = self.state.engine
        key = (
            container.id if container else None,
            container.state if container else None,
            self.state.busy.get(container.id) if container else None,
            engine.up if engine else None,
        )
        if key != getattr(self, "_bindings_for", None):
            self._bindings_for = key
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            return self.state.retry_at is not None  # shown only while Docker is down
        if action not in CONTAINER_ACTIONS:
            return True
        if not self.query_one(ContainerTable).has_focus:
            return None  # the selection they would act on is not where the user is (the profiles panel has the keys)
        container = self.selected()
        if container is None or container.id in self.state.busy:
            return None
        engine = self.state.engine
        if engine is None or not engine.up:
            return None
        applies = {
            "start": container.can_start,
            "stop": container.can_stop,
            "restart": container.can_restart,
            "logs": True,
            "inspect": True,
        }[action]
        return True if applies else None

    def action_retry(self) -> None:
        self.controller.retry_now()

    def action_start(self) -> None:
        if (container := self.selected()) is not None:
            self.controller.request("start", container)

    def action_stop(self) -> None:
        if (container := self.selected()) is not None:
            self.controller.request("stop", container)

    def action_restart(self) -> None:
        if (container := self.selected()) is not None:
            self.controller.request("restart", container)

    def action_logs(self) -> None:
        from spark_tui.ui.containers.logs import LogsScreen

        if (container := self.selected()) is not None:
            self.app.push_screen(LogsScreen(self.session, container, self.controller.backend, self.session.config.docker.log_tail))

    def action_inspect(self) -> None:
        from spark_tui.ui.containers.inspect import InspectScreen

        if (container := self.selected()) is not None:
            self.app.push_screen(InspectScreen(self.session, container, self.controller.backend))
