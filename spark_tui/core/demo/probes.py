"""A DGX Spark's services, simulated for `--demo` and the UI tests: the same events as the
ProbeEngine (ProbeAdded, ProbeChecked with state changes), no network.

vLLM, Ollama (a model loaded), LiteLLM and Open WebUI found on the demo's containers; a
Postgres with a password in its URL, a TEI and a docling-serve on a second Spark, and an
OmniParser whose container is stopped, from the config. TEI answers slowly (degraded),
docling-serve is still loading its models and turns ready 75 s into the demo (a
notification), OmniParser refuses connections. A service found on a demo container answers
while that container runs in the fleet (core/demo/fleet.py) and refuses connections when it
is stopped, as a real one would. Every figure is a pure function of the check
number and the time since the demo began, so a frozen clock gives the same picture.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from spark_tui.models.probes import (
    ProbeAdded,
    ProbeChecked,
    ProbeEvent,
    ProbeSpec,
    ProbeState,
    ProbeStatus,
    ServedModel,
)
from spark_tui.core.demo.fleet import DemoFleet
from spark_tui.core.services.checks import Extras, Outcome
from spark_tui.core.services.presets import DEFAULT_SLOW_MS, DEFAULT_TIMEOUT_S, preset_for
from spark_tui.core.services.track import HISTORY, CheckOutput, ProbeListener, ProbeTrack

GIB = 1 << 30
INTERVAL_S = 2.0
BACKFILL_CHECKS = 30  # history the demo starts with, so the sparklines are not empty
DOCLING_READY_AT_S = 75.0

Simulation = Callable[[int, float, float], CheckOutput]  # (check number, seconds into the demo, wall clock)


def noise(seed: int, n: int) -> float:
    """A stable pseudo-random number in [0, 1) for check `n` of one service."""
    value = math.sin(n * 12.9898 + seed * 78.233) * 43_758.5453
    return value - math.floor(value)


def _vllm(n: int, t: float, now: float) -> CheckOutput:
    model = "Qwen/Qwen3-32B-FP8"
    latency = 1.6 + 1.4 * noise(1, n) + (18.0 if n % 23 == 7 else 0.0)  # now and then a busy batch
    extras = Extras(model=model, version="0.10.2", models=(ServedModel(model, context_length=32_768),), details={"max_model_len": 32_768})
    return CheckOutput(Outcome(latency_ms=latency, status_code=200), extras)


def _ollama(n: int, t: float, now: float) -> CheckOutput:
    expires = datetime.fromtimestamp(now, timezone.utc) + timedelta(minutes=4, seconds=30)
    models = (
        ServedModel(
            "nomic-embed-text:latest", loaded=True, size_bytes=int(3.4 * GIB), gpu_bytes=int(3.2 * GIB), context_length=8192,
            parameter_size="137M", quantization="F16", expires_at=expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
        ),
        ServedModel("llama3.1:8b", loaded=False, size_bytes=4_920_753_328, parameter_size="8.0B", quantization="Q4_K_M"),
        ServedModel("qwen3-embedding:8b", loaded=False, size_bytes=4_675_894_272, parameter_size="7.6B", quantization="Q4_K_M"),
    )
    extras = Extras(
        model="nomic-embed-text:latest", models=models,
        details={"models_available": 3, "models_loaded": 1, "loaded_gpu_bytes": int(3.2 * GIB)},
    )
    return CheckOutput(Outcome(latency_ms=0.8 + 0.9 * noise(2, n), status_code=200, version="0.12.6"), extras)


def _litellm(n: int, t: float, now: float) -> CheckOutput:
    if n in (11, 12):  # its database restarted a minute before the demo began: kept as its last error
        outcome = Outcome(state=ProbeState.DEGRADED, latency_ms=5.0, status_code=503, error="not ready: HTTP 503: database not connected")
        return CheckOutput(outcome, None)
    return CheckOutput(Outcome(latency_ms=3.0 + 3.0 * noise(3, n), status_code=200, version="1.78.5", details={"db": "connected"}), None)


def _open_webui(n: int, t: float, now: float) -> CheckOutput:
    return CheckOutput(Outcome(latency_ms=4.0 + 5.0 * noise(4, n), status_code=200), Extras(version="0.6.34"))


def _postgres(n: int, t: float, now: float) -> CheckOutput:
    return CheckOutput(Outcome(latency_ms=0.2 + 0.3 * noise(5, n), details={"tls": False}), None)


def _tei(n: int, t: float, now: float) -> CheckOutput:
    extras = Extras(
        model="BAAI/bge-m3", version="1.8.2",
        details={
            "max_client_batch_size": 32, "max_batch_tokens": 16_384, "max_concurrent_requests": 512,
            "max_input_length": 8192, "dtype": "float16", "model_type": "embedding",
        },
    )
    return CheckOutput(Outcome(latency_ms=1150.0 + 500.0 * noise(6, n), status_code=200), extras)  # over its 1000 ms threshold


def _docling(n: int, t: float, now: float) -> CheckOutput:
    extras = Extras(version="1.7.2", details={"docling": "2.58.0"})
    outcome = Outcome(latency_ms=2.0 + 2.0 * noise(7, n), status_code=200)
    if t < DOCLING_READY_AT_S:
        outcome.degrade("not ready: models loading (HTTP 503: Service not ready)")
    return CheckOutput(outcome, extras)


def _omniparser(n: int, t: float, now: float) -> CheckOutput:
    return CheckOutput(Outcome(state=ProbeState.DOWN, error="connection refused"), None)


def _spec(name: str, kind: str, url: str, container: str | None = None) -> ProbeSpec:
    preset = preset_for(kind)  # its thresholds, as a probe configured without them gets
    return ProbeSpec(
        name=name, kind=kind, url=url, interval=INTERVAL_S, timeout=preset.timeout_s or DEFAULT_TIMEOUT_S,
        slow_ms=preset.slow_ms or DEFAULT_SLOW_MS, origin="discovered" if container else "config", container=container,
    )


SERVICES: tuple[tuple[ProbeSpec, Simulation], ...] = (
    (_spec("postgres", "postgres", "postgresql://spark:s3cret-demo@127.0.0.1:5432"), _postgres),
    (_spec("tei", "tei", "http://spark-2.local:8080"), _tei),
    (_spec("docling", "docling", "http://spark-2.local:5001"), _docling),
    (_spec("omniparser", "omniparser", "http://127.0.0.1:9989"), _omniparser),
    (_spec("vllm", "vllm", "http://127.0.0.1:8000", container="ai-vllm-1"), _vllm),
    (_spec("ollama", "ollama", "http://127.0.0.1:11434", container="ai-ollama-1"), _ollama),
    (_spec("litellm", "litellm", "http://127.0.0.1:4000", container="ai-litellm-1"), _litellm),
    (_spec("open-webui", "open-webui", "http://127.0.0.1:3000", container="ai-open-webui-1"), _open_webui),
)


@dataclass
class _Service:
    track: ProbeTrack
    simulate: Simulation
    checks: int = 0


class DemoProbes:
    """Same control surface as ProbeEngine (run, stop, set_probes, check_now, statuses)."""

    demo = True

    def __init__(
        self,
        on_event: ProbeListener | None = None,
        *,
        clock: Callable[[], float] = time.time,
        interval: float = INTERVAL_S,
        history: int = HISTORY,
        backfill: int = BACKFILL_CHECKS,
        fleet: DemoFleet | None = None,
    ) -> None:
        self._on_event = on_event
        self.fleet = fleet  # None: the demo's containers are taken to be as the fleet starts (running)
        self.clock = clock
        self.interval = interval
        self.started = clock()
        self._services = {spec.name: _Service(ProbeTrack(spec, history), simulate) for spec, simulate in SERVICES}
        self._backfill = backfill
        self._replayed = False
        self._stopping: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._stop_requested = False
        self._wanted: set[str] = set()

    def listen(self, on_event: ProbeListener) -> None:
        self._on_event = on_event

    def specs(self) -> tuple[ProbeSpec, ...]:
        return tuple(service.track.spec for service in self._services.values())

    def statuses(self) -> tuple[ProbeStatus, ...]:
        return tuple(service.track.status() for service in self._services.values())

    # -- checks, synchronously -----------------------------------------------------------------

    def replay(self) -> list[ProbeEvent]:
        """The demo's past: `backfill` checks of each service before now, reported as each
        probe's current status (no state changes: nothing to notify about the past)."""
        if not self._replayed:
            self._replayed = True
            now = self.clock()
            for k in range(self._backfill, 0, -1):
                for service in self._services.values():
                    self._check(service, now - k * self.interval)
        return [ProbeAdded(service.track.status()) for service in self._services.values()]

    def check(self, name: str | None = None) -> list[ProbeEvent]:
        """One check now of every service (or the one named)."""
        now = self.clock()
        return [self._check(s, now) for s in self._services.values() if name is None or s.track.spec.name == name]

    def _check(self, service: _Service, at: float) -> ProbeChecked:
        container = service.track.spec.container
        if container is not None and self.fleet is not None and not self.fleet.is_running(container):
            output = CheckOutput(Outcome(state=ProbeState.DOWN, error="connection refused"), None)
        else:
            output = service.simulate(service.checks, at - self.started, at)
        service.checks += 1
        return service.track.record(output, at)

    # -- live, on a loop -------------------------------------------------------------------------

    async def run(self) -> None:
        if self._stop_requested:
            return
        self._stopping, self._wake = asyncio.Event(), asyncio.Event()
        for event in self.replay():
            self._emit(event)
        while not self._stopping.is_set():
            try:
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            except TimeoutError:
                names: set[str | None] = {None}  # the interval elapsed: check everything
            else:
                names, self._wanted = set(self._wanted), set()
            self._wake.clear()
            if self._stopping.is_set():
                break
            for name in names:
                for event in self.check(name):
                    self._emit(event)

    def stop(self) -> None:
        self._stop_requested = True
        if self._stopping is not None and self._wake is not None:
            self._stopping.set()
            self._wake.set()

    def set_probes(self, specs: object) -> None:
        """The demo's services are fixed: discovery and config changes do not apply."""

    def check_now(self, name: str | None = None) -> None:
        if self._wake is None:
            return
        if name is None:
            self._wanted.update(self._services)
        elif name in self._services:
            self._wanted.add(name)
        self._wake.set()

    def _emit(self, event: ProbeEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)
