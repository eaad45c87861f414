"""Which container each GPU process runs in, for the dashboard's process table.

NVML knows PIDs; the kernel's /proc/<pid>/cgroup knows the container. `PidContainers`
remembers each PID's answer while the PID stays on the GPU (a process never changes
container), so a steady GPU costs no /proc reads at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from spark_tui.models.machine import GpuReport
from spark_tui.core.machine.cgroups import container_names_of_pids


class PidContainers:
    """pid -> container id (None: a host process), cached for the PIDs still on the GPU."""

    def __init__(self, resolve: Callable[[int], str | None]) -> None:
        self._resolve = resolve
        self._known: dict[int, str | None] = {}

    def lookup(self, pid: int) -> str | None:
        if pid not in self._known:
            self._known[pid] = self._resolve(pid)
        return self._known[pid]

    def forget_all_but(self, pids: Iterable[int]) -> None:
        keep = set(pids)
        self._known = {pid: cid for pid, cid in self._known.items() if pid in keep}


def gpu_pids(report: GpuReport) -> list[int]:
    return [p.pid for gpu in report.gpus for p in (gpu.processes or ())]


def label_gpu_processes(report: GpuReport, names: Mapping[int, str]) -> GpuReport:
    """The report with `GpuProcess.container` filled from `names` (pid -> container name)."""
    if not names:
        return report
    gpus = []
    for gpu in report.gpus:
        if not gpu.processes or not any(p.pid in names for p in gpu.processes):
            gpus.append(gpu)
            continue
        processes = tuple(replace(p, container=names[p.pid]) if p.pid in names else p for p in gpu.processes)
        gpus.append(replace(gpu, processes=processes))
    return replace(report, gpus=tuple(gpus))


def name_gpu_processes(report: GpuReport, pids: PidContainers, names_by_id: Mapping[str, str]) -> GpuReport:
    """Blocking (/proc reads for new PIDs): the report with each process's container named."""
    running = gpu_pids(report)
    pids.forget_all_but(running)
    if not running:
        return report
    return label_gpu_processes(report, container_names_of_pids(running, names_by_id, container_of_pid=pids.lookup))


def gpu_memory_by_name(report: GpuReport) -> dict[str, int | None]:
    """GPU memory per container name, from processes already labelled; None when all are n/a."""
    totals: dict[str, int | None] = {}
    for gpu in report.gpus:
        for process in gpu.processes or ():
            if process.container is None:
                continue
            if process.used_memory is None:
                totals.setdefault(process.container, None)
            else:
                totals[process.container] = (totals.get(process.container) or 0) + process.used_memory
    return totals
