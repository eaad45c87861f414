"""`spark-tui snapshot [--json]`: one sample of everything, printed, then exit.

Each domain gives a section (collect + render + sources), listed in SECTIONS in the order
printed. JSON: each section's fields with a `sources` map beside them (commands/__init__.py).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from spark_tui.core import format as fmt
from spark_tui.commands import demo_fleet, output_console, plain, with_sources, write_json
from spark_tui.commands.containers_section import collect_containers, render_containers
from spark_tui.commands.inference import INFERENCE_SOURCES, collect_inference, render_inference
from spark_tui.commands.probe import PROBE_SOURCES, collect_probes, render_probes
from spark_tui.models.settings import Config
from spark_tui.models.machine import GpuReport, MemoryOverview, SystemSample
from spark_tui.core.machine.sources import machine_sources
from spark_tui.core.machine.memory import memory_overview

CPU_WINDOW_S = 0.5  # CPU load and I/O rates need two readings this far apart
DEMO_NOTE = "simulated DGX Spark (--demo): a fake NVML and /proc fed by the demo's fleet"

# Where each figure comes from: the JSON's `sources` and the table's third column say the same.
MEMORY_SOURCES = {
    "memory.total": "meminfo: MemTotal",
    "memory.used": "meminfo: MemTotal − MemAvailable",
    "memory.available": "meminfo: MemAvailable",
    "memory.page_cache": "meminfo: Cached + Buffers",
    "memory.swap_total": "meminfo",
    "memory.swap_used": "meminfo",
    "memory.gpu_process_memory": "NVML: sum of usedGpuMemory",
    "memory.framebuffers": "NVML memory info",
    "memory.unified": "NVML: no framebuffer memory info on an integrated GPU (GB10): one pool",
}
MACHINE_SOURCES = {
    "gpu": "NVML",
    "gpu.gpus[].processes[].used_memory": "NVML: usedGpuMemory of each compute and graphics process",
    **MEMORY_SOURCES,
    "system.core_groups": "/proc/cpuinfo (core kinds) and CPU time over 0.5 s (psutil.cpu_percent)",
    "system.load_average": "os.getloadavg",
    "system.temperatures": "psutil.sensors_temperatures (hwmon)",
    "system.disk_read_bps": "psutil.disk_io_counters over 0.5 s",
    "system.disk_write_bps": "psutil.disk_io_counters over 0.5 s",
    "system.net_rx_bps": "psutil.net_io_counters over 0.5 s, loopback left out",
    "system.net_tx_bps": "psutil.net_io_counters over 0.5 s, loopback left out",
    "system.uptime_s": "psutil.boot_time",
}
CONTAINER_SOURCES = {
    "containers": "Docker engine: the container list (docker ps -a)",
    "stats.*.cpu_percent": "cgroup cpu.stat usage over the sample window (the engine's stats when the cgroup is not readable)",
    "stats.*.memory_used": "cgroup memory (the engine's stats when the cgroup is not readable)",
    "stats.*.gpu_memory": "NVML: usedGpuMemory of the container's processes (found by cgroup)",
}


@dataclass(frozen=True)
class MachineSnapshot:
    gpu: GpuReport
    memory: MemoryOverview
    system: SystemSample
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SnapshotSection:
    """A part of the snapshot: `collect` returns data for JSON; `render` prints it for people."""

    name: str
    collect: Callable[[argparse.Namespace, Config], Any]
    render: Callable[[Console, Any], None]
    sources: dict[str, str]  # where its figures come from, for JSON (the table says it in place)


def collect_machine(args: argparse.Namespace, config: Config) -> MachineSnapshot:
    if args.demo:
        from spark_tui.core.demo.machine import demo_machine_sources

        sources = demo_machine_sources(demo_fleet())  # the GPU's processes are the demo containers'
    else:
        sources = machine_sources()
    try:
        sources.system.sample()  # primes CPU and I/O counters
        time.sleep(CPU_WINDOW_S)
        gpu = sources.gpu.sample()
        system = sources.system.sample()
    finally:
        sources.close()
    notes = (DEMO_NOTE,) if args.demo else ()
    return MachineSnapshot(gpu=gpu, memory=memory_overview(gpu, system.memory), system=system, notes=notes)


def _heading(console: Console, text: str) -> None:
    heading = plain(text)  # GPU and driver names come from the driver
    heading.stylize("bold")
    console.print(heading, soft_wrap=True)


def _table() -> Table:
    return Table(show_header=False, box=None, padding=(0, 2), pad_edge=True)


def render_machine(console: Console, snap: MachineSnapshot) -> None:
    gpu, memory, system = snap.gpu, snap.memory, snap.system
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(system.taken_at))
    console.print(Text.assemble(("spark-tui snapshot", "bold"), " · ", plain(system.hostname), f" · {when}"))
    if not gpu.gpus:
        console.print(Text.assemble(("GPU  ", "bold"), plain(gpu.problem or "no GPU found")))
    for sample in gpu.gpus:
        _heading(console, f"GPU {sample.index} · {sample.name or fmt.NA} · driver {gpu.driver_version or fmt.NA} · CUDA {gpu.cuda_version or fmt.NA}")
        table = _table()
        events = sample.clock_events
        rows = [
            ("utilization", fmt.percent(sample.utilization_pct)),
            ("temperature", fmt.number(sample.temperature_c, "°C")),
            ("power", f"{fmt.number(sample.power_w, 'W', 1)} (limit {fmt.number(sample.power_limit_w, 'W')})"),
            ("SM clock", fmt.number(sample.sm_clock_mhz, "MHz")),
            ("memory clock", fmt.number(sample.memory_clock_mhz, "MHz")),
            ("fan", fmt.percent(sample.fan_pct)),
            ("clock events", plain(fmt.NA if events is None else (", ".join(events) or "none"))),
        ]
        if sample.lost:
            rows.insert(0, ("status", "GPU is lost"))
        for label, value in rows:
            table.add_row(label, value)
        console.print(table)
        if sample.processes:
            procs = Table("PID", "user", "GPU memory", "command", box=None, padding=(0, 2))
            for proc in sample.processes:
                procs.add_row(str(proc.pid), plain(proc.user or fmt.NA), fmt.size(proc.used_memory), plain(proc.command or fmt.NA))
            console.print(procs)
        elif sample.processes is None:
            console.print(f"  processes: {fmt.NA}")
    _heading(console, "Memory · unified: CPU and GPU share one pool" if memory.unified else "Memory")
    table = _table()
    source = MEMORY_SOURCES
    table.add_row("used", f"{fmt.gib(memory.used)} of {fmt.gib(memory.total)}", source["memory.used"])
    if memory.unified or memory.gpu_process_memory is not None:
        table.add_row("GPU processes", fmt.gib(memory.gpu_process_memory), source["memory.gpu_process_memory"])
    for index, vram in memory.framebuffers:
        table.add_row(f"GPU {index} VRAM", f"{fmt.gib(vram.used)} of {fmt.gib(vram.total)}", source["memory.framebuffers"])
    table.add_row("available", fmt.gib(memory.available), source["memory.available"])
    table.add_row("page cache", fmt.gib(memory.page_cache), source["memory.page_cache"])
    swap = f"{fmt.gib(memory.swap_used)} of {fmt.gib(memory.swap_total)}" if memory.swap_total else "none"
    table.add_row("swap", swap, source["memory.swap_used"])
    console.print(table)
    _heading(console, "CPU")
    table = _table()
    for group in system.core_groups:
        table.add_row(f"{group.name} ×{len(group.cpus)}", f"{group.average:.0f}%", " ".join(f"{p:.0f}" for p in group.percents))
    if system.load_average:
        table.add_row("load average", " ".join(f"{x:.2f}" for x in system.load_average), "")
    for temp in system.temperatures:
        table.add_row(plain(f"temp {temp.label}"), f"{temp.celsius:.0f}°C", "")
    table.add_row("disk", f"read {fmt.rate(system.disk_read_bps)}", f"write {fmt.rate(system.disk_write_bps)}")
    table.add_row("network", f"rx {fmt.rate(system.net_rx_bps)}", f"tx {fmt.rate(system.net_tx_bps)}")
    table.add_row("uptime", fmt.duration(system.uptime_s), "")
    console.print(table)
    for note in snap.notes:
        console.print(Text(f"  {note}", style="dim"))


SECTIONS: list[SnapshotSection] = [
    SnapshotSection("machine", collect_machine, render_machine, MACHINE_SOURCES),
    SnapshotSection("containers", collect_containers, render_containers, CONTAINER_SOURCES),
    SnapshotSection("probes", collect_probes, render_probes, PROBE_SOURCES),
    SnapshotSection("inference", collect_inference, render_inference, INFERENCE_SOURCES),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("snapshot", help="print one sample of everything and exit")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, config: Config) -> int:
    collected = {section.name: section.collect(args, config) for section in SECTIONS}
    if args.json:
        write_json({section.name: with_sources(collected[section.name], section.sources) for section in SECTIONS})
        return 0
    console = output_console()
    for section in SECTIONS:
        section.render(console, collected[section.name])
    return 0


