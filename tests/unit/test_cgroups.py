from pathlib import Path

import pytest

from spark_tui.core.machine.cgroups import (
    CgroupFs,
    container_id_from_cgroup,
    container_names_of_pids,
    gpu_memory_by_container,
    parse_cgroup_mounts,
    parse_cgroup_paths,
)

ID = "b2fede32f04649005c3540fc244ece8637600bd494810d5348c75b4459f3e268"
OTHER = "0" * 63 + "1"


@pytest.mark.parametrize(
    "text",
    [
        f"0::/system.slice/docker-{ID}.scope\n",  # v2, systemd driver (Ubuntu / DGX OS)
        f"0::/docker/{ID}\n",  # v2, cgroupfs driver
        f"12:memory:/docker/{ID}\n11:cpu,cpuacct:/docker/{ID}\n0::/docker/{ID}\n",  # v1 / hybrid
        f"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-{ID}.scope\n",
        f"4:memory:/kubepods/burstable/pod0d1c5a6e-1111-2222-3333-444455556666/{ID}\n",  # k8s cgroupfs
        f"0::/machine.slice/libpod-{ID}.scope/container\n",  # podman
        f"0::/system.slice/crio-{ID}.scope\n",
        f"0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker-{ID}.scope\n",  # rootless
        f"0::/docker/{OTHER}/docker/{ID}\n",  # docker in docker: the innermost
    ],
)
def test_container_id_from_cgroup_paths(text: str) -> None:
    assert container_id_from_cgroup(text) == ID


@pytest.mark.parametrize(
    "text",
    ["0::/\n", "0::/user.slice/user-1000.slice/session-3.scope\n", "0::/system.slice/docker.service\n", "", "garbage"],
)
def test_host_processes_have_no_container(text: str) -> None:
    assert container_id_from_cgroup(text) is None


def test_parse_cgroup_paths_splits_joined_controllers() -> None:
    paths = parse_cgroup_paths("11:cpu,cpuacct:/docker/x\n4:memory:/docker/x\n1:name=systemd:/docker/x\n0::/docker/x\n")
    assert paths == {"cpu": "/docker/x", "cpuacct": "/docker/x", "memory": "/docker/x", "name=systemd": "/docker/x", "": "/docker/x"}


MOUNTINFO_V2 = "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
MOUNTINFO_V1 = (
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
)


def test_parse_mounts_v1_and_unified() -> None:
    mounts = parse_cgroup_mounts(MOUNTINFO_V1)
    assert mounts["memory"].mount_point == "/sys/fs/cgroup/memory" and mounts["memory"].version == 1
    assert mounts["cpuacct"].mount_point == mounts["cpu"].mount_point == "/sys/fs/cgroup/cpu,cpuacct"
    assert mounts[""].mount_point == "/sys/fs/cgroup/unified" and mounts[""].version == 2
    assert "tmpfs" not in mounts and "rw" not in mounts


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def fake_v2(tmp: Path, pid: int = 4242) -> CgroupFs:
    write(tmp / "proc/self/mountinfo", MOUNTINFO_V2)
    write(tmp / "proc" / str(pid) / "cgroup", f"0::/system.slice/docker-{ID}.scope\n")
    group = tmp / f"sys/fs/cgroup/system.slice/docker-{ID}.scope"
    write(group / "memory.current", "104857600\n")
    write(group / "memory.stat", "anon 73400320\nfile 31457280\ninactive_file 20971520\nactive_file 10485760\n")
    write(group / "memory.max", "max\n")
    write(group / "memory.peak", "209715200\n")
    write(group / "cpu.stat", "usage_usec 5000000\nuser_usec 4000000\nsystem_usec 1000000\n")
    write(group / "pids.current", "7\n")
    return CgroupFs(proc=tmp / "proc", prefix=tmp)


def fake_v1(tmp: Path, pid: int = 4242) -> CgroupFs:
    write(tmp / "proc/self/mountinfo", MOUNTINFO_V1)
    write(tmp / "proc" / str(pid) / "cgroup", f"11:cpu,cpuacct:/docker/{ID}\n4:memory:/docker/{ID}\n3:pids:/docker/{ID}\n0::/docker/{ID}\n")
    write(tmp / f"sys/fs/cgroup/memory/docker/{ID}/memory.usage_in_bytes", "104857600\n")
    write(tmp / f"sys/fs/cgroup/memory/docker/{ID}/memory.stat", "cache 31457280\ntotal_inactive_file 20971520\n")
    write(tmp / f"sys/fs/cgroup/memory/docker/{ID}/memory.limit_in_bytes", "9223372036854771712\n")
    write(tmp / f"sys/fs/cgroup/memory/docker/{ID}/memory.max_usage_in_bytes", "209715200\n")
    write(tmp / f"sys/fs/cgroup/cpu,cpuacct/docker/{ID}/cpuacct.usage", "5000000000\n")
    write(tmp / f"sys/fs/cgroup/pids/docker/{ID}/pids.current", "7\n")
    (tmp / f"sys/fs/cgroup/unified/docker/{ID}").mkdir(parents=True)
    return CgroupFs(proc=tmp / "proc", prefix=tmp)


@pytest.mark.parametrize("make", [fake_v2, fake_v1], ids=["v2", "v1"])
def test_counters_read_the_same_on_v1_and_v2(tmp_path: Path, make) -> None:
    fs = make(tmp_path)
    assert fs.container_of_pid(4242) == ID
    location = fs.locate(ID, 4242)
    assert location is not None
    counters = fs.read(location)
    assert counters is not None
    assert counters.cpu_ns == 5_000_000_000
    assert counters.memory_usage == 100 * 2**20
    assert counters.memory_used == 80 * 2**20  # without inactive page cache, like docker stats
    assert counters.memory_limit is None  # "max" / 2**63: unlimited
    assert counters.memory_peak == 200 * 2**20
    assert counters.pids == 7


def test_locate_without_a_pid_tries_the_usual_places(tmp_path: Path) -> None:
    fs = fake_v2(tmp_path)
    location = fs.locate(ID, None)
    assert location is not None and location.memory == tmp_path / f"sys/fs/cgroup/system.slice/docker-{ID}.scope"


def test_a_pid_in_another_container_is_not_trusted(tmp_path: Path) -> None:
    fs = fake_v2(tmp_path)
    write(tmp_path / "proc/99/cgroup", f"0::/system.slice/docker-{OTHER}.scope\n")
    location = fs.locate(ID, 99)  # PID reuse, or a remote engine's PID: fall back to the id
    assert location is not None and ID in str(location.memory)
    assert fs.locate(OTHER, None) is None


def test_a_vanished_cgroup_reads_as_none(tmp_path: Path) -> None:
    fs = fake_v2(tmp_path)
    location = fs.locate(ID, 4242)
    for file in location.memory.iterdir():
        file.unlink()
    location.memory.rmdir()
    assert fs.read(location) is None


def test_cgroup_namespace_root_is_stripped(tmp_path: Path) -> None:
    write(tmp_path / "proc/self/mountinfo", "29 23 0:26 /outer /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
    write(tmp_path / "proc/5/cgroup", f"0::/outer/docker/{ID}\n")
    write(tmp_path / f"sys/fs/cgroup/docker/{ID}/memory.current", "1\n")
    fs = CgroupFs(proc=tmp_path / "proc", prefix=tmp_path)
    assert fs.locate(ID, 5).memory == tmp_path / f"sys/fs/cgroup/docker/{ID}"


def test_gpu_memory_is_summed_per_container_and_na_stays_na() -> None:
    owners = {1: "a", 2: "a", 3: "b", 4: None, 5: "c", 6: "c"}
    totals = gpu_memory_by_container([(1, 100), (2, 50), (3, None), (4, 999), (5, None), (6, 7)], owners.get)
    assert totals == {"a": 150, "b": None, "c": 7}


def test_gpu_process_pids_get_container_names() -> None:
    owners = {1: ID, 2: OTHER, 3: None}
    assert container_names_of_pids([1, 2, 3], {ID: "ai-vllm-1"}, owners.get) == {1: "ai-vllm-1", 2: OTHER[:12]}
