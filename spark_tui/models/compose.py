"""Compose projects, their profiles and services, the commands that toggle them, memory budgets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ProfileState = Literal["up", "partial", "down"]
# running: up (and healthy, or no healthcheck); starting: up, healthcheck not passed yet;
# unhealthy: up, healthcheck failing; done: a one-shot job that finished with exit code 0;
# stopped: a container exists but does not run; missing: no container at all.
ServiceRunState = Literal["running", "starting", "unhealthy", "done", "stopped", "missing"]
ProjectSource = Literal["labels", "config", "labels+config"]


@dataclass(frozen=True)
class ComposeService:
    """One service of the effective model (`docker compose config --format json`)."""

    name: str
    profiles: tuple[str, ...] = ()  # () = always on
    image: str | None = None
    memory_limit: int | None = None  # bytes: deploy.resources.limits.memory or mem_limit
    memory_reservation: int | None = None  # bytes: deploy.resources.reservations.memory or mem_reservation
    gpu: bool = False  # reserves a GPU (deploy devices with capability gpu) or uses runtime nvidia
    replicas: int = 1
    depends_on: tuple[str, ...] = ()
    one_shot: bool = False  # another service waits for it with condition service_completed_successfully


@dataclass(frozen=True)
class ServiceState:
    service: str
    state: ServiceRunState
    container_ids: tuple[str, ...] = ()

    @property
    def satisfied(self) -> bool:
        """Counts toward a profile being up."""
        return self.state in ("running", "starting", "unhealthy", "done")


@dataclass(frozen=True)
class ComposeProfile:
    project: str
    name: str
    services: tuple[str, ...]  # services that carry this profile
    state: ProfileState
    service_states: tuple[ServiceState, ...] = ()
    gpu: bool = False  # one of its services asks for a GPU

    @property
    def up_count(self) -> int:
        return sum(1 for s in self.service_states if s.satisfied)

    @property
    def summary(self) -> str:
        return f"{self.state} ({self.up_count}/{len(self.services)})"


@dataclass(frozen=True)
class ComposeProject:
    name: str
    config_files: tuple[str, ...] = ()
    working_dir: str | None = None
    environment_files: tuple[str, ...] = ()
    source: ProjectSource = "labels"
    services: tuple[ComposeService, ...] = ()
    profiles: tuple[ComposeProfile, ...] = ()
    always_on: tuple[ServiceState, ...] = ()  # services without a profile, with their state
    problem: str | None = None  # why the model could not be read: compose's own message
    # The model could not be read: services known only from container labels, their profiles unknown.
    seen: tuple[ServiceState, ...] = ()

    def service(self, name: str) -> ComposeService | None:
        return next((s for s in self.services if s.name == name), None)

    def profile(self, name: str) -> ComposeProfile | None:
        return next((p for p in self.profiles if p.name == name), None)


@dataclass(frozen=True)
class ComposeOverview:
    """Everything `spark-tui profiles` shows."""

    taken_at: float
    projects: tuple[ComposeProject, ...] = ()
    engine_problem: str | None = None  # Docker unreachable: states are unknown


@dataclass(frozen=True)
class ComposeCommand:
    """A docker compose invocation, ready to run: argv list, never a shell string."""

    argv: tuple[str, ...]
    description: str  # "start profile gpu of project ai (vllm, ollama)"
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict, compare=False)  # added to os.environ


@dataclass(frozen=True)
class UpPreview:
    """What compose's dry run of a profile's `up` would do to the rest of its project."""

    recreates: tuple[str, ...] = ()  # running containers outside the profile it would recreate
    problem: str | None = None  # the dry run failed or is unsupported: nothing was checked


@dataclass(frozen=True)
class CommandOutput:
    """One line of a running command's output (stdout and stderr interleaved as they come), masked."""

    text: str


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int | None  # None when it could not start or was cancelled before exit
    output: tuple[str, ...] = ()  # every line, secrets masked
    message: str | None = None  # on failure: compose's own words (its last error lines)
    cancelled: bool = False
    timed_out: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.cancelled and not self.timed_out


MemorySource = Literal["limit", "reservation", "hint", "peak"]
Verdict = Literal["ok", "warn", "unknown"]


@dataclass(frozen=True)
class ServiceMemory:
    service: str
    bytes: int | None
    source: MemorySource | None  # None: nothing known about this service
    running: bool = False  # already up: its memory is already out of MemAvailable


@dataclass(frozen=True)
class MemoryBudget:
    """What starting a profile would do to memory, decided before it starts."""

    project: str
    profile: str
    expected: int | None  # bytes the services not yet running are expected to take
    available: int | None  # MemAvailable now
    floor: int  # bytes that must stay free
    verdict: Verdict
    message: str  # one line with the numbers
    services: tuple[ServiceMemory, ...] = ()
    hint_used: bool = False

    @property
    def remaining(self) -> int | None:
        if self.expected is None or self.available is None:
            return None
        return self.available - self.expected

    @property
    def needs_confirmation(self) -> bool:
        """Ask before starting: it would leave less than the floor."""
        return self.verdict == "warn"
