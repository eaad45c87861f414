"""What the screens of one app share, and how they learn that it changed.

`Session` holds the app's live state: the machine samples and the three domain sessions
(containers, services, benchmark). The app builds it and hands it to each screen it makes, so a
screen reads `self.session.containers`, never the app's attributes.

The domain sessions do not know the app or its screens: they receive a `Host` (the app, seen
through the few services they use: workers, timers, messages, notices). Facts from their
threads arrive as messages (ui/messages.py); the app applies them, collects what changed as
`Changed` flags, and hands those to the screen showing (`LiveScreen.show_changes`), which
redraws its own parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from textual.screen import Screen

from spark_tui.core.machine.state import MachineState
from spark_tui.models.settings import Config
from spark_tui.ui.changes import Changed
from spark_tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from spark_tui.ui.bench.controller import BenchController
    from spark_tui.ui.containers.controller import ContainersController
    from spark_tui.ui.inference.controller import InferenceController
    from spark_tui.ui.services.controller import ProbesController


@dataclass(frozen=True, slots=True)
class StatusLine:
    """The status bar's facts that are the app's (each screen's bar shows them)."""

    demo: bool = False
    paused: bool = False
    interval: float = 1.0
    problem: str = ""


@dataclass(eq=False)
class Session:
    config: Config
    demo: bool
    machine: MachineState
    containers: ContainersController
    probes: ProbesController
    bench: BenchController
    inference: InferenceController
    status: StatusLine = StatusLine()


@runtime_checkable
class ShowsChanges(Protocol):
    """A screen the app hands what changed while it shows (LiveScreen, or a modal such as a probe's details)."""

    def show_changes(self, changed: Changed) -> None: ...


class LiveScreen(Screen):
    """A screen drawn from the session: the app calls `show_changes` with what changed while it shows."""

    def __init__(self, session: Session, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session

    def on_screen_resume(self) -> None:
        self.sync_status_bar()

    def show_changes(self, changed: Changed) -> None:
        """Redraw the parts of this screen that `changed` touches."""
        if changed & Changed.MACHINE:
            self.sync_status_bar()

    def sync_status_bar(self) -> None:
        """The app's facts (demo, paused, interval, problems) and the latest sample's host and time."""
        status, machine = self.session.status, self.session.machine
        sampled = [s.taken_at for s in (machine.gpu, machine.system) if s is not None]
        for bar in self.query(StatusBar):
            bar.demo, bar.paused, bar.interval, bar.problem = status.demo, status.paused, status.interval, status.problem
            if sampled:
                bar.sampled_at = max(sampled)
            if machine.system is not None:
                bar.hostname = machine.system.hostname
