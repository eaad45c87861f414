"""Everything one session needs from Docker, behind one object: the UI's only door to the engine.

`DockerBackend` (engine_backend.py) talks to a real engine, one `DockerEngine` per session;
`DemoDocker` (core/demo/docker.py) simulates a Spark's fleet with the same methods for `--demo`
and tests. Every method may block: the UI calls them from worker threads. This module stays free
of the Docker SDK: `docker_backend()` builds the real backend on first use, in whichever worker
needs it first, so importing the SDK (~150 ms) never delays the dashboard's first frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from spark_tui.models.settings import DockerConfig
from spark_tui.models.compose import (
    CommandOutput,
    CommandResult,
    ComposeCommand,
    ComposeOverview,
    ComposeProfile,
    ComposeProject,
    MemoryBudget,
    UpPreview,
)
from spark_tui.models.containers import Container, ContainerListing, ContainerStats, EngineStatus, LogLine


class LogStream(Protocol):
    """A container's log lines: the tail first, then new ones until `stop()` or the container ends."""

    error: str | None

    def batches(self) -> Iterator[list[LogLine]]: ...

    def stop(self) -> None: ...


class ComposeRun(Protocol):
    """One compose command under way: iterate `lines()`, then read `result`; `cancel()` from any thread."""

    result: CommandResult | None

    def lines(self) -> Iterator[CommandOutput]: ...

    def cancel(self) -> None: ...


class ContainerBackend(Protocol):
    demo: bool
    clock: Callable[[], float]  # wall clock of the listings (uptimes are measured against it)

    @property
    def status(self) -> EngineStatus: ...

    def updates(self) -> Iterator[ContainerListing]: ...

    def stop_updates(self) -> None: ...

    def poke(self) -> None: ...

    def sample_stats(self, containers: Iterable[Container], gpu_memory: Mapping[str, int | None] | None) -> dict[str, ContainerStats]: ...

    def overview(self, containers: Iterable[Container], engine_problem: str | None = None) -> ComposeOverview: ...

    def invalidate_overview(self) -> None: ...

    def container_of_pid(self, pid: int) -> str | None: ...

    def start(self, container_id: str) -> None: ...

    def stop(self, container_id: str) -> None: ...

    def restart(self, container_id: str) -> None: ...

    def inspect(self, container_id: str) -> dict[str, Any]: ...

    def follow_logs(self, container_id: str, tail: int) -> LogStream: ...

    def up_command(self, project: ComposeProject, profile: ComposeProfile) -> ComposeCommand: ...

    def down_command(self, project: ComposeProject, profile: ComposeProfile) -> tuple[ComposeCommand | None, tuple[str, ...]]: ...

    def preview_up(self, project: ComposeProject, profile: ComposeProfile, containers: Iterable[Container]) -> UpPreview: ...

    def run(self, command: ComposeCommand) -> ComposeRun: ...

    def budget(self, project: ComposeProject, profile: ComposeProfile, available: int | None) -> MemoryBudget: ...

    def close(self) -> None: ...
