"""Which model servers to watch: known services whose preset is an inference engine, plus the
config's [[inference]] entries (an entry wins over a service at the same name or URL).

The preset table is the caller's (core.services is another domain): `engine_of(kind)` says
which engine a probe kind is, None for a service that is not a model server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

from spark_tui.core.inference.scrape import InferenceTarget
from spark_tui.models.probes import ProbeSpec
from spark_tui.models.settings import InferenceConfig

TRITON_HTTP_PORT = 8000
TRITON_METRICS_PORT = 8002  # tritonserver's --metrics-port default, beside HTTP 8000 and gRPC 8001


def config_name(server: InferenceConfig) -> str:
    """An [[inference]] entry's name: its own, else the URL's host:port."""
    return server.name or urlsplit(server.url).netloc.rsplit("@", 1)[-1] or server.url


def target_from_config(server: InferenceConfig) -> InferenceTarget:
    return InferenceTarget(config_name(server), server.url, engine=server.engine,
                           metrics_path=server.metrics_path, interval=server.interval)


def target_from_probe(spec: ProbeSpec, engine: str) -> InferenceTarget:
    """A probed service's metrics: its base URL, except Triton, whose metrics have a port of their own."""
    url = spec.url
    if engine == "triton":
        url = _triton_metrics_url(url)
    return InferenceTarget(spec.name, url, engine=engine, interval=spec.interval)


def _triton_metrics_url(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return url
    if port not in (None, TRITON_HTTP_PORT) or parts.hostname is None:
        return url  # a port chosen by hand: the metrics port is not ours to guess
    host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    return urlunsplit((parts.scheme, f"{host}:{TRITON_METRICS_PORT}", parts.path, "", ""))


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def plan_targets(probes: Iterable[ProbeSpec], configured: Iterable[InferenceConfig],
                 engine_of: Callable[[str], str | None]) -> list[InferenceTarget]:
    """The servers to watch, in order: the config's entries, then the services found."""
    entries = list(configured)
    wanted = [target_from_config(entry) for entry in entries if entry.enabled]
    hidden = [entry for entry in entries if not entry.enabled]
    names = {target.name for target in wanted}
    for spec in probes:
        engine = engine_of(spec.kind)
        if engine is None:
            continue
        target = target_from_probe(spec, engine)
        if target.name in names or any(_same_url(target.url, other.url) for other in wanted):
            continue  # the config says it better
        if any(config_name(entry) == spec.name or _same_url(entry.url, spec.url) for entry in hidden):
            continue
        names.add(target.name)
        wanted.append(target)
    return wanted
