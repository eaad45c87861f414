"""SparkApp: screens, bindings, commands and the pollers that feed them. Kept thin."""

from __future__ import annotations

from functools import partial

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.theme import BUILTIN_THEMES
from textual.worker import Worker, WorkerState

from spark_tui.palette import SparkCommands
from spark_tui.config import Config
from spark_tui.machine_state import MachineState
from spark_tui.messages import GpuSampled, SourceFailed, SystemSampled
from spark_tui.paths import styles_dir
from spark_tui.polling import Poller
from spark_tui.screens.dashboard import DashboardScreen
from spark_tui.screens.help import HelpScreen
from spark_tui.sources.machine import MachineSources, machine_sources
from spark_tui.widgets.status_bar import StatusBar

SOURCE_LABELS = {"gpu": "GPU (NVML)", "system": "system"}
REDRAW_COALESCE_S = 0.05


def validate_theme(name: str) -> str | None:
    if name in BUILTIN_THEMES:
        return None
    return f"unknown theme {name!r} (dashboard.theme); choose one of: {', '.join(sorted(BUILTIN_THEMES))}"


class SparkApp(App[int]):
    CSS_PATH = str(styles_dir() / "app.tcss")
    TITLE = "spark-tui"
    MODES = {"dashboard": DashboardScreen}
    DEFAULT_MODE = "dashboard"
    COMMANDS = App.COMMANDS | {SparkCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("p", "toggle_pause", "Pause", id="pause"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("d", "switch_mode('dashboard')", "Dashboard", id="dashboard"),
    ]

    def __init__(self, config: Config, sources: MachineSources, *, start_polling: bool = True) -> None:
        super().__init__()
        self.config = config
        self.sources = sources
        self.start_polling = start_polling
        settings = config.dashboard
        self.machine = MachineState(span=settings.history_seconds, interval=settings.interval)
        self.pollers: dict[str, Poller] = {
            "gpu": self._poller("gpu", sources.gpu.sample, GpuSampled),
            "system": self._poller("system", sources.system.sample, SystemSampled),
        }
        self._failing: set[str] = set()
        self._redraw_pending: set[str] = set()

    def _poller(self, name: str, sample, message_type) -> Poller:
        return Poller(
            name,
            sample,
            deliver=lambda value: self.post_message(message_type(value)),
            on_error=partial(self._report_failure, name),
            interval=self.config.dashboard.interval,
        )

    def _report_failure(self, source: str, error: BaseException) -> None:
        self.post_message(SourceFailed(source, error))

    # -- lifecycle -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.theme = self.config.dashboard.theme
        if self.start_polling:
            for name, poller in self.pollers.items():
                self.run_worker(poller.run(), name=f"poll-{name}", group="pollers", exit_on_error=False)

    def on_unmount(self) -> None:
        self.sources.close()

    # -- samples arrive ------------------------------------------------------------------------

    @on(GpuSampled)
    def _gpu_sampled(self, message: GpuSampled) -> None:
        self.machine.record_gpu(message.report)
        self._recovered("gpu")
        self._schedule_redraw("gpu")

    @on(SystemSampled)
    def _system_sampled(self, message: SystemSampled) -> None:
        self.machine.record_system(message.sample)
        self._recovered("system")
        self._schedule_redraw("system")

    def _schedule_redraw(self, source: str) -> None:
        """Samples that arrive together (the pollers run in step) are drawn in one frame:
        every panel changes each second, so each frame repaints nearly the whole screen."""
        if not self._redraw_pending:
            self.set_timer(REDRAW_COALESCE_S, self._redraw)
        self._redraw_pending.add(source)

    def _redraw(self) -> None:
        pending, self._redraw_pending = self._redraw_pending, set()
        if self.screen_stack and isinstance(self.screen, DashboardScreen):
            self.screen.show_machine(self.machine, gpu="gpu" in pending, system="system" in pending)

    @on(SourceFailed)
    def _source_failed(self, message: SourceFailed) -> None:
        label = SOURCE_LABELS.get(message.source, message.source)
        if message.source not in self._failing:
            self._failing.add(message.source)
            self.notify(f"{label} sampling failed: {message.error}. Retrying with backoff.", severity="error", timeout=8)
        self.refresh_status_bar()

    def _recovered(self, source: str) -> None:
        if source in self._failing:
            self._failing.discard(source)
            self.notify(f"{SOURCE_LABELS.get(source, source)} sampling recovered.", timeout=4)
            self.refresh_status_bar()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(f"{event.worker.name} stopped: {event.worker.error}", severity="error", timeout=10)

    # -- actions -------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return all(p.paused for p in self.pollers.values())

    def action_toggle_pause(self) -> None:
        pause = not self.paused
        for poller in self.pollers.values():
            poller.pause() if pause else poller.resume()
        self.refresh_status_bar()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def set_interval_seconds(self, seconds: float) -> None:
        for poller in self.pollers.values():
            poller.interval = seconds
            poller.poke()
        self.machine.history.interval = seconds
        self.refresh_status_bar()
        self.notify(f"Sampling every {seconds:g} s")

    def refresh_status_bar(self) -> None:
        for bar in self.screen.query(StatusBar):
            bar.demo = self.sources.demo
            bar.paused = self.paused
            bar.interval = self.pollers["gpu"].interval
            bar.problem = ", ".join(f"{SOURCE_LABELS.get(s, s)} failing" for s in sorted(self._failing))


def make_app(config: Config | None = None, *, demo: bool = False, sources: MachineSources | None = None, start_polling: bool = True) -> SparkApp:
    """The one factory used by the CLI and the tests."""
    return SparkApp(config or Config(), sources or machine_sources(demo=demo), start_polling=start_polling)
