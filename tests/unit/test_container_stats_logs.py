from datetime import datetime, timezone
from pathlib import Path

import pytest

from spark_tui.models.containers import Container, LogLine
from spark_tui.core.machine.cgroups import CgroupFs
from spark_tui.core.docker.logs import LogBuffer, lines_from_chunks
from spark_tui.core.docker.stats import ContainerStatsReader, stats_from_api

LOCAL = "a" * 64
REMOTE = "b" * 64


def running(cid: str, pid: int | None = None, state: str = "running") -> Container:
    return Container(id=cid, name=cid[:4], image="i", state=state, status="", pid=pid)


def cgroup_tree(tmp: Path, usage_usec: int) -> CgroupFs:
    (tmp / "proc/self").mkdir(parents=True, exist_ok=True)
    (tmp / "proc/self/mountinfo").write_text("29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
    (tmp / "proc/10").mkdir(exist_ok=True)
    (tmp / "proc/10/cgroup").write_text(f"0::/system.slice/docker-{LOCAL}.scope\n")
    group = tmp / f"sys/fs/cgroup/system.slice/docker-{LOCAL}.scope"
    group.mkdir(parents=True, exist_ok=True)
    (group / "cpu.stat").write_text(f"usage_usec {usage_usec}\n")
    (group / "memory.current").write_text("3000\n")
    (group / "memory.stat").write_text("inactive_file 1000\n")
    (group / "memory.max").write_text("1048576\n")
    return CgroupFs(proc=tmp / "proc", prefix=tmp)


class FakeEngine:
    host = "unix:///fake.sock"
    timeout = 1

    def __init__(self) -> None:
        self.calls: list[str] = []

    def call(self, fn):
        return fn(self)

    @property
    def api(self):
        return self

    def stats(self, cid: str, stream: bool, one_shot: bool) -> dict:
        assert stream is False and one_shot is True
        self.calls.append(cid)
        n = len(self.calls)
        return {
            "cpu_stats": {"cpu_usage": {"total_usage": n * 500_000_000}},
            "memory_stats": {"usage": 5000, "limit": 1 << 62, "stats": {"inactive_file": 1000}},
            "pids_stats": {"current": 3},
        }


def test_cgroup_cpu_percent_between_two_samples(tmp_path: Path) -> None:
    now = [0]
    fs = cgroup_tree(tmp_path, usage_usec=1_000_000)
    reader = ContainerStatsReader(cgroupfs=fs, clock_ns=lambda: now[0])
    first = reader.sample([running(LOCAL, 10), running("c" * 64, state="exited")])
    assert set(first) == {LOCAL}
    assert first[LOCAL].cpu_percent is None and first[LOCAL].memory_used == 2000 and first[LOCAL].memory_limit == 1048576
    cgroup_tree(tmp_path, usage_usec=2_500_000)  # 1.5 s of CPU ...
    now[0] = 1_000_000_000  # ... in 1 s of wall time
    second = reader.sample([running(LOCAL, 10)], gpu_memory={LOCAL: 123})
    assert second[LOCAL].cpu_percent == pytest.approx(150.0)
    assert second[LOCAL].gpu_memory == 123 and second[LOCAL].source == "cgroup"


def test_api_fallback_is_rationed(tmp_path: Path) -> None:
    now = [0]
    engine = FakeEngine()
    reader = ContainerStatsReader(engine, cgroupfs=CgroupFs(proc=tmp_path, prefix=tmp_path), api_interval_s=10, api_per_cycle=1, clock_ns=lambda: now[0])
    others = [running(REMOTE), running("d" * 64)]
    first = reader.sample(others)
    assert engine.calls == [REMOTE] and set(first) == {REMOTE}
    assert first[REMOTE].source == "api" and first[REMOTE].memory_used == 4000 and first[REMOTE].memory_limit is None
    now[0] = 1_000_000_000
    second = reader.sample(others)
    assert engine.calls == [REMOTE, "d" * 64], "one call per cycle, the least recently read first"
    assert second[REMOTE] == first[REMOTE], "between calls the last figures are reused"
    now[0] = 11_000_000_000
    third = reader.sample(others)
    assert engine.calls[-1] == REMOTE and third[REMOTE].cpu_percent == pytest.approx(100 * 1e9 / 11e9)
    assert reader.api_calls == 3


def test_api_counters() -> None:
    counters = stats_from_api({"cpu_stats": {"cpu_usage": {"total_usage": 7}}, "memory_stats": {"usage": 10, "stats": {"total_inactive_file": 4}, "limit": 100}})
    assert (counters.cpu_ns, counters.memory_used, counters.memory_limit, counters.pids) == (7, 6, 100, None)


def test_chunks_become_lines_with_timestamps() -> None:
    chunks = [b"2026-11-23T09:02:05.787390123Z hello wo", b"rld\n2026-11-23T09:02:06Z ", b"HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz\r\n", b"2026-11-23T09:02:07Z tail"]
    lines = list(lines_from_chunks("c", chunks))
    assert [line.text for line in lines] == ["hello world", "HF_TOKEN=****", "tail"]
    assert lines[0].timestamp == datetime(2026, 11, 23, 9, 2, 5, 787390, tzinfo=timezone.utc)


def test_tty_single_bytes_and_invalid_utf8() -> None:
    raw = "héllo\n".encode() + b"\xff\n"
    lines = list(lines_from_chunks("c", [raw[i:i + 1] for i in range(len(raw))], timestamps=False))
    assert [line.text for line in lines] == ["héllo", "\ufffd"]


def test_log_buffer_search() -> None:
    buffer = LogBuffer(max_lines=3)
    buffer.extend(LogLine("c", text) for text in ["INFO start", "ERROR boom", "info done", "Error again"])
    assert [line.text for line in buffer.lines] == ["ERROR boom", "info done", "Error again"]
    assert buffer.search("error") == [0, 2]
    assert buffer.search(r"^info", regex=True) == [1]
    with pytest.raises(ValueError, match="not a valid regular expression"):
        buffer.search("(", regex=True)


def test_demo_fleet_has_the_shapes_of_the_real_sources() -> None:
    from spark_tui.core.demo.docker import DemoDocker

    now = [1000.0]
    demo = DemoDocker(clock=lambda: now[0])
    listing = demo.fleet.listing()
    assert listing.engine.up and len(listing.containers) == 9
    assert [g.project for g in listing.groups()] == ["ai", "docs", None]
    stats = demo.sample_stats(listing.containers, None)
    running = {c.id for c in listing.containers if c.state == "running"}
    assert set(stats) == running
    assert all(s.memory_used and s.cpu_percent is not None for s in stats.values())
    states = {(p.project, p.name): p.state for project in demo.overview(listing.containers).projects for p in project.profiles}
    assert states == {("ai", "embed"): "down", ("ai", "gpu"): "up", ("docs", "ocr"): "down"}
    now[0] += 30
    assert all(c.health in (None, "healthy") for c in demo.containers())
