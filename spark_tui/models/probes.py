"""Service health probes: what to check, what came back, and what the engine tells the UI.

A probe's answer is one of four states. `error` says in words why a probe is not up; a value
the service does not report is None, never 0 or "".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

DetailValue = str | int | float | bool


class ProbeState(enum.StrEnum):
    UP = "up"
    DEGRADED = "degraded"  # answered, but slower than the probe's threshold or not ready yet
    DOWN = "down"  # no usable answer: refused, timed out, an error status, garbage
    UNKNOWN = "unknown"  # not checked yet


Origin = Literal["config", "discovered"]


@dataclass(frozen=True)
class ProbeSpec:
    """One thing to check, on its own cadence.

    `kind` is "http", "http-json", "tcp" or a preset name (spark_tui.core.services.presets.PRESETS).
    For a preset, `url` is the service's base URL and the preset adds its own paths.
    `url` may hold credentials (postgresql://user:password@…): show `display_url`.
    """

    name: str
    kind: str
    url: str = field(repr=False)
    interval: float = 2.0  # seconds from the start of one check to the start of the next
    timeout: float = 2.0  # seconds for a whole check: connect, answer and body
    slow_ms: float = 1000.0  # an answer slower than this is "degraded"
    expect_status: tuple[int, ...] | None = None  # None: any 2xx
    json_field: str | None = None  # dotted path: "status", "data.0.id"
    expect_value: DetailValue | None = None  # None: the field must be present and not null
    verify_tls: bool = True
    origin: Origin = "config"
    container: str | None = None  # the container a discovered probe was found on

    @property
    def display_url(self) -> str:
        return redact_url(self.url)


@dataclass(frozen=True)
class ServedModel:
    """A model a service offers; Ollama tells which are loaded and how much memory they hold."""

    name: str
    loaded: bool | None = None  # None: the service does not distinguish
    size_bytes: int | None = None  # the model's size as the service reports it
    gpu_bytes: int | None = None  # Ollama's size_vram: the part held by the GPU
    context_length: int | None = None
    parameter_size: str | None = None  # "8.0B"
    quantization: str | None = None  # "Q4_K_M"
    expires_at: str | None = None  # when Ollama unloads it (ISO 8601, as reported)


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one check."""

    name: str
    kind: str
    target: str  # the URL checked, credentials masked
    state: ProbeState
    checked_at: float  # wall-clock seconds when the check finished
    latency_ms: float | None = None  # the health request's round trip; None when there was no answer
    error: str | None = None  # why the probe is not up, in words; None when up
    status_code: int | None = None
    model: str | None = None  # the model id the service reports (loaded models for Ollama)
    version: str | None = None
    models: tuple[ServedModel, ...] | None = None  # None: the service does not list its models
    details: dict[str, DetailValue] = field(default_factory=dict, compare=False)  # limits, device…


@dataclass(frozen=True)
class StateChange:
    """A probe moved from one state to another: worth a notification."""

    name: str
    previous: ProbeState
    current: ProbeState
    at: float  # wall-clock seconds
    error: str | None = None

    def describe(self) -> str:
        """One line for a toast or a log: "vllm is down: connection refused (was up)"."""
        text = f"{self.name} is {self.current.value}"
        if self.error and self.current is not ProbeState.UP:
            text += f": {self.error}"
        return f"{text} (was {self.previous.value})"


@dataclass(frozen=True)
class ProbeStatus:
    """Everything a row of the services table shows for one probe."""

    spec: ProbeSpec
    result: ProbeResult | None = None  # None until the first check finishes
    latencies: tuple[float | None, ...] = ()  # oldest first; None marks a check without an answer
    last_error: str | None = None  # the most recent problem, kept after the probe recovers
    last_error_at: float | None = None
    state_since: float | None = None  # wall-clock seconds when the current state began

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def state(self) -> ProbeState:
        return self.result.state if self.result else ProbeState.UNKNOWN

    @property
    def latency_ms(self) -> float | None:
        return self.result.latency_ms if self.result else None


@dataclass(frozen=True)
class ProbeAdded:
    """A probe joined the engine (config or discovery); its state is unknown until checked."""

    status: ProbeStatus


@dataclass(frozen=True)
class ProbeChecked:
    """A check finished. `change` is set when the state differs from the previous check's."""

    status: ProbeStatus
    change: StateChange | None = None


@dataclass(frozen=True)
class ProbeRemoved:
    """A probe left the engine (its container stopped, or the config changed)."""

    name: str


ProbeEvent = ProbeAdded | ProbeChecked | ProbeRemoved


@dataclass(frozen=True)
class ProbeSnapshot:
    """Probes checked once, for the headless commands."""

    results: tuple[ProbeResult, ...]
    notes: tuple[str, ...] = ()  # e.g. why discovery was skipped


def redact_url(url: str) -> str:
    """The URL with any password replaced by "***" (user names stay: they help)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
