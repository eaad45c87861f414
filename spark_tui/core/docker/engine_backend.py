"""The real Docker engine behind the ContainerBackend protocol: events for the list, cgroups for
stats, compose for profiles. Blocking methods, for the UI's worker threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from spark_tui.models.settings import DockerConfig
from spark_tui.models.compose import ComposeCommand, ComposeOverview, ComposeProfile, ComposeProject, MemoryBudget, UpPreview
from spark_tui.models.containers import Container, ContainerListing, ContainerStats, EngineStatus
from spark_tui.core.machine.cgroups import CgroupFs
from spark_tui.core.compose.cli import CommandRun
from spark_tui.core.compose.projects import ComposeProjects
from spark_tui.core.docker.backend import ComposeRun, ContainerBackend, LogStream
from spark_tui.core.docker.logs import LogFollower
from spark_tui.core.docker.stats import ContainerStatsReader
from spark_tui.core.docker.watcher import ContainerWatcher
from spark_tui.core.docker.containers import (
    inspect_container,
    restart_container,
    start_container,
    stop_container,
)
from spark_tui.core.docker.engine import DockerEngine
from spark_tui.core.compose.memory_budget import PeakStore, profile_budget

STOP_GRACE_S = 10


class DockerBackend:
    """The real engine: events for the list, cgroups for stats, compose for profiles."""

    demo = False
    clock = staticmethod(time.time)

    def __init__(
        self,
        config: DockerConfig | None = None,
        engine: DockerEngine | None = None,
        peaks: PeakStore | None = None,
        cgroupfs: CgroupFs | None = None,
    ) -> None:
        self.config = config or DockerConfig()
        self.engine = engine or DockerEngine(host=self.config.host)
        self.cgroups = cgroupfs or CgroupFs()
        self.watcher = ContainerWatcher(self.engine)
        self.stats_reader = ContainerStatsReader(self.engine, self.cgroups)
        self.projects = ComposeProjects(self.config.compose, env=self.engine.compose_env())
        self.peaks = peaks if peaks is not None else PeakStore()

    @property
    def status(self) -> EngineStatus:
        return self.engine.status

    def updates(self) -> Iterator[ContainerListing]:
        return self.watcher.updates()

    def stop_updates(self) -> None:
        self.watcher.stop()

    def poke(self) -> None:
        self.watcher.poke()

    def sample_stats(self, containers: Iterable[Container], gpu_memory: Mapping[str, int | None] | None) -> dict[str, ContainerStats]:
        containers = list(containers)
        stats = self.stats_reader.sample(containers, gpu_memory)
        self.peaks.observe(containers, stats)
        return stats

    def overview(self, containers: Iterable[Container], engine_problem: str | None = None) -> ComposeOverview:
        return self.projects.overview(containers, engine_problem)

    def invalidate_overview(self) -> None:
        self.projects.invalidate()

    def container_of_pid(self, pid: int) -> str | None:
        return self.cgroups.container_of_pid(pid)

    def start(self, container_id: str) -> None:
        start_container(self.engine, container_id)

    def stop(self, container_id: str) -> None:
        stop_container(self.engine, container_id, grace_s=STOP_GRACE_S)

    def restart(self, container_id: str) -> None:
        restart_container(self.engine, container_id, grace_s=STOP_GRACE_S)

    def inspect(self, container_id: str) -> dict[str, Any]:
        return inspect_container(self.engine, container_id)

    def follow_logs(self, container_id: str, tail: int) -> LogStream:
        return LogFollower(self.engine, container_id, tail=tail)

    def up_command(self, project: ComposeProject, profile: ComposeProfile) -> ComposeCommand:
        return self.projects.up_command(project, profile)

    def down_command(self, project: ComposeProject, profile: ComposeProfile) -> tuple[ComposeCommand | None, tuple[str, ...]]:
        return self.projects.down_command(project, profile, remove=self.config.compose.remove_on_down)

    def preview_up(self, project: ComposeProject, profile: ComposeProfile, containers: Iterable[Container]) -> UpPreview:
        return self.projects.preview_up(project, profile, containers)

    def run(self, command: ComposeCommand) -> ComposeRun:
        return CommandRun(command, timeout_s=self.config.compose.command_timeout)

    def budget(self, project: ComposeProject, profile: ComposeProfile, available: int | None) -> MemoryBudget:
        compose = self.config.compose
        return profile_budget(project, profile, available, compose.memory_floor_gib, compose.memory_hints_gib, self.peaks)

    def close(self) -> None:
        """Stop following the engine; never blocks on a hung daemon (the app may be quitting)."""
        self.watcher.stop()
        self.peaks.save()
        threading.Thread(target=self.engine.close, name="docker-close", daemon=True).start()


class DeferredBackend:
    """A backend built by `build()` on first use (see the module docstring); thread-safe."""

    demo = False
    clock = staticmethod(time.time)

    def __init__(self, build: Callable[[], ContainerBackend]) -> None:
        self._build = build
        self._backend: ContainerBackend | None = None
        self._lock = threading.Lock()

    def _real(self) -> ContainerBackend:
        with self._lock:
            if self._backend is None:
                self._backend = self._build()
            return self._backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)

    def close(self) -> None:
        with self._lock:
            backend = self._backend
        if backend is not None:
            backend.close()


def docker_backend(config: DockerConfig) -> ContainerBackend:
    """The real engine's backend, built on first use (importing the SDK takes ~150 ms)."""
    return DeferredBackend(lambda: DockerBackend(config))  # type: ignore[return-value]
