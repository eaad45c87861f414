"""Discovery against a real Docker engine: a busybox httpd dressed as Ollama by its image name.

The containers made here are named sparktui-t4-<random>… and labelled sparktui.test=t4, and only
those are removed afterwards (the image tag is conftest's `ollama_image`, removed with it).
"""

from __future__ import annotations

import argparse
import json
import socket
import time
import uuid
from collections.abc import Iterator

import pytest

from spark_tui.cli import main
from spark_tui.commands.probe import collect_probes, running_containers
from spark_tui.models.settings import Config
from spark_tui.models.probes import ProbeResult, ProbeSpec, ProbeState
from spark_tui.core.services.discovery import discover_probes
from spark_tui.core.services.engine import check_once_blocking
from tests.integration.conftest import docker, serve_ollama_files

pytestmark = pytest.mark.docker

LABEL = "sparktui.test=t4"


@pytest.fixture
def containers() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    if names:
        docker("rm", "-f", *names, check=False)


def run_container(names: list[str], image: str, script: str, network: tuple[str, ...] = ("-p", "127.0.0.1::11434")) -> str:
    name = f"sparktui-t4-{uuid.uuid4().hex[:8]}"
    docker("run", "-d", "--name", name, "--label", LABEL, *network, image, "sh", "-c", script)
    names.append(name)
    return name


def discovered(name: str) -> ProbeSpec:
    containers, problem = running_containers(Config())
    assert problem is None, problem
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


def test_a_host_network_container_is_probed_at_its_usual_port(ollama_image: str, containers: list[str]) -> None:
    # `--network host` publishes no ports: the service listens on the host, at Ollama's 11434
    with socket.socket() as probe_port:
        if probe_port.connect_ex(("127.0.0.1", 11434)) == 0:
            pytest.skip("something on this machine already listens on 11434")
    name = run_container(containers, ollama_image, serve_ollama_files(), network=("--network", "host"))
    spec = discovered(name)
    assert (spec.kind, spec.url, spec.origin) == ("ollama", "http://127.0.0.1:11434", "discovered")
    result = check_until(spec, ProbeState.UP)
    assert result.state is ProbeState.UP, result.error
    assert result.version == "0.12.6-busybox"
