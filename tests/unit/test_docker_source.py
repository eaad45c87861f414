import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import docker.errors
import pytest
import requests.exceptions

from spark_tui.core.masking import MASK
from spark_tui.models.containers import Container, EngineStatus, group_by_project
from spark_tui.core.docker.containers import (
    asks_for_gpu,
    container_from_inspect,
    container_from_summary,
    parse_docker_time,
)
from spark_tui.core.docker.engine import Backoff, DockerEngine, DockerUnavailable, describe_docker_error, resolve_docker_host
from spark_tui.core.docker.events import event_from_message

CID = "14e8b21f637f4c140d053499119f86dfa3fab8be43baca5d425e18073c0aeb4e"


def inspect_data(**overrides) -> dict:
    data = {
        "Id": CID,
        "Created": "2026-11-23T08:59:42.317402745Z",
        "Name": "/ai-vllm-1",
        "RestartCount": 2,
        "State": {
            "Status": "running", "Pid": 8992, "ExitCode": 0, "StartedAt": "2026-11-23T08:59:42.526186514Z",
            "FinishedAt": "0001-01-01T00:00:00Z",
            "Health": {"Status": "unhealthy", "Log": [{"ExitCode": 1, "Output": "curl: (7) refused HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz\n"}]},
        },
        "HostConfig": {"Runtime": "runc", "Memory": 0, "DeviceRequests": [{"Driver": "", "Count": -1, "Capabilities": [["gpu"]]}]},
        "Config": {
            "Image": "vllm/vllm-openai:latest",
            "Labels": {
                "com.docker.compose.project": "ai",
                "com.docker.compose.service": "vllm",
                "com.docker.compose.project.config_files": "/srv/ai/compose.yaml,/srv/ai/compose.gpu.yaml",
                "com.docker.compose.project.working_dir": "/srv/ai",
                "com.docker.compose.oneoff": "False",
                "api_token": "abc",
            },
        },
        "NetworkSettings": {"Ports": {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8000"}, {"HostIp": "::1", "HostPort": "8000"}], "9000/tcp": None}},
    }
    data.update(overrides)
    return data


def test_container_from_inspect() -> None:
    c = container_from_inspect(inspect_data())
    assert (c.id, c.name, c.image, c.state, c.health) == (CID, "ai-vllm-1", "vllm/vllm-openai:latest", "running", "unhealthy")
    assert c.status == "Up (unhealthy)"
    assert c.started_at == datetime(2026, 11, 23, 8, 59, 42, 526186, tzinfo=timezone.utc)
    assert c.finished_at is None and c.exit_code is None
    assert c.pid == 8992 and c.restart_count == 2 and c.memory_limit is None
    assert c.gpu
    assert [(p.host_ip, p.host_port, p.container_port) for p in c.ports] == [("127.0.0.1", 8000, 8000), ("::1", 8000, 8000)]
    assert (c.compose_project, c.compose_service) == ("ai", "vllm")
    assert c.compose_config_files == ("/srv/ai/compose.yaml", "/srv/ai/compose.gpu.yaml")
    assert c.compose_working_dir == "/srv/ai" and not c.compose_oneoff
    assert c.labels["api_token"] == MASK
    assert c.health_output == f"curl: (7) refused HF_TOKEN={MASK}"
    assert c.network_mode is None  # the engine did not say
    assert container_from_inspect(inspect_data(HostConfig={"NetworkMode": "host"})).network_mode == "host"
    now = datetime(2026, 11, 23, 9, 0, 42, 526186, tzinfo=timezone.utc)
    assert c.uptime(now) == 60.0


def test_exited_container() -> None:
    state = {"Status": "exited", "Pid": 0, "ExitCode": 137, "OOMKilled": True, "StartedAt": "2026-11-23T08:59:42Z", "FinishedAt": "2026-11-23T09:00:00.5+02:00"}
    c = container_from_inspect(inspect_data(State=state, HostConfig={"Memory": 536870912}))
    assert c.state == "exited" and c.exit_code == 137 and c.pid is None
    assert c.status == "Exited (137) OOM-killed"
    assert c.finished_at == datetime(2026, 11, 23, 7, 0, 0, 500000, tzinfo=timezone.utc)
    assert c.uptime() is None and c.can_start and not c.can_stop and c.can_restart
    assert c.memory_limit == 512 * 2**20 and not c.gpu and c.health is None


def test_container_from_summary() -> None:
    entry = {
        "Id": CID, "Names": ["/web"], "Image": "nginx", "State": "running", "Status": "Up 2 seconds (health: starting)",
        "Created": 1795424382, "Ports": [{"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 32769, "Type": "tcp"}, {"PrivatePort": 443, "Type": "tcp"}],
        "Labels": {}, "HostConfig": {"NetworkMode": "host"},
    }
    c = container_from_summary(entry)
    assert (c.name, c.health, c.state) == ("web", "starting", "running")
    assert [(p.host_port, p.container_port) for p in c.ports] == [(32769, 80)]
    assert c.created_at == datetime.fromtimestamp(1795424382, timezone.utc)
    assert c.network_mode == "host"


@pytest.mark.parametrize(
    ("host_config", "gpu"),
    [
        ({"Runtime": "nvidia"}, True),
        ({"DeviceRequests": [{"Driver": "nvidia", "Count": 1}]}, True),
        ({"DeviceRequests": [{"Driver": "", "Capabilities": [["gpu", "utility"]]}]}, True),
        ({"DeviceRequests": [{"Driver": "cdi", "DeviceIDs": ["nvidia.com/gpu=all"]}]}, True),
        ({"Devices": [{"PathOnHost": "/dev/nvidia0"}]}, True),
        ({"Runtime": "runc", "DeviceRequests": None}, False),
        ({"DeviceRequests": [{"Capabilities": [["compute"]]}]}, False),
        (None, False),
    ],
)
def test_gpu_mark(host_config, gpu: bool) -> None:
    assert asks_for_gpu(host_config) is gpu


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T08:59:42.526186514Z", datetime(2026, 11, 23, 8, 59, 42, 526186, tzinfo=timezone.utc)),
        ("2026-11-23T08:59:42Z", datetime(2026, 11, 23, 8, 59, 42, tzinfo=timezone.utc)),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        ("yesterday", None),
    ],
)
def test_docker_times(text: str, expected) -> None:
    assert parse_docker_time(text) == expected


def test_groups_by_project_then_loose_containers() -> None:
    def c(name: str, project: str | None) -> Container:
        return Container(id=name, name=name, image="i", state="running", status="Up", compose_project=project)

    groups = group_by_project([c("z", None), c("b2", "beta"), c("a1", "Alpha"), c("b1", "beta")])
    assert [(g.project, [x.name for x in g.containers]) for g in groups] == [("Alpha", ["a1"]), ("beta", ["b1", "b2"]), (None, ["z"])]


def test_events_from_engine_messages() -> None:
    event = event_from_message({"Type": "container", "Action": "health_status: healthy", "Actor": {"ID": CID, "Attributes": {"name": "web"}}, "timeNano": 5})
    assert (event.verb, event.container_id, event.name) == ("health_status", CID, "web")
    assert event_from_message({"Type": "network", "Action": "connect", "Actor": {"ID": "n"}}) is None


def test_host_resolution_follows_the_docker_cli(tmp_path: Path) -> None:
    assert resolve_docker_host("tcp://cfg:2375", {"DOCKER_HOST": "unix:///env.sock"}) == ("tcp://cfg:2375", "config docker.host")
    assert resolve_docker_host(None, {"DOCKER_HOST": "unix:///env.sock"}) == ("unix:///env.sock", "DOCKER_HOST")
    env = {"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path)}
    assert resolve_docker_host(None, env) == ("unix:///var/run/docker.sock", "default")
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"spark").hexdigest() / "meta.json"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"Name": "spark", "Endpoints": {"docker": {"Host": "ssh://me@spark"}}}))
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "spark"}))
    assert resolve_docker_host(None, env) == ("ssh://me@spark", "docker context spark")
    assert resolve_docker_host(None, {**env, "DOCKER_CONTEXT": "default"}) == ("unix:///var/run/docker.sock", "default")


def wrapped(cause: BaseException) -> docker.errors.DockerException:
    """What docker-py raises: DockerException from requests' ConnectionError from the OS error."""
    try:
        try:
            raise requests.exceptions.ConnectionError(("Connection aborted.", cause))
        except requests.exceptions.ConnectionError as inner:
            raise docker.errors.DockerException(f"Error while fetching server API version: {inner}") from inner
    except docker.errors.DockerException as outer:
        return outer


@pytest.mark.parametrize(
    ("cause", "reason", "hint"),
    [
        (PermissionError(13, "Permission denied"), "permission denied", "docker group"),
        (FileNotFoundError(2, "No such file or directory"), "socket does not exist", "systemctl start docker"),
        (ConnectionRefusedError(111, "Connection refused"), "refused the connection", "systemctl start docker"),
        (TimeoutError("timed out"), "did not answer within 10 s", "overloaded or hung"),
        (ConnectionResetError(104, "Connection reset by peer"), "closed the connection", "waiting"),
    ],
)
def test_docker_errors_become_reasons_and_hints(cause, reason: str, hint: str) -> None:
    problem = describe_docker_error(wrapped(cause), "unix:///var/run/docker.sock")
    assert reason in problem.reason and "unix:///var/run/docker.sock" in problem.reason
    assert hint in (problem.hint or "")


def test_backoff_doubles_to_a_cap_and_resets() -> None:
    backoff = Backoff(first=1, cap=8)
    assert [backoff.next_delay() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    backoff.reset()
    assert backoff.next_delay() == 1


class FakeClient:
    def __init__(self, fail: BaseException | None = None) -> None:
        self.fail = fail
        self.closed = False

    def version(self) -> dict:
        if self.fail:
            raise self.fail
        return {"Version": "28.0.1"}

    def close(self) -> None:
        self.closed = True


def test_engine_reports_down_then_up_and_drops_a_broken_client() -> None:
    outcomes = [wrapped(PermissionError(13, "Permission denied")), None]
    clients: list[FakeClient] = []

    def factory(host: str, timeout: float) -> FakeClient:
        client = FakeClient(outcomes.pop(0))
        clients.append(client)
        return client

    engine = DockerEngine(host="unix:///x.sock", client_factory=factory, env={})
    assert engine.status.state == "connecting"
    with pytest.raises(DockerUnavailable, match="permission denied"):
        engine.client()
    assert engine.status.state == "down" and "docker group" in engine.status.message
    assert engine.set_retry_in(4).message.endswith("(retrying in 4 s)")
    client = engine.client()
    assert engine.status == EngineStatus(state="up", host="unix:///x.sock", version="28.0.1")
    assert engine.client() is client

    with pytest.raises(DockerUnavailable, match="closed the connection"):
        engine.call(lambda c: (_ for _ in ()).throw(requests.exceptions.ConnectionError(ConnectionResetError(104, "reset"))))
    assert client.closed and engine.status.state == "down"
    with pytest.raises(docker.errors.NotFound):
        outcomes.append(None)
        engine.call(lambda c: (_ for _ in ()).throw(docker.errors.NotFound("no such container")))


def test_action_gate_lets_one_action_per_container_through() -> None:
    from spark_tui.core.docker.containers import ActionGate

    gate = ActionGate()
    assert gate.try_enter(CID) and not gate.try_enter(CID) and gate.busy(CID)
    assert gate.try_enter("other")
    gate.leave(CID)
    assert not gate.busy(CID) and gate.try_enter(CID)
