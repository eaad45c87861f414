"""The Services screen follows the real Docker engine: a container of a known service starts and
its probe appears (and turns up); it stops and the probe goes.

A busybox httpd dressed as Ollama by its image name (conftest's `ollama_image`). The container
made here is named sparktui-t4ui-<random>… and labelled sparktui.test=t4ui, and only it is removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from support import FakeClock, demo_sources, wait_for

from spark_tui.ui.app import make_app
from spark_tui.models.settings import Config
from spark_tui.models.probes import ProbeState
from spark_tui.ui.services.screen import ServicesScreen
from spark_tui.core.docker.engine_backend import docker_backend
from spark_tui.core.services.engine import ProbeEngine
from spark_tui.ui.services.table import ProbeTable
from tests.integration.conftest import docker, serve_ollama_files

pytestmark = pytest.mark.docker

LABEL = "sparktui.test=t4ui"


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
        containers=docker_backend(config.docker),
        probes=ProbeEngine([]),
    )
    async with app.run_test(size=(224, 40)) as pilot:  # wide: the source has a column
        await pilot.press("s")
        assert isinstance(app.screen, ServicesScreen)
        table = app.screen.query_one(ProbeTable)
        await wait_for(pilot, lambda: app.containers.state.listing is not None, timeout=20, what="the first container list")

        docker("run", "-d", "--name", container_name, "--label", LABEL, "-p", "127.0.0.1::11434", ollama_image, "sh", "-c", serve_ollama_files())

        def ours():
            return app.probes.status(container_name)

        await wait_for(pilot, lambda: ours() is not None, timeout=20, what="the discovered probe")
        status = ours()
        assert status.spec.origin == "discovered" and status.spec.kind == "ollama" and status.spec.container == container_name
        await wait_for(pilot, lambda: ours().state is ProbeState.UP, timeout=20, what="the probe to answer")
        # the state turns up before the table is redrawn: wait for the drawn row to say so
        await wait_for(
            pilot, lambda: container_name in table.row_names() and "● up" in table.row_text(container_name),
            timeout=20, what="the row drawn as up",
        )
        row = table.row_text(container_name)
        assert "container sparktui-t4ui-" in row  # the long name is clipped to its column
        assert "llama3.1:8b · v0.12.6-busybox · 6.2 GiB in GPU" in row  # whole, GPU memory included

        docker("stop", "-t", "0", container_name)
        await wait_for(pilot, lambda: ours() is None, timeout=20, what="the probe to go with its container")
        await wait_for(pilot, lambda: container_name not in table.row_names())
