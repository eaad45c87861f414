"""The machine's sources: NVML and the system, behind one object the app polls."""

from __future__ import annotations

from dataclasses import dataclass

from spark_tui.core.machine.nvml import NvmlSource
from spark_tui.core.machine.system import SystemSource


@dataclass
class MachineSources:
    gpu: NvmlSource
    system: SystemSource
    demo: bool = False

    def close(self) -> None:
        self.gpu.close()


def machine_sources() -> MachineSources:
    """This machine's NVML and /proc (the simulated Spark: core/demo/machine.demo_machine_sources)."""
    return MachineSources(gpu=NvmlSource(), system=SystemSource())
