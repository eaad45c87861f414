"""Unified memory is detected by every rule in SPARK_FACTS.md and read from /proc/meminfo."""

import pytest

from spark_tui.models.machine import FramebufferMemory, GpuProcess, GpuReport, GpuSample, MemInfo
from spark_tui.core.machine.memory import memory_overview, unified_memory_reason

GIB = 1024**3
MEM = MemInfo(total=120 * GIB, available=50 * GIB, free=20 * GIB, buffers=1 * GIB, cached=19 * GIB, swap_total=16 * GIB, swap_free=16 * GIB)


def gpu(name="NVIDIA Device", framebuffer=None, errors=None, processes=()):
    return GpuSample(index=0, name=name, framebuffer=framebuffer, errors=errors or {}, processes=processes)


@pytest.mark.parametrize(
    "sample",
    [
        gpu(errors={"memory": "Not Supported"}),
        gpu(framebuffer=FramebufferMemory(0, 0, 0)),
        gpu(framebuffer=FramebufferMemory(int(115 * GIB), 0, 0)),
        gpu(name="NVIDIA GB10"),
        gpu(name="NVIDIA GH200 480GB", framebuffer=FramebufferMemory(96 * GIB, 0, 96 * GIB)),
        gpu(name="Orin (nvgpu) Jetson"),
        gpu(name="NVIDIA Thor"),
    ],
)
def test_unified_memory_rules(sample):
    assert unified_memory_reason(sample, MEM.total) is not None


def test_discrete_gpu_is_not_unified():
    assert unified_memory_reason(gpu(name="NVIDIA H100", framebuffer=FramebufferMemory(80 * GIB, 1, 1)), MEM.total) is None


def test_unified_overview_reads_the_pool_from_meminfo_and_gpu_processes_from_nvml():
    procs = (GpuProcess(1, "compute", 30 * GIB), GpuProcess(2, "compute", 5 * GIB), GpuProcess(3, "compute", None))
    report = GpuReport(taken_at=0, gpus=(gpu(name="NVIDIA GB10", errors={"memory": "Not Supported"}, processes=procs),))
    overview = memory_overview(report, MEM)
    assert overview.unified
    assert overview.total == 120 * GIB and overview.used == 70 * GIB and overview.available == 50 * GIB
    assert overview.gpu_process_memory == 35 * GIB
    assert overview.page_cache == 20 * GIB
    assert overview.framebuffers == ()


def test_discrete_overview_lists_vram_separately():
    vram = FramebufferMemory(80 * GIB, 51 * GIB, 29 * GIB)
    report = GpuReport(taken_at=0, gpus=(gpu(name="NVIDIA H100", framebuffer=vram),))
    overview = memory_overview(report, MEM)
    assert not overview.unified
    assert overview.framebuffers == ((0, vram),)


def test_without_gpu_or_meminfo_everything_is_none():
    overview = memory_overview(None, None)
    assert not overview.unified and overview.total is None and overview.used is None and overview.gpu_process_memory is None
