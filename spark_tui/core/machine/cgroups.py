"""Which container a process belongs to, and what a container's cgroup has used.

Both come from the kernel, not from dockerd: `/proc/<pid>/cgroup` names the container
(cgroup v1 and v2; cgroupfs `/docker/<id>`, systemd `docker-<id>.scope`, containerd and
Kubernetes `cri-containerd-<id>.scope`, CRI-O `crio-<id>.scope`, Podman `libpod-<id>.scope`),
and the cgroup files hold CPU time and memory. Reading a few small files costs microseconds;
asking dockerd for stats costs it a goroutine and a second of sampling per container.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# A path segment that *is* a container: bare 64-hex id, or prefixed/suffixed by a runtime's unit name.
_CONTAINER_SEGMENT = re.compile(r"^(?:[A-Za-z][\w.\-]*-)?(?P<id>[0-9a-f]{64})(?:\.scope)?$")
UNLIMITED = 1 << 60  # v1 reports "no limit" as a page-rounded 2**63


def container_id_from_cgroup(text: str) -> str | None:
    """The container id in a /proc/<pid>/cgroup file; the innermost one when containers nest."""
    found: str | None = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for segment in parts[2].split("/"):
            match = _CONTAINER_SEGMENT.match(segment)
            if match:
                found = match["id"]
        if found:
            return found
    return None


def parse_cgroup_paths(text: str) -> dict[str, str]:
    """Controller -> cgroup path from /proc/<pid>/cgroup; the v2 hierarchy is under key ''."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


@dataclass(frozen=True)
class CgroupMount:
    mount_point: str
    root: str  # the part of the hierarchy this mount shows (not "/" inside a cgroup namespace)
    version: int  # 1 or 2


def parse_cgroup_mounts(mountinfo: str) -> dict[str, CgroupMount]:
    """Controller -> mount from /proc/self/mountinfo; the v2 (unified) mount is under key ''."""
    mounts: dict[str, CgroupMount] = {}
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        fstype, super_options = tail[0], tail[2]
        mount = CgroupMount(mount_point=_unescape(fields[4]), root=_unescape(fields[3]), version=2 if fstype == "cgroup2" else 1)
        if fstype == "cgroup2":
            mounts.setdefault("", mount)
        elif fstype == "cgroup":
            for option in super_options.split(","):
                if option not in ("rw", "ro") and "=" not in option or option.startswith("name="):
                    mounts.setdefault(option, mount)
    return mounts


def _unescape(path: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), path)


@dataclass(frozen=True)
class CgroupCounters:
    """Raw counters of one cgroup; None where the kernel does not offer the file."""

    cpu_ns: int | None = None  # CPU time used, all cores, nanoseconds
    memory_usage: int | None = None  # bytes charged, page cache included
    memory_inactive_file: int | None = None  # reclaimable page cache inside memory_usage
    memory_limit: int | None = None  # None = unlimited
    memory_peak: int | None = None
    pids: int | None = None

    @property
    def memory_used(self) -> int | None:
        """What `docker stats` shows: usage minus inactive page cache."""
        if self.memory_usage is None:
            return None
        return max(0, self.memory_usage - (self.memory_inactive_file or 0))


@dataclass(frozen=True)
class CgroupLocation:
    """Where one container's counters live: a directory per resource."""

    cpu: Path | None
    memory: Path | None
    pids: Path | None
    version: int  # of the memory hierarchy (it decides the file names)
    cpu_version: int
    pids_version: int


class CgroupFs:
    """Reads the cgroup filesystem; `proc` and `prefix` let tests point it at a fake tree."""

    def __init__(self, proc: str | Path = "/proc", prefix: str | Path = "") -> None:
        self.proc = Path(proc)
        self.prefix = str(prefix)
        self._mounts: dict[str, CgroupMount] | None = None

    @property
    def mounts(self) -> dict[str, CgroupMount]:
        if self._mounts is None:
            try:
                self._mounts = parse_cgroup_mounts((self.proc / "self" / "mountinfo").read_text())
            except OSError:
                self._mounts = {}
        return self._mounts

    def read_pid_cgroup(self, pid: int) -> str | None:
        try:
            return (self.proc / str(pid) / "cgroup").read_text()
        except (OSError, ValueError):
            return None

    def container_of_pid(self, pid: int) -> str | None:
        """The id of the container process `pid` runs in, or None (host process, gone, unreadable)."""
        text = self.read_pid_cgroup(pid)
        return container_id_from_cgroup(text) if text else None

    def locate(self, container_id: str, pid: int | None) -> CgroupLocation | None:
        """The cgroup directories of a container, found through its main process.

        Without a pid (the engine is remote, or gives none) the usual places are tried.
        A pid whose cgroup names another container (PID reuse, another host) is not trusted.
        """
        paths: dict[str, str] | None = None
        if pid:
            text = self.read_pid_cgroup(pid)
            if text and container_id_from_cgroup(text) == container_id:
                paths = parse_cgroup_paths(text)
        location = self._location_from_paths(paths) if paths else self._guess(container_id)
        if location is None or location.memory is None and location.cpu is None:
            return None
        return location

    def _dir(self, controller: str, paths: Mapping[str, str]) -> tuple[Path | None, int]:
        """The directory of a v1 controller if one is mounted, else the v2 hierarchy's."""
        mount = self.mounts.get(controller)
        if mount is not None and controller in paths:
            return self._join(mount, paths[controller]), 1
        unified = self.mounts.get("")
        if unified is not None and "" in paths:
            return self._join(unified, paths[""]), 2
        return None, 2

    def _join(self, mount: CgroupMount, path: str) -> Path:
        if mount.root not in ("", "/") and path.startswith(mount.root):
            path = path[len(mount.root):]
        return Path(self.prefix + mount.mount_point) / path.lstrip("/")

    def _location_from_paths(self, paths: Mapping[str, str]) -> CgroupLocation:
        memory, version = self._dir("memory", paths)
        cpu, cpu_version = self._dir("cpuacct", paths)
        pids, pids_version = self._dir("pids", paths)
        return CgroupLocation(cpu=cpu, memory=memory, pids=pids, version=version, cpu_version=cpu_version, pids_version=pids_version)

    def _guess(self, container_id: str) -> CgroupLocation | None:
        candidates = (
            f"/system.slice/docker-{container_id}.scope",
            f"/docker/{container_id}",
            f"/system.slice/containerd.service/docker-{container_id}.scope",
        )
        for candidate in candidates:
            paths = {"": candidate, "memory": candidate, "cpuacct": candidate, "pids": candidate}
            location = self._location_from_paths(paths)
            if location.memory is not None and location.memory.is_dir():
                return location
        return None

    def read(self, location: CgroupLocation) -> CgroupCounters | None:
        """The counters now; None when the cgroup is gone (the container stopped)."""
        try:
            if location.memory is not None:
                if location.version == 1:
                    usage = _int(location.memory / "memory.usage_in_bytes")
                    inactive = _key(location.memory / "memory.stat", "total_inactive_file")
                    if inactive is None:
                        inactive = _key(location.memory / "memory.stat", "inactive_file")
                    limit = _int(location.memory / "memory.limit_in_bytes", missing_ok=True)
                    peak = _int(location.memory / "memory.max_usage_in_bytes", missing_ok=True)
                else:
                    usage = _int(location.memory / "memory.current")
                    inactive = _key(location.memory / "memory.stat", "inactive_file")
                    limit = _int(location.memory / "memory.max", missing_ok=True)
                    peak = _int(location.memory / "memory.peak", missing_ok=True)
            else:
                usage = inactive = limit = peak = None
            cpu_ns = None
            if location.cpu is not None:
                if location.cpu_version == 1:
                    cpu_ns = _int(location.cpu / "cpuacct.usage", missing_ok=True)
                else:
                    usec = _key(location.cpu / "cpu.stat", "usage_usec")
                    cpu_ns = usec * 1000 if usec is not None else None
            pids = None
            if location.pids is not None:
                pids = _int(location.pids / "pids.current", missing_ok=True)
        except OSError:  # gone (the container stopped) or unreadable
            return None
        return CgroupCounters(
            cpu_ns=cpu_ns,
            memory_usage=usage,
            memory_inactive_file=inactive,
            memory_limit=limit if limit is not None and limit < UNLIMITED else None,
            memory_peak=peak,
            pids=pids,
        )


def _int(path: Path, *, missing_ok: bool = False) -> int | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        if missing_ok:
            return None
        raise
    if text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _key(path: Path, key: str) -> int | None:
    """One `key value` line of a flat-keyed file (memory.stat, cpu.stat) without parsing the rest."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    start = text.find(key + " ")
    while start > 0 and text[start - 1] != "\n":
        start = text.find(key + " ", start + 1)
    if start < 0:
        return None
    end = text.find("\n", start)
    value = text[start + len(key) + 1 : end if end >= 0 else None].strip()
    return int(value) if value.lstrip("-").isdigit() else None


def gpu_memory_by_container(
    processes: Iterable[tuple[int, int | None]], container_of_pid: Callable[[int], str | None] | None = None
) -> dict[str, int | None]:
    """Sum GPU memory per container from (pid, used bytes or None) pairs.

    A container whose processes all report n/a maps to None, never 0.
    """
    resolve = container_of_pid or CgroupFs().container_of_pid
    totals: dict[str, int | None] = {}
    for pid, used in processes:
        container = resolve(pid)
        if container is None:
            continue
        if used is None:
            totals.setdefault(container, None)
        else:
            totals[container] = (totals.get(container) or 0) + used
    return totals


def container_names_of_pids(
    pids: Iterable[int], names_by_id: Mapping[str, str], container_of_pid: Callable[[int], str | None] | None = None
) -> dict[int, str]:
    """PID -> the name of its container (short id if the container is not in `names_by_id`),
    for the GPU process list; host processes are left out."""
    resolve = container_of_pid or CgroupFs().container_of_pid
    names = {}
    for pid in pids:
        container = resolve(pid)
        if container is not None:
            names[pid] = names_by_id.get(container, container[:12])
    return names
