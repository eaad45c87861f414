"""Discovery against a real Docker engine: a busybox httpd dressed as Ollama (or vLLM) by its image name.

The containers made here are named sparktui-t4-<random>… and labelled sparktui.test=t4, and only
those are removed afterwards (the image tags are conftest's `ollama_image` and this file's
`vllm_image`, each removed with its fixture). Host-network servers listen on a port the OS says
is free, named the way a DGX Spark names it (OLLAMA_HOST, `--port N`): nothing here skips.
"""

from __future__ import annotations

import argparse
import json
import socket
import time
import uuid
from collections.abc import Iterable, Iterator

import pytest

from spark_tui.cli import main
from spark_tui.commands.probe import collect_probes, running_containers
from spark_tui.models.containers import Container
from spark_tui.models.settings import Config
from spark_tui.models.probes import ProbeResult, ProbeSpec, ProbeState
from spark_tui.core.docker.containers import ContainerCatalog, running_for_discovery
from spark_tui.core.docker.engine import DockerEngine
from spark_tui.core.services.discovery import discover_probes
from spark_tui.core.services.engine import check_once_blocking
from tests.integration.conftest import busybox_tagged, docker, serve_ollama_files

pytestmark = pytest.mark.docker

LABEL = "sparktui.test=t4"


@pytest.fixture
def containers() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    if names:
        docker("rm", "-f", *names, check=False)


@pytest.fixture
def vllm_image(docker_engine: str) -> Iterator[str]:
    with busybox_tagged("vllm-openai") as image:
        yield image


def run_container(
    names: list[str], image: str, script: str, network: tuple[str, ...] = ("-p", "127.0.0.1::11434"), args: tuple[str, ...] = ()
) -> str:
    """`sh -c script` in a new container; `args` follow the script (its $0, $1…), as a server's flags would."""
    name = f"sparktui-t4-{uuid.uuid4().hex[:8]}"
    docker("run", "-d", "--name", name, "--label", LABEL, *network, image, "sh", "-c", script, *args)
    names.append(name)
    return name


def free_port() -> int:
    """A TCP port nothing listens on now: the OS picks it for a socket bound to port 0."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def discovered(name: str, containers: Iterable[Container] | None = None) -> ProbeSpec:
    """The one probe discovered for container `name`, among `containers` (default: the CLI's list)."""
    if containers is None:
        listed, problem = running_containers(Config())
        assert problem is None, problem
        containers = listed
    containers = list(containers)
    specs = [spec for spec in discover_probes(containers) if spec.container == name]
    assert len(specs) == 1, f"{name} not discovered among {[c.name for c in containers]}"
    return specs[0]


def check_until(spec: ProbeSpec, state: ProbeState, within: float = 15.0) -> ProbeResult:
    """The container's process needs a moment to listen: check again until `state`, bounded."""
    deadline = time.monotonic() + within
    while True:
        [result] = check_once_blocking([spec])
        if result.state is state or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_an_ollama_container_is_discovered_and_probed(ollama_image: str, containers: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    name = run_container(containers, ollama_image, serve_ollama_files())
    spec = discovered(name)
    assert spec.kind == "ollama"
    assert spec.origin == "discovered"
    assert spec.url.startswith("http://127.0.0.1:") and not spec.url.endswith(":11434")  # the published port
    result = check_until(spec, ProbeState.UP)
    assert result.state is ProbeState.UP, result.error
    assert result.version == "0.12.6-busybox"
    assert result.model == "llama3.1:8b"
    assert result.details["loaded_gpu_bytes"] == 6654289920

    # the headless command finds it with no configuration at all
    assert main(["--config", "/dev/null", "probe", "--json", spec.name]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["state"], r["version"]) for r in doc["results"]] == [(spec.name, "up", "0.12.6-busybox")]

    snapshot = collect_probes(argparse.Namespace(demo=False), Config())
    assert any(r.name == spec.name and r.state is ProbeState.UP for r in snapshot.results)

    docker("stop", "-t", "0", name)
    containers_now, _ = running_containers(Config())
    assert all(spec.container != name for spec in discover_probes(containers_now))


def test_a_published_port_with_nothing_behind_it_is_down(ollama_image: str, containers: list[str]) -> None:
    # Docker's proxy accepts connections for a published port even when the container does not
    # listen yet (a model still loading): a TCP connect would call it up, an HTTP probe does not.
    name = run_container(containers, ollama_image, "exec sleep 300")
    spec = discovered(name)
    [result] = check_once_blocking([spec])
    assert result.state is ProbeState.DOWN
    assert result.error in {"connection closed without a response", "connection refused", "connection reset"}


def test_a_host_network_ollama_is_probed_at_the_port_its_environment_names(ollama_image: str, containers: list[str]) -> None:
    # `--network host` publishes no ports: OLLAMA_HOST says where Ollama listens on the host
    port = free_port()
    name = run_container(
        containers, ollama_image, serve_ollama_files(port), network=("--network", "host", "-e", f"OLLAMA_HOST=127.0.0.1:{port}")
    )
    engine = DockerEngine(timeout=20)
    try:
        listed = running_for_discovery(engine)  # the list, and an inspect of host-network containers
        catalogued = ContainerCatalog(engine).refresh().containers  # the dashboard's watcher
    finally:
        engine.close()
    headless, problem = running_containers(Config())  # `spark-tui probe` and `snapshot`
    assert problem is None, problem
    for found in (listed, catalogued, headless):
        spec = discovered(name, found)
        assert (spec.kind, spec.url, spec.origin) == ("ollama", f"http://127.0.0.1:{port}", "discovered")
    [container] = [c for c in catalogued if c.name == name]
    assert (container.network_mode, container.listen_port, container.ports) == ("host", port, ())
    result = check_until(spec, ProbeState.UP)
    assert result.state is ProbeState.UP, result.error
    assert (result.version, result.model) == ("0.12.6-busybox", "llama3.1:8b")


# A busybox httpd answering as vLLM does: /health, /version, /v1/models.
VLLM_FILES = {
    "health": "",
    "version": '{"version":"0.11.0-busybox"}',
    "v1/models": '{"object":"list","data":[{"id":"tiny","object":"model","max_model_len":2048}]}',
}


def test_a_host_network_vllm_is_probed_at_the_port_its_command_line_names(vllm_image: str, containers: list[str]) -> None:
    # `docker run --network host … vllm serve MODEL --port N`: the flags follow the script as its
    # $0…$4, so the container's command line reads `… vllm serve tiny --port N` and httpd serves $4
    port = free_port()
    writes = " && ".join(f"printf '%s' '{body}' > /www/{path}" for path, body in VLLM_FILES.items())
    script = f'mkdir -p /www/v1 && {writes} && exec httpd -f -p "$4" -h /www'
    name = run_container(containers, vllm_image, script, network=("--network", "host"), args=("vllm", "serve", "tiny", "--port", str(port)))
    spec = discovered(name)  # the CLI's list: the command line is in it, no inspect needed
    assert (spec.kind, spec.url, spec.origin) == ("vllm", f"http://127.0.0.1:{port}", "discovered")
    result = check_until(spec, ProbeState.UP)
    assert result.state is ProbeState.UP, result.error
    assert (result.version, result.model) == ("0.11.0-busybox", "tiny")
