"""A simulated Docker engine for `--demo`: the fleet of DemoContainers, and actions that work.

Start, stop and restart change the simulated containers after a short pause; logs print
plausible lines; inspect shows (masked) secrets; toggling a profile streams compose-like output
and starts or stops its services. Same methods as container_backend.DockerBackend, so the
containers screen runs the same code paths with or without an engine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from spark_tui.models.settings import DockerConfig
from spark_tui.core.masking import mask_any
from spark_tui.models.compose import (
    CommandOutput,
    CommandResult,
    ComposeCommand,
    ComposeOverview,
    ComposeProfile,
    ComposeProject,
    MemoryBudget,
    UpPreview,
)
from spark_tui.models.containers import (
    Container,
    ContainerListing,
    ContainerStats,
    EngineStatus,
    LogLine,
)
from spark_tui.core.compose.projects import ComposeProjects
from spark_tui.core.demo.containers import fleet_overview, spec_stats
from spark_tui.core.demo.fleet import LOOSE_SPEC, DemoFleet, utc
from spark_tui.core.docker.errors import ContainerActionError
from spark_tui.core.compose.memory_budget import profile_budget

DEMO_HOST = "unix:///var/run/docker.sock (demo)"
DEMO_VERSION = "28.5.1"
LOG_LINES = {
    "vllm": (
        "INFO:     127.0.0.1:51234 - \"POST /v1/chat/completions HTTP/1.1\" 200 OK",
        "INFO {day} [metrics.py:455] Avg prompt throughput: 812.4 tokens/s, Avg generation throughput: 41.7 tokens/s, Running: 3 reqs",
        "INFO {day} [metrics.py:455] GPU KV cache usage: 37.5%, Prefix cache hit rate: 61.2%",
    ),
    "ollama": (
        "[GIN] {gin} | 200 |   41.23ms |      172.18.0.4 | POST     \"/api/embed\"",
        "time={when} level=INFO source=server.go:628 msg=\"llama runner started in 2.41 seconds\"",
    ),
    "open-webui": ("INFO:     172.18.0.1:40112 - \"GET /api/v1/chats HTTP/1.1\" 200 OK",),
    "litellm": ("INFO:     172.18.0.2:39876 - \"POST /v1/embeddings HTTP/1.1\" 200 OK",),
    "tei": ("INFO text_embeddings_router::http::server: Success embed request: 32 inputs, 4.1 ms",),
    "docling": ("INFO:     127.0.0.1:60122 - \"POST /v1/convert/file HTTP/1.1\" 200 OK",),
    "omniparser": ("INFO:     127.0.0.1:41822 - \"POST /parse/ HTTP/1.1\" 200 OK (latency 1.12 s)",),
    "postgres": ("LOG:  checkpoint complete: wrote 43 buffers (0.3%); write=4.3 s, sync=0.002 s",),
    "portainer": ("level=info msg=\"background schedule runner started\"",),
}


class DemoDocker:
    demo = True

    def __init__(
        self, clock: Callable[[], float] = time.time, config: DockerConfig | None = None, pace_s: float = 0.3,
        fleet: DemoFleet | None = None,
    ) -> None:
        self.config = config or DockerConfig()
        self.pace_s = pace_s  # how long a simulated action takes
        self.fleet = fleet or DemoFleet(clock)  # the demo's one state: share it with DemoSpark and DemoProbes
        self.clock = self.fleet.clock
        self._specs = self.fleet.specs
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._commands = ComposeProjects(self.config.compose, docker="docker")

    # -- the simulated containers ----------------------------------------------------------

    @property
    def status(self) -> EngineStatus:
        return EngineStatus(state="up", host=DEMO_HOST, version=DEMO_VERSION)

    def containers(self) -> tuple[Container, ...]:
        return self.fleet.containers()

    def updates(self) -> Iterator[ContainerListing]:
        """The list, then a new one whenever an action or time (health) changed something."""
        shown: dict[str, Container] | None = None
        while not self._stopped.is_set():
            current = {c.id: c for c in self.containers()}
            changed = {cid for cid, c in current.items() if shown is None or shown.get(cid) != c}
            removed = set(shown or ()) - set(current)
            if shown is None or changed or removed:
                yield ContainerListing(
                    taken_at=self.clock(), engine=self.status, containers=tuple(current.values()),
                    changed=frozenset(changed), removed=frozenset(removed),
                )
            shown = current
            self._wake.wait(1.0)
            self._wake.clear()

    def stop_updates(self) -> None:
        self._stopped.set()
        self._wake.set()

    def poke(self) -> None:
        self._wake.set()

    def sample_stats(self, containers: Iterable[Container], gpu_memory: Mapping[str, int | None] | None) -> dict[str, ContainerStats]:
        """Figures that breathe with the clock; GPU memory as the demo GPU's processes hold it
        (the app's mapping from NVML once it has one, else the fleet's own: the same figures)."""
        t = self.clock() - self.fleet.started
        held = self.fleet.gpu_memory_by_container() if gpu_memory is None else gpu_memory
        result = {}
        for container in containers:
            if container.state != "running" or container.id not in self._specs:
                continue
            _, spec = self._specs[container.id]
            result[container.id] = spec_stats(container.id, spec, t, held.get(container.id) if spec.gpu else None)
        return result

    def container_of_pid(self, pid: int) -> str | None:
        return self.fleet.container_of_pid(pid)

    # -- actions ---------------------------------------------------------------------------

    def _container(self, container_id: str, verb: str) -> Container:
        found = next((c for c in self.containers() if c.id == container_id), None)
        if found is None:
            raise ContainerActionError(f"cannot {verb} {container_id[:12]}: the container no longer exists")
        return found

    def _set(self, container_id: str, state: str) -> None:
        self.fleet.set_state(container_id, state)
        self._wake.set()

    def start(self, container_id: str) -> None:
        container = self._container(container_id, "start")
        time.sleep(self.pace_s)
        if container.state != "running":
            self._set(container_id, "running")

    def stop(self, container_id: str) -> None:
        container = self._container(container_id, "stop")
        time.sleep(self.pace_s * 2)
        if container.state == "running":
            self._set(container_id, "exited")

    def restart(self, container_id: str) -> None:
        self._container(container_id, "restart")
        time.sleep(self.pace_s * 3)
        self._set(container_id, "running")

    def inspect(self, container_id: str) -> dict[str, Any]:
        c = self._container(container_id, "inspect")
        project, spec = self._specs[container_id]
        env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NVIDIA_VISIBLE_DEVICES=all"]
        if spec.gpu:
            env += ["HF_TOKEN=hf_demoDemoDemoDemoDemoDemoDemo", "HF_HOME=/models/huggingface"]
        if spec.service == "litellm":
            env.append("LITELLM_MASTER_KEY=sk-demo-0123456789abcdefghijkl")
        if spec.service == "postgres":
            env.append("POSTGRES_PASSWORD=hunter2-demo")
        ports = {f"{p.container_port}/{p.protocol}": [{"HostIp": p.host_ip, "HostPort": str(p.host_port)}] for p in c.ports}
        data = {
            "Id": c.id,
            "Created": (c.created_at or utc(self.fleet.started)).isoformat(),
            "Name": f"/{c.name}",
            "RestartCount": 0,
            "State": {
                "Status": c.state, "Running": c.state == "running", "Pid": c.pid or 0, "ExitCode": c.exit_code or 0,
                "StartedAt": c.started_at.isoformat() if c.started_at else "0001-01-01T00:00:00Z",
                **({"Health": {"Status": c.health, "FailingStreak": 0}} if c.health else {}),
            },
            "Config": {"Image": c.image, "Env": env, "Labels": dict(c.labels) | ({
                "com.docker.compose.project": project, "com.docker.compose.service": spec.service,
                "com.docker.compose.project.config_files": ",".join(c.compose_config_files),
            } if project else {})},
            "HostConfig": {
                "Runtime": "runc",
                "DeviceRequests": [{"Driver": "", "Count": -1, "Capabilities": [["gpu"]]}] if spec.gpu else None,
                "RestartPolicy": {"Name": "unless-stopped"},
            },
            "NetworkSettings": {"Ports": ports},
            "Mounts": [{"Type": "bind", "Source": "/home/spark/models", "Destination": "/models"}] if spec.gpu else [],
        }
        return mask_any(data)

    def follow_logs(self, container_id: str, tail: int) -> DemoLogs:
        container = self._container(container_id, "read the logs of")
        return DemoLogs(self, container, tail)

    # -- compose ---------------------------------------------------------------------------

    def overview(self, containers: Iterable[Container], engine_problem: str | None = None) -> ComposeOverview:
        return fleet_overview(list(containers), self.clock(), engine_problem)

    def invalidate_overview(self) -> None:
        """Nothing is cached: the demo model is in memory."""

    def up_command(self, project: ComposeProject, profile: ComposeProfile) -> ComposeCommand:
        return self._commands.up_command(project, profile)

    def down_command(
        self, project: ComposeProject, profile: ComposeProfile, remove: bool | None = None
    ) -> tuple[ComposeCommand | None, tuple[str, ...]]:
        """remove: None follows the config's remove_on_down (the dashboard); the CLI's --remove sets it."""
        remove = self.config.compose.remove_on_down if remove is None else remove
        return self._commands.down_command(project, profile, remove=remove)

    def preview_up(self, project: ComposeProject, profile: ComposeProfile, containers: Iterable[Container]) -> UpPreview:
        """The demo's services never change configuration: starting a profile recreates nothing."""
        return UpPreview()

    def run(self, command: ComposeCommand) -> DemoComposeRun:
        return DemoComposeRun(self, command)

    def budget(self, project: ComposeProject, profile: ComposeProfile, available: int | None) -> MemoryBudget:
        compose = self.config.compose
        return profile_budget(project, profile, available, compose.memory_floor_gib, compose.memory_hints_gib)

    def close(self) -> None:
        self.stop_updates()

    # -- used by the simulated runs -----------------------------------------------------------

    def service_container(self, project: str, service: str) -> str | None:
        return self.fleet.service_container(project, service)

    def service_state(self, container_id: str) -> str:
        return self.fleet.service_state(container_id)

    def log_text(self, container: Container, n: int, at: float) -> str:
        _, spec = self._specs.get(container.id, (None, LOOSE_SPEC))
        templates = LOG_LINES.get(spec.service, ("ok",))
        moment = time.gmtime(at)
        return templates[n % len(templates)].format(
            when=time.strftime("%Y-%m-%dT%H:%M:%SZ", moment),
            day=time.strftime("%m-%d %H:%M:%S", moment),
            gin=time.strftime("%Y/%m/%d - %H:%M:%S", moment),
        )


class DemoLogs:
    """The demo's log stream: a tail of plausible lines, then one every `every_s` while running."""

    def __init__(self, docker: DemoDocker, container: Container, tail: int, every_s: float = 1.5) -> None:
        self.docker = docker
        self.container = container
        self.tail = tail
        self.every_s = every_s
        self.error: str | None = None
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def _line(self, n: int, at: float) -> LogLine:
        return LogLine(self.container.id, self.docker.log_text(self.container, n, at), utc(at))

    def batches(self) -> Iterator[list[LogLine]]:
        now = self.docker.clock()
        count = min(self.tail, 40)
        yield [self._line(n, now - (count - n) * 7.0) for n in range(count)]
        n = count
        while not self._stopped.wait(self.every_s):
            if self.docker.service_state(self.container.id) != "running":
                return
            yield [self._line(n, self.docker.clock())]
            n += 1


class DemoComposeRun:
    """Compose's output for a demo toggle, with the services changing state as it goes."""

    def __init__(self, docker: DemoDocker, command: ComposeCommand) -> None:
        self.docker = docker
        self.command = command
        self.result: CommandResult | None = None
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    def _plan(self) -> tuple[str, str, list[str]]:
        argv = list(self.command.argv)
        project = argv[argv.index("-p") + 1]
        verb = next(word for word in ("up", "stop", "rm") if word in argv)
        services = [word for word in argv[argv.index(verb) + 1 :] if not word.startswith("-")]
        return project, verb, services

    def lines(self) -> Iterator[CommandOutput]:
        clock = self.docker.clock  # the demo's clock: frozen in snapshot tests
        started = clock()
        project, verb, services = self._plan()
        output: list[str] = []
        steps = {
            "up": ("Starting", "Started", "running"),
            "stop": ("Stopping", "Stopped", "exited"),
            "rm": ("Stopping", "Removed", "removed"),
        }[verb]
        for service in services:
            cid = self.docker.service_container(project, service)
            if cid is None:
                continue
            name = f"{project}-{service}-1"
            if verb == "up" and self.docker.service_state(cid) == "removed":
                for text in (f" Container {name}  Creating", f" Container {name}  Created"):
                    output.append(text)
                    yield CommandOutput(text)
            for n, word in enumerate(steps[:2]):
                if self._cancelled.wait(self.docker.pace_s):
                    self.result = CommandResult(self.command.argv, None, tuple(output), "cancelled", cancelled=True, duration_s=clock() - started)
                    return
                if n == 1:
                    self.docker._set(cid, steps[2])
                text = f" Container {name}  {word}"
                output.append(text)
                yield CommandOutput(text)
        self.result = CommandResult(self.command.argv, 0, tuple(output), duration_s=clock() - started)

