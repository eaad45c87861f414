"""The app's service probes: the runner (ProbeEngine, or DemoProbes for `--demo`), the probe set
(configured + discovered on the running containers), and what reaches the screen.

The engine runs as an async worker on the app's loop: a check costs a fraction of a
millisecond (spark_tui/core/net/lean_http.py), every wait is a timer, and a hung service holds
one idle socket, so keys stay instant with fifty probes. Its events are gathered for
BATCH_S and posted as one `ProbesReported`; `handle()` applies them on the UI thread,
pops up one notice per batch of state changes (a flapping service stays quiet until it
settles: ui/services/state.ChangeNotices) and marks the probes with news, so the screen
showing redraws only their rows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from spark_tui.models.settings import ProbeConfig
from spark_tui.models.containers import Container
from spark_tui.models.probes import ProbeEvent, ProbeSpec, ProbeState, ProbeStatus
from spark_tui.ui.messages import ProbesReported
from spark_tui.ui.changes import Changed, Host
from spark_tui.ui.services.state import ChangeNotices, ProbesState

# core.services.discovery and .presets (the preset table, ~15 ms to import) load when first
# needed, after the first frame: no probes configured and nothing discovered yet needs neither.

if TYPE_CHECKING:
    from spark_tui.core.services.presets import ConfiguredProbes

BATCH_S = 0.25  # events gathered this long make one message (and one redraw)
SEVERITY = {ProbeState.UP: "information", ProbeState.DEGRADED: "warning", ProbeState.DOWN: "error", ProbeState.UNKNOWN: "information"}


class ProbeRunner(Protocol):
    """What the controller needs from ProbeEngine and DemoProbes."""

    demo: bool

    def listen(self, on_event: Callable[[ProbeEvent], None]) -> None: ...

    async def run(self) -> None: ...

    def stop(self) -> None: ...

    def set_probes(self, specs: Iterable[ProbeSpec]) -> None: ...

    def check_now(self, name: str | None = None) -> None: ...


class ProbesController:
    """`runner`: a given engine or demo (tests); by default the app makes one when it starts."""

    def __init__(self, host: Host, probes: Sequence[ProbeConfig], runner: ProbeRunner | None = None, *, demo: bool = False) -> None:
        self.host = host
        self._configured_table = tuple(probes)
        if probes:
            self._configured()  # ConfigError on a duplicate name, before the app starts
        self.runner = runner
        self._demo = runner.demo if runner is not None else demo
        self.state = ProbesState(getattr(runner, "clock", time.time))
        self.notices = ChangeNotices()
        self._specs: list[ProbeSpec] | None = None
        self._pending: list[ProbeEvent] = []
        self._flush: asyncio.TimerHandle | None = None
        self._stopped = False
        if runner is not None:
            runner.listen(self._on_event)

    @property
    def demo(self) -> bool:
        return self._demo

    def _configured(self) -> ConfiguredProbes:
        configured = getattr(self, "_configured_probes", None)
        if configured is None:
            from spark_tui.core.services.presets import configured_probes

            configured = self._configured_probes = configured_probes(self._configured_table)
        return configured

    def _plan(self, containers: Iterable[Container] = ()) -> list[ProbeSpec]:
        from spark_tui.core.services.discovery import plan_probes

        return plan_probes(self._configured(), containers)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start probing once the first frame is out (the engine's HTTP stack takes a while to import)."""
        self.host.call_after_refresh(self._start_runner)

    def _start_runner(self) -> None:
        if self._stopped:
            return
        if self.runner is None:
            self.runner = self._make_runner()
            self.runner.listen(self._on_event)
        self.host.run_worker(self.runner.run(), name="service probes", group="probes", exit_on_error=False)

    def _make_runner(self) -> ProbeRunner:
        if self._demo:
            from spark_tui.core.demo.probes import DemoProbes

            return DemoProbes()
        from spark_tui.core.services.engine import ProbeEngine

        return ProbeEngine(self._specs if self._specs is not None else self._plan())

    def stop(self) -> None:
        self._stopped = True
        if self.runner is not None:
            self.runner.stop()
        if self._flush is not None:
            self._flush.cancel()

    # -- the probe set --------------------------------------------------------------------

    def containers_changed(self, containers: Iterable[Container]) -> None:
        """Re-plan: discovered probes follow the running containers (the demo's set is fixed)."""
        if self.demo or self._stopped:
            return
        specs = self._plan(containers)
        if not specs and not self.state.reported:
            # The containers are known and none is a service, nor is any configured: the engine
            # will report nothing, so say "no services" instead of "starting" for ever.
            self.state.reported = True
            self.host.redraw(Changed.PROBES)
        if specs == self._specs:
            return
        self._specs = specs
        if self.runner is None:
            return  # the engine starts with these
        try:
            self.runner.set_probes(specs)
        except ValueError as exc:  # plan_probes makes names unique; this would be a bug, said once
            self.host.notify(f"cannot update the service probes: {exc}", severity="error", timeout=10)

    def check_now(self, name: str | None = None) -> None:
        names = [name] if name is not None else list(self.state.statuses)
        self.state.checking.update(n for n in names if n in self.state.statuses)
        self.state.dirty.update(names)
        if self.runner is not None:
            self.runner.check_now(name)

    # -- events: engine loop → one message per batch → UI thread --------------------------------

    def _on_event(self, event: ProbeEvent) -> None:
        self._pending.append(event)
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(BATCH_S, self._post_batch)

    def _post_batch(self) -> None:
        self._flush = None
        events, self._pending = self._pending, []
        if events and not self._stopped:
            self.host.post_message(ProbesReported(tuple(events)))

    def handle(self, message: ProbesReported) -> Changed:
        """Apply a batch; its state changes make one notification at most."""
        changes = self.state.apply(message.events)
        notice = self.notices.take(changes, self.state.statuses, self.state.now())
        if notice is not None:
            self.host.notify(notice.text, title="Services", severity=SEVERITY[notice.state], timeout=6)  # type: ignore[arg-type]
        return Changed.PROBES

    def status(self, name: str) -> ProbeStatus | None:
        return self.state.statuses.get(name)
