"""Docker going away and coming back, and Docker we may not talk to.

The restart test runs its OWN dockerd (own socket, data-root, exec-root, pidfile, containerd
namespace) inside its own network namespace, so stopping it cannot disturb the shared daemon
or its docker0 bridge.
"""

from __future__ import annotations

import os
import secrets
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spark_tui.models.containers import ContainerListing
from spark_tui.core.docker.watcher import ContainerWatcher
from spark_tui.core.docker.engine import Backoff, DockerEngine
from tests.conftest import IN_CI
from tests.integration.conftest import IMAGE, wait_for

pytestmark = pytest.mark.docker


class PrivateDockerd:
    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.socket = root / "docker.sock"
        self.host = f"unix://{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None

    def docker(self, *args: str, input: bytes | None = None, timeout: float = 60) -> str:
        proc = subprocess.run(["docker", "-H", self.host, *args], capture_output=True, input=input, timeout=timeout)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        return proc.stdout.decode().strip()

    def start(self) -> None:
        argv = [
            "unshare", "--net", "dockerd",
            "-H", self.host,
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "dockerd.pid"),
            "--bridge", "none", "--iptables=false", "--ip-masq=false",
            "--containerd-namespace", self.name,
            "--containerd-plugins-namespace", f"{self.name}-plugins",
        ]
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - closed when the process ends
        self.process = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"private dockerd exited: {(self.root / 'dockerd.log').read_text()[-2000:]}")
            return subprocess.run(["docker", "-H", self.host, "version"], capture_output=True, timeout=10).returncode == 0

        wait_for(answers, timeout=40, interval=0.2, what="the private dockerd")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def private_dockerd(docker_engine: str) -> Iterator[PrivateDockerd]:
    if os.geteuid() != 0 or shutil.which("dockerd") is None or shutil.which("unshare") is None:
        message = "a private dockerd needs root, dockerd and unshare"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    name = f"sparktui-t3-{secrets.token_hex(4)}"  # containerd namespaces allow no "_" or "-_" that mkdtemp may pick
    root = Path(tempfile.mkdtemp(prefix=f"{name}-", dir="/tmp"))  # short: unix socket paths are limited
    daemon = PrivateDockerd(root, name)
    try:
        daemon.start()
        image = subprocess.run(["docker", "save", IMAGE], capture_output=True, timeout=60, check=True).stdout
        daemon.docker("load", "-q", input=image)
        yield daemon
    finally:
        daemon.stop()
        subprocess.run(["umount", "-R", str(root / "data")], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def next_matching(listings: queue.Queue[ContainerListing], predicate, timeout: float = 30) -> ContainerListing:
    deadline = time.monotonic() + timeout
    while True:
        listing = listings.get(timeout=max(0.1, deadline - time.monotonic()))
        if predicate(listing):
            return listing


def names(listing: ContainerListing) -> set[str]:
    return {c.name for c in listing.containers}


def test_daemon_stopped_and_restarted_mid_session_recovers_by_itself(private_dockerd: PrivateDockerd) -> None:
    prefix = private_dockerd.name
    private_dockerd.docker("create", "--name", f"{prefix}-before", "--network", "none", IMAGE, "true")
    engine = DockerEngine(host=private_dockerd.host, timeout=5)
    watcher = ContainerWatcher(engine, reconcile_s=3600, backoff=Backoff(first=0.2, cap=1.0))
    listings: queue.Queue[ContainerListing] = queue.Queue()
    runner = threading.Thread(target=watcher.run, args=(listings.put,), daemon=True)
    runner.start()
    try:
        first = next_matching(listings, lambda l: l.engine.up)
        assert f"{prefix}-before" in names(first)

        private_dockerd.stop()
        down = next_matching(listings, lambda l: not l.engine.up)
        assert not down.complete
        assert private_dockerd.host in down.engine.reason
        assert f"{prefix}-before" in names(down), "the last known list stays on screen"
        retrying = next_matching(listings, lambda l: l.engine.state == "down" and l.engine.retry_in is not None)
        assert "retrying in" in retrying.engine.message
        assert "no Docker daemon" in retrying.engine.reason or "refused" in retrying.engine.reason

        private_dockerd.start()
        back = next_matching(listings, lambda l: l.engine.up and l.complete)
        assert f"{prefix}-before" in names(back)

        private_dockerd.docker("create", "--name", f"{prefix}-after", "--network", "none", IMAGE, "true")
        later = next_matching(listings, lambda l: f"{prefix}-after" in names(l))
        assert later.engine.up, "events flow again after the reconnect"
    finally:
        watcher.stop()
        runner.join(timeout=10)
        engine.close()
    assert not runner.is_alive()


def test_permission_denied_on_the_socket_says_to_join_the_docker_group(docker_engine: str, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to another user")
    path = tmp_path / "docker.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    path.chmod(0o600)
    # The child imports as root, then drops to nobody: root would pass the socket's permissions.
    code = (
        "import os\n"
        "from spark_tui.core.docker.engine import DockerEngine, DockerUnavailable\n"
        "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
        f"engine = DockerEngine(host='unix://{path}', timeout=3)\n"
        "try:\n    engine.client()\nexcept DockerUnavailable as exc:\n    print(exc)\n"
        "print(engine.status.state)\n"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
            env={**os.environ, "HOME": "/nonexistent", "DOCKER_HOST": ""},
        )
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr
    message, state = proc.stdout.strip().splitlines()
    assert message == (
        f"cannot reach the Docker daemon at unix://{path}: permission denied — "
        "add your user to the docker group (sudo usermod -aG docker $USER), then log in again"
    )
    assert state == "down"


def test_no_daemon_at_the_socket_says_how_to_start_it(tmp_path: Path) -> None:
    engine = DockerEngine(host=f"unix://{tmp_path}/docker.sock", timeout=2)
    with pytest.raises(Exception) as failure:
        engine.client()
    assert str(failure.value) == f"no Docker daemon at unix://{tmp_path}/docker.sock (the socket does not exist) — start it: sudo systemctl start docker"
    assert engine.status.state == "down" and engine.status.attempts == 1
    with pytest.raises(Exception):
        engine.client()
    assert engine.status.attempts == 2
