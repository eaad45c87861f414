"""The container data layer against the real engine: list, group, health, actions, logs, inspect,
events, cgroup stats and PID -> container mapping."""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

import pytest

from spark_tui.core.masking import MASK
from spark_tui.models.containers import ContainerListing
from spark_tui.core.machine.cgroups import CgroupFs, gpu_memory_by_container
from spark_tui.core.docker.logs import LogFollower
from spark_tui.core.docker.stats import ContainerStatsReader
from spark_tui.core.docker.watcher import ContainerWatcher
from spark_tui.core.docker.containers import (
    ContainerActionError,
    ContainerCatalog,
    inspect_container,
    restart_container,
    start_container,
    stop_container,
)
from tests.integration.conftest import PROFILED_PROJECT, DockerKit, docker, wait_for

pytestmark = pytest.mark.docker


def find(catalog: ContainerCatalog, name: str):
    return next((c for c in catalog.refresh().containers if c.name == name), None)


def test_lists_running_and_stopped_grouped_by_project_with_health_and_ports(kit: DockerKit, engine) -> None:
    project = kit.compose_project(PROFILED_PROJECT)
    project.compose("up", "-d", "web")
    loose = kit.run("loose", "true", detach=False)
    catalog = ContainerCatalog(engine)

    web = wait_for(lambda: (c := find(catalog, f"{project.name}-web-1")) and c.health == "healthy" and c, what="web to turn healthy")
    listing = catalog.refresh()
    mine = [c for c in listing.containers if c.name.startswith(kit.prefix)]
    assert {c.name for c in mine} == {f"{project.name}-web-1", kit.name("loose")}

    assert web.state == "running" and web.compose_project == project.name and web.compose_service == "web"
    assert web.compose_config_files == (str(project.file),)
    assert web.compose_working_dir == str(project.directory)
    assert web.started_at is not None and web.uptime() is not None and web.pid
    assert [(p.container_port, p.host_ip) for p in web.ports] == [(8080, "127.0.0.1")]
    assert web.ports[0].host_port > 0
    assert web.gpu is False

    stopped = next(c for c in mine if c.id == loose)
    assert stopped.state == "exited" and stopped.exit_code == 0 and stopped.uptime() is None
    assert stopped.compose_project is None

    groups = {g.project: g for g in listing.groups()}
    assert [c.name for c in groups[project.name].containers] == [f"{project.name}-web-1"]
    assert loose in {c.id for c in groups[None].containers}
    assert list(groups)[-1] is None  # loose containers come last


class RecordingCatalog(ContainerCatalog):
    """Remembers which containers it inspected (other tests create containers at the same time)."""

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.inspected: list[str] = []

    def _inspect(self, container_id: str):
        self.inspected.append(container_id)
        return super()._inspect(container_id)


def test_refresh_inspects_only_what_changed(kit: DockerKit, engine) -> None:
    first = kit.run("a", "sleep", "300")
    catalog = RecordingCatalog(engine)
    catalog.refresh()
    assert first in catalog.inspected
    catalog.inspected.clear()
    again = catalog.refresh()
    assert first not in catalog.inspected, "an unchanged container must not be inspected again"
    assert first not in again.changed
    second = kit.run("b", "sleep", "300")
    catalog.inspected.clear()
    listing = catalog.refresh()
    assert second in catalog.inspected and first not in catalog.inspected
    assert second in listing.changed and first not in listing.changed


def test_start_stop_restart_act_on_the_chosen_container_only(kit: DockerKit, engine) -> None:
    target = kit.run("target", "sleep", "300", options=("--stop-signal", "SIGKILL"))
    bystander = kit.run("bystander", "sleep", "300")
    catalog = ContainerCatalog(engine)
    state = lambda cid: next(c for c in catalog.refresh().containers if c.id == cid)  # noqa: E731

    first_start = state(target).started_at
    bystander_start = state(bystander).started_at
    stop_container(engine, target, grace_s=1)
    assert state(target).state == "exited"
    assert state(target).can_start and not state(target).can_stop
    start_container(engine, target)
    assert state(target).state == "running"
    restart_container(engine, target, grace_s=1)
    after = state(target)
    assert after.state == "running" and after.started_at > first_start
    assert state(bystander).state == "running" and state(bystander).started_at == bystander_start


def test_action_errors_are_the_engines_words(kit: DockerKit, engine) -> None:
    holder = kit.run("holder", "sleep", "300", options=("-p", "127.0.0.1::80"))
    port = kit.inspect(holder)["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
    clash = docker("create", "--label", kit.label, "--name", kit.name("clash"), "-p", f"127.0.0.1:{port}:80", "local/busybox", "sleep", "300").stdout.strip()
    with pytest.raises(ContainerActionError) as failure:
        start_container(engine, clash)
    assert "port is already allocated" in str(failure.value)
    assert str(failure.value).startswith(f"cannot start {clash[:12]}")
    docker("rm", "-f", clash)
    with pytest.raises(ContainerActionError, match="no longer exists"):
        stop_container(engine, clash)
    with pytest.raises(ContainerActionError, match="not a container id"):
        stop_container(engine, "--all")


def test_inspect_masks_secret_environment_values_and_arguments(kit: DockerKit, engine) -> None:
    cid = kit.run(
        "secret",
        "sleep", "300", "--api-key", "sk-should-not-show-1234567890",
        options=("-e", "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123", "-e", "DB_PASSWORD=hunter2", "-e", "MODEL=llama",
                 "-e", "DATABASE_URL=postgres://app:pa55word@db:5432/x", "--entrypoint", "sh", "--label", "api_key=abc123"),
    )
    data = inspect_container(engine, cid)
    env = data["Config"]["Env"]
    assert f"HF_TOKEN={MASK}" in env and f"DB_PASSWORD={MASK}" in env and "MODEL=llama" in env
    assert f"DATABASE_URL=postgres://app:{MASK}@db:5432/x" in env
    assert data["Config"]["Cmd"] == ["sleep", "300", "--api-key", MASK]
    assert data["Config"]["Labels"]["api_key"] == MASK
    text = repr(data)
    for secret in ("hf_abcdefghij", "hunter2", "pa55word", "sk-should-not-show", "abc123"):
        assert secret not in text
    assert data["Id"] == cid  # everything else is intact


def test_logs_tail_then_follow_with_timestamps_masked_and_a_clean_stop(kit: DockerKit, engine) -> None:
    cid = kit.run(
        "talker",
        "sh", "-c", 'for i in 1 2 3 4 5; do echo "line $i"; done; echo "HF_TOKEN=$HF_TOKEN" >&2; '
        'while :; do echo tick; sleep 0.2; done',
        options=("-e", "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123"),
    )
    wait_for(lambda: "tick" in docker("logs", cid).stdout, what="the first tick")
    follower = LogFollower(engine, cid, tail=100)
    batches: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [batches.put(b) for b in follower.batches(max_wait_s=0.05)] and None)
    reader.start()
    lines = []
    while sum(1 for line in lines if line.text == "tick") < 3:
        lines.extend(batches.get(timeout=10))
    follower.stop()
    reader.join(timeout=5)
    assert not reader.is_alive(), "stop() must end the follow promptly"
    texts = [line.text for line in lines]
    stdout = [line for line in lines if not line.text.startswith("HF_TOKEN")]  # stderr may come first
    assert [line.text for line in stdout[:5]] == [f"line {i}" for i in range(1, 6)]
    assert f"HF_TOKEN={MASK}" in texts
    assert all("hf_abc" not in t for t in texts)
    assert all(line.timestamp is not None for line in lines)
    assert stdout == sorted(stdout, key=lambda line: line.timestamp)

    tail = list(LogFollower(engine, cid, tail=2, follow=False).lines())
    assert len(tail) == 2 and all(line.text == "tick" for line in tail)


def test_a_consumer_slower_than_the_log_gets_the_newest_lines_and_memory_stays_bounded(kit: DockerKit, engine) -> None:
    cid = kit.run("flood", "sh", "-c", "seq 1 5000")
    docker("wait", cid)  # every line is written: the follow reads them and ends with the container
    follower = LogFollower(engine, cid, tail=-1)
    batches = list(follower.batches(max_lines=100, max_wait_s=0.05))
    numbers = [int(line.text) for batch in batches for line in batch]
    assert all(0 < len(batch) <= 100 for batch in batches)
    assert numbers == sorted(numbers) and numbers[-1] == 5000, "the newest lines are kept, in order"
    assert follower.dropped > 0 and len(numbers) + follower.dropped == 5000, "every line is shown or counted as skipped"
    assert follower.error is None


def test_a_tty_container_is_read_as_raw_bytes(kit: DockerKit, engine) -> None:
    cid = kit.run("tty", "sh", "-c", "printf 'one\\ntwo \\033[31mred\\033[0m\\n'; sleep 300", options=("-t",))
    wait_for(lambda: "red" in docker("logs", cid).stdout, what="the tty output")
    lines = list(LogFollower(engine, cid, tail=10, follow=False).lines())
    assert [line.text for line in lines] == ["one", "two red"], "CRLF from the tty ends the line, colour becomes spans"
    assert lines[1].spans and lines[1].spans[0][:2] == (4, 7)
    assert all(line.timestamp is not None for line in lines)


def test_a_container_started_elsewhere_appears_from_events_not_polling(kit: DockerKit, engine) -> None:
    watcher = ContainerWatcher(engine, reconcile_s=3600)  # no reconcile during the test: only events
    listings: queue.Queue[ContainerListing] = queue.Queue()
    runner = threading.Thread(target=watcher.run, args=(listings.put,), daemon=True)
    runner.start()
    try:
        first = listings.get(timeout=20)
        assert first.engine.up and first.complete
        cid = kit.run("outsider", "sleep", "300")

        def seen(predicate) -> ContainerListing:
            while True:
                listing = listings.get(timeout=20)
                if predicate(listing):
                    return listing

        appeared = seen(lambda l: cid in l.changed)
        assert appeared.by_id()[cid].state == "running"
        docker("stop", "-t", "0", cid)
        stopped = seen(lambda l: cid in l.changed and l.by_id()[cid].state == "exited")
        assert stopped.by_id()[cid].exit_code is not None
        docker("rm", cid)
        gone = seen(lambda l: cid in l.removed)
        assert cid not in gone.by_id()
    finally:
        watcher.stop()
        runner.join(timeout=10)
    assert not runner.is_alive(), "stop() must end updates() promptly"


def test_stats_come_from_cgroups_without_asking_dockerd(kit: DockerKit, engine) -> None:
    busy = kit.run("busy", "sh", "-c", "while :; do :; done")
    idle = kit.run("idle", "sleep", "300")
    catalog = ContainerCatalog(engine)
    containers = [c for c in catalog.refresh().containers if c.id in (busy, idle)]
    reader = ContainerStatsReader(engine)
    first = reader.sample(containers)
    assert first[busy].cpu_percent is None, "CPU % needs two readings"
    wait_for(lambda: (s := reader.sample(containers)[busy]).cpu_percent is not None and s.cpu_percent > 20, timeout=10, interval=0.5, what="busy CPU")
    stats = reader.sample(containers)
    assert stats[idle].cpu_percent is not None and stats[idle].cpu_percent < 20
    assert stats[busy].source == "cgroup" and reader.api_calls == 0
    assert stats[idle].memory_used and 0 < stats[idle].memory_used < 64 * 2**20
    assert stats[idle].pids == 1


def test_pid_of_a_process_inside_a_container_maps_to_it(kit: DockerKit) -> None:
    marker = str(7000 + os.getpid() % 1000)
    cid = kit.run("gpuproc", "sh", "-c", f"sleep {marker}1 & exec sleep {marker}2")

    def child_pid() -> int | None:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (entry / "cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", f"{marker}1".encode()]:
                        return int(entry.name)
                except OSError:
                    continue
        return None

    pid = wait_for(child_pid, what="the child process")
    fs = CgroupFs()
    assert fs.container_of_pid(pid) == cid
    assert fs.container_of_pid(kit.inspect(cid)["State"]["Pid"]) == cid
    assert fs.container_of_pid(os.getpid()) != cid
    per_container = gpu_memory_by_container([(pid, 512 * 2**20), (os.getpid(), 1 << 30)], fs.container_of_pid)
    assert per_container.get(cid) == 512 * 2**20
