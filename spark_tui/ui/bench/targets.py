"""Services a benchmark can start from: the probes the Services view knows (configured and
discovered), restricted to the kinds the benchmark speaks (spark_tui.core.bench.plan.SERVICE_ADAPTERS)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from spark_tui.core.bench.plan import SERVICE_ADAPTERS
from spark_tui.models.probes import ProbeSpec, ProbeStatus, redact_url
from spark_tui.core.services.presets import PRESETS


@dataclass(frozen=True)
class BenchTarget:
    name: str
    preset: str  # a key of SERVICE_ADAPTERS
    url: str
    state: str | None = None  # "up", "down"… when probed

    @property
    def label(self) -> str:
        title = PRESETS[self.preset].title if self.preset in PRESETS else self.preset
        state = f" · {self.state}" if self.state else ""
        return f"{self.name} ({title}, {redact_url(self.url)}{state})"


def targets_from(specs: Iterable[ProbeSpec], statuses: dict[str, ProbeStatus] | None = None) -> list[BenchTarget]:
    targets = []
    for spec in specs:
        if spec.kind not in SERVICE_ADAPTERS:
            continue
        status = (statuses or {}).get(spec.name)
        probed = status is not None and status.result is not None
        targets.append(BenchTarget(spec.name, spec.kind, spec.url, status.state.value if probed else None))
    return sorted(targets, key=lambda t: t.name.lower())


def app_targets(app: Any) -> list[BenchTarget]:
    """From the app's probes when it runs them, else from the config and the running containers."""
    probes = getattr(app, "probes", None)
    statuses = getattr(getattr(probes, "state", None), "statuses", None)
    if isinstance(statuses, dict) and statuses:
        return targets_from((s.spec for s in statuses.values()), statuses)
    from spark_tui.core.services.discovery import plan_probes
    from spark_tui.core.services.presets import configured_probes

    try:
        configured = configured_probes(app.config.probes)
    except Exception:  # noqa: BLE001 - a config problem is reported where probes run; here: none
        return []
    listing = getattr(getattr(getattr(app, "containers", None), "state", None), "listing", None)
    containers = listing.containers if listing is not None else ()
    return targets_from(plan_probes(configured, containers))
