"""Samples of the machine itself: GPUs (NVML), memory (/proc/meminfo), CPU, disks, network.

A field the hardware does not report is None, never 0; `errors` says why, per field.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    kind: str  # "compute" or "graphics"
    used_memory: int | None  # bytes; None when NVML does not say
    user: str | None = None
    command: str | None = None
    container: str | None = None  # container name, when the process runs in one


@dataclass(frozen=True)
class FramebufferMemory:
    """What nvmlDeviceGetMemoryInfo reports: dedicated memory on a discrete GPU."""

    total: int
    used: int
    free: int


@dataclass(frozen=True)
class GpuSample:
    index: int
    name: str | None
    uuid: str | None = None
    utilization_pct: float | None = None
    temperature_c: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    sm_clock_mhz: int | None = None
    memory_clock_mhz: int | None = None
    fan_pct: int | None = None
    clock_events: tuple[str, ...] | None = None  # () means running unrestricted
    framebuffer: FramebufferMemory | None = None
    processes: tuple[GpuProcess, ...] | None = None
    errors: dict[str, str] = field(default_factory=dict, compare=False)  # field -> why it is n/a
    lost: bool = False  # NVML says the GPU fell off the bus

    @property
    def process_memory(self) -> int | None:
        """Sum of the processes' GPU memory; None when the list or every figure is n/a."""
        if self.processes is None:
            return None
        known = [p.used_memory for p in self.processes if p.used_memory is not None]
        if self.processes and not known:
            return None
        return sum(known)


@dataclass(frozen=True)
class GpuReport:
    """One poll of NVML: every GPU, or why there are none."""

    taken_at: float  # wall-clock seconds
    gpus: tuple[GpuSample, ...] = ()
    driver_version: str | None = None
    cuda_version: str | None = None
    problem: str | None = None  # why NVML gave nothing, in words


@dataclass(frozen=True)
class MemInfo:
    """/proc/meminfo, in bytes."""

    total: int
    available: int
    free: int
    buffers: int
    cached: int
    swap_total: int
    swap_free: int

    @property
    def used(self) -> int:
        return self.total - self.available

    @property
    def swap_used(self) -> int:
        return self.swap_total - self.swap_free


@dataclass(frozen=True)
class CoreGroup:
    """CPU cores of one kind (Spark: Cortex-X925 and Cortex-A725), with their load."""

    name: str
    cpus: tuple[int, ...]
    percents: tuple[float, ...]  # per core, same order as cpus

    @property
    def average(self) -> float:
        return sum(self.percents) / len(self.percents) if self.percents else 0.0


@dataclass(frozen=True)
class Temperature:
    label: str
    celsius: float
    high: float | None = None


@dataclass(frozen=True)
class SystemSample:
    taken_at: float
    hostname: str
    memory: MemInfo | None
    core_groups: tuple[CoreGroup, ...] = ()
    load_average: tuple[float, float, float] | None = None
    temperatures: tuple[Temperature, ...] = ()
    disk_read_bps: float | None = None  # None until two samples exist
    disk_write_bps: float | None = None
    net_rx_bps: float | None = None
    net_tx_bps: float | None = None
    uptime_s: float | None = None
    errors: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def cpu_percent(self) -> float | None:
        cores = [p for g in self.core_groups for p in g.percents]
        return sum(cores) / len(cores) if cores else None


@dataclass(frozen=True)
class MemoryOverview:
    """Memory as the user should read it: one pool on unified-memory GPUs, VRAM otherwise."""

    unified: bool
    unified_reason: str | None  # why we treat memory as one pool
    total: int | None  # /proc/meminfo MemTotal
    used: int | None  # MemTotal - MemAvailable
    available: int | None
    page_cache: int | None  # Cached + Buffers: reclaimable, not GPU use
    swap_total: int | None
    swap_used: int | None
    gpu_process_memory: int | None  # sum of usedGpuMemory over GPU processes
    framebuffers: tuple[tuple[int, FramebufferMemory], ...] = ()  # (gpu index, memory) for discrete GPUs
