"""Reading compose's effective model and deciding the state of each service and profile. Pure.

The model is `docker compose … --profile '*' config --format json`: interpolation, .env,
include and extends are already applied by compose itself. Profiles are not in container
labels; they come from here. Names are checked against compose's own rules before any of
them goes into a command line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from spark_tui.models.compose import ComposeProfile, ComposeService, ProfileState, ServiceState
from spark_tui.models.containers import Container
from spark_tui.core.untrusted import clean

PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SERVICE_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
PROFILE_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40}
_SIZE = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[a-zA-Z]*)\s*$")


class InvalidName(ValueError):
    """A project, profile or service name that compose would not produce."""


def check_name(kind: str, name: str, pattern: re.Pattern[str]) -> str:
    if not isinstance(name, str) or not pattern.match(name):
        raise InvalidName(f"invalid {kind} name {clean(repr(name))}")  # the compose file's words
    return name


def parse_memory(value: Any) -> int | None:
    """Compose memory sizes: bytes as a number or string ("536870912"), or "512m", "8g"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value) if value > 0 else None
    match = _SIZE.match(str(value))
    if not match or match["unit"].lower() not in _UNITS:
        return None
    size = int(float(match["number"]) * _UNITS[match["unit"].lower()])
    return size if size > 0 else None


def service_asks_for_gpu(spec: Mapping[str, Any]) -> bool:
    if str(spec.get("runtime") or "").lower() == "nvidia" or spec.get("gpus"):
        return True
    devices = (((spec.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices") or ()
    for device in devices:
        if str(device.get("driver") or "").lower() == "nvidia":
            return True
        if any("gpu" in (caps if isinstance(caps, list) else [caps]) for caps in device.get("capabilities") or ()):
            return True
    for device in spec.get("devices") or ():
        text = device.get("source", "") if isinstance(device, Mapping) else str(device)
        if text.startswith(("nvidia.com/gpu", "/dev/nvidia")):
            return True
    return False


def _depends_on(spec: Mapping[str, Any]) -> dict[str, str]:
    raw = spec.get("depends_on") or {}
    if isinstance(raw, list):
        return {str(name): "service_started" for name in raw}
    return {str(name): str((detail or {}).get("condition") or "service_started") for name, detail in raw.items()}


def services_from_config(model: Mapping[str, Any]) -> tuple[ComposeService, ...]:
    """The services of a `config --format json` model, names validated."""
    specs: Mapping[str, Any] = model.get("services") or {}
    waited_for: set[str] = set()
    for spec in specs.values():
        waited_for.update(name for name, cond in _depends_on(spec).items() if cond == "service_completed_successfully")
    services = []
    for name, spec in specs.items():
        check_name("service", name, SERVICE_NAME)
        resources = (spec.get("deploy") or {}).get("resources") or {}
        limit = parse_memory((resources.get("limits") or {}).get("memory")) or parse_memory(spec.get("mem_limit"))
        reservation = parse_memory((resources.get("reservations") or {}).get("memory")) or parse_memory(spec.get("mem_reservation"))
        replicas = (spec.get("deploy") or {}).get("replicas")
        if replicas is None:
            replicas = spec.get("scale")
        services.append(
            ComposeService(
                name=name,
                profiles=tuple(check_name("profile", p, PROFILE_NAME) for p in spec.get("profiles") or ()),
                image=clean(str(spec["image"])) if spec.get("image") else None,
                memory_limit=limit,
                memory_reservation=reservation,
                gpu=service_asks_for_gpu(spec),
                replicas=int(replicas) if isinstance(replicas, int) and replicas >= 0 else 1,
                depends_on=tuple(_depends_on(spec)),
                one_shot=name in waited_for,
            )
        )
    return tuple(sorted(services, key=lambda s: s.name))


def project_containers(project: str, containers: Iterable[Container]) -> dict[str, list[Container]]:
    """Service name -> its containers (not `compose run` one-offs)."""
    by_service: dict[str, list[Container]] = {}
    for container in containers:
        if container.compose_project == project and container.compose_service and not container.compose_oneoff:
            by_service.setdefault(container.compose_service, []).append(container)
    return by_service


def service_state(service: ComposeService | str, containers: list[Container]) -> ServiceState:
    name = service if isinstance(service, str) else service.name
    one_shot = False if isinstance(service, str) else service.one_shot
    ids = tuple(c.id for c in containers)
    running = [c for c in containers if c.state in ("running", "restarting")]
    if running:
        healths = {c.health for c in running}
        if "unhealthy" in healths or any(c.state == "restarting" for c in running):
            return ServiceState(name, "unhealthy", ids)
        if "starting" in healths:
            return ServiceState(name, "starting", ids)
        return ServiceState(name, "running", ids)
    if containers and one_shot and all(c.state == "exited" and c.exit_code == 0 for c in containers):
        return ServiceState(name, "done", ids)
    return ServiceState(name, "stopped" if containers else "missing", ids)


def profile_state(states: Iterable[ServiceState]) -> ProfileState:
    states = list(states)
    if states and all(s.satisfied for s in states):
        return "up"
    if not any(s.state in ("running", "starting", "unhealthy") for s in states):
        return "down"
    return "partial"


def profiles_of(project: str, services: Iterable[ComposeService], containers: Iterable[Container]) -> tuple[tuple[ComposeProfile, ...], tuple[ServiceState, ...]]:
    """(each profile with its services and state, the always-on services' states)."""
    services = list(services)
    by_service = project_containers(project, containers)
    states = {s.name: service_state(s, by_service.get(s.name, [])) for s in services}
    names = sorted({p for s in services for p in s.profiles}, key=str.lower)
    profiles = []
    for name in names:
        members = [s for s in services if name in s.profiles]
        member_states = tuple(states[s.name] for s in members)
        profiles.append(
            ComposeProfile(
                project=project,
                name=name,
                services=tuple(s.name for s in members),
                state=profile_state(member_states),
                service_states=member_states,
                gpu=any(s.gpu for s in members),
            )
        )
    always_on = tuple(states[s.name] for s in services if not s.profiles)
    return tuple(profiles), always_on


def recreated_outside(names: Iterable[str], project: str, profile: ComposeProfile, containers: Iterable[Container]) -> tuple[str, ...]:
    """Of the containers a dry run would recreate, the running ones outside `profile`'s services."""
    ours = {c.name: c for c in containers if c.compose_project == project}
    return tuple(
        name for name in names if (c := ours.get(name)) is not None and c.running and c.compose_service not in profile.services
    )
