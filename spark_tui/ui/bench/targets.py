"""Services a benchmark can start from: the probes the Services view knows (configured and
discovered), restricted to the kinds the benchmark speaks (spark_tui.core.bench.plan.SERVICE_ADAPTERS),
and the plan each one starts from: a server that can embed and generate (vLLM, NIM, Ollama) gets a
generation benchmark when the model it reports is not an embedding model."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spark_tui.core.bench.plan import (
    GENERATION_SERVICE_ADAPTERS,
    SERVICE_ADAPTERS,
    BenchPlan,
    generation_plan_for_service,
    plan_for_service,
)
from spark_tui.models.settings import BenchConfig
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
    model: str | None = None  # the model the service reports (Ollama: the loaded one)

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
        model = status.result.model if probed and status.result is not None else None
        targets.append(BenchTarget(spec.name, spec.kind, spec.url, status.state.value if probed else None, model))
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


# words in the names of embedding and reranking models (bge-m3, nomic-embed-text, e5-large, gte-base…)
EMBEDDING_WORDS = ("embed", "bge", "e5-", "gte-", "minilm", "mpnet", "rerank", "colbert", "arctic-embed")


def embedding_model(model: str | None) -> bool:
    return model is not None and any(word in model.lower() for word in EMBEDDING_WORDS)


def plan_for_target(target: BenchTarget, settings: BenchConfig | None = None) -> BenchPlan:
    """The form's draft for a service: a generation benchmark for servers that only generate, and for
    those that do both when their model is known and is not an embedding model; otherwise the
    service's embedding or parse benchmark (an unprobed vLLM or Ollama stays an embedding one)."""
    if target.preset in GENERATION_SERVICE_ADAPTERS:
        embeds = target.preset in SERVICE_ADAPTERS and SERVICE_ADAPTERS[target.preset][0] in ("openai", "ollama", "tei", "nvembed")
        if not embeds or (target.model is not None and not embedding_model(target.model)):
            return generation_plan_for_service(target.preset, target.url, settings, service=target.name)
    return plan_for_service(target.preset, target.url, settings, service=target.name)
