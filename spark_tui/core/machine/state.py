"""The latest machine samples and their history: what the dashboard draws from."""

from __future__ import annotations

from spark_tui.core.machine.history import History
from spark_tui.models.machine import GpuReport, MemoryOverview, SystemSample
from spark_tui.core.machine.memory import memory_overview


class MachineState:
    def __init__(self, span: float, interval: float) -> None:
        self.history = History(span=span, interval=interval)
        self.gpu: GpuReport | None = None
        self.system: SystemSample | None = None
        self.memory: MemoryOverview | None = None

    def record_gpu(self, report: GpuReport) -> None:
        self.gpu = report
        for gpu in report.gpus:
            prefix = f"gpu{gpu.index}"
            self.history.add(
                report.taken_at,
                [(f"{prefix}.util", gpu.utilization_pct), (f"{prefix}.temp", gpu.temperature_c), (f"{prefix}.power", gpu.power_w)],
            )
        self._update_memory(report.taken_at, gpu_changed=True)

    def record_system(self, sample: SystemSample) -> None:
        self.system = sample
        self.history.add(sample.taken_at, [("cpu.total", sample.cpu_percent)])
        self._update_memory(sample.taken_at, gpu_changed=False)

    def _update_memory(self, at: float, gpu_changed: bool) -> None:
        self.memory = memory_overview(self.gpu, self.system.memory if self.system else None)
        if gpu_changed:
            self.history.add(at, [("mem.gpu", self.memory.gpu_process_memory)])
        else:
            self.history.add(at, [("mem.used", self.memory.used)])
