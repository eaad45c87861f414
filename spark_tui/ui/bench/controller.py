"""The app's benchmark (UI side): the form's draft, the run under way (in its own process), and what the
benchmark screen draws from.

The run outlives screen changes: leave the benchmark screen and come back, it is still there.
Events arrive from the launcher's reader thread as BenchEventArrived messages; `handle()`
folds them into a LiveRun on the UI thread and keeps the parts that changed until the benchmark
screen takes them (`take_parts`) to draw. Quitting the app cancels the run and waits a moment
for its results to be written.

The benchmark machinery (adapters, payloads, the runner) is imported on first use, not when the
dashboard starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from spark_tui.models.settings import BenchConfig
from spark_tui.ui.messages import BenchEventArrived
from spark_tui.ui.changes import Changed, Host

if TYPE_CHECKING:
    from spark_tui.core.bench.events import StreamRequest
    from spark_tui.core.bench.launch import BenchLaunch, EventSink
    from spark_tui.core.bench.live import LiveRun, Part
    from spark_tui.core.bench.plan import BenchPlan
    from spark_tui.ui.bench.targets import BenchTarget
    from spark_tui.models.bench import LiveEvent, RunFinished

    Launcher = Callable[[StreamRequest, EventSink], BenchLaunch]


def child_launcher(request: StreamRequest, sink: EventSink) -> BenchLaunch:
    from spark_tui.core.bench.launch import ChildRun

    return ChildRun(request, sink)


def same_target(a: BenchPlan, b: BenchPlan) -> bool:
    """The same server, spoken to the same way (service name, URL, adapter)."""
    return (a.service, a.url.rstrip("/"), a.adapter) == (b.service, b.url.rstrip("/"), b.adapter)


STOP_WAIT_S = 3.0  # at exit: how long the run may take to save what it measured
SEVERITY = {"completed": "information", "cancelled": "warning"}


class BenchController:
    def __init__(self, host: Host, settings: BenchConfig, targets: Callable[[], list[BenchTarget]], *, demo: bool = False, launcher: Launcher | None = None) -> None:
        self.host = host
        self.settings = settings
        self.demo = demo
        self._targets = targets
        self.launcher: Launcher = launcher or child_launcher
        self.clock: Callable[[], float] = time.time  # notices' times (tests freeze it)
        self.live: LiveRun | None = None
        self.launch: BenchLaunch | None = None
        self._draft: BenchPlan | None = None
        self.selected: str | None = None  # the service the draft came from
        self.form_pending = True  # the form has a new draft to show
        self._run = 0
        self._parts: set[Part] = set()  # changed since the screen last drew

    @property
    def running(self) -> bool:
        return self.live is not None and self.live.running

    @property
    def results_dir(self) -> str:
        from spark_tui.core.bench.results import runs_dir

        return str(runs_dir(self.settings.results_dir))

    def targets(self) -> list[BenchTarget]:
        return self._targets()

    @property
    def draft(self) -> BenchPlan:
        """What the form shows: the chosen service's defaults, else the first service known, else
        an OpenAI-compatible server on the usual vLLM port."""
        if self._draft is None:
            from spark_tui.core.bench.plan import plan_from_settings
            from spark_tui.ui.bench.targets import plan_for_target

            targets = self.targets()
            if targets:
                self.selected = targets[0].name
                self._draft = plan_for_target(targets[0], self.settings)
            else:
                self._draft = plan_from_settings(self.settings, "embed", "openai", "http://127.0.0.1:8000")
        return self._draft

    @draft.setter
    def draft(self, plan: BenchPlan) -> None:
        self._draft = plan

    # -- the form ------------------------------------------------------------------------

    def prepare(self, target: BenchTarget) -> None:
        """Put a service's defaults in the form. A finished run leaves the screen for it (it stays
        in the saved runs, key h); a run under way stays, and the form shows them after it.
        The model the service reports (from its probe) decides between generation and embeddings."""
        from dataclasses import replace

        from spark_tui.ui.bench.targets import plan_for_target

        if target.model is None:
            known = next((t for t in self.targets() if t.name == target.name and t.url == target.url), None)
            if known is not None:
                target = replace(target, model=known.model)
        self.draft = plan_for_target(target, self.settings)
        self.selected = target.name
        self.form_pending = True
        if not self.running:
            self.live = self.launch = None

    # -- the run ---------------------------------------------------------------------------

    def start(self, plan: BenchPlan) -> None:
        """Start `plan` in its own process; PlanError (one line) when it cannot start."""
        from spark_tui.core.bench.events import StreamRequest
        from spark_tui.core.bench.live import LiveRun
        from spark_tui.core.bench.plan import PlanError

        if self.running:
            raise PlanError("a benchmark is already running: cancel it with x first")
        plan.validate()
        self._run += 1
        run = self._run
        self.draft, self.selected = plan, plan.service
        live = LiveRun(plan, clock=self.clock)
        request = StreamRequest(plan, results_dir=self.settings.results_dir, demo=self.demo,
                                environment={"started_from": "spark-tui dashboard"})
        launch = self.launcher(request, lambda event: self.host.post_message(BenchEventArrived(run, event)))
        try:
            launch.start()
        except OSError as exc:
            raise PlanError(str(exc)) from None
        self.live, self.launch = live, launch

    def cancel(self) -> bool:
        if not self.running or self.launch is None or self.live is None:
            return False
        self.launch.cancel()
        self.live.note("warning", "cancelling: keeping what was measured…")
        return True

    def stop(self) -> None:
        """The app is quitting: cancel and give the run a moment to write its results."""
        if self.running and self.launch is not None:
            self.launch.stop(STOP_WAIT_S)

    def new_run(self) -> None:
        """Back to the form: the last run's plan again when the form's target is still the one it
        measured, else the defaults of the target chosen since."""
        if self.running:
            return
        if self.live is not None and same_target(self.live.plan, self.draft):
            self.draft, self.selected = self.live.plan, self.live.plan.service
        self.live = None
        self.form_pending = True

    # -- messages --------------------------------------------------------------------------

    def handle(self, message: BenchEventArrived) -> Changed:
        from spark_tui.models.bench import RunFinished

        if message.run != self._run or self.live is None:
            return Changed.NOTHING
        parts = self.live.apply(message.event)
        if isinstance(message.event, RunFinished):
            self._finished(message.event)
        self._parts |= parts
        return Changed.BENCH if parts else Changed.NOTHING

    def _finished(self, event: RunFinished) -> None:
        result = event.result
        text = f"Benchmark {result.status}" + (f": {result.reason}" if result.reason and result.status != "completed" else "")
        if result.run_dir:
            text += f"\nResults: {result.run_dir}"
        self.host.notify(text, title="Benchmark", severity=SEVERITY.get(result.status, "error"), timeout=10)  # type: ignore[arg-type]

    def take_parts(self) -> set[Part]:
        """The parts of the run that changed since the last call (the benchmark screen draws them)."""
        parts, self._parts = self._parts, set()
        return parts
