"""What the containers screen and the profiles panel draw from: the latest list, stats, compose
overview, GPU memory per container, the compose command under way and the actions in flight.

Plain Python, changed only on the UI thread (by the app's message handlers).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

from spark_tui.core import format as fmt
from spark_tui.models.compose import CommandResult, ComposeOverview, ComposeProfile, ComposeProject
from spark_tui.models.containers import Container, ContainerListing, ContainerStats, EngineStatus
from spark_tui.models.machine import GpuReport
from spark_tui.core.machine.gpu_containers import gpu_memory_by_name

JOB_LINES = 2000  # compose output kept for the panel

EngineChange = Literal["lost", "back"]


@dataclass
class ComposeJob:
    """One profile toggle: what runs, compose's output so far, and how it ended."""

    project: str
    profile: str
    action: Literal["up", "down"]
    description: str
    argv: tuple[str, ...]
    notes: tuple[str, ...] = ()
    memory: str | None = None  # the memory check's one line, for "up"
    started_at: float = field(default_factory=time.monotonic)
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=JOB_LINES))
    total_lines: int = 0  # lines ever added (the deque forgets the oldest)
    result: CommandResult | None = None
    cancelling: bool = False

    @property
    def running(self) -> bool:
        return self.result is None

    @property
    def verb(self) -> str:
        return "start" if self.action == "up" else "stop"

    def add(self, lines: list[str]) -> None:
        self.lines.extend(lines)
        self.total_lines += len(lines)

    def headline(self, now: float | None = None) -> str:
        target = f"profile {self.profile} of {self.project}"
        if self.result is None:
            elapsed = fmt.duration((now or time.monotonic()) - self.started_at)
            doing = "cancelling" if self.cancelling else ("starting" if self.action == "up" else "stopping")
            return f"{doing} {target}… {elapsed}"
        if self.result.ok:
            done = "started" if self.action == "up" else "stopped"
            took = self.result.duration_s
            return f"{done} {target} in {took:.1f} s" if took < 10 else f"{done} {target} in {fmt.duration(took)}"
        if self.result.cancelled:
            return f"cancelled: {self.verb} {target}"
        return f"could not {self.verb} {target}: {self.result.message or 'docker compose failed'}"


class ContainersState:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock  # wall clock for uptimes (frozen in snapshot tests)
        self.listing: ContainerListing | None = None
        self.containers: dict[str, Container] = {}
        self.names_by_id: dict[str, str] = {}  # read by the GPU poller's thread: replaced, never mutated
        self.stats: dict[str, ContainerStats] = {}
        self.overview: ComposeOverview | None = None
        self.gpu_by_name: dict[str, int | None] | None = None  # None until a GPU report was labelled
        self.gpu_by_id: dict[str, int | None] | None = None  # the same, by id: for the stats reader
        self.job: ComposeJob | None = None
        self.busy: dict[str, str] = {}  # container id -> action under way ("stop")
        self.preparing: tuple[str, str] | None = None  # (project, profile) whose start compose is dry-running
        self.retry_at: float | None = None  # monotonic time of the next attempt to reach a Docker that is down
        self._engine_was_up = False
        self._reported_down = False

    @property
    def engine(self) -> EngineStatus | None:
        return self.listing.engine if self.listing else None

    @property
    def engine_problem(self) -> str | None:
        engine = self.engine
        if engine is None or engine.up:
            return None
        return engine.message

    def apply_listing(self, listing: ContainerListing) -> EngineChange | None:
        """Take a new list; says when the engine went away or came back."""
        self.listing = listing
        engine = listing.engine
        self.retry_at = time.monotonic() + engine.retry_in if not engine.up and engine.retry_in is not None else None
        self.containers = listing.by_id()
        self.names_by_id = {c.id: c.name for c in listing.containers}
        for gone in [cid for cid in self.stats if cid not in self.containers]:
            del self.stats[gone]
        up = listing.engine.up and listing.complete
        change: EngineChange | None = None
        if up:
            if self._reported_down:
                change = "back"
            self._engine_was_up = True
            self._reported_down = False
        elif self._engine_was_up and not self._reported_down:
            change = "lost"
            self._reported_down = True
        return change

    def retry_in(self, now: float | None = None) -> float | None:
        """Seconds until the next attempt to reach Docker (0: under way); None while it is up."""
        if self.retry_at is None:
            return None
        return max(0.0, self.retry_at - (time.monotonic() if now is None else now))

    def apply_stats(self, stats: dict[str, ContainerStats]) -> None:
        self.stats = {cid: s for cid, s in stats.items() if cid in self.containers}

    def record_gpu(self, report: GpuReport) -> bool:
        """GPU memory per container from a labelled GPU report; True when it changed."""
        if not any(g.processes is not None for g in report.gpus):
            return False
        by_name = gpu_memory_by_name(report)
        if by_name == self.gpu_by_name:
            return False
        self.gpu_by_name = by_name
        ids = {name: cid for cid, name in self.names_by_id.items()}
        self.gpu_by_id = {ids[name]: used for name, used in by_name.items() if name in ids}
        return True

    def gpu_memory(self, container: Container) -> int | None:
        if self.gpu_by_name is not None and container.name in self.gpu_by_name:
            return self.gpu_by_name[container.name]
        stats = self.stats.get(container.id)
        return stats.gpu_memory if stats else None

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    def find_profile(self, project: str, profile: str) -> tuple[ComposeProject, ComposeProfile] | None:
        if self.overview is None:
            return None
        for candidate in self.overview.projects:
            if candidate.name == project:
                found = candidate.profile(profile)
                return (candidate, found) if found is not None else None
        return None
