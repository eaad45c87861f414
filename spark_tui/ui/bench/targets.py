"""Services a benchmark can start from: the probes the Services view knows (configured and
discovered), restricted to the kinds the benchmark speaks (spark_tui.core.bench.plan.SERVICE_ADAPTERS)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spark_tui.core.bench.plan import SERVICE_ADAPTERS
from spark_tui.models.containers import Container
from spark_tui.models.probes import ProbeSpec, ProbeStatus, redact_url
from spark_tui.models.settings import ProbeConfig
from spark_tui.ui.services.state import ProbesState
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


def known_targets(probes: ProbesState, configured: Sequence[ProbeConfig], containers: Iterable[Container]) -> list[BenchTarget]:
    """From the probes the app runs when it has results, else from the config and the running containers."""
    if probes.statuses:
        return targets_from((s.spec for s in probes.statuses.values()), probes.statuses)
    from spark_tui.core.services.discovery import plan_probes
    from spark_tui.core.services.presets import configured_probes

    try:
        planned = configured_probes(configured)
    except Exception:  # noqa: BLE001 - a config problem is reported where probes run; here: none
        return []
    return targets_from(plan_probes(planned, containers))
