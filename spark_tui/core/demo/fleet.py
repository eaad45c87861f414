"""The simulated Spark's containers as they are now: the fleet of DemoContainers plus what
actions changed since. One DemoFleet is the demo's single state: the containers (DemoDocker),
the GPU's processes and load (DemoSpark) and the services (DemoProbes) read it, so every view
tells the same story (vLLM's container runs, so its process holds GPU memory and its probe
answers; stop it and all three say so).

A headless command is one process, so `state_path` keeps the changes in a JSON file
($XDG_STATE_HOME/spark-tui/demo-state.json): `spark-tui --demo profile up embed` and then
`spark-tui --demo profiles` agree, as they would on a real machine.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from spark_tui.core.demo.containers import FLEET, DemoContainers, _Spec
from spark_tui.models.containers import Container, ContainerListing, PublishedPort

HEALTH_STARTING_S = 6.0  # a service (re)started by an action turns healthy after this long
MODEL_LOAD_S = 20.0  # a GPU service holds its full memory this long after it starts
LOOSE_SPEC = _Spec("portainer", "portainer/portainer-ce:lts", 9443, (), False, 60 << 20, 0.2, health=False)
GIB = 1 << 30


@dataclass(frozen=True)
class GpuProcessSpec:
    """The process a GPU service runs in its container: what NVML and psutil report for it."""

    pid: int
    user: str
    command: str
    gib: float  # GPU memory once its model is loaded


# The GPU processes of the fleet's GPU services, by (project, service).
GPU_PROCESSES: dict[tuple[str, str], GpuProcessSpec] = {
    ("ai", "vllm"): GpuProcessSpec(41873, "spark", "vllm serve Qwen/Qwen3-32B-FP8 --gpu-memory-utilization 0.5", 58.0),
    ("ai", "ollama"): GpuProcessSpec(42210, "ollama", "/usr/bin/ollama runner --model nomic-embed-text --port 40123", 3.2),
    ("ai", "tei"): GpuProcessSpec(43105, "root", "text-embeddings-router --model-id BAAI/bge-m3 --port 80", 2.4),
    ("docs", "docling"): GpuProcessSpec(43550, "docling", "/opt/app-root/bin/python /opt/app-root/bin/docling-serve run", 4.6),
    ("docs", "omniparser"): GpuProcessSpec(43762, "root", "python omniparserserver.py --som_model_path weights/icon_detect/model.pt", 6.1),
}
PROCESS_BY_PID = {proc.pid: (where, proc) for where, proc in GPU_PROCESSES.items()}


@dataclass(frozen=True)
class Change:
    """What an action left a container as: running since `at`, stopped at `at`, or removed."""

    state: str  # "running", "exited", "removed"
    at: float  # wall-clock seconds


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


class DemoFleet:
    """The demo's containers now (thread-safe): `containers()`, `set_state`, and what follows
    from them: the GPU processes and which services run."""

    def __init__(self, clock: Callable[[], float] = time.time, state_path: Path | None = None) -> None:
        self.clock = clock
        self.base = DemoContainers(clock)
        self.started = self.base.started
        self.state_path = state_path
        self.specs: dict[str, tuple[str | None, _Spec]] = {}
        self._base: dict[str, Container] = {}
        for container in self.base.listing().containers:
            project = container.compose_project
            spec = LOOSE_SPEC if project is None else next(s for s in FLEET[project] if s.service == container.compose_service)
            self.specs[container.id] = (project, spec)
            self._base[container.id] = container
        self._lock = threading.Lock()
        self._changes: dict[str, Change] = self._read() if state_path else {}
        self.problem: str | None = None  # why the state file could not be written

    # -- state --------------------------------------------------------------------------------

    def set_state(self, container_id: str, state: str) -> None:
        with self._lock:
            self._changes[container_id] = Change(state, self.clock())
            changes = dict(self._changes)
        if self.state_path is not None:
            self._write(changes)

    def service_state(self, container_id: str) -> str:
        with self._lock:
            change = self._changes.get(container_id)
        return change.state if change is not None else self._base[container_id].state

    def service_container(self, project: str, service: str) -> str | None:
        return next((cid for cid, (p, spec) in self.specs.items() if p == project and spec.service == service), None)

    def running_since(self, project: str, service: str) -> float | None:
        """Wall-clock seconds since when the service's container runs; None when it does not."""
        cid = self.service_container(project, service)
        if cid is None:
            return None
        with self._lock:
            change = self._changes.get(cid)
        if change is not None:
            return change.at if change.state == "running" else None
        base = self._base[cid]
        return base.started_at.timestamp() if base.state == "running" and base.started_at else None

    def is_running(self, name: str) -> bool:
        """Whether the container called `name` runs now."""
        return any(c.name == name and c.state == "running" for c in self.containers())

    # -- what follows from it ------------------------------------------------------------------

    def containers(self) -> tuple[Container, ...]:
        with self._lock:
            changes = dict(self._changes)
        now = self.clock()
        result = []
        for cid, base in self._base.items():
            change = changes.get(cid)
            if change is None:
                result.append(base)
            elif change.state != "removed":
                result.append(self._changed(base, change, now))
        return tuple(sorted(result, key=lambda c: ((c.compose_project or "\uffff").lower(), c.name.lower())))

    def listing(self) -> ContainerListing:
        containers = self.containers()
        return ContainerListing(
            taken_at=self.clock(), engine=self.base.listing().engine, containers=containers,
            changed=frozenset(c.id for c in containers),
        )

    def _changed(self, base: Container, change: Change, now: float) -> Container:
        _, spec = self.specs[base.id]
        if change.state == "running":
            health = None
            if spec.health:
                health = "starting" if now - change.at < HEALTH_STARTING_S else "healthy"
            port = spec.port
            return replace(
                base, state="running", status="Up" + (f" ({health})" if health else ""), health=health,
                started_at=utc(change.at), finished_at=None, exit_code=None,
                ports=(PublishedPort(port, "tcp", "127.0.0.1", port),) if port else (),
                pid=base.pid or 20_000 + sum(base.id.encode()) % 1000,
            )
        return replace(
            base, state="exited", status="Exited (0)", health=None, started_at=None, finished_at=utc(change.at),
            exit_code=0, ports=(), pid=None,
        )

    def loaded(self, project: str, service: str) -> float:
        """0..1: how much of the service's model sits in memory (0 when it does not run)."""
        since = self.running_since(project, service)
        if since is None:
            return 0.0
        return max(0.0, min(1.0, (self.clock() - since) / MODEL_LOAD_S))

    def gpu_processes(self) -> list[tuple[int, int]]:
        """(pid, bytes of GPU memory) of each running GPU service: what the fake NVML reports."""
        procs = []
        for (project, service), proc in GPU_PROCESSES.items():
            loaded = self.loaded(project, service)
            if self.running_since(project, service) is not None:
                procs.append((proc.pid, int(proc.gib * GIB * loaded)))
        return procs

    def gpu_memory_by_container(self) -> dict[str, int]:
        """Container id -> GPU memory of its process, from the same figures as gpu_processes."""
        result: dict[str, int] = {}
        for pid, used in self.gpu_processes():
            cid = self.container_of_pid(pid)
            if cid is not None:
                result[cid] = result.get(cid, 0) + used
        return result

    def container_of_pid(self, pid: int) -> str | None:
        found = PROCESS_BY_PID.get(pid)
        if found is None:
            return None
        (project, service), _ = found
        cid = self.service_container(project, service)
        return cid if cid is not None and self.service_state(cid) == "running" else None

    # -- the state file (headless commands) -------------------------------------------------------

    def _read(self) -> dict[str, Change]:
        """The changes earlier commands made; a missing or unreadable file is a fresh demo."""
        assert self.state_path is not None
        try:
            data = json.loads(self.state_path.read_text())
            changes = {
                cid: Change(str(entry["state"]), float(entry["at"]))
                for cid, entry in data.get("changes", {}).items()
                if cid in self._base and entry.get("state") in ("running", "exited", "removed")
            }
        except (OSError, ValueError, TypeError, AttributeError, KeyError):
            return {}
        return changes

    def _write(self, changes: dict[str, Change]) -> None:
        assert self.state_path is not None
        data = {"changes": {cid: {"state": c.state, "at": c.at} for cid, c in changes.items()}}
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.state_path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(data, indent=1))
            temporary.replace(self.state_path)  # whole or not at all: a reader never sees half
        except OSError as exc:
            self.problem = f"the demo's state could not be saved in {self.state_path}: {exc.strerror or exc}"
