"""The container list (with what changed), actions on one container, and masked inspect.

Blocking calls for thread workers. The list costs one `GET /containers/json` per refresh;
a container is inspected only when it is new or its state changed, so a refresh of 200
idle containers does not make 200 requests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import docker.errors

from spark_tui.core.masking import mask_any, mask_text
from spark_tui.core.untrusted import clean, clean_block
from spark_tui.core.docker.clean import clean_labels, clean_tree  # noqa: F401 - SDK-free home, re-exported
from spark_tui.models.containers import Container, ContainerListing, PublishedPort
from spark_tui.core.docker.engine import DockerEngine
from spark_tui.core.docker.errors import ActionGate, ContainerActionError  # noqa: F401 - SDK-free home, re-exported

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"
WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"
ENV_FILE_LABEL = "com.docker.compose.project.environment_file"
ONEOFF_LABEL = "com.docker.compose.oneoff"

CONTAINER_ID = re.compile(r"^[0-9a-f]{12,64}$")
_TIME = re.compile(r"^(?P<base>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(?P<frac>\d+))?(?P<tz>Z|[+-]\d\d:\d\d)?$")
_HEALTH_IN_STATUS = re.compile(r"\((?:health: )?(?P<health>healthy|unhealthy|starting)\)")


def parse_docker_time(text: str | None) -> datetime | None:
    """RFC 3339 with nanoseconds as Docker writes it; the zero time means "never"."""
    if not text or text.startswith("0001-01-01"):
        return None
    match = _TIME.match(text.strip())
    if not match:
        return None
    frac = (match["frac"] or "0")[:6].ljust(6, "0")
    tz = match["tz"] or "Z"
    try:
        moment = datetime.fromisoformat(f"{match['base']}.{frac}{'+00:00' if tz == 'Z' else tz}")
    except ValueError:
        return None
    return moment.astimezone(timezone.utc)


def asks_for_gpu(host_config: Mapping[str, Any] | None) -> bool:
    """DeviceRequests with capability gpu (or an nvidia/CDI GPU device), or runtime nvidia."""
    if not host_config:
        return False
    if (host_config.get("Runtime") or "").lower() == "nvidia":
        return True
    for request in host_config.get("DeviceRequests") or ():
        if (request.get("Driver") or "").lower() == "nvidia":
            return True
        if any("gpu" in (caps or ()) for caps in request.get("Capabilities") or ()):
            return True
        if any(str(device).startswith("nvidia.com/gpu") for device in request.get("DeviceIDs") or ()):
            return True
    return any(
        str(device.get("PathOnHost", "")).startswith("/dev/nvidia") for device in host_config.get("Devices") or ()
    )


def ports_from_inspect(ports: Mapping[str, Any] | None) -> tuple[PublishedPort, ...]:
    published = []
    for spec, bindings in (ports or {}).items():
        number, _, protocol = spec.partition("/")
        for binding in bindings or ():
            host_port = binding.get("HostPort")
            if not host_port or not number.isdigit() or not str(host_port).isdigit():
                continue
            published.append(PublishedPort(int(number), protocol or "tcp", binding.get("HostIp") or "0.0.0.0", int(host_port)))
    return tuple(sorted(set(published), key=lambda p: (p.container_port, p.protocol, p.host_ip)))


def ports_from_summary(ports: Iterable[Mapping[str, Any]] | None) -> tuple[PublishedPort, ...]:
    published = {
        PublishedPort(int(p["PrivatePort"]), p.get("Type") or "tcp", p.get("IP") or "0.0.0.0", int(p["PublicPort"]))
        for p in ports or ()
        if p.get("PublicPort") and p.get("PrivatePort")
    }
    return tuple(sorted(published, key=lambda p: (p.container_port, p.protocol, p.host_ip)))


# --- the port a container's service listens on, from its command line and environment ----------
# A container on the host's network publishes no port: what it listens on is said by its command
# (`vllm serve M --port 8001`, `llama-server --port N`, `python -m sglang.launch_server --port N`,
# TEI/TGI `--port N`) or its environment. `-p` is not read: it means --port to TEI and TGI but
# --prompt to llama.cpp. The flag wins over the variables, as in each engine (clap, argparse and
# llama.cpp read the flag over the variable). Variables, most specific first: Ollama's OLLAMA_HOST
# (it has no flag), llama.cpp's LLAMA_ARG_PORT, NIM's NIM_SERVER_PORT, then TEI's and TGI's PORT
# (their images set PORT=80). Everything here is untrusted text; only a port number leaves.
PORT_VARIABLES = ("OLLAMA_HOST", "LLAMA_ARG_PORT", "NIM_SERVER_PORT", "PORT")
_PORT_FLAG = "--port"
_PORT_DIGITS = re.compile(r"[0-9]{1,5}")  # ASCII only: int() would also take "１２" and "1_0"
_SHELL_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")
_OLLAMA_DEFAULT_PORT = 11434
_OLLAMA_SCHEME_PORTS = {"http": 80, "https": 443}
_TOKEN_EDGES = "\"';"  # quotes and a statement's end around a token in a `sh -c` script


def port_number(text: str) -> int | None:
    """A TCP port written in `text` (1–65535, ASCII digits, quotes around allowed); else None."""
    text = text.strip().strip(_TOKEN_EDGES).strip()
    if not _PORT_DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= 65535 else None


def ollama_host_port(value: str) -> int | None:
    """The port Ollama listens on for OLLAMA_HOST=`value`, read as Ollama reads it (envconfig):
    `[scheme://]host[:port][/path]`, `:port` alone; without a port (or with an invalid one) 11434,
    or 80 / 443 after http:// / https://. Port 0 asks for any free port: None, as it cannot be known."""
    text = value.strip().strip("\"' ")
    scheme, separator, hostport = text.partition("://")
    default = _OLLAMA_DEFAULT_PORT
    if not separator:
        hostport = text
    else:
        default = _OLLAMA_SCHEME_PORTS.get(scheme, default)
    hostport = hostport.split("/", 1)[0]
    if hostport.startswith("["):  # [v6]:port
        rest = hostport.partition("]")[2]
        port_text = rest[1:] if rest.startswith(":") else None
    elif hostport.count(":") == 1:  # host:port or :port
        port_text = hostport.partition(":")[2]
    else:  # a host alone, or a bare IPv6 address
        port_text = None
    if port_text is None:
        return default
    if _PORT_DIGITS.fullmatch(port_text) and int(port_text) == 0:
        return None
    return port_number(port_text) or default


def _environment(env: Iterable[Any] | None) -> dict[str, str]:
    """KEY=VALUE strings as a dict, for the length of one call: it is never kept (it may hold secrets)."""
    variables: dict[str, str] = {}
    for item in env or ():
        if isinstance(item, str) and "=" in item:
            key, _, value = item.partition("=")
            variables[key] = value
    return variables


def _flag_value_port(value: str, variables: Mapping[str, str]) -> int | None:
    """`8001`, `"8001"`, or a shell variable (`$PORT`, `${PORT}`, `${PORT:-8001}`) the environment fills."""
    reference = _SHELL_VARIABLE.fullmatch(value.strip(_TOKEN_EDGES))
    if reference is None:
        return port_number(value)
    name = reference["braced"] or reference["bare"]
    text = variables.get(name) or reference["default"]
    return port_number(text) if text else None


def listen_port_from(argv: Iterable[Any] | None, env: Iterable[Any] | None = ()) -> int | None:
    """The port a container's service listens on, from its command line (`--port N`, `--port=N`,
    anywhere in it, `sh -c "…"` scripts included; the last one counts) or else its environment
    (PORT_VARIABLES, KEY=VALUE strings as Docker's Config.Env); None when neither says one."""
    variables = _environment(env)
    tokens = [token for item in argv or () if isinstance(item, str) for token in item.split()]
    from_flag = None
    for index, token in enumerate(tokens):
        if token == _PORT_FLAG and index + 1 < len(tokens):
            value = tokens[index + 1]
        elif token.startswith(_PORT_FLAG + "="):
            value = token[len(_PORT_FLAG) + 1 :]
        else:
            continue
        from_flag = _flag_value_port(value, variables) or from_flag
    if from_flag is not None:
        return from_flag
    for name in PORT_VARIABLES:
        value = variables.get(name)
        if value is None:
            continue
        port = ollama_host_port(value) if name == "OLLAMA_HOST" else port_number(value)
        if port is not None:
            return port
    return None


def _argv(value: Any) -> list[Any]:
    """Config.Entrypoint / Config.Cmd: a list of words, or null; a string from an old engine is one."""
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list) else []


def _compose_fields(labels: Mapping[str, str]) -> dict[str, Any]:
    files = labels.get(CONFIG_FILES_LABEL) or ""
    return {
        "compose_project": labels.get(PROJECT_LABEL) or None,
        "compose_service": labels.get(SERVICE_LABEL) or None,
        "compose_config_files": tuple(f for f in files.split(",") if f),
        "compose_working_dir": labels.get(WORKING_DIR_LABEL) or None,
        "compose_environment_file": labels.get(ENV_FILE_LABEL) or None,
        "compose_oneoff": (labels.get(ONEOFF_LABEL) or "").lower() == "true",
    }


def _words(value: Any, default: str = "") -> str:
    """One field the engine reports but a container's creator chose (name, image, status)."""
    return clean(str(value)) if value else default


def container_from_inspect(data: Mapping[str, Any]) -> Container:
    """A Container from `GET /containers/{id}/json`. Every string is cleaned here: names,
    images, labels and health output are written by whoever made the container."""
    config = data.get("Config") or {}
    state = data.get("State") or {}
    host_config = data.get("HostConfig") or {}
    labels = clean_labels(config.get("Labels") or {})
    health = state.get("Health") or None
    health_log = (health or {}).get("Log") or []
    status_word = state.get("Status") or "unknown"
    memory = host_config.get("Memory") or 0
    last_output = (health_log[-1].get("Output") or "").strip() if health_log else ""
    return Container(
        id=data["Id"],
        name=_words(data.get("Name"), data["Id"][:12]).lstrip("/"),
        image=_words(config.get("Image") or data.get("Image")),
        state=clean(status_word),
        status=describe_state(state),
        health=_words((health or {}).get("Status")) or None,
        started_at=parse_docker_time(state.get("StartedAt")),
        ports=ports_from_inspect((data.get("NetworkSettings") or {}).get("Ports")),
        labels=labels,
        gpu=asks_for_gpu(host_config),
        created_at=parse_docker_time(data.get("Created")),
        finished_at=parse_docker_time(state.get("FinishedAt")),
        exit_code=state.get("ExitCode") if status_word in ("exited", "dead") else None,
        pid=state.get("Pid") or None,
        restart_count=data.get("RestartCount"),
        runtime=_words(host_config.get("Runtime")) or None,
        memory_limit=memory if isinstance(memory, int) and memory > 0 else None,
        health_output=clean_block(mask_text(last_output[-500:])) if last_output else None,
        network_mode=_words(host_config.get("NetworkMode")) or None,
        listen_port=listen_port_from(_argv(config.get("Entrypoint")) + _argv(config.get("Cmd")), config.get("Env")),
        **_compose_fields(labels),
    )


def container_from_summary(data: Mapping[str, Any]) -> Container:
    """A Container from one entry of `GET /containers/json` (no start time, GPU or pid; its
    listen_port from the command line only: the list carries no environment)."""
    labels = clean_labels(data.get("Labels") or {})
    names = data.get("Names") or []
    status = _words(data.get("Status"))
    health = _HEALTH_IN_STATUS.search(status)
    created = data.get("Created")
    return Container(
        id=data["Id"],
        name=_words(names[0] if names else None, data["Id"][:12]).lstrip("/"),
        image=_words(data.get("Image")),
        state=_words(data.get("State"), "unknown"),
        status=status,
        health=health["health"] if health else None,
        ports=ports_from_summary(data.get("Ports")),
        labels=labels,
        created_at=datetime.fromtimestamp(created, timezone.utc) if isinstance(created, (int, float)) else None,
        network_mode=_words((data.get("HostConfig") or {}).get("NetworkMode")) or None,
        listen_port=listen_port_from([data["Command"]] if isinstance(data.get("Command"), str) else ()),
        **_compose_fields(labels),
    )


def running_for_discovery(engine: DockerEngine) -> list[Container]:
    """The running containers for probe discovery: one list call, and an inspect of each one on the
    host's network, whose port may be said only by its environment (Ollama's OLLAMA_HOST), which
    the list does not carry. Blocking; raises DockerUnavailable, or APIError when the list is refused."""
    entries = engine.call(lambda client: client.api.containers(filters={"status": "running"}))
    found = []
    for entry in entries:
        container = container_from_summary(entry)
        if container.network_mode == "host":
            try:
                details = engine.call(lambda client, cid=entry["Id"]: client.api.inspect_container(cid))
            except docker.errors.NotFound:
                continue  # gone since the list
            except docker.errors.APIError:
                details = None  # the list's view (its command line) is still worth probing
            if details is not None:
                container = container_from_inspect(details)
        found.append(container)
    return found


def describe_state(state: Mapping[str, Any]) -> str:
    """Docker's words for a state, without the relative time (the UI computes uptime itself)."""
    word = _words(state.get("Status"), "unknown")
    if word == "running":
        health = _words((state.get("Health") or {}).get("Status"))
        return f"Up ({health})" if health else "Up"
    if word == "exited":
        text = f"Exited ({state.get('ExitCode', '?')})"
        return text + " OOM-killed" if state.get("OOMKilled") else text
    if word == "dead" and state.get("Error"):
        return f"Dead: {clean(mask_text(str(state['Error'])))}"
    if word == "created" and state.get("Error"):
        return f"Created, failed to start: {clean(mask_text(str(state['Error'])))}"
    return word.capitalize()


def _summary_key(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    """What, in a list entry, means the inspected details may be stale (see _container_key)."""
    health = _HEALTH_IN_STATUS.search(entry.get("Status") or "")
    names = entry.get("Names") or [""]
    return (entry.get("State"), health["health"] if health else None, _words(names[0]).lstrip("/"))


def _container_key(container: Container) -> tuple[Any, ...]:
    return (container.state, container.health, container.name)


class ContainerCatalog:
    """The engine's containers, kept up to date by `refresh()` (full) and `update(ids)` (events).

    Not thread-safe on its own: one owner (the watcher thread) calls it. Both calls raise
    DockerUnavailable when the engine cannot be reached.
    """

    def __init__(self, engine: DockerEngine, clock: Any = time.time) -> None:
        self.engine = engine
        self._clock = clock
        self._containers: dict[str, Container] = {}
        self._keys: dict[str, tuple[Any, ...]] = {}
        self.inspections = 0  # how many inspect calls were made: the bench and tests read it

    @property
    def containers(self) -> dict[str, Container]:
        return dict(self._containers)

    def refresh(self) -> ContainerListing:
        entries = self.engine.call(lambda c: c.api.containers(all=True))
        seen: set[str] = set()
        changed: set[str] = set()
        for entry in entries:
            cid = entry["Id"]
            seen.add(cid)
            key = _summary_key(entry)
            if cid in self._containers and self._keys.get(cid) == key:
                continue
            container = self._inspect(cid)
            if container is None:  # removed between the list and the inspect
                seen.discard(cid)
                continue
            self._keys[cid] = key
            if self._containers.get(cid) != container:
                self._containers[cid] = container
                changed.add(cid)
        removed = set(self._containers) - seen
        for cid in removed:
            self._containers.pop(cid, None)
            self._keys.pop(cid, None)
        return self.listing(changed, removed)

    def update(self, ids: Iterable[str]) -> ContainerListing:
        """Re-read the named containers (an event said they changed)."""
        changed: set[str] = set()
        removed: set[str] = set()
        for cid in dict.fromkeys(ids):
            container = self._inspect(cid)
            if container is None:
                if self._containers.pop(cid, None) is not None:
                    removed.add(cid)
                self._keys.pop(cid, None)
                continue
            self._keys[cid] = _container_key(container)
            if self._containers.get(cid) != container:
                self._containers[cid] = container
                changed.add(cid)
        return self.listing(changed, removed)

    def forget(self, ids: Iterable[str]) -> ContainerListing:
        removed = {cid for cid in ids if self._containers.pop(cid, None) is not None}
        for cid in removed:
            self._keys.pop(cid, None)
        return self.listing(set(), removed)

    def listing(self, changed: set[str] | frozenset[str] = frozenset(), removed: set[str] | frozenset[str] = frozenset(), complete: bool = True) -> ContainerListing:
        containers = tuple(sorted(self._containers.values(), key=lambda c: ((c.compose_project or "\uffff").lower(), c.name.lower())))
        return ContainerListing(
            taken_at=self._clock(),
            engine=self.engine.status,
            containers=containers,
            changed=frozenset(changed),
            removed=frozenset(removed),
            complete=complete,
        )

    def _inspect(self, container_id: str) -> Container | None:
        self.inspections += 1
        try:
            data = self.engine.call(lambda c: c.api.inspect_container(container_id))
        except docker.errors.NotFound:
            return None
        return container_from_inspect(data)


# --- actions on one container, chosen by the user -------------------------------------------


def _checked_id(container_id: str) -> str:
    if not CONTAINER_ID.match(container_id or ""):
        raise ContainerActionError(f"not a container id: {clean(repr(container_id))}")
    return container_id


def _engine_words(exc: docker.errors.APIError) -> str:
    text = exc.explanation if isinstance(exc.explanation, str) and exc.explanation else str(exc)
    return clean(mask_text(text.strip()))


def _act(engine: DockerEngine, container_id: str, verb: str, action: Any) -> None:
    cid = _checked_id(container_id)
    try:
        engine.call(lambda c: action(c.api, cid))
    except docker.errors.NotFound:
        raise ContainerActionError(f"cannot {verb} {cid[:12]}: the container no longer exists") from None
    except docker.errors.APIError as exc:
        raise ContainerActionError(f"cannot {verb} {cid[:12]}: {_engine_words(exc)}") from None


def start_container(engine: DockerEngine, container_id: str) -> None:
    """Blocking. Raises ContainerActionError (engine's words) or DockerUnavailable."""
    _act(engine, container_id, "start", lambda api, cid: api.start(cid))


def stop_container(engine: DockerEngine, container_id: str, grace_s: int = 10) -> None:
    """Blocking, up to `grace_s` + the client timeout: SIGTERM, then SIGKILL after `grace_s`."""
    _act(engine, container_id, "stop", lambda api, cid: api.stop(cid, timeout=grace_s))


def restart_container(engine: DockerEngine, container_id: str, grace_s: int = 10) -> None:
    _act(engine, container_id, "restart", lambda api, cid: api.restart(cid, timeout=grace_s))


def inspect_container(engine: DockerEngine, container_id: str) -> dict[str, Any]:
    """`docker inspect` as a dict with every secret-looking value masked (env, args, labels, URLs)."""
    cid = _checked_id(container_id)
    try:
        data = engine.call(lambda c: c.api.inspect_container(cid))
    except docker.errors.NotFound:
        raise ContainerActionError(f"cannot inspect {cid[:12]}: the container no longer exists") from None
    except docker.errors.APIError as exc:
        raise ContainerActionError(f"cannot inspect {cid[:12]}: {_engine_words(exc)}") from None
    return mask_any(data)

