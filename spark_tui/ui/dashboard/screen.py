"""The main screen: every GPU, memory read right, CPU and I/O; on a large terminal also whether
each service answers and the Compose profiles, with their toggle."""

from __future__ import annotations

import gc

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from spark_tui.core.machine.state import MachineState
from spark_tui.ui.screens.mode_screen import ModeScreen
from spark_tui.ui.dashboard.gpu_panel import GpuPanel
from spark_tui.ui.inference.panel import InferencePanel
from spark_tui.ui.widgets.key_bar import KeyBar
from spark_tui.ui.dashboard.memory_panel import MemoryPanel
from spark_tui.ui.containers.profiles_panel import ProfilesPanel
from spark_tui.ui.services.panel import ServicesPanel
from spark_tui.ui.changes import Changed
from spark_tui.ui.widgets.status_bar import StatusBar
from spark_tui.ui.dashboard.system_panel import SystemPanel
from spark_tui.ui.widgets.text import set_display, update_text


def settle_garbage_collector() -> None:
    """The app, its widgets, styles and caches live until it quits, yet every full collection
    walked all of them again (about 45 ms every half minute at 160x48, a tenth of the idle CPU
    budget): move what exists now out of the collector's sight (collecting first, so start-up
    garbage does not stay forever; what reference counting frees later still goes). The youngest
    generation, collected at Python's default of 700 new objects, came about once a second at
    half a millisecond each; at 10 000, every 15 s or so."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *gc.get_threshold()[1:])


class DashboardScreen(ModeScreen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (130, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    ROOMY_FROM = 42  # rows from which the side column of a wide terminal also holds the Compose profiles

    def compose(self) -> ComposeResult:
        self._status = StatusBar()
        self._gpus = VerticalScroll(id="gpus")
        self._gpu_problem = Static("Waiting for the first GPU sample…", id="gpu-problem", classes="panel")
        self._gpu_panels: dict[int, GpuPanel] = {}
        self._froze = False
        self._memory = MemoryPanel()
        self._system = SystemPanel()
        yield self._status
        self._inference = InferencePanel(self.session.inference)
        with self._gpus:
            yield self._gpu_problem
            yield self._inference
        with Vertical(id="side"):
            yield self._memory
            yield self._system
            yield ServicesPanel(self.session.probes.state, id="dashboard-services")
            yield ProfilesPanel(self.session.containers.state, id="dashboard-profiles")
        yield KeyBar()

    def on_resize(self) -> None:
        self.set_class(self.size.height >= self.ROOMY_FROM, "-roomy")

    def on_screen_resume(self) -> None:
        self.show_machine(self.session.machine, gpu=True, system=True)
        self._show_inference()

    def _show_inference(self) -> None:
        """The inference panel, on the GPU graphs' time axis; it hides itself while no server has figures."""
        machine = self.session.machine
        report = machine.gpu
        powers = [gpu.power_w for gpu in report.gpus] if report is not None else []
        self._inference.show(powers, report.taken_at if report is not None else None, machine.history)

    def show_changes(self, changed: Changed) -> None:
        if changed & Changed.MACHINE:
            self.show_machine(self.session.machine, gpu=bool(changed & Changed.GPU), system=bool(changed & Changed.SYSTEM))
        if changed & Changed.PROBES:
            self.query_one(ServicesPanel).show(self.session.probes.state)
        if changed & (Changed.INFERENCE | Changed.GPU):
            self._show_inference()
        self.query_one(ProfilesPanel).show_changes(changed)

    def show_machine(self, state: MachineState, *, gpu: bool = False, system: bool = False) -> None:
        if gpu and state.gpu is not None:
            self._show_gpus(state)
        if state.memory is not None and (state.gpu is not None or state.system is not None):
            now = max(state.gpu.taken_at if state.gpu else 0, state.system.taken_at if state.system else 0)
            self._memory.show(state.memory, now, state.history)
        if system and state.system is not None:
            self._system.show(state.system, state.history)
            self._status.hostname = state.system.hostname
        sampled = [s.taken_at for s in (state.gpu, state.system) if s is not None]
        if sampled:
            self._status.sampled_at = max(sampled)
            if not self._froze and not self.app.is_headless:  # tests run many apps in one process
                self._froze = True
                self.call_after_refresh(settle_garbage_collector)  # once the first sample is on screen

    def _show_gpus(self, state: MachineState) -> None:
        report = state.gpu
        assert report is not None
        problem = self._gpu_problem
        if not report.gpus:
            update_text(problem, f"[b]GPU[/b]  {report.problem or 'no GPU found'}\n[dim]Memory, CPU and everything else still work.[/dim]")
        elif report.problem:
            update_text(problem, f"[$warning]{report.problem}[/]")
        set_display(problem, bool(report.problem) or not report.gpus)
        self.set_class(not report.gpus, "-no-gpu")
        panels = self._gpu_panels
        for index in set(panels) - {g.index for g in report.gpus}:
            panels.pop(index).remove()
        unified = bool(state.memory and state.memory.unified)
        for gpu in report.gpus:
            panel = panels.get(gpu.index)
            if panel is None:
                panel = panels[gpu.index] = GpuPanel(gpu.index)
                self._gpus.mount(panel, before=self._inference)  # the inference panel stays below the GPUs
            panel.show(gpu, report, state.history, unified)
