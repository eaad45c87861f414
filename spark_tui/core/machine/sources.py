"""The machine's sources, real or simulated (`--demo`)."""

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


def machine_sources(demo: bool = False) -> MachineSources:
    if demo:
        from spark_tui.core.demo.machine import DemoSpark

        spark = DemoSpark()
        return MachineSources(
            gpu=NvmlSource(nvml=spark.nvml, psutil=spark.psutil),
            system=SystemSource(psutil=spark.psutil, read_proc=spark.read_proc, hostname=spark.hostname),
            demo=True,
        )
    return MachineSources(gpu=NvmlSource(), system=SystemSource())
