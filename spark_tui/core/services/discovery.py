"""Probes for running containers, found by image, Compose service name or well-known port.

Pure: containers in, probe specs out. A profile that just started shows its services' probes
with no configuration; a configured probe with the same name or the same host:port wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from spark_tui.models.containers import Container, PublishedPort
from spark_tui.models.probes import ProbeSpec
from spark_tui.core.services.presets import DEFAULT_INTERVAL_S, DEFAULT_SLOW_MS, DEFAULT_TIMEOUT_S, SERVICE_PRESETS, ConfiguredProbes, Preset

_LOOPBACK = {"localhost": "127.0.0.1", "0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1", "localhost6": "::1"}
_IMAGE_PATTERNS = [(preset, [re.compile(p) for p in preset.images]) for preset in SERVICE_PRESETS]


def image_repository(image: str) -> str:
    """"ghcr.io/org/name:tag@sha256:…" → "ghcr.io/org/name" (lower case)."""
    name = image.strip().lower().split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:  # a tag, not a registry's port
        name = name[:colon]
    return name.removeprefix("docker.io/").removeprefix("library/")


def match_preset(container: Container) -> Preset | None:
    """The preset for a container: by image first, then Compose service name, then a port
    that identifies one service on its own (Ollama's 11434, docling's 5001, Postgres' 5432…)."""
    repository = image_repository(container.image)
    for preset, patterns in _IMAGE_PATTERNS:
        if any(p.fullmatch(repository) for p in patterns):
            return preset
    service = (container.compose_service or "").lower()
    if service:
        for preset in SERVICE_PRESETS:
            if service in preset.services:
                return preset
    published = {port.container_port for port in container.ports if port.protocol == "tcp"}
    for preset in SERVICE_PRESETS:
        if preset.port_identifies and published & set(preset.container_ports):
            return preset
    return None


def probe_host(host_ip: str) -> str:
    """Where to reach a port published on `host_ip`: the wildcard addresses mean loopback."""
    return _LOOPBACK.get(host_ip, host_ip)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _published(container: Container, preset: Preset) -> list[PublishedPort]:
    """The published ports to probe: the service's own (the preset's, or the one its command line
    or environment names), or the only one there is. A container on the host's network publishes
    none: its service listens on the host, at the port it names (`--port 8001`, OLLAMA_HOST…),
    else at the preset's usual one."""
    if container.network_mode == "host":
        port = container.listen_port or preset.default_port
        return [PublishedPort(port, "tcp", "127.0.0.1", port)]
    by_container_port: dict[int, PublishedPort] = {}
    for port in container.ports:
        if port.protocol != "tcp" or not port.host_port:
            continue
        current = by_container_port.get(port.container_port)
        # Docker publishes one port on 0.0.0.0 and on ::; IPv4 loopback is the safer bet
        if current is None or (":" in probe_host(current.host_ip) and ":" not in probe_host(port.host_ip)):
            by_container_port[port.container_port] = port
    own_numbers = {*preset.container_ports, container.listen_port}
    own = [port for number, port in by_container_port.items() if number in own_numbers]
    if own:
        return sorted(own, key=lambda p: p.container_port)
    if len(by_container_port) == 1:
        return list(by_container_port.values())
    return []  # several unknown ports: guessing would probe the wrong one


@dataclass(frozen=True)
class _Found:
    container: Container
    preset: Preset
    port: PublishedPort
    several: bool  # the container has more than one probed port


def discover_probes(
    containers: Iterable[Container],
    *,
    interval: float = DEFAULT_INTERVAL_S,
    timeout: float | None = None,
) -> list[ProbeSpec]:
    """A probe for each recognised service port of each running container; `timeout` defaults
    to the preset's own (above its slow threshold), else DEFAULT_TIMEOUT_S."""
    found: list[_Found] = []
    for container in containers:
        if container.state != "running":
            continue
        preset = match_preset(container)
        if preset is None:
            continue
        ports = _published(container, preset)
        found.extend(_Found(container, preset, port, len(ports) > 1) for port in ports)
    short_names = [_short_name(f) for f in found]
    specs = []
    taken: set[str] = set()
    for item, short in zip(found, short_names, strict=True):
        name = short if short_names.count(short) == 1 else _long_name(item)
        while name in taken:
            name = f"{name}-{item.port.host_port}"
        taken.add(name)
        host = _url_host(probe_host(item.port.host_ip))
        scheme = "http" if item.preset.scheme == "http" else "tcp"
        specs.append(
            ProbeSpec(
                name=name,
                kind=item.preset.name,
                url=f"{scheme}://{host}:{item.port.host_port}",
                interval=interval,
                timeout=timeout or item.preset.timeout_s or DEFAULT_TIMEOUT_S,
                slow_ms=item.preset.slow_ms or DEFAULT_SLOW_MS,
                origin="discovered",
                container=item.container.name,
            )
        )
    return specs


def _short_name(item: _Found) -> str:
    base = item.container.compose_service or item.container.name
    return f"{base}:{item.port.container_port}" if item.several else base


def _long_name(item: _Found) -> str:
    base = item.container.name
    return f"{base}:{item.port.container_port}" if item.several else base


def endpoint(url: str) -> tuple[str, int] | None:
    """(host, port) a URL reaches, loopback spellings made equal; None when it names none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host:
        return None
    if port is None:
        port = {"http": 80, "https": 443}.get(parts.scheme)
        if port is None:
            return None
    host = probe_host(host)
    if host in ("::1",) or host.startswith("127."):
        host = "loopback"
    return host, port


def merge_probes(
    configured: Sequence[ProbeSpec],
    discovered: Sequence[ProbeSpec],
    disabled: Sequence[ProbeSpec] = (),
) -> list[ProbeSpec]:
    """Configured probes, then discovered ones that no configured (or disabled) probe names
    or reaches at the same host and port."""
    names = {spec.name for spec in (*configured, *disabled)}
    endpoints = {endpoint(spec.url) for spec in (*configured, *disabled) if spec.url}
    endpoints.discard(None)
    merged = list(configured)
    for spec in discovered:
        if spec.name in names or endpoint(spec.url) in endpoints:
            continue
        merged.append(spec)
    return merged


def plan_probes(configured: ConfiguredProbes, containers: Iterable[Container] = ()) -> list[ProbeSpec]:
    """The probe set to run: the config's, plus those discovered on `containers` (call again with
    each new container listing and hand the result to ProbeEngine.set_probes)."""
    return merge_probes(configured.enabled, discover_probes(containers), configured.disabled)
