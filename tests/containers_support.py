"""Helpers for the containers UI tests: the demo fleet fed through the app's real message path."""

from __future__ import annotations


from support import FakeClock, demo_sources, feed

from spark_tui.ui.app import SparkApp, make_app
from spark_tui.models.settings import Config
from spark_tui.ui.messages import ContainersChanged, ContainerStatsSampled, ProfilesChanged
from spark_tui.ui.messages import GpuSampled
from spark_tui.core.demo.docker import DemoDocker


def demo_app(clock: FakeClock, *, config: Config | None = None, pace_s: float = 0.01, start_polling: bool = False) -> tuple[SparkApp, DemoDocker]:
    docker = DemoDocker(clock=clock, config=(config or Config()).docker, pace_s=pace_s)
    app = make_app(config, sources=demo_sources(clock), start_polling=start_polling, containers=docker)
    return app, docker


async def feed_containers(pilot, app: SparkApp, docker: DemoDocker, machine_seconds: int = 150) -> None:
    """Machine samples (the GPU's processes named by the app's own code), then the demo's
    container list, stats and Compose overview, each through the app's message path."""
    clock = docker.clock
    feed(app, app.sources, clock, machine_seconds)  # type: ignore[arg-type]
    listing = next(docker.updates())
    app.post_message(ContainersChanged(listing))
    await pilot.pause()
    report = app.containers.name_gpu_processes(app.sources.gpu.sample())
    app.post_message(GpuSampled(report))
    await pilot.pause()
    app.post_message(ContainerStatsSampled(docker.sample_stats(listing.containers, app.containers.state.gpu_by_id)))
    app.post_message(ProfilesChanged(docker.overview(listing.containers)))
    await pilot.pause()


