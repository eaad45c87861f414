"""The demo is a GB10 through the real NVML code path, deterministic for a given clock."""

from support import FakeClock, demo_sources

from spark_tui.core.machine.memory import memory_overview


def run(seconds: int):
    clock = FakeClock()
    sources = demo_sources(clock)
    out = []
    for _ in range(seconds):
        clock.advance(1)
        report, system = sources.gpu.sample(), sources.system.sample()
        out.append((report, system, memory_overview(report, system.memory)))
    return out


def test_same_clock_same_machine():
    a, b = run(60), run(60)
    assert [(r.gpus[0].utilization_pct, r.gpus[0].power_w) for r, _, _ in a] == [(r.gpus[0].utilization_pct, r.gpus[0].power_w) for r, _, _ in b]


def test_load_moves_utilization_power_temperature_and_memory_together():
    samples = run(150)
    idle_report, _, idle_memory = samples[10]
    busy_report, _, busy_memory = samples[130]
    idle, busy = idle_report.gpus[0], busy_report.gpus[0]
    assert idle.utilization_pct == 0 and busy.utilization_pct > 60
    assert busy.power_w > idle.power_w + 50
    assert busy.temperature_c > idle.temperature_c + 15
    assert busy_memory.gpu_process_memory > 50 * 1024**3
    assert busy_memory.used - idle_memory.used > 50 * 1024**3  # GPU memory comes out of the one pool
    assert busy_memory.unified and busy.framebuffer is None and busy.power_limit_w is None
    assert busy.processes[0].command.startswith("vllm serve")
