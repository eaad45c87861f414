"""The Services screen follows the real Docker engine: a container of a known service starts and
its probe appears (and turns up); it stops and the probe goes.

A busybox httpd dressed as Ollama by its image name. Everything created here is named
sparktui-t4ui-<random>… and labelled sparktui.test=t4ui, and only those are removed.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest
from support import wait_for
from support import FakeClock, demo_sources

from spark_tui.app import make_app
from spark_tui.config import Config
from spark_tui.models.probes import ProbeState
from spark_tui.screens.services import ServicesScreen
from spark_tui.sources.container_backend import container_backend
from spark_tui.sources.probes import ProbeEngine
from spark_tui.widgets.probe_table import ProbeTable

pytestmark = pytest.mark.docker

LABEL = "sparktui.test=t4ui"
OLLAMA_FILES = {
    "api/version": '{"version":"0.12.6-busybox"}',
    "api/tags": '{"models":[{"name":"llama3.1:8b","size":4920753328}]}',
    "api/ps": '{"models":[{"name":"llama3.1:8b","size":6654289920,"size_vram":6654289920}]}',
}


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60, check=check)


@pytest.fixture
def ollama_image(docker_engine: str) -> Iterator[str]:
    image = f"sparktui-t4ui-{uuid.uuid4().hex[:8]}/ollama:latest"
    docker("tag", "local/busybox", image)
    try:
        yield image
    finally:
        docker("rmi", image, check=False)  # untags ours; local/busybox stays


@pytest.fixture
def container_name(ollama_image: str) -> Iterator[str]:
    name = f"sparktui-t4ui-{uuid.uuid4().hex[:8]}"
    yield name
    docker("rm", "-f", name, check=False)


async def test_a_started_service_container_appears_on_the_services_screen(ollama_image: str, container_name: str) -> None:
    config = Config()
    app = make_app(
        config,
        sources=demo_sources(FakeClock()),
        containers=container_backend(config.docker, demo=False),
        probes=ProbeEngine([]),
    )
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("s")
        assert isinstance(app.screen, ServicesScreen)
        table = app.screen.query_one(ProbeTable)
        await wait_for(pilot, lambda: app.containers.state.listing is not None, timeout=20, what="the first container list")

        writes = " && ".join(f"printf '%s' '{body}' > /www/{path}" for path, body in OLLAMA_FILES.items())
        script = f"mkdir -p /www/api && {writes} && exec httpd -f -p 11434 -h /www"
        docker("run", "-d", "--name", container_name, "--label", LABEL, "-p", "127.0.0.1::11434", ollama_image, "sh", "-c", script)

        def ours():
            return app.probes.status(container_name)

        await wait_for(pilot, lambda: ours() is not None, timeout=20, what="the discovered probe")
        status = ours()
        assert status.spec.origin == "discovered" and status.spec.kind == "ollama" and status.spec.container == container_name
        await wait_for(pilot, lambda: ours().state is ProbeState.UP, timeout=20, what="the probe to answer")
        await wait_for(pilot, lambda: container_name in table.row_names())
        row = table.row_text(container_name)
        assert "● up" in row and "container sparktui-t4ui-" in row  # the long name is clipped to its column
        assert "llama3.1:8b · v0.12.6" in row

        docker("stop", "-t", "0", container_name)
        await wait_for(pilot, lambda: ours() is None, timeout=20, what="the probe to go with its container")
        await wait_for(pilot, lambda: container_name not in table.row_names())
