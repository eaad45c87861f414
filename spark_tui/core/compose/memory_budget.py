"""Will starting a profile leave enough memory? Decided from numbers, before anything starts.

A profile's expected memory is, in order: the user's hint in the config (for the whole
profile), else per service its compose memory limit, its reservation, or the highest
figure we have seen it use (cgroup memory without page cache plus its GPU processes' memory;
on GB10 both come out of the same 128 GB). Services already running are not counted: their
memory is already gone from MemAvailable.

Peaks persist in $XDG_STATE_HOME/spark-tui/service-peaks.json so the next session knows them;
a service not seen running for KEEP_UNSEEN_S is forgotten, and at most MAX_PEAKS are kept.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from spark_tui.core.format import gib
from spark_tui.models.compose import ComposeProfile, ComposeProject, MemoryBudget, ServiceMemory
from spark_tui.models.containers import Container, ContainerStats
from spark_tui.core.untrusted import clean

log = logging.getLogger(__name__)

GIB = 1 << 30
SAVE_EVERY_S = 30.0
KEEP_UNSEEN_S = 90 * 86_400  # long enough for a profile started once a month to keep its peak
MAX_PEAKS = 500  # the most recently seen services win
SEEN_STEP_S = 3600.0  # "last seen" is written at most hourly: seeing a service is not a reason to save


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(base) / "spark-tui"


class PeakStore:
    """The highest memory seen per compose service ("project/service" -> bytes), and when each
    was last seen running (wall clock), so services long gone drop out. Thread-safe."""

    def __init__(self, path: Path | None = None, clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time) -> None:
        self.path = path if path is not None else state_dir() / "service-peaks.json"
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._peaks: dict[str, int] = {}
        self._seen: dict[str, float] = {}
        self._dirty = False
        self._saved_at = clock()
        self.problem: str | None = None  # why the file could not be read or written
        self._read()

    def _read(self) -> None:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return
        except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, absurdly nested: corrupt
            self._set_aside(f"not JSON ({exc})")
            return
        except OSError as exc:
            self.problem = clean(f"cannot read {self.path}: {exc.strerror or exc}")
            return
        if not isinstance(data, dict):
            self._set_aside(f"a JSON {type(data).__name__}, not an object")
            return
        peaks = data.get("peaks")
        if isinstance(peaks, dict):
            self._peaks = {k: int(v) for k, v in peaks.items() if isinstance(k, str) and isinstance(v, int) and v > 0}
        seen = data.get("seen") if isinstance(data, dict) else None
        seen = seen if isinstance(seen, dict) else {}
        now = self._wall_clock()  # version 1 files did not say: their services count as seen now
        self._seen = {k: float(seen[k]) if isinstance(seen.get(k), (int, float)) else now for k in self._peaks}
        self._dirty = self._prune()

    def _set_aside(self, why: str) -> None:
        """A corrupt file is moved out of the way (kept for a look, never read again) and named in
        one line; the store starts empty rather than failing the dashboard."""
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(self._wall_clock())}")
        try:
            os.replace(self.path, aside)
            self.problem = clean(f"cannot read {self.path}: {why}; set aside as {aside.name}")
        except OSError as exc:
            self.problem = clean(f"cannot read {self.path}: {why}; could not set it aside: {exc.strerror or exc}")

    def _prune(self) -> bool:
        """Forget services not seen for KEEP_UNSEEN_S, and all but the MAX_PEAKS most recent; True if any went."""
        cutoff = self._wall_clock() - KEEP_UNSEEN_S
        keep = sorted((k for k in self._peaks if self._seen.get(k, 0.0) >= cutoff), key=lambda k: self._seen[k], reverse=True)[:MAX_PEAKS]
        if len(keep) == len(self._peaks):
            return False
        self._peaks = {k: self._peaks[k] for k in sorted(keep)}
        self._seen = {k: self._seen[k] for k in keep}
        return True

    def get(self, project: str, service: str) -> int | None:
        with self._lock:
            return self._peaks.get(f"{project}/{service}")

    def record(self, project: str, service: str, used: int) -> bool:
        """Remember `used` if it is a new high, and that the service was seen; True when a new high."""
        key = f"{project}/{service}"
        with self._lock:
            now = self._wall_clock()
            if now - self._seen.get(key, 0.0) >= SEEN_STEP_S:
                self._seen[key] = now
                self._dirty = True
            if used <= self._peaks.get(key, 0):
                return False
            self._peaks[key] = used
            self._dirty = True
            return True

    def observe(self, containers: Iterable[Container], stats: Mapping[str, ContainerStats]) -> None:
        """Record each compose service's memory now (summed over its replicas); save now and then."""
        totals: dict[tuple[str, str], int] = {}
        for container in containers:
            figures = stats.get(container.id)
            if not (container.compose_project and container.compose_service and figures) or container.compose_oneoff:
                continue
            parts = [v for v in (figures.memory_used, figures.gpu_memory) if v is not None]
            if parts:
                key = (container.compose_project, container.compose_service)
                totals[key] = totals.get(key, 0) + sum(parts)
        for (project, service), used in totals.items():
            self.record(project, service, used)
        if self._dirty and self._clock() - self._saved_at >= SAVE_EVERY_S:
            self.save()

    def save(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            self._prune()
            seen = {k: round(self._seen[k]) for k in sorted(self._peaks)}
            payload = json.dumps({"version": 2, "peaks": dict(sorted(self._peaks.items())), "seen": seen}, indent=1)
            self._dirty = False
            self._saved_at = self._clock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".peaks-", suffix=".json")
        except OSError as exc:
            self.problem = clean(f"cannot save {self.path}: {exc.strerror or exc}")
            return
        try:  # temp file + rename: a crash mid-write leaves the old file, never half a new one
            with os.fdopen(fd, "w") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            self.problem = None
        except OSError as exc:
            self.problem = clean(f"cannot save {self.path}: {exc.strerror or exc}")
            try:
                Path(tmp).unlink(missing_ok=True)
            except OSError as leftover:  # the save's problem is the one shown; this one goes to the log
                log.warning("cannot remove %s: %s", tmp, leftover)


def hint_for(hints: Mapping[str, float], project: str, profile: str) -> int | None:
    value = hints.get(f"{project}/{profile}", hints.get(profile))
    return int(value * GIB) if value is not None else None


def _service_estimate(project: ComposeProject, name: str, peaks: PeakStore | None) -> ServiceMemory:
    service = project.service(name)
    if service is not None and service.memory_limit:
        return ServiceMemory(name, service.memory_limit * service.replicas, "limit")
    if service is not None and service.memory_reservation:
        return ServiceMemory(name, service.memory_reservation * service.replicas, "reservation")
    peak = peaks.get(project.name, name) if peaks is not None else None
    if peak:
        return ServiceMemory(name, peak, "peak")
    return ServiceMemory(name, None, None)


def profile_budget(
    project: ComposeProject,
    profile: ComposeProfile,
    available: int | None,
    floor_gib: float = 8.0,
    hints: Mapping[str, float] | None = None,
    peaks: PeakStore | None = None,
) -> MemoryBudget:
    floor = int(floor_gib * GIB)
    states = {s.service: s for s in profile.service_states}
    services = []
    for name in profile.services:
        estimate = _service_estimate(project, name, peaks)
        state = states.get(name)
        running = state is not None and state.state in ("running", "starting", "unhealthy")
        services.append(ServiceMemory(estimate.service, estimate.bytes, estimate.source, running))
    pending = [s for s in services if not s.running]
    one_shots = {s.name for s in project.services if s.one_shot}
    # A one-shot job (model download, migration) exits before the service that waits for it starts.
    to_start = [s for s in pending if not (s.service in one_shots and s.bytes is None)]
    hint = hint_for(hints or {}, project.name, profile.name)

    def budget(expected: int | None, verdict: str, message: str, hint_used: bool = False) -> MemoryBudget:
        return MemoryBudget(project.name, profile.name, expected, available, floor, verdict, message, tuple(services), hint_used)  # type: ignore[arg-type]

    if not pending:
        return budget(0, "ok", f"profile {profile.name} is already up: it needs no more memory")
    if not to_start:
        return budget(0, "ok", f"profile {profile.name} only has one-shot jobs left to run")
    if hint is not None:
        already = sum(s.bytes or 0 for s in services if s.running)
        expected: int | None = max(0, hint - already)
        basis = f"{gib(hint)} (config hint)" + (f", {gib(already)} of it already running" if already else "")
        known_all = True
    else:
        known = [s.bytes for s in to_start if s.bytes is not None]
        expected = sum(known) if known else None
        sources = sorted({s.source for s in to_start if s.source})
        basis = f"{gib(expected)} ({', '.join(sources)})" if expected is not None else ""
        known_all = len(known) == len(to_start)
    if available is None:
        return budget(expected, "unknown", "memory available now is unknown (no /proc/meminfo)", hint is not None)
    if expected is None:
        if available < floor:
            return budget(None, "warn", f"expected memory unknown, and only {gib(available)} is available (floor {gib(floor, 0)})")
        return budget(None, "unknown", f"expected memory unknown (no limit, hint or earlier run); {gib(available)} available")
    remaining = available - expected
    at_least = "" if known_all else "at least "
    unknown_note = "" if known_all else f"; {len(to_start) - len([s for s in to_start if s.bytes is not None])} service(s) unknown"
    numbers = f"expects {at_least}{basis}, {gib(available)} available"
    if remaining < floor:
        if remaining < 0:
            short = f"needs {gib(-remaining)} more than is available"
        else:
            short = f"would leave {gib(remaining)}, under the {gib(floor, 0)} floor"
        return budget(expected, "warn", f"{numbers}: {short}{unknown_note}", hint is not None)
    verdict = "ok" if known_all else "unknown"
    return budget(expected, verdict, f"{numbers}: leaves {gib(remaining)}{unknown_note}", hint is not None)
