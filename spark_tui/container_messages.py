"""Facts about containers and Compose, in the past tense, posted by worker threads to the app.

They all derive from `ContainersEvent`, so the app handles them with one handler that hands
them to its ContainersController.
"""

from __future__ import annotations

from textual.message import Message

from spark_tui.models.compose import CommandResult, ComposeOverview
from spark_tui.models.containers import ContainerListing, ContainerStats, LogLine


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
