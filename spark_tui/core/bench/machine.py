"""The default machine sampler for a run: /proc/meminfo only (the dashboard passes a richer one)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spark_tui.models.bench import MachineReading
from spark_tui.models.machine import GpuReport, MemInfo

MachineSampler = Callable[[], MachineReading]


def read_meminfo(path: Path = Path("/proc/meminfo")) -> dict[str, int]:
    """/proc/meminfo in bytes, by field name."""
    values: dict[str, int] = {}
    for line in path.read_text().splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name] = int(parts[0]) * (1024 if len(parts) > 1 and parts[1] == "kB" else 1)
    return values


def meminfo_sampler(path: Path = Path("/proc/meminfo")) -> MachineSampler:
    """A sampler that reads memory only; fields it cannot read stay None."""

    def sample() -> MachineReading:
        try:
            info = read_meminfo(path)
        except OSError:
            return MachineReading(taken_at=time.time())
        total, available = info.get("MemTotal"), info.get("MemAvailable")
        used = total - available if total is not None and available is not None else None
        return MachineReading(taken_at=time.time(), mem_available_bytes=available, mem_used_bytes=used)

    return sample


def sources_sampler(gpu: Callable[[], GpuReport], memory: Callable[[], MemInfo | None]) -> MachineSampler:
    """A sampler over the dashboard's sources: NVML for the GPU, /proc/meminfo for memory.

    GB10 has one GPU; with several, power and process memory are summed, utilisation averaged,
    temperature the hottest. A figure no GPU reports stays None.
    """

    def sample() -> MachineReading:
        report, mem = gpu(), memory()
        gpus = report.gpus if report else ()

        def known(name: str) -> list[float]:
            return [v for g in gpus if (v := getattr(g, name)) is not None]

        util, power, temp = known("utilization_pct"), known("power_w"), known("temperature_c")
        process = [m for g in gpus if (m := g.process_memory) is not None]
        return MachineReading(
            taken_at=time.time(),
            gpu_util_pct=sum(util) / len(util) if util else None,
            gpu_power_w=sum(power) if power else None,
            gpu_temp_c=max(temp) if temp else None,
            mem_available_bytes=mem.available if mem else None,
            mem_used_bytes=mem.used if mem else None,
            gpu_process_mem_bytes=sum(process) if process else None,
        )

    return sample


def machine_sampler(demo: bool = False) -> tuple[MachineSampler, Any]:
    """NVML + memory when the machine's sources start; memory alone otherwise, and always with
    `demo`: the dashboard may simulate a Spark, but a benchmark is real, so its memory guard reads
    this machine's MemAvailable and its results hold no made-up GPU figures.
    Returns (sampler, sources to close when the run is over, or None)."""
    if demo:
        return meminfo_sampler(), None
    try:
        from spark_tui.core.machine.sources import machine_sources

        sources = machine_sources()
    except Exception:  # noqa: BLE001 - no GPU library: memory alone still guards the run
        return meminfo_sampler(), None
    return sources_sampler(sources.gpu.sample, lambda: sources.system.sample().memory), sources
