"""The connection to the Docker engine: where it is, whether it answers, and why not.

The address is found the way the docker CLI finds it (config, DOCKER_HOST, the current
`docker context`, the local socket), so that our list and `docker compose` talk to the same
engine. Failures become an `EngineStatus` with a readable reason and what to do about it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from spark_tui.core.masking import mask_text
from spark_tui.core.untrusted import clean
from spark_tui.models.containers import EngineStatus
from spark_tui.core.docker.errors import DockerUnavailable  # noqa: F401 - SDK-free home, re-exported

log = logging.getLogger(__name__)

DEFAULT_HOST = "unix:///var/run/docker.sock"
DEFAULT_TIMEOUT_S = 10.0


def docker_config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("DOCKER_CONFIG") or Path(env.get("HOME") or Path.home()) / ".docker")


def context_host(name: str, config_dir: Path) -> str | None:
    """The engine address of a docker CLI context, or None for "default" or an unreadable one."""
    if not name or name == "default":
        return None
    digest = hashlib.sha256(name.encode()).hexdigest()
    try:
        meta = json.loads((config_dir / "contexts" / "meta" / digest / "meta.json").read_text())
        host = meta["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return host if isinstance(host, str) and host else None


def resolve_docker_host(configured: str | None = None, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(address, where it came from), in the docker CLI's order of precedence."""
    env = os.environ if env is None else env
    if configured:
        return configured, "config docker.host"
    if env.get("DOCKER_HOST"):
        return env["DOCKER_HOST"], "DOCKER_HOST"
    config_dir = docker_config_dir(env)
    name = env.get("DOCKER_CONTEXT")
    source = "DOCKER_CONTEXT"
    if not name:
        try:
            name = json.loads((config_dir / "config.json").read_text()).get("currentContext")
        except (OSError, ValueError, AttributeError):
            name = None
        source = "docker context"
    if name:
        host = context_host(name, config_dir)
        if host:
            return host, f"{source} {name}"
    return DEFAULT_HOST, "default"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything that caused it: chained, wrapped in args, urllib3 reasons."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nested in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(nested, BaseException):
                stack.append(nested)
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))


def describe_docker_error(exc: BaseException, host: str, timeout: float = DEFAULT_TIMEOUT_S) -> DockerUnavailable:
    """Turn whatever docker-py raised into a reason and a hint a person can act on."""
    if isinstance(exc, DockerUnavailable):
        return exc
    causes = list(_causes(exc))
    text = " ".join(str(c) for c in causes)
    is_socket = host.startswith("unix://")
    socket_path = host.removeprefix("unix://")

    def has(kind: type[BaseException], code: int | None = None) -> bool:
        return any(isinstance(c, kind) and (code is None or getattr(c, "errno", None) == code) for c in causes)

    if has(PermissionError) or "Permission denied" in text:
        return DockerUnavailable(
            host,
            f"cannot reach the Docker daemon at {host}: permission denied",
            "add your user to the docker group (sudo usermod -aG docker $USER), then log in again",
        )
    if is_socket and (has(FileNotFoundError) or "No such file or directory" in text):
        hint = "start it: sudo systemctl start docker"
        rootless = Path(os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")) / "docker.sock"
        if rootless.exists() and str(rootless) != socket_path:
            hint = f"a rootless daemon is at {rootless}: export DOCKER_HOST=unix://{rootless}"
        return DockerUnavailable(host, f"no Docker daemon at {host} (the socket does not exist)", hint)
    if has(ConnectionRefusedError) or "Connection refused" in text:
        return DockerUnavailable(host, f"the Docker daemon at {host} refused the connection (not running)", "start it: sudo systemctl start docker")
    if has(socket.timeout) or has(TimeoutError) or has(requests.exceptions.Timeout) or "timed out" in text.lower():
        return DockerUnavailable(
            host,
            f"the Docker daemon at {host} did not answer within {timeout:.0f} s",
            "it may be overloaded or hung: check sudo systemctl status docker",
        )
    if has(ConnectionResetError) or has(BrokenPipeError) or has(OSError, errno.ECONNRESET) or "Connection aborted" in text:
        return DockerUnavailable(host, f"the Docker daemon at {host} closed the connection (restarting?)", "waiting for it to come back")
    for cause in causes:
        if isinstance(cause, docker.errors.APIError):
            return DockerUnavailable(host, f"the Docker daemon at {host} answered with an error: {clean(mask_text(str(cause.explanation or cause)))}")
    detail = clean(mask_text(str(causes[-1]) or type(causes[-1]).__name__))
    return DockerUnavailable(host, f"cannot reach Docker at {host}: {detail}")


class Backoff:
    """Delays between reconnection attempts: 1, 2, 4 … capped, reset on success."""

    def __init__(self, first: float = 1.0, cap: float = 30.0) -> None:
        self.first = first
        self.cap = cap
        self.failures = 0

    def next_delay(self) -> float:
        delay = min(self.cap, self.first * 2**self.failures)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


ClientFactory = Callable[[str, float], Any]


def default_client_factory(host: str, timeout: float) -> docker.DockerClient:
    environment = {**os.environ, "DOCKER_HOST": host}
    return docker.DockerClient.from_env(timeout=timeout, environment=environment, use_ssh_client=host.startswith("ssh://"))


class DockerEngine:
    """One engine connection, shared by the container list, stats, actions and logs.

    Thread-safe: `client()` connects on first use and after `mark_down()`; every failure is
    turned into `DockerUnavailable`. Nothing here sleeps or retries: the callers decide when
    (see `Backoff`), so a UI never waits on a reconnect it did not ask for.
    """

    def __init__(
        self,
        host: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        client_factory: ClientFactory = default_client_factory,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.host, self.host_source = resolve_docker_host(host, env)
        self.timeout = timeout
        self._factory = client_factory
        self._client: Any = None
        self._lock = threading.Lock()
        self._status = EngineStatus(state="connecting", host=self.host)

    @property
    def status(self) -> EngineStatus:
        return self._status

    def client(self) -> Any:
        """The connected docker client; raises DockerUnavailable."""
        with self._lock:
            if self._client is not None:
                return self._client
            try:
                client = self._factory(self.host, self.timeout)
                version = client.version().get("Version")
                version = clean(str(version)) if version else None  # the daemon's words: shown in the status bar
            except Exception as exc:
                problem = describe_docker_error(exc, self.host, self.timeout)
                self._set_down(problem)
                raise problem from None
            self._client = client
            self._status = EngineStatus(state="up", host=self.host, version=version)
            return client

    def call(self, fn: Callable[[Any], Any]) -> Any:
        """Run `fn(client)`; a connection failure marks the engine down and raises DockerUnavailable.

        docker.errors.NotFound / APIError from the engine (it answered) pass through unchanged.
        """
        client = self.client()
        try:
            return fn(client)
        except docker.errors.APIError:
            raise
        except (requests.exceptions.RequestException, OSError, docker.errors.DockerException) as exc:
            problem = describe_docker_error(exc, self.host, self.timeout)
            self.mark_down(problem)
            raise problem from None

    def mark_down(self, problem: DockerUnavailable | BaseException, retry_in: float | None = None) -> EngineStatus:
        if not isinstance(problem, DockerUnavailable):
            problem = describe_docker_error(problem, self.host, self.timeout)
        with self._lock:
            self._drop_client()
            return self._set_down(problem, retry_in)

    def set_retry_in(self, retry_in: float) -> EngineStatus:
        from dataclasses import replace

        with self._lock:
            if self._status.state == "down":
                self._status = replace(self._status, retry_in=retry_in)
            return self._status

    def _set_down(self, problem: DockerUnavailable, retry_in: float | None = None) -> EngineStatus:
        attempts = self._status.attempts + 1 if self._status.state == "down" else 1
        self._status = EngineStatus(
            state="down", host=self.host, reason=problem.reason, hint=problem.hint, retry_in=retry_in, attempts=attempts
        )
        return self._status

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception as exc:
                log.debug("closing the Docker client: %r", exc)  # the connection is already broken

    def close(self) -> None:
        with self._lock:
            self._drop_client()

    def compose_env(self) -> dict[str, str]:
        """Environment for `docker compose` so it talks to this same engine."""
        return {"DOCKER_HOST": self.host} if self.host_source != "default" else {}
