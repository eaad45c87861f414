"""The demo is a GB10 through the real NVML code path, deterministic for a given clock, and one
simulated state (the fleet) drives the GPU, the containers and the services alike."""

from support import FakeClock, demo_sources

from spark_tui.core.demo.docker import DemoDocker
from spark_tui.core.demo.fleet import GPU_PROCESSES, MODEL_LOAD_S, DemoFleet
from spark_tui.core.demo.machine import DemoSpark
from spark_tui.core.demo.probes import DemoProbes
from spark_tui.core.machine.cgroups import gpu_memory_by_container
from spark_tui.core.machine.memory import memory_overview
from spark_tui.core.machine.nvml import NvmlSource
from spark_tui.core.machine.system import SystemSource
from spark_tui.models.probes import ProbeState

GIB = 1 << 30


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


def test_load_moves_utilization_power_and_temperature_together():
    samples = run(150)
    idle_report, _, idle_memory = samples[10]
    busy_report, _, busy_memory = samples[130]
    idle, busy = idle_report.gpus[0], busy_report.gpus[0]
    assert idle.utilization_pct == 0 and busy.utilization_pct > 60
    assert busy.power_w > idle.power_w + 50
    assert busy.temperature_c > idle.temperature_c + 15
    assert busy_memory.unified and busy.framebuffer is None and busy.power_limit_w is None
    # vLLM has been up for hours: its model is resident from the first sample, busy or idle
    assert idle_memory.gpu_process_memory == busy_memory.gpu_process_memory > 50 * GIB
    assert busy.processes[0].command.startswith("vllm serve")


class World:
    """One fleet on a frozen clock, read by the machine, the containers and the services."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.fleet = DemoFleet(self.clock)
        spark = DemoSpark(clock=self.clock, wall_clock=self.clock, fleet=self.fleet)
        self.gpu = NvmlSource(nvml=spark.nvml, psutil=spark.psutil, clock=self.clock)
        self.system = SystemSource(psutil=spark.psutil, read_proc=spark.read_proc, hostname=spark.hostname, clock=self.clock)
        self.docker = DemoDocker(pace_s=0, fleet=self.fleet)
        self.probes = DemoProbes(clock=self.clock, fleet=self.fleet)

    def container(self, name: str):
        return next(c for c in self.docker.containers() if c.name == name)

    def probe(self, name: str):
        return next(e.status for e in self.probes.check(name))


def test_at_start_the_gpu_holds_what_the_containers_say_they_hold():
    world = World()
    report = world.gpu.sample()
    processes = report.gpus[0].processes
    running_gpu = [c for c in world.docker.containers() if c.gpu and c.state == "running"]
    assert {c.compose_service for c in running_gpu} == {"vllm", "ollama"}
    assert {p.pid for p in processes} == {GPU_PROCESSES[("ai", s)].pid for s in ("vllm", "ollama")}
    by_container = gpu_memory_by_container([(p.pid, p.used_memory) for p in processes], world.docker.container_of_pid)
    assert set(by_container) == {c.id for c in running_gpu}
    stats = world.docker.sample_stats(world.docker.containers(), None)  # before the app has an NVML mapping
    assert {cid: stats[cid].gpu_memory for cid in by_container} == by_container
    assert sum(by_container.values()) == report.gpus[0].process_memory
    overview = memory_overview(report, world.system.sample().memory)
    assert overview.gpu_process_memory == sum(by_container.values()) > 60 * GIB
    assert all(c.health == "healthy" for c in running_gpu)  # up 3 hours: past the start period


def test_stopping_vllm_frees_its_memory_stops_the_load_and_its_probe():
    world = World()
    vllm = world.container("ai-vllm-1")
    world.clock.advance(130)  # into the inference phase of the load curve
    assert world.gpu.sample().gpus[0].utilization_pct > 60
    assert world.probe("vllm").state is ProbeState.UP
    world.docker.stop(vllm.id)
    world.clock.advance(1)
    gpu = world.gpu.sample().gpus[0]
    assert GPU_PROCESSES[("ai", "vllm")].pid not in {p.pid for p in gpu.processes}
    assert gpu.utilization_pct == 0
    down = world.probe("vllm")
    assert down.state is ProbeState.DOWN and down.result.error == "connection refused"
    world.docker.start(vllm.id)
    assert world.container("ai-vllm-1").health == "starting"
    world.clock.advance(MODEL_LOAD_S / 2)
    half = next(p for p in world.gpu.sample().gpus[0].processes if p.pid == GPU_PROCESSES[("ai", "vllm")].pid)
    assert half.used_memory == int(GPU_PROCESSES[("ai", "vllm")].gib * GIB / 2)  # its weights are loading
    world.clock.advance(MODEL_LOAD_S)
    assert world.container("ai-vllm-1").health == "healthy"
    full = next(p for p in world.gpu.sample().gpus[0].processes if p.pid == GPU_PROCESSES[("ai", "vllm")].pid)
    assert full.used_memory == int(GPU_PROCESSES[("ai", "vllm")].gib * GIB)


def test_a_started_profile_adds_its_gpu_process():
    world = World()
    tei = world.container("ai-tei-1")
    assert tei.state == "exited" and world.docker.container_of_pid(GPU_PROCESSES[("ai", "tei")].pid) is None
    world.docker.start(tei.id)
    world.clock.advance(MODEL_LOAD_S)
    pids = {p.pid for p in world.gpu.sample().gpus[0].processes}
    assert GPU_PROCESSES[("ai", "tei")].pid in pids
    assert world.docker.container_of_pid(GPU_PROCESSES[("ai", "tei")].pid) == tei.id


def test_the_fleet_state_file_carries_changes_to_the_next_process(tmp_path):
    path = tmp_path / "demo-state.json"
    clock = FakeClock()
    first = DemoFleet(clock, state_path=path)
    tei = first.service_container("ai", "tei")
    first.set_state(tei, "running")
    clock.advance(60)
    second = DemoFleet(clock, state_path=path)  # a later command
    assert second.service_state(tei) == "running"
    assert next(c for c in second.containers() if c.id == tei).health == "healthy"
    path.write_text("{not json")
    assert DemoFleet(clock, state_path=path).service_state(tei) == "exited"  # a broken file is a fresh demo
