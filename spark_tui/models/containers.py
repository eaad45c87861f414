"""Containers as the Docker engine reports them, their resource use and the engine's own state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal


@dataclass(frozen=True)
class PublishedPort:
    container_port: int
    protocol: str  # "tcp" or "udp"
    host_ip: str  # "0.0.0.0", "127.0.0.1", "::", …
    host_port: int


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    image: str
    state: str  # created, running, paused, restarting, removing, exited, dead
    status: str  # the engine's own words, e.g. "Up 3 minutes (healthy)"
    health: str | None = None  # healthy, unhealthy, starting; None without a healthcheck
    started_at: datetime | None = None
    ports: tuple[PublishedPort, ...] = ()
    labels: dict[str, str] = field(default_factory=dict, compare=False)
    gpu: bool = False  # asks for a GPU: DeviceRequests with capability gpu, or runtime nvidia
    compose_project: str | None = None
    compose_service: str | None = None
    # From inspect; None when the engine did not say.
    created_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    pid: int | None = None  # main process on the engine's host; None when not running
    restart_count: int | None = None
    runtime: str | None = None
    memory_limit: int | None = None  # bytes; None = unlimited
    health_output: str | None = None  # last healthcheck output, secrets masked
    compose_config_files: tuple[str, ...] = ()
    compose_working_dir: str | None = None
    compose_environment_file: str | None = None
    compose_oneoff: bool = False  # made by `docker compose run`, not part of the service
    network_mode: str | None = None  # "host", "bridge", "container:<id>"…; None when the engine did not say
    # The port the container's command line or environment says its service listens on (`--port N`,
    # OLLAMA_HOST, PORT…); None when it says none. Only the number is kept, never the environment.
    listen_port: int | None = None

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting", "paused")

    def uptime(self, now: datetime | None = None) -> float | None:
        """Seconds since the container started; None when it is not running."""
        if self.state != "running" or self.started_at is None:
            return None
        now = now or datetime.now(timezone.utc)
        return max(0.0, (now - self.started_at).total_seconds())

    @property
    def can_start(self) -> bool:
        return self.state in ("created", "exited", "dead")

    @property
    def can_stop(self) -> bool:
        return self.state in ("running", "restarting", "paused")

    @property
    def can_restart(self) -> bool:
        return self.state in ("running", "exited", "created", "paused", "dead")


@dataclass(frozen=True)
class ContainerStats:
    """Resource use of one running container at one moment."""

    container_id: str
    cpu_percent: float | None = None  # 100 = one core, like `docker stats`; None on the first read
    memory_used: int | None = None  # bytes, without reclaimable page cache (as `docker stats`)
    memory_limit: int | None = None  # bytes; None = no limit
    memory_peak: int | None = None  # bytes, since the container started, where the kernel says
    pids: int | None = None
    gpu_memory: int | None = None  # bytes, summed over its NVML GPU processes
    source: Literal["cgroup", "api"] = "cgroup"


EngineState = Literal["connecting", "up", "down"]


@dataclass(frozen=True)
class EngineStatus:
    """Whether we can talk to the Docker engine, and if not, why and what to do."""

    state: EngineState
    host: str  # e.g. "unix:///var/run/docker.sock"
    version: str | None = None  # engine version when up
    reason: str | None = None  # what went wrong, one line
    hint: str | None = None  # what the user can do about it
    retry_in: float | None = None  # seconds until the next attempt, when down
    attempts: int = 0  # failed attempts in a row

    @property
    def up(self) -> bool:
        return self.state == "up"

    @property
    def message(self) -> str:
        """One line for a status bar."""
        if self.state == "up":
            return f"Docker {self.version or ''} at {self.host}".replace("  ", " ")
        if self.state == "connecting":
            return f"connecting to Docker at {self.host}…"
        parts = [self.reason or f"cannot reach Docker at {self.host}"]
        if self.hint:
            parts.append(self.hint)
        text = " — ".join(parts)
        if self.retry_in is not None:
            text += f" (retrying in {self.retry_in:.0f} s)"
        return text


@dataclass(frozen=True)
class ContainerGroup:
    """Containers of one Compose project, or the loose ones (project None)."""

    project: str | None
    containers: tuple[Container, ...]

    @property
    def running(self) -> int:
        return sum(1 for c in self.containers if c.state == "running")


@dataclass(frozen=True)
class ContainerListing:
    """Every container the engine knows at one moment, with what changed since the last listing."""

    taken_at: float  # wall-clock seconds
    engine: EngineStatus
    containers: tuple[Container, ...] = ()
    changed: frozenset[str] = frozenset()  # ids added or updated since the previous listing
    removed: frozenset[str] = frozenset()  # ids gone since the previous listing
    complete: bool = True  # False when the engine is down and this is the last known list

    def by_id(self) -> dict[str, Container]:
        return {c.id: c for c in self.containers}

    def groups(self) -> tuple[ContainerGroup, ...]:
        return group_by_project(self.containers)


def group_by_project(containers: tuple[Container, ...] | list[Container]) -> tuple[ContainerGroup, ...]:
    """Compose projects by name, then the containers of no project; each sorted by name."""
    projects: dict[str | None, list[Container]] = {}
    for container in containers:
        projects.setdefault(container.compose_project, []).append(container)
    names = sorted((p for p in projects if p is not None), key=str.lower)
    ordered: list[str | None] = [*names, None] if None in projects else list(names)
    return tuple(
        ContainerGroup(project, tuple(sorted(projects[project], key=lambda c: c.name.lower())))
        for project in ordered
    )


@dataclass(frozen=True)
class LogLine:
    container_id: str
    text: str  # one line, secrets masked, no control character (core.untrusted.log_line), no newline
    timestamp: datetime | None = None  # the engine's timestamp of the line
    # The line's colour: core.untrusted.SgrSpan tuples (start, end, SgrStyle) over `text`. Typed
    # loosely because models import nothing of core; empty for most lines.
    spans: tuple[tuple[Any, ...], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class ContainersReport:
    """Containers for a one-shot snapshot: the list, stats where readable, the engine's state."""

    taken_at: float
    engine: EngineStatus
    containers: tuple[Container, ...] = ()
    stats: dict[str, ContainerStats] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
