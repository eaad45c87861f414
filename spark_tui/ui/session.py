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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Flag, auto
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from textual.message import Message
from textual.screen import Screen

from spark_tui.core.machine.state import MachineState
from spark_tui.models.settings import Config
from spark_tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from textual.timer import Timer

    from spark_tui.ui.bench.controller import BenchController
    from spark_tui.ui.containers.controller import ContainersController
    from spark_tui.ui.services.controller import ProbesController


class Changed(Flag):
    """What a fact changed, for the screen showing to redraw."""

    NOTHING = 0
    GPU = auto()
    SYSTEM = auto()
    CONTAINERS = auto()  # the list, or an action's state
    STATS = auto()  # containers' CPU / memory / GPU memory
    PROFILES = auto()
    JOB = auto()  # the compose command under way
    TICK = auto()  # a second passed for what counts seconds (compose's elapsed time, Docker's retry countdown)
    PROBES = auto()
    BENCH = auto()  # the benchmark under way (its parts: BenchController.take_parts)

    MACHINE = GPU | SYSTEM


class Host(Protocol):
    """What the domain sessions use of the app."""

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None, markup: bool = True) -> None: ...
    def post_message(self, message: Message) -> bool: ...
    def run_worker(self, work: Callable[[], Any] | Awaitable[Any], name: str | None = "", group: str = "default", exit_on_error: bool = True) -> Any: ...
    def set_timer(self, delay: float, callback: Callable[[], Any] | None = None, *, name: str | None = None) -> Timer: ...
    def set_interval(self, interval: float, callback: Callable[[], Any] | None = None, *, name: str | None = None) -> Timer: ...
    def call_after_refresh(self, callback: Callable[..., Any], *args: Any) -> bool: ...
    def redraw(self, changed: Changed) -> None: ...


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
