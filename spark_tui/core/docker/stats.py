"""CPU % and memory of running containers, read from cgroups so dockerd does no work for us.

Only when a container's cgroup is not readable here (a remote engine, a rootless daemon in
another namespace, Docker Desktop) does the reader ask the engine, and then sparingly: a
one-shot stats call per container at most every `api_interval_s`, at most `api_per_cycle`
per cycle. A streaming `docker stats` costs dockerd a sampling goroutine per container and
can easily make the daemon the busiest process on the machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import docker.errors

from spark_tui.models.containers import Container, ContainerStats
from spark_tui.core.machine.cgroups import CgroupCounters, CgroupFs, CgroupLocation
from spark_tui.core.docker.engine import DockerEngine, DockerUnavailable


@dataclass(frozen=True)
class _Reading:
    at_ns: int  # monotonic
    cpu_ns: int | None


def cpu_percent(before: _Reading | None, after: _Reading) -> float | None:
    """100 = one core busy, as `docker stats`; None until two readings exist."""
    if before is None or before.cpu_ns is None or after.cpu_ns is None:
        return None
    elapsed = after.at_ns - before.at_ns
    used = after.cpu_ns - before.cpu_ns
    if elapsed <= 0 or used < 0:  # a counter reset: the container restarted in between
        return None
    return used / elapsed * 100.0


def stats_from_api(data: Mapping[str, Any]) -> CgroupCounters:
    """Counters from one `GET /containers/{id}/stats?stream=false&one-shot=true` answer."""
    cpu = (data.get("cpu_stats") or {}).get("cpu_usage") or {}
    memory = data.get("memory_stats") or {}
    stat = memory.get("stats") or {}
    inactive = stat.get("total_inactive_file", stat.get("inactive_file"))
    limit = memory.get("limit")
    return CgroupCounters(
        cpu_ns=cpu.get("total_usage"),
        memory_usage=memory.get("usage"),
        memory_inactive_file=inactive,
        memory_limit=limit if limit and limit < (1 << 60) else None,
        memory_peak=memory.get("max_usage"),
        pids=(data.get("pids_stats") or {}).get("current"),
    )


class ContainerStatsReader:
    """`sample(containers)` -> {container id: ContainerStats} for the running ones. Blocking.

    Keep one reader for the session: CPU % is the difference between two calls.
    `gpu_memory` (container id -> bytes) comes from the NVML process list (see
    cgroups.gpu_memory_by_container) and is copied into the stats as is.
    """

    def __init__(
        self,
        engine: DockerEngine | None = None,
        cgroupfs: CgroupFs | None = None,
        api_interval_s: float = 30.0,
        api_per_cycle: int = 4,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.engine = engine
        self.fs = cgroupfs or CgroupFs()
        self.api_interval_s = api_interval_s
        self.api_per_cycle = api_per_cycle
        self._clock_ns = clock_ns
        self._locations: dict[str, tuple[int | None, CgroupLocation | None]] = {}
        self._previous: dict[str, _Reading] = {}
        self._api_last: dict[str, int] = {}
        self._api_cache: dict[str, ContainerStats] = {}
        self.api_calls = 0  # stats requests made to dockerd: the bench reports it

    def sample(self, containers: Iterable[Container], gpu_memory: Mapping[str, int | None] | None = None) -> dict[str, ContainerStats]:
        gpu_memory = gpu_memory or {}
        running = [c for c in containers if c.state == "running"]
        result: dict[str, ContainerStats] = {}
        api_wanted: list[Container] = []
        for container in running:
            stats = self._from_cgroup(container, gpu_memory.get(container.id))
            if stats is not None:
                result[container.id] = stats
            else:
                api_wanted.append(container)
        result.update(self._from_api(api_wanted, gpu_memory))
        alive = {c.id for c in running}
        for table in (self._locations, self._previous, self._api_last, self._api_cache):
            for gone in [cid for cid in table if cid not in alive]:
                del table[gone]
        return result

    def _location(self, container: Container) -> CgroupLocation | None:
        cached = self._locations.get(container.id)
        if cached is not None and cached[0] == container.pid:
            return cached[1]
        location = self.fs.locate(container.id, container.pid)
        self._locations[container.id] = (container.pid, location)
        return location

    def _from_cgroup(self, container: Container, gpu: int | None) -> ContainerStats | None:
        location = self._location(container)
        if location is None:
            return None
        counters = self.fs.read(location)
        if counters is None:
            self._locations.pop(container.id, None)  # moved or gone: locate again next time
            return None
        return self._stats(container.id, counters, gpu, "cgroup")

    def _stats(self, container_id: str, counters: CgroupCounters, gpu: int | None, source: Any) -> ContainerStats:
        reading = _Reading(self._clock_ns(), counters.cpu_ns)
        percent = cpu_percent(self._previous.get(container_id), reading)
        self._previous[container_id] = reading
        return ContainerStats(
            container_id=container_id,
            cpu_percent=percent,
            memory_used=counters.memory_used,
            memory_limit=counters.memory_limit,
            memory_peak=counters.memory_peak,
            pids=counters.pids,
            gpu_memory=gpu,
            source=source,
        )

    def _from_api(self, containers: list[Container], gpu_memory: Mapping[str, int | None]) -> dict[str, ContainerStats]:
        if not containers or self.engine is None:
            return {}
        now = self._clock_ns()
        due = sorted(
            (c for c in containers if now - self._api_last.get(c.id, -(1 << 62)) >= self.api_interval_s * 1e9),
            key=lambda c: self._api_last.get(c.id, -(1 << 62)),
        )[: self.api_per_cycle]
        for container in due:
            self._api_last[container.id] = now
            try:
                data = self.engine.call(lambda c, cid=container.id: c.api.stats(cid, stream=False, one_shot=True))
            except (docker.errors.APIError, DockerUnavailable):
                continue
            self.api_calls += 1
            counters = stats_from_api(data)
            self._api_cache[container.id] = self._stats(container.id, counters, gpu_memory.get(container.id), "api")
        return {c.id: self._api_cache[c.id] for c in containers if c.id in self._api_cache}
