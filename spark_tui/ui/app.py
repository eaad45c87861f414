"""SparkApp: screens, bindings, commands and the pollers that feed them. Kept thin.

Facts arrive as messages (ui/messages.py); each handler hands the fact to the domain session it
belongs to, which says what it changed (`Changed`); the app gathers that into frames and lets the
screen showing redraw its own parts (`LiveScreen.show_changes`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from spark_tui.core.docker.backend import ContainerBackend
from spark_tui.core.machine.sources import MachineSources, machine_sources
from spark_tui.core.machine.state import MachineState
from spark_tui.core.polling import Poller
from spark_tui.models.probes import ProbeChecked
from spark_tui.models.settings import Config
from spark_tui.paths import styles_dir
from spark_tui.ui.bench.controller import BenchController
from spark_tui.ui.containers.controller import ContainersController
from spark_tui.ui.containers.screen import ContainersScreen
from spark_tui.ui.dashboard.screen import DashboardScreen
from spark_tui.ui.inference.controller import InferenceController
from spark_tui.ui.messages import (
    BenchEventArrived,
    ConfirmationNeeded,
    ContainersChanged,
    ContainersEvent,
    GpuSampled,
    InferenceSampled,
    ProbesReported,
    SourceFailed,
    SystemSampled,
)
from spark_tui.ui.palette import PROVIDERS
from spark_tui.ui.screens.confirm import ConfirmScreen
from spark_tui.ui.screens.help import HelpScreen
from spark_tui.ui.services.controller import ProbeRunner, ProbesController
from spark_tui.ui.services.screen import ServicesScreen
from spark_tui.ui.changes import Changed
from spark_tui.ui.session import LiveScreen, Session, ShowsChanges, StatusLine
from spark_tui.ui.terminal_driver import QuietLinuxDriver

if TYPE_CHECKING:
    from spark_tui.core.demo.inference import DemoInference
    from spark_tui.ui.bench.targets import BenchTarget

SOURCE_LABELS = {"gpu": "GPU (NVML)", "system": "system"}
SAMPLED = {"gpu": Changed.GPU, "system": Changed.SYSTEM}
REDRAW_COALESCE_S = 0.05
LAZY_REDRAW_S = 1.2  # probe results and container stats wait (at most) for the next sample's frame
LAZY = Changed.PROBES | Changed.STATS | Changed.INFERENCE
SWITCH_MASK_S = 0.005  # see SparkApp.delay_update


_MODE_KEYS = {"dashboard": "d", "containers": "c", "services": "s", "history": "h", "inference": "i"}


class SparkApp(App[int]):
    CSS_PATH = str(styles_dir() / "app.tcss")
    TITLE = "spark-tui"
    DEFAULT_MODE = "dashboard"
    COMMANDS = App.COMMANDS | PROVIDERS
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("p", "toggle_pause", "Pause", id="pause"),
        Binding("p", "toggle_pause('resume')", "Resume", id="resume"),  # the footer says what p does now
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("d", "switch_mode('dashboard')", "Dashboard", id="dashboard"),
        Binding("c", "switch_mode('containers')", "Containers", id="containers"),
        Binding("s", "switch_mode('services')", "Services", id="services"),
        Binding("b", "bench", "Benchmark", id="bench"),
        Binding("h", "switch_mode('history')", "Runs", id="history"),
        Binding("i", "switch_mode('inference')", "Inference", id="inference"),
    ]

    def __init__(
        self,
        config: Config,
        sources: MachineSources,
        *,
        start_polling: bool = True,
        containers: ContainerBackend | None = None,
        probes: ProbeRunner | None = None,
        inference: DemoInference | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.sources = sources
        self.start_polling = start_polling
        settings = config.dashboard
        machine = MachineState(span=settings.history_seconds, interval=settings.interval)
        self.session = Session(
            config=config,
            demo=sources.demo,
            machine=machine,
            containers=ContainersController(self, config.docker, containers or container_backend(config, demo=sources.demo), machine),
            probes=ProbesController(self, config.probes, probes, demo=sources.demo),  # ConfigError: two probes share a name
            bench=BenchController(self, config.bench, self._bench_targets, demo=sources.demo),
            # --demo: the simulated vLLM and Ollama (no scraping unless polling starts); else configured + probed servers
            inference=InferenceController(
                self, config.inference, span=settings.history_seconds,
                demo=inference if inference is not None or not sources.demo else _demo_inference(),
            ),
            status=StatusLine(demo=sources.demo, interval=settings.interval),
        )
        self.pollers: dict[str, Poller] = {
            "gpu": self._poller("gpu", lambda: self.containers.name_gpu_processes(sources.gpu.sample()), GpuSampled),
            "system": self._poller("system", sources.system.sample, SystemSampled),
        }
        for mode, make in self._screens().items():
            self.add_mode(mode, make)
        self._failing: set[str] = set()
        self._pending = Changed.NOTHING
        self._redraw_timer: Timer | None = None
        self._redraw_due = 0.0

    def _screens(self) -> dict[str, object]:
        session = self.session

        def bench() -> Screen:
            from spark_tui.ui.bench.screen import BenchScreen  # the benchmark machinery loads on first use

            return BenchScreen(session)

        def history() -> Screen:
            from spark_tui.ui.bench.runs import HistoryScreen

            return HistoryScreen(session)

        def inference() -> Screen:
            from spark_tui.ui.inference.screen import InferenceScreen

            return InferenceScreen(session)

        return {
            "dashboard": partial(DashboardScreen, session),
            "containers": partial(ContainersScreen, session),
            "services": partial(ServicesScreen, session),
            "bench": bench,
            "history": history,
            "inference": inference,
        }

    def _bench_targets(self) -> list[BenchTarget]:
        from spark_tui.ui.bench.targets import known_targets  # the preset table loads after the first frame

        listing = self.containers.state.listing
        return known_targets(self.probes.state, self.config.probes, listing.containers if listing is not None else ())

    # The domain sessions, as tests and the palette know them.
    @property
    def machine(self) -> MachineState:
        return self.session.machine

    @property
    def containers(self) -> ContainersController:
        return self.session.containers

    @property
    def probes(self) -> ProbesController:
        return self.session.probes

    @property
    def bench(self) -> BenchController:
        return self.session.bench

    @property
    def inference(self) -> InferenceController:
        return self.session.inference

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        return QuietLinuxDriver if driver is LinuxDriver else driver

    def delay_update(self, delay: float = 0.05) -> None:
        # Textual holds the screen for 50 ms at each mode switch to mask its rebuild; our screens
        # stay mounted between switches, so that wait would only add to the key-to-screen time.
        super().delay_update(min(delay, SWITCH_MASK_S))

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
            self.containers.start()
            self.probes.start()
            self.inference.start()

    def on_unmount(self) -> None:
        self.bench.stop()  # a run under way is cancelled; what it measured is saved
        self.containers.stop()
        self.probes.stop()
        self.inference.stop()
        self.sources.close()

    # -- facts arrive --------------------------------------------------------------------------

    @on(GpuSampled)
    def _gpu_sampled(self, message: GpuSampled) -> None:
        self.machine.record_gpu(message.report)
        self._recovered("gpu")
        self.redraw(Changed.GPU | self.containers.record_gpu(message.report))

    @on(SystemSampled)
    def _system_sampled(self, message: SystemSampled) -> None:
        self.machine.record_system(message.sample)
        self._recovered("system")
        self.redraw(Changed.SYSTEM)

    @on(ContainersEvent)
    def _containers_event(self, message: ContainersEvent) -> None:
        self.redraw(self.containers.handle(message))

    @on(ContainersChanged)
    def _replan_probes(self, message: ContainersChanged) -> None:
        self.probes.containers_changed(message.listing.containers)

    @on(ProbesReported)
    def _probes_reported(self, message: ProbesReported) -> None:
        changed = self.probes.handle(message)
        if any(not isinstance(event, ProbeChecked) for event in message.events):  # probes came or went
            found = self.inference.probes_changed(s.spec for s in self.probes.state.statuses.values())
            if found:
                self.refresh_bindings()  # `i` shows in the key bar once a model server is known
            changed |= found
        self.redraw(changed)

    @on(InferenceSampled)
    def _inference_sampled(self, message: InferenceSampled) -> None:
        self.redraw(self.inference.handle(message))

    @on(BenchEventArrived)
    def _bench_event(self, message: BenchEventArrived) -> None:
        self.redraw(self.bench.handle(message))

    @on(ConfirmationNeeded)
    def _confirm(self, message: ConfirmationNeeded) -> None:
        on_yes = message.on_yes
        self.push_screen(
            ConfirmScreen(message.title, message.body, confirm=message.confirm, danger=message.danger, default=message.default),
            lambda yes: on_yes() if yes else None,
        )

    # -- frames --------------------------------------------------------------------------------

    def redraw(self, changed: Changed) -> None:
        """Changes that arrive together (the pollers run in step) are drawn in one frame: every
        panel changes each second, so each frame repaints nearly the whole screen. On the
        dashboard, probe results and container stats (their side panels), which come on their own
        cadence, join that frame instead of making one of their own. Once the GPU and the system
        sample are both in, the frame is drawn at once (no timer to wake for)."""
        if not changed:
            return
        self._pending |= changed
        if Changed.MACHINE in self._pending:  # the GPU and the system sample, taken together
            if self._redraw_timer is not None:
                self._redraw_timer.stop()
            self._draw()
            return
        lazy = not (changed & ~LAZY) and bool(self.screen_stack) and isinstance(self.screen, DashboardScreen)
        delay = LAZY_REDRAW_S if lazy else REDRAW_COALESCE_S
        due = time.monotonic() + delay
        if self._redraw_timer is None or due < self._redraw_due:
            if self._redraw_timer is not None:
                self._redraw_timer.stop()
            self._redraw_timer = self.set_timer(delay, self._draw)
            self._redraw_due = due

    def _draw(self) -> None:
        self._redraw_timer = None
        changed, self._pending = self._pending, Changed.NOTHING
        if self.screen_stack and isinstance(self.screen, ShowsChanges):
            self.screen.show_changes(changed)

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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`i` (the Inference screen) is offered once a model server is known: until then the key
        bar stays as it was, with nothing to show there."""
        if action == "switch_mode" and parameters and self._screen_binds(_MODE_KEYS.get(str(parameters[0]))):
            return False  # the screen's own key (i Inspect, c Compare), even while it has nothing to act on
        if action == "switch_mode" and parameters == ("inference",):
            return self.inference.known
        if action == "toggle_pause":  # one of the two p bindings shows: Pause, or Resume while paused
            return self.paused == (parameters == ("resume",))
        return True

    def _screen_binds(self, key: str | None) -> bool:
        """Whether the screen showing binds `key` itself. Its binding wins even when it cannot act
        (i on a project row): falling through to the app's would open another screen instead."""
        if key is None:
            return False
        return any((b.key if isinstance(b, Binding) else b[0]) == key for b in type(self.screen).BINDINGS)

    @property
    def interval(self) -> float:
        """Seconds between machine samples (every poller of the dashboard shares it)."""
        return self.pollers["gpu"].interval

    @property
    def paused(self) -> bool:
        return all(p.paused for p in self.pollers.values())

    def action_toggle_pause(self, _shown_as: str = "pause") -> None:
        pause = not self.paused
        for poller in self.pollers.values():
            poller.pause() if pause else poller.resume()
        self.inference.pause(pause)
        self.refresh_status_bar()
        self.refresh_bindings()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            if not self.is_screen_installed("help"):
                self.install_screen(HelpScreen(), "help")  # kept between openings: composed once
            self.push_screen("help")

    def open_bench(self, preset: str, url: str, *, name: str | None = None) -> None:
        """The benchmark screen with a service's defaults in its form (`preset` as in
        spark_tui.core.bench.plan.SERVICE_ADAPTERS: embedding, parse and text-generation servers).
        While a run is under way, the screen shows that run instead."""
        from spark_tui.ui.bench.screen import BenchScreen
        from spark_tui.ui.bench.targets import BenchTarget

        if not self.bench.running:
            self.bench.prepare(BenchTarget(name or url, preset, url))
        if isinstance(self.screen, BenchScreen):
            self.screen.sync_view()
        else:
            self.switch_mode("bench")

    def action_bench(self) -> None:
        """`b`: the benchmark screen; on a screen with a selected service (`selected()` returning a
        probe status, as the Services screen's does), that service's defaults in its form."""
        from spark_tui.core.bench.plan import SERVICE_ADAPTERS

        selected = getattr(self.screen, "selected", None)
        spec = getattr(selected() if callable(selected) else None, "spec", None)
        if isinstance(getattr(spec, "kind", None), str) and spec.kind in SERVICE_ADAPTERS:
            self.open_bench(spec.kind, spec.url, name=spec.name)
        else:
            self.switch_mode("bench")

    def action_bench_service(self, name: str) -> None:
        """Benchmark the service (probe) called `name`."""
        target = next((t for t in self.bench.targets() if t.name == name), None)
        if target is None:
            self.notify(f"no benchmark for {name!r}: only embedding, parse and text-generation servers can be benchmarked", severity="warning")
            return
        self.open_bench(target.preset, target.url, name=target.name)

    def set_interval_seconds(self, seconds: float) -> None:
        for poller in self.pollers.values():
            poller.interval = seconds
            poller.poke()
        self.machine.history.interval = seconds
        self.refresh_status_bar()
        self.notify(f"Sampling every {seconds:g} s")

    def refresh_status_bar(self) -> None:
        problem = ", ".join(f"{SOURCE_LABELS.get(s, s)} failing" for s in sorted(self._failing))
        self.session.status = replace(self.session.status, paused=self.paused, interval=self.interval, problem=problem)
        if self.screen_stack and isinstance(self.screen, LiveScreen):
            self.screen.sync_status_bar()


def _demo_inference(fleet: object | None = None) -> DemoInference:
    from spark_tui.core.demo.inference import DemoInference

    return DemoInference(fleet)  # type: ignore[arg-type]


def container_backend(config: Config, *, demo: bool) -> ContainerBackend:
    """The simulated Spark's fleet for --demo, else the real engine (built on first use)."""
    if demo:
        from spark_tui.core.demo.docker import DemoDocker

        return DemoDocker(config=config.docker)
    from spark_tui.core.docker.engine_backend import docker_backend

    return docker_backend(config.docker)


def make_app(
    config: Config | None = None,
    *,
    demo: bool = False,
    sources: MachineSources | None = None,
    start_polling: bool = True,
    containers: ContainerBackend | None = None,
    probes: ProbeRunner | None = None,
    inference: DemoInference | None = None,
) -> SparkApp:
    """The one factory used by the CLI and the tests. `containers` defaults to the demo fleet
    with demo sources, else the Docker engine of config.docker; `probes` to the demo services
    with demo sources, else a ProbeEngine with the configured and discovered probes.
    ConfigError when two [[probes]] share a name."""
    config = config or Config()
    if sources is None and demo:
        # One simulated Spark: the GPU's processes, the containers and the services read one fleet.
        from spark_tui.core.demo.docker import DemoDocker
        from spark_tui.core.demo.fleet import DemoFleet
        from spark_tui.core.demo.machine import demo_machine_sources

        fleet = DemoFleet()
        sources = demo_machine_sources(fleet)
        containers = containers or DemoDocker(config=config.docker, fleet=fleet)
        if probes is None:
            from spark_tui.core.demo.probes import DemoProbes

            probes = DemoProbes(fleet=fleet)
        inference = inference or _demo_inference(fleet)  # vLLM's tokens follow the same fleet and load curve
    return SparkApp(config, sources or machine_sources(), start_polling=start_polling, containers=containers, probes=probes,
                    inference=inference)
