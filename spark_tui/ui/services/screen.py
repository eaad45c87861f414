"""Services (key `s`): every probe — configured or discovered on a running container — with its
state, latency and recent checks, what it serves and its last problem. `r` checks the
selected service now, `a` all of them; enter opens the details."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spark_tui.ui.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from spark_tui.core.services import text as text
from spark_tui.models.probes import ProbeState, ProbeStatus
from spark_tui.ui.services.state import ProbesState
from spark_tui.ui.changes import Changed
from spark_tui.ui.screens.mode_screen import ModeScreen
from spark_tui.ui.widgets.key_bar import KeyBar
from spark_tui.ui.services.table import ProbeTable
from spark_tui.ui.widgets.status_bar import StatusBar
from spark_tui.ui.widgets.text import set_titles, update_text

if TYPE_CHECKING:
    from spark_tui.ui.services.controller import ProbesController

AGO_REFRESH_S = 10.0  # "last: HTTP 503 · 40s ago" moves in 10 s steps


class ServicesScreen(ModeScreen):
    BINDINGS = [
        Binding("r", "check", "Check now", id="services.check"),
        Binding("a", "check_all", "Check all", id="services.check_all", show=False),
        Binding("enter", "details", "Details", id="services.details", show=True),
    ]

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="services-panel", classes="panel"):
            yield ProbeTable(id="probe-table")
            yield Static(id="probe-detail")
        yield KeyBar()

    @property
    def controller(self) -> ProbesController:
        return self.session.probes

    _ready = False

    def on_mount(self) -> None:
        self.query_one(ProbeTable).focus()
        self._ready = True
        self._ago_timer = self.set_interval(AGO_REFRESH_S, self._refresh_ages, pause=True)
        self.show(self.controller.state, None)

    def on_screen_resume(self) -> None:
        self._ago_timer.resume()
        self.show(self.controller.state, None)

    def on_screen_suspend(self) -> None:
        self._ago_timer.pause()

    def _refresh_ages(self) -> None:
        self.show(self.controller.state, None)  # only cells whose text changed are redrawn

    # -- drawing ------------------------------------------------------------------------------

    def show_changes(self, changed: Changed) -> None:
        super().show_changes(changed)
        if changed & Changed.PROBES:
            self.show(self.controller.state, self.controller.state.take_dirty())

    def show(self, state: ProbesState, names: set[str] | None) -> None:
        """Draw what changed: `names` are the probes with news (None: everything)."""
        if not self._ready:
            return
        self.query_one(ProbeTable).show(state, names)
        panel = self.query_one("#services-panel")
        panel.set_class(not state.statuses, "-empty")  # nothing to list: the words take the room
        where = "demo services" if self.controller.demo else "configured and discovered"
        set_titles(panel, f"Services · {state.summary()}", where)
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self.query_one("#probe-detail", Static)
        status = self.selected()
        text = self._detail_text(status)
        changed = text != getattr(detail, "_shown_markup", None)
        update_text(detail, text)
        if changed and not self.controller.state.statuses:
            detail.refresh(layout=True)  # the empty-state words wrap to several lines: a new height

    def _detail_text(self, status: ProbeStatus | None) -> str:
        state = self.controller.state
        if status is None:
            if not state.reported and not self.controller.demo:
                return "[dim]Starting the probes…[/dim]"
            return (
                "[b]No services to probe.[/b] Start a container of a known service (Ollama, vLLM, TEI, NIM, Infinity, "
                "OmniParser, docling-serve, LiteLLM, Open WebUI, Postgres…) and it appears here, or add "
                "[b]\\[\\[probes]][/b] to the config file ($XDG_CONFIG_HOME/spark-tui/config.toml; see the README)."
            )
        from spark_tui.core.services.presets import PRESETS

        spec = status.spec
        preset = PRESETS.get(spec.kind)
        parts = [f"[b]{escape(spec.name)}[/b]", escape(preset.title if preset else spec.kind), escape(spec.display_url)]
        parts.append(f"every {spec.interval:g} s, timeout {spec.timeout:g} s")
        parts.append(escape(text.source(spec)))
        since = text.for_how_long(state.now() - status.state_since) if status.state_since is not None else ""
        if status.name in state.checking:
            parts.append("[$accent]checking now…[/]")
        elif status.state is not ProbeState.UNKNOWN and since:
            parts.append(f"{status.state.value} {since}")
        line = " · ".join(parts)
        problem = text.problem(status, state.now())
        if problem:
            role = {ProbeState.DOWN: "$error", ProbeState.DEGRADED: "$warning"}.get(status.state, "$foreground-muted")
            line += f"\n[{role}]{escape(problem)}[/]"
        return line

    # -- the selected probe -------------------------------------------------------------------

    def selected(self) -> ProbeStatus | None:
        name = self.query_one(ProbeTable).selected_name
        return self.controller.status(name) if name is not None else None

    @on(ProbeTable.Highlighted, "#probe-table")
    def _row_moved(self, event: ProbeTable.Highlighted) -> None:
        self._show_detail()

    @on(ProbeTable.Chosen, "#probe-table")
    def _row_chosen(self, event: ProbeTable.Chosen) -> None:
        self.action_details()

    def action_check(self) -> None:
        status = self.selected()
        if status is None:
            self.notify("No service selected: there is nothing to check yet.", severity="warning", timeout=4)
            return
        self.controller.check_now(status.name)
        self.show(self.controller.state, {status.name})

    def action_check_all(self) -> None:
        if not self.controller.state.statuses:
            self.notify("No services to check.", severity="warning", timeout=4)
            return
        self.controller.check_now(None)
        self.show(self.controller.state, None)

    def action_details(self) -> None:
        from spark_tui.ui.services.detail import ProbeDetailScreen

        status = self.selected()
        if status is not None:
            self.app.push_screen(ProbeDetailScreen(self.session, status.name))
