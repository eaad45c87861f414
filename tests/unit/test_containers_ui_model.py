"""The pure parts under the containers UI: app state, GPU process naming, cells, the demo engine."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from spark_tui.ui.containers.state import ComposeJob, ContainersState
from spark_tui.models.compose import CommandResult
from spark_tui.models.containers import Container, ContainerListing, EngineStatus, PublishedPort
from spark_tui.models.machine import GpuProcess, GpuReport, GpuSample
from spark_tui.core.demo.docker import DemoDocker
from spark_tui.core.docker.errors import ContainerActionError
from spark_tui.core.machine.gpu_containers import PidContainers, gpu_memory_by_name, label_gpu_processes, name_gpu_processes
from spark_tui.ui.containers.table import compact_size, ports_text, short_uptime

UP = EngineStatus(state="up", host="unix:///var/run/docker.sock", version="28")
DOWN = EngineStatus(state="down", host="unix:///var/run/docker.sock", reason="gone", retry_in=2)
VLLM = "a" * 64
OLLAMA = "b" * 64


def container(cid: str, name: str, state: str = "running") -> Container:
    return Container(id=cid, name=name, image="img", state=state, status="Up")


def listing(engine: EngineStatus, *containers: Container, complete: bool = True) -> ContainerListing:
    return ContainerListing(taken_at=0.0, engine=engine, containers=containers, complete=complete)


def report(*processes: GpuProcess | None) -> GpuReport:
    procs = None if processes == (None,) else tuple(processes)
    return GpuReport(taken_at=0.0, gpus=(GpuSample(index=0, name="GB10", processes=procs),))


def test_engine_lost_and_back_are_reported_once_each():
    state = ContainersState()
    assert state.apply_listing(listing(DOWN, complete=False)) is None  # never up: the banner says it
    assert state.apply_listing(listing(UP, container(VLLM, "vllm"))) is None
    assert state.apply_listing(listing(DOWN, container(VLLM, "vllm"), complete=False)) == "lost"
    assert state.apply_listing(listing(DOWN, container(VLLM, "vllm"), complete=False)) is None
    assert state.engine_problem and "gone" in state.engine_problem
    assert state.containers[VLLM].name == "vllm", "the last known list stays"
    assert state.apply_listing(listing(UP, container(VLLM, "vllm"))) == "back"
    assert state.engine_problem is None


def test_gpu_memory_per_container_comes_from_named_processes_never_zero_for_unknown():
    state = ContainersState()
    state.apply_listing(listing(UP, container(VLLM, "ai-vllm-1"), container(OLLAMA, "ai-ollama-1")))
    assert not state.record_gpu(report(None)), "no process list: nothing learnt"
    named = report(
        GpuProcess(pid=1, kind="compute", used_memory=40 << 30, container="ai-vllm-1"),
        GpuProcess(pid=2, kind="compute", used_memory=2 << 30, container="ai-vllm-1"),
        GpuProcess(pid=3, kind="compute", used_memory=None, container="ai-ollama-1"),
        GpuProcess(pid=4, kind="compute", used_memory=1 << 30),
    )
    assert state.record_gpu(named)
    assert state.gpu_memory(state.containers[VLLM]) == 42 << 30
    assert state.gpu_memory(state.containers[OLLAMA]) is None
    assert state.gpu_by_id == {VLLM: 42 << 30, OLLAMA: None}
    assert not state.record_gpu(named), "the same figures change nothing"


def test_pid_lookups_are_cached_while_the_pid_stays_on_the_gpu():
    calls: list[int] = []

    def resolve(pid: int) -> str | None:
        calls.append(pid)
        return {10: VLLM, 11: OLLAMA}.get(pid)

    pids = PidContainers(resolve)
    gpu = report(GpuProcess(pid=10, kind="compute", used_memory=1), GpuProcess(pid=11, kind="compute", used_memory=2), GpuProcess(pid=12, kind="compute", used_memory=3))
    names = {VLLM: "ai-vllm-1"}
    labelled = name_gpu_processes(gpu, pids, names)
    assert [p.container for p in labelled.gpus[0].processes] == ["ai-vllm-1", OLLAMA[:12], None]
    name_gpu_processes(gpu, pids, names)
    assert sorted(calls) == [10, 11, 12], "a steady GPU reads /proc once per process"
    name_gpu_processes(report(GpuProcess(pid=10, kind="compute", used_memory=1)), pids, names)
    name_gpu_processes(gpu, pids, names)
    assert sorted(calls) == [10, 11, 11, 12, 12], "gone PIDs are forgotten (their numbers get reused)"
    assert gpu_memory_by_name(labelled) == {"ai-vllm-1": 1, OLLAMA[:12]: 2}
    assert label_gpu_processes(gpu, {}) is gpu


def test_compose_job_headlines():
    job = ComposeJob(project="ai", profile="gpu", action="up", description="", argv=("docker",), started_at=0.0)
    assert job.headline(now=65.0) == "starting profile gpu of ai… 1m 05s"
    job.add(["a", "b"])
    assert job.total_lines == 2 and list(job.lines) == ["a", "b"]
    job.result = CommandResult(("docker",), 1, message="port is already allocated")
    assert job.headline() == "could not start profile gpu of ai: port is already allocated"
    job.result = CommandResult(("docker",), 0, duration_s=4.2)
    assert job.headline() == "started profile gpu of ai in 4.2 s"
    job.result = CommandResult(("docker",), 0, duration_s=75)
    assert job.headline() == "started profile gpu of ai in 1m 15s"


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "n/a"), (512, "512 B"), (300 << 20, "300 MiB"), (int(5.94 * 2**30), "5.9 GiB"), (120 << 30, "120 GiB")],
)
def test_compact_sizes_fit_eight_characters(value, text):
    assert compact_size(value) == text and len(text) <= 8


def test_uptime_and_ports_in_few_characters():
    assert [short_uptime(s) for s in (None, 9, 125, 3 * 3600 + 600, 3 * 86400 + 7200)] == ["", "9s", "2m", "3h 10m", "3d 2h"]
    ports = (
        PublishedPort(8000, "tcp", "127.0.0.1", 8000),
        PublishedPort(80, "tcp", "0.0.0.0", 8080),
        PublishedPort(80, "tcp", "::", 8080),
        PublishedPort(53, "udp", "127.0.0.1", 5353),
    )
    assert ports_text(ports) == "8000,*:8080→80,5353→53/udp"


def test_demo_engine_acts_streams_and_masks():
    clock_now = [1_790_000_000.0]
    docker = DemoDocker(clock=lambda: clock_now[0], pace_s=0)
    updates = docker.updates()
    first = next(updates)
    tei = next(c for c in first.containers if c.name == "ai-tei-1")
    assert tei.state == "exited" and tei.gpu
    docker.start(tei.id)
    changed = next(updates)
    assert changed.changed == {tei.id} and changed.by_id()[tei.id].health == "starting"
    clock_now[0] += 10
    assert next(updates).by_id()[tei.id].health == "healthy"
    overview = docker.overview(changed.containers)
    ai = overview.projects[0]
    assert ai.profile("embed").state == "up"
    command, notes = docker.down_command(ai, ai.profile("embed"))
    run = docker.run(command)
    assert [line.text for line in run.lines()] == [" Container ai-tei-1  Stopping", " Container ai-tei-1  Stopped"]
    assert run.result.ok and docker.service_state(tei.id) == "exited"
    vllm = next(c for c in first.containers if c.name == "ai-vllm-1")
    assert "HF_TOKEN=****" in docker.inspect(vllm.id)["Config"]["Env"]
    assert docker.container_of_pid(41873) == vllm.id and docker.container_of_pid(1) is None
    logs = docker.follow_logs(vllm.id, tail=5)
    batch = next(logs.batches())
    assert len(batch) == 5 and all(line.timestamp is not None for line in batch)
    logs.stop()
    with pytest.raises(ContainerActionError, match="no longer exists"):
        docker.stop("f" * 64)
    docker.stop_updates()
    assert list(updates) == []


def test_uptime_is_measured_against_the_state_clock():
    started = datetime(2026, 1, 1, tzinfo=timezone.utc)
    state = ContainersState(clock=lambda: started.timestamp() + 90)
    c = Container(id=VLLM, name="x", image="i", state="running", status="Up", started_at=started)
    assert c.uptime(state.now()) == 90
