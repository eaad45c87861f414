"""Facts posted to the app, in the past tense: samples, container and Compose events, probe
reports, benchmark events. Worker threads and the engines' callbacks post them; the app and the
screens handle them with `@on`. One home for every message of the UI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message

from spark_tui.models.compose import CommandResult, ComposeOverview
from spark_tui.models.containers import ContainerListing, ContainerStats, LogLine
from spark_tui.models.machine import GpuReport, SystemSample
from spark_tui.models.probes import ProbeEvent

if TYPE_CHECKING:
    from spark_tui.models.bench import LiveEvent
    from spark_tui.models.inference import InferenceFigures


# -- machine samples ----------------------------------------------------------------------

class GpuSampled(Message):
    def __init__(self, report: GpuReport) -> None:
        super().__init__()
        self.report = report


class SystemSampled(Message):
    def __init__(self, sample: SystemSample) -> None:
        super().__init__()
        self.sample = sample


class SourceFailed(Message):
    """A poll raised; the poller retries with backoff."""

    def __init__(self, source: str, error: BaseException) -> None:
        super().__init__()
        self.source = source
        self.error = error


# -- containers and Compose --------------------------------------------------------------

class ContainersEvent(Message):
    """Base of every containers/compose fact."""


class ContainersChanged(ContainersEvent):
    def __init__(self, listing: ContainerListing) -> None:
        super().__init__()
        self.listing = listing


class ContainerStatsSampled(ContainersEvent):
    def __init__(self, stats: dict[str, ContainerStats]) -> None:
        super().__init__()
        self.stats = stats


class ProfilesChanged(ContainersEvent):
    def __init__(self, overview: ComposeOverview) -> None:
        super().__init__()
        self.overview = overview


class ComposeOutputArrived(ContainersEvent):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines


class ComposeFinished(ContainersEvent):
    def __init__(self, result: CommandResult) -> None:
        super().__init__()
        self.result = result


class ContainerActionStarted(ContainersEvent):
    def __init__(self, verb: str, container_id: str) -> None:
        super().__init__()
        self.verb = verb
        self.container_id = container_id


class ContainerActionFinished(ContainersEvent):
    """start/stop/restart of one container ended; `error` is the engine's words when it failed."""

    def __init__(self, verb: str, container_id: str, name: str, error: str | None = None) -> None:
        super().__init__()
        self.verb = verb
        self.container_id = container_id
        self.name = name
        self.error = error


class ContainersFailed(ContainersEvent):
    """A worker ended on an unexpected error (outages are not errors: they arrive as listings)."""

    def __init__(self, what: str, error: BaseException) -> None:
        super().__init__()
        self.what = what
        self.error = error


class ProfileToggleRequested(ContainersEvent):
    """The user asked to start or stop a profile (from a ProfilesPanel, wherever it is placed)."""

    def __init__(self, project: str, profile: str) -> None:
        super().__init__()
        self.project = project
        self.profile = profile


class ProfileCancelRequested(ContainersEvent):
    """The user asked to cancel the compose command under way."""


class LogLinesArrived(Message):
    """New lines for an open log view (posted to that screen, not the app)."""

    def __init__(self, lines: list[LogLine]) -> None:
        super().__init__()
        self.lines = lines


class LogsEnded(Message):
    def __init__(self, reason: str | None) -> None:
        super().__init__()
        self.reason = reason


# -- service probes ----------------------------------------------------------------------

class ProbesReported(Message):
    """Checks finished (and probes came or went) since the last report: the engine's events,
    gathered for a moment so fifty probes make a few messages a second, not fifty."""

    def __init__(self, events: tuple[ProbeEvent, ...]) -> None:
        super().__init__()
        self.events = events


# -- inference servers ----------------------------------------------------------------------

class InferenceSampled(Message):
    """Model servers were scraped: each one's figures over its last interval."""

    def __init__(self, figures: tuple[InferenceFigures, ...]) -> None:
        super().__init__()
        self.figures = figures


# -- benchmark ---------------------------------------------------------------------------

class BenchEventArrived(Message):
    """One event of the run numbered `run` (events of an older run are ignored)."""

    def __init__(self, run: int, event: LiveEvent) -> None:
        super().__init__()
        self.run = run
        self.event = event


# -- questions ---------------------------------------------------------------------------------


class ConfirmationNeeded(Message):
    """A domain session needs a yes before it acts (a stop, a start that would cost memory):
    the app asks with a ConfirmScreen and calls `on_yes` if the answer is yes."""

    def __init__(self, title: str, body: str, on_yes: Callable[[], object], *, confirm: str = "Yes", danger: bool = False, default: bool = True) -> None:
        super().__init__()
        self.title = title
        self.body = body
        self.on_yes = on_yes
        self.confirm = confirm
        self.danger = danger
        self.default = default
