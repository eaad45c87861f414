"""A typical DGX Spark's containers and Compose profiles, for `--demo` and for UI tests.

The figures move with the clock the way the demo GPU does, so a Containers screen can be
built, tried and snapshot-tested without a Docker engine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from spark_tui.models.compose import ComposeOverview, ComposeProject, ComposeService
from spark_tui.models.containers import (
    Container,
    ContainerListing,
    ContainerStats,
    EngineStatus,
    PublishedPort,
)
from spark_tui.core.compose.model import profiles_of

GIB = 1 << 30


@dataclass(frozen=True)
class _Spec:
    service: str
    image: str
    port: int | None
    profiles: tuple[str, ...]
    gpu: bool
    memory: int  # bytes it settles at
    cpu: float  # % of one core at rest
    health: bool = True
    running: bool = True


FLEET = {
    "ai": (
        _Spec("open-webui", "ghcr.io/open-webui/open-webui:main", 3000, (), False, 900 << 20, 2.0),
        _Spec("litellm", "ghcr.io/berriai/litellm:main-stable", 4000, (), False, 400 << 20, 1.0),
        _Spec("vllm", "nvcr.io/nvidia/vllm:25.09-py3", 8000, ("gpu",), True, 6 * GIB, 35.0),
        _Spec("ollama", "ollama/ollama:latest", 11434, ("gpu",), True, 2 * GIB, 3.0),
        _Spec("tei", "ghcr.io/huggingface/text-embeddings-inference:cuda-1.8", 8080, ("embed",), True, 3 * GIB, 1.0, running=False),
    ),
    "docs": (
        _Spec("docling", "quay.io/docling-project/docling-serve:latest", 5001, ("ocr",), True, 5 * GIB, 4.0, running=False),
        _Spec("omniparser", "local/omniparser:v2", 9989, ("ocr",), True, 7 * GIB, 2.0, running=False),
        _Spec("postgres", "pgvector/pgvector:pg17", 5432, (), False, 300 << 20, 0.5, health=False),
    ),
}


class DemoContainers:
    """`listing()`, `stats()` and `overview()` of a simulated machine; same shapes as the real sources."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.started = clock()

    def _containers(self) -> list[tuple[Container, _Spec]]:
        boot = datetime.fromtimestamp(self.started, timezone.utc) - timedelta(hours=3, minutes=12)
        items = []
        for n, (project, specs) in enumerate(FLEET.items()):
            for m, spec in enumerate(specs):
                cid = f"{n:02x}{m:02x}".ljust(64, "d")
                name = f"{project}-{spec.service}-1"
                state = "running" if spec.running else "exited"
                # up for hours, long past any start period: a health check that passes says healthy
                health = "healthy" if spec.health and spec.running else None
                items.append(
                    (
                        Container(
                            id=cid, name=name, image=spec.image, state=state,
                            status=("Up" + (f" ({health})" if health else "")) if spec.running else "Exited (0)",
                            health=health, started_at=boot + timedelta(minutes=7 * m) if spec.running else None,
                            ports=(PublishedPort(spec.port, "tcp", "127.0.0.1", spec.port),) if spec.port and spec.running else (),
                            gpu=spec.gpu, compose_project=project, compose_service=spec.service,
                            compose_config_files=(f"/home/spark/{project}/compose.yaml",),
                            compose_working_dir=f"/home/spark/{project}", exit_code=None if spec.running else 0,
                            created_at=boot, pid=10_000 + 100 * n + m if spec.running else None,
                        ),
                        spec,
                    )
                )
        loose = Container(
            id="ff".ljust(64, "e"), name="portainer", image="portainer/portainer-ce:lts", state="running", status="Up",
            started_at=boot, ports=(PublishedPort(9443, "tcp", "127.0.0.1", 9443),), created_at=boot, pid=10_999,
        )
        items.append((loose, _Spec("portainer", loose.image, 9443, (), False, 60 << 20, 0.2, health=False)))
        return items

    def listing(self) -> ContainerListing:
        containers = tuple(c for c, _ in self._containers())
        return ContainerListing(
            taken_at=self.clock(),
            engine=EngineStatus(state="up", host="unix:///var/run/docker.sock (demo)", version="28.5.1"),
            containers=containers,
            changed=frozenset(c.id for c in containers),
        )


def spec_stats(container_id: str, spec: _Spec, t: float, gpu_memory: int | None) -> ContainerStats:
    """A running demo container's figures `t` seconds into the demo: they breathe with the clock."""
    wave = 0.5 + 0.5 * math.sin(t / 9 + len(spec.service))
    return ContainerStats(
        container_id=container_id,
        cpu_percent=spec.cpu * (0.6 + wave),
        memory_used=int(spec.memory * (0.95 + 0.05 * wave)),
        memory_peak=int(spec.memory * 1.1),
        pids=12 if spec.gpu else 4,
        gpu_memory=gpu_memory,
    )


def fleet_overview(containers: list[Container], taken_at: float, engine_problem: str | None = None) -> ComposeOverview:
    """The demo's Compose projects and profiles, their states read from `containers`."""
    projects = []
    for project, specs in FLEET.items():
        services = tuple(
            ComposeService(name=s.service, profiles=s.profiles, image=s.image, gpu=s.gpu, memory_reservation=s.memory)
            for s in sorted(specs, key=lambda s: s.service)
        )
        profiles, always_on = profiles_of(project, services, containers)
        projects.append(
            ComposeProject(
                name=project, config_files=(f"/home/spark/{project}/compose.yaml",), working_dir=f"/home/spark/{project}",
                services=services, profiles=profiles, always_on=always_on,
            )
        )
    return ComposeOverview(taken_at=taken_at, projects=tuple(projects), engine_problem=engine_problem)
