"""Machine readings beside a run: /proc/meminfo alone, or NVML + memory from the dashboard's sources."""

from __future__ import annotations

from pathlib import Path

from spark_tui.core.bench.machine import meminfo_sampler, sources_sampler
from spark_tui.models.machine import GpuProcess, GpuReport, GpuSample, MemInfo


def test_meminfo_sampler(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       131072000 kB\nMemFree:  1000 kB\nMemAvailable:   100000000 kB\nHugePages_Total: 0\n")
    reading = meminfo_sampler(meminfo)()
    assert reading.mem_available_bytes == 100_000_000 * 1024
    assert reading.mem_used_bytes == 31_072_000 * 1024
    assert reading.gpu_power_w is None
    missing = meminfo_sampler(tmp_path / "none")()
    assert missing.mem_available_bytes is None and missing.taken_at > 0


def test_sources_sampler_keeps_unknown_fields_none() -> None:
    gb10 = GpuSample(0, "NVIDIA GB10", utilization_pct=80.0, temperature_c=61.0, power_w=95.5,
                     processes=(GpuProcess(1, "compute", 30 * 2**30), GpuProcess(2, "compute", None)))
    mem = MemInfo(total=128 * 2**30, available=90 * 2**30, free=1, buffers=0, cached=0, swap_total=0, swap_free=0)
    reading = sources_sampler(lambda: GpuReport(0.0, (gb10,)), lambda: mem)()
    assert (reading.gpu_util_pct, reading.gpu_power_w, reading.gpu_temp_c) == (80.0, 95.5, 61.0)
    assert reading.gpu_process_mem_bytes == 30 * 2**30
    assert (reading.mem_available_bytes, reading.mem_used_bytes) == (90 * 2**30, 38 * 2**30)
    no_gpu = sources_sampler(lambda: GpuReport(0.0, (), problem="NVML library not found"), lambda: None)()
    assert (no_gpu.gpu_util_pct, no_gpu.gpu_power_w, no_gpu.mem_available_bytes, no_gpu.gpu_process_mem_bytes) == (None, None, None, None)


def test_demo_mode_reads_this_machine_not_the_simulated_spark() -> None:
    # the dashboard's demo simulates a Spark with 110 GiB available; a benchmark is real, so its
    # memory guard must read the real MemAvailable, and no made-up GPU figure may be saved
    from spark_tui.core.bench.machine import machine_sampler, read_meminfo

    sampler, sources = machine_sampler(demo=True)
    reading = sampler()
    assert sources is None and reading.gpu_util_pct is None and reading.gpu_power_w is None
    real = read_meminfo()["MemAvailable"]
    assert reading.mem_available_bytes is not None and abs(reading.mem_available_bytes - real) < 2**30
